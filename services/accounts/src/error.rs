//! Everything that can go wrong in the accounts service, mapped once to the wire: the kit's
//! common failures, and the accounts' own typed ones.

use crm_platform::error::{CommonError, ErrorCode, FieldViolation, ServiceError};
use uuid::Uuid;

use crate::domain::RecordStatus;

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error(transparent)]
    Common(#[from] CommonError),
    #[error("a likely duplicate {kind} exists: {matches}")]
    LikelyDuplicate { kind: &'static str, matches: String },
    /// A create retried with an id another user already created a record under.
    #[error("{kind} {id} already exists")]
    IdTaken { kind: &'static str, id: Uuid },
    /// The record's status does not allow the change (archiving an archived account, merging
    /// an inactive one).
    #[error("{kind} {id} is {from}, so it cannot become {to}")]
    IllegalTransition {
        kind: &'static str,
        id: Uuid,
        from: RecordStatus,
        to: RecordStatus,
    },
    /// Only an active record takes part in a merge.
    #[error("{kind} {id} is {status}, not active")]
    NotActive {
        kind: &'static str,
        id: Uuid,
        status: RecordStatus,
    },
}

impl ServiceError for AccountsError {
    fn code(&self) -> ErrorCode {
        match self {
            AccountsError::Common(common) => common.code(),
            AccountsError::LikelyDuplicate { .. } | AccountsError::IdTaken { .. } => {
                ErrorCode::AlreadyExists
            }
            AccountsError::IllegalTransition { .. } | AccountsError::NotActive { .. } => {
                ErrorCode::FailedPrecondition
            }
        }
    }

    fn field_violations(&self) -> &[FieldViolation] {
        match self {
            AccountsError::Common(common) => common.field_violations(),
            _ => &[],
        }
    }
}

crm_platform::service_error_conversions!(AccountsError);
