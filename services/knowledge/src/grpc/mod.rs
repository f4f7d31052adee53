//! The gRPC API: requests to domain inputs through the kit's parsers, results to responses.
//! Every call is authenticated by the platform interceptor; reach and roles are enforced in
//! `service`.

pub(crate) mod articles;
pub(crate) mod search;

use crm_platform::{
    auth::{Caller, caller},
    error::Violations,
};
use tonic::{Request, Status};

pub(crate) fn authenticated<T>(request: &Request<T>) -> Result<Caller, Status> {
    caller(request)
}

/// An enum filter: UNSPECIFIED keeps everything, a number no value has is refused.
pub(crate) fn enum_filter<T>(
    violations: &mut Violations,
    field: &str,
    value: i32,
    parse: impl Fn(i32) -> Option<T>,
) -> Option<T> {
    if value == 0 {
        return None;
    }
    let parsed = parse(value);
    if parsed.is_none() {
        violations.add(field, "is not one of the listed values");
    }
    parsed
}
