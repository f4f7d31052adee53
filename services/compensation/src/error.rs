//! Everything that can go wrong in the compensation service, mapped once to the wire: the kit's
//! common failures, and compensation's own typed refusals.

use crm_platform::error::{CommonError, ErrorCode, FieldViolation, Reason, ServiceError};
use uuid::Uuid;

use crate::domain::statement::StatementProblem;

#[derive(Debug, thiserror::Error)]
pub enum CompensationError {
    #[error(transparent)]
    Common(#[from] CommonError),
    /// A closed period's statements are locked.
    #[error("period {label} is closed: its statements are locked")]
    PeriodClosed { label: String },
    /// Periods close once ended, and in order.
    #[error("period {label} cannot be closed yet: {why}")]
    NotClosable { label: String, why: String },
    /// The rep's statement of the period cannot be computed from the data as it stands.
    #[error("the statement of {user_id} for {label} cannot be computed: {problem}")]
    Statement {
        user_id: Uuid,
        label: String,
        problem: StatementProblem,
    },
}

impl ServiceError for CompensationError {
    fn code(&self) -> ErrorCode {
        match self {
            CompensationError::Common(common) => common.code(),
            CompensationError::PeriodClosed { .. }
            | CompensationError::NotClosable { .. }
            | CompensationError::Statement { .. } => ErrorCode::FailedPrecondition,
        }
    }

    fn field_violations(&self) -> &[FieldViolation] {
        match self {
            CompensationError::Common(common) => common.field_violations(),
            _ => &[],
        }
    }

    fn reason(&self) -> Option<Reason> {
        let reason = |reason: &'static str, code: &str| Reason::new(reason, code, self.to_string());
        Some(match self {
            CompensationError::Common(common) => return common.reason(),
            CompensationError::PeriodClosed { label } => {
                reason(reasons::PERIOD_CLOSED, text_codes::PERIOD_CLOSED).param("period", label)
            }
            CompensationError::NotClosable { label, why } => reason(
                reasons::PERIOD_NOT_CLOSABLE,
                text_codes::PERIOD_NOT_CLOSABLE,
            )
            .param("period", label)
            .param("why", why),
            CompensationError::Statement {
                user_id,
                label,
                problem,
            } => {
                let (reason_code, text_code) = match problem {
                    StatementProblem::NoQuota => (reasons::NO_QUOTA, text_codes::NO_QUOTA),
                    StatementProblem::NoPlan => (reasons::NO_PLAN, text_codes::NO_PLAN),
                };
                reason(reason_code, text_code)
                    .param("user_id", user_id)
                    .param("period", label)
            }
        })
    }
}

/// The `google.rpc.ErrorInfo` reasons of the service's own refusals (docs/api.md).
pub mod reasons {
    pub const PERIOD_CLOSED: &str = "PERIOD_CLOSED";
    pub const PERIOD_NOT_CLOSABLE: &str = "PERIOD_NOT_CLOSABLE";
    pub const NO_QUOTA: &str = "NO_QUOTA";
    pub const NO_PLAN: &str = "NO_PLAN";
}

/// Text codes consoles translate the refusals by, with their parameters.
pub mod text_codes {
    /// "period {period} is closed: its statements are locked".
    pub const PERIOD_CLOSED: &str = "compensation.period_closed";
    /// "period {period} cannot be closed yet: {why}".
    pub const PERIOD_NOT_CLOSABLE: &str = "compensation.period_not_closable";
    /// "the plan's tiers need a quota for {period}, and none is set for {user_id}".
    pub const NO_QUOTA: &str = "compensation.no_quota";
    /// "{user_id} is on no plan paying per such a period in {period}".
    pub const NO_PLAN: &str = "compensation.no_plan";
}

crm_platform::service_error_conversions!(CompensationError);
