//! The gRPC APIs: requests to domain inputs, results to responses. Lead and admin calls are
//! authenticated by the platform interceptor; the web form carries its own key.

mod admin;
mod leads;
mod web_form;

pub use admin::LeadAdminApi;
pub use leads::LeadsApi;
pub use web_form::WebFormApi;

use uuid::Uuid;

use crate::error::LeadsError;

fn id(field: &str, value: &str) -> Result<Uuid, LeadsError> {
    if value.trim().is_empty() {
        return Err(LeadsError::invalid(field, "must not be empty"));
    }
    Uuid::parse_str(value.trim())
        .map_err(|_| LeadsError::invalid(field, "is not a valid id (UUID)"))
}

fn optional_id(field: &str, value: &str) -> Result<Option<Uuid>, LeadsError> {
    if value.trim().is_empty() {
        Ok(None)
    } else {
        id(field, value).map(Some)
    }
}
