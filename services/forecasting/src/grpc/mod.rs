//! The gRPC API: requests to domain inputs through the kit's parsers, results to responses.
//! Every call is authenticated by the platform interceptor; visibility and roles are enforced
//! in `service`.

pub(crate) mod analysis;
pub(crate) mod calls;
pub(crate) mod pipeline;
pub(crate) mod quotas;
pub(crate) mod review;
pub(crate) mod scope;
pub(crate) mod snapshots;
pub(crate) mod statistics;

use crm_platform::auth::{Caller, caller};
use tonic::{Request, Status};

pub(crate) fn authenticated<T>(request: &Request<T>) -> Result<Caller, Status> {
    caller(request)
}
