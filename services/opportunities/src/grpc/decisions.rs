//! An approval's or a rejection's request (a quote's discount, an expense) to its inputs, every
//! broken field named at once: the record's id, the approver's note (optional) or the reason
//! of a rejection (required), and the expected version.

use crm_platform::{
    error::{Violations, optional_text, required_text},
    ids::parse_id,
};
use tonic::Status;
use uuid::Uuid;

use super::deal_input::version;
use crate::{domain::approval::Decision, error::OpportunitiesError};

/// A decision's request as the service takes it.
pub(super) struct DecisionInput {
    pub id: Uuid,
    pub decision: Decision,
    /// The note of an approval, the reason of a rejection.
    pub text: String,
    pub expected_version: Option<i64>,
}

/// The request's fields by name and value: `id` is the record's id (`quote_id`), `text` the
/// note of an approval or the reason of a rejection, at most `max` characters.
pub(super) fn decision_input(
    decision: Decision,
    id: (&str, &str),
    text: (&str, &str),
    max: usize,
    expected_version: u64,
) -> Result<DecisionInput, Status> {
    let mut violations = Violations::new();
    let parsed = violations.take(parse_id(id.0, id.1));
    let (field, value) = text;
    let text = match decision {
        Decision::Approved => optional_text(&mut violations, field, value, max),
        Decision::Rejected => required_text(&mut violations, field, value, max),
    };
    violations
        .into_result()
        .map_err(|violations| Status::from(OpportunitiesError::from(violations)))?;
    Ok(DecisionInput {
        id: parsed.unwrap_or_default(),
        decision,
        text,
        expected_version: version(expected_version)?,
    })
}
