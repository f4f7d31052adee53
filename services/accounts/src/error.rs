//! Everything that can go wrong in the accounts service, mapped once to the wire.

use crm_platform::error::{ErrorCode, FieldViolation, ServiceError, classify_database_error};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error("the request has invalid fields")]
    Invalid(Vec<FieldViolation>),
    #[error("{kind} {id} not found")]
    NotFound { kind: &'static str, id: Uuid },
    #[error("a likely duplicate {kind} exists: {matches}")]
    LikelyDuplicate { kind: &'static str, matches: String },
    #[error(
        "{kind} {id} is at version {actual}, not {expected}: it changed since it was read; re-read and retry"
    )]
    VersionConflict {
        kind: &'static str,
        id: Uuid,
        expected: i64,
        actual: i64,
    },
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

impl AccountsError {
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        AccountsError::Invalid(vec![FieldViolation::new(field, description)])
    }
}

impl ServiceError for AccountsError {
    fn code(&self) -> ErrorCode {
        match self {
            AccountsError::Invalid(_) => ErrorCode::InvalidArgument,
            AccountsError::NotFound { .. } => ErrorCode::NotFound,
            AccountsError::LikelyDuplicate { .. } | AccountsError::AlreadyExists(_) => {
                ErrorCode::AlreadyExists
            }
            AccountsError::VersionConflict { .. } => ErrorCode::Aborted,
            AccountsError::FailedPrecondition(_) => ErrorCode::FailedPrecondition,
            AccountsError::PermissionDenied(_) => ErrorCode::PermissionDenied,
            AccountsError::Database(error) => classify_database_error(error),
        }
    }

    fn field_violations(&self) -> &[FieldViolation] {
        match self {
            AccountsError::Invalid(violations) => violations,
            _ => &[],
        }
    }
}

crm_platform::service_error_conversions!(AccountsError, Invalid);
