//! The gRPC APIs: requests to domain inputs, results to responses. Lead and admin calls are
//! authenticated by the platform interceptor; the web form carries its own key.

mod admin;
mod import;
mod leads;
mod web_form;

pub use admin::LeadAdminApi;
pub use leads::LeadsApi;
pub use web_form::WebFormApi;
