//! Everything that can go wrong in the leads service, mapped once to the wire: the kit's
//! common failures, and the leads' own typed ones.

use crm_platform::error::{CommonError, ErrorCode, FieldViolation, ServiceError};
use uuid::Uuid;

use crate::domain::{
    assignment::ClaimRefusal,
    lifecycle::{LeadStatus, LeadTransition, LifecycleError},
    recycling::CooldownRefusal,
};

#[derive(Debug, thiserror::Error)]
pub enum LeadsError {
    #[error(transparent)]
    Common(#[from] CommonError),
    /// The lead's status does not allow the change; `refusal` says what would.
    #[error("{refusal}")]
    IllegalTransition {
        from: LeadStatus,
        to: LeadStatus,
        refusal: LifecycleError,
    },
    /// A converted lead's fields no longer change.
    #[error("a converted lead cannot change")]
    Converted { id: Uuid },
    /// The action needs an owned lead (working, converting, releasing).
    #[error("lead {id} is in the pool: {needs}")]
    InPool { id: Uuid, needs: &'static str },
    /// Claiming a lead someone owns.
    #[error("lead {id} is not in the pool")]
    NotInPool { id: Uuid },
    /// A create retried with an id another user already created a lead under.
    #[error("lead {id} already exists")]
    IdTaken { id: Uuid },
    /// A converted lead stays; merging it away would orphan what conversion created.
    #[error("lead {id} is converted and cannot be merged away")]
    ConvertedNotMergeable { id: Uuid },
    #[error("merge {id} was already undone")]
    MergeUndone { id: Uuid },
    /// A directory rep's team is the organisation's to change.
    #[error("rep {rep_id}'s team comes from the organisation's directory; move the user there")]
    TeamFromDirectory { rep_id: Uuid },
    #[error("no eligible rep: every candidate is inactive or at capacity")]
    NoEligibleRep,
    #[error("{0}")]
    ReclaimTooSoon(CooldownRefusal),
    #[error("{0}")]
    ClaimRefused(ClaimRefusal),
    #[error("rep {rep_id} is at capacity: {open} of {capacity} open leads")]
    AtCapacity {
        rep_id: Uuid,
        open: u32,
        capacity: i32,
    },
    #[error("this form accepts at most {per_minute} submissions a minute; try again shortly")]
    FormRateLimited { per_minute: i32 },
    /// A web form's key is missing or unknown.
    #[error("{0}")]
    FormKey(&'static str),
    /// Stored data this version cannot read (policies, a rule, a merge snapshot).
    #[error("stored {what} is unreadable: {cause}")]
    Unreadable { what: String, cause: String },
}

impl LeadsError {
    pub fn unreadable(what: impl Into<String>, cause: impl std::fmt::Display) -> Self {
        LeadsError::Unreadable {
            what: what.into(),
            cause: cause.to_string(),
        }
    }

    /// The status `action` leads to from `from`, or the typed refusal.
    pub fn transition(from: LeadStatus, action: &LeadTransition) -> Result<LeadStatus, Self> {
        crate::domain::lifecycle::transition(from, action).map_err(|refusal| {
            LeadsError::IllegalTransition {
                from,
                to: action.rule().1,
                refusal,
            }
        })
    }
}

impl ServiceError for LeadsError {
    fn code(&self) -> ErrorCode {
        match self {
            LeadsError::Common(common) => common.code(),
            LeadsError::IllegalTransition { .. }
            | LeadsError::Converted { .. }
            | LeadsError::InPool { .. }
            | LeadsError::NotInPool { .. }
            | LeadsError::IdTaken { .. }
            | LeadsError::ConvertedNotMergeable { .. }
            | LeadsError::MergeUndone { .. }
            | LeadsError::TeamFromDirectory { .. }
            | LeadsError::NoEligibleRep
            | LeadsError::ReclaimTooSoon(_)
            | LeadsError::Unreadable { .. } => ErrorCode::FailedPrecondition,
            LeadsError::ClaimRefused(_)
            | LeadsError::AtCapacity { .. }
            | LeadsError::FormRateLimited { .. } => ErrorCode::ResourceExhausted,
            LeadsError::FormKey(_) => ErrorCode::Unauthenticated,
        }
    }

    fn field_violations(&self) -> &[FieldViolation] {
        match self {
            LeadsError::Common(common) => common.field_violations(),
            _ => &[],
        }
    }
}

crm_platform::service_error_conversions!(LeadsError);
