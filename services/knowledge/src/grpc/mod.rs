//! The gRPC API: requests to domain inputs through the kit's parsers, results to responses.
//! Every call is authenticated by the platform interceptor; reach and roles are enforced in
//! `service`.

pub(crate) mod articles;
pub(crate) mod search;

use crm_platform::auth::{Caller, caller};
use tonic::{Request, Status};

pub(crate) fn authenticated<T>(request: &Request<T>) -> Result<Caller, Status> {
    caller(request)
}
