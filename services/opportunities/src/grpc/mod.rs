//! The gRPC API: requests to domain inputs through the kit's parsers, results to responses
//! (`crate::convert`). Every call is authenticated by the platform interceptor; visibility and
//! roles are enforced in `service`.

pub(crate) mod account_desk;
pub(crate) mod activities;
pub(crate) mod analytics;
pub(crate) mod calendar;
pub(crate) mod care;
pub(crate) mod collections;
mod deal_input;
pub(crate) mod deals;
mod decisions;
pub(crate) mod expenses;
pub(crate) mod orders;
pub(crate) mod pipelines;
pub(crate) mod plans;
pub(crate) mod price_book;
pub(crate) mod quotes;
pub(crate) mod work_reports;

use crm_platform::auth::{Caller, caller};
use tonic::{Request, Status};

pub(crate) fn authenticated<T>(request: &Request<T>) -> Result<Caller, Status> {
    caller(request)
}
