//! The gRPC APIs: requests to domain inputs, results to responses. Lead and admin calls are
//! authenticated by the platform interceptor; the web form carries its own key.

mod admin;
mod import;
mod leads;
mod web_form;

pub use admin::LeadAdminApi;
pub use leads::LeadsApi;
pub use web_form::WebFormApi;

use crm_platform::ids;
use uuid::Uuid;

use crate::error::LeadsError;

/// The kit's [`ids::parse_id`], as this crate's error.
fn id(field: &str, value: &str) -> Result<Uuid, LeadsError> {
    Ok(ids::parse_id(field, value)?)
}

/// The kit's [`ids::parse_optional_id`], as this crate's error.
fn optional_id(field: &str, value: &str) -> Result<Option<Uuid>, LeadsError> {
    Ok(ids::parse_optional_id(field, value)?)
}
