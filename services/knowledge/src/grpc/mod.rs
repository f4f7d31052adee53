//! The gRPC API: requests to domain inputs through the kit's parsers, results to responses.
//! Every call is authenticated by the platform interceptor; reach and roles are enforced in
//! `service`.

pub(crate) mod articles;
pub(crate) mod deals;
pub(crate) mod search;
pub(crate) mod training;
pub(crate) mod usage;

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

/// The ids a request must name, each parsed: every missing or malformed one reported at once.
pub(crate) fn required_ids<const N: usize>(
    fields: [(&str, &str); N],
) -> Result<[uuid::Uuid; N], Status> {
    let mut violations = Violations::new();
    let ids = fields.map(|(field, value)| violations.id(field, value));
    violations
        .into_result()
        .map_err(crate::error::KnowledgeError::from)?;
    Ok(ids.map(|id| id.unwrap_or_default()))
}
