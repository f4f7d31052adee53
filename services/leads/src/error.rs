//! Everything that can go wrong in the leads service, mapped once to the wire.

use crm_platform::error::{ErrorCode, FieldViolation, ServiceError, classify_database_error};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum LeadsError {
    #[error("the request has invalid fields")]
    Invalid(Vec<FieldViolation>),
    #[error("{kind} {id} not found")]
    NotFound { kind: &'static str, id: Uuid },
    #[error(
        "lead {id} is at version {actual}, not {expected}: it changed since it was read; re-read and retry"
    )]
    VersionConflict {
        id: Uuid,
        expected: i64,
        actual: i64,
    },
    /// The lead's state does not allow the action (illegal transition, already owned …).
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("{0}")]
    PermissionDenied(String),
    /// A claim cap or a form's rate limit.
    #[error("{0}")]
    ResourceExhausted(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

impl LeadsError {
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        LeadsError::Invalid(vec![FieldViolation::new(field, description)])
    }
}

impl ServiceError for LeadsError {
    fn code(&self) -> ErrorCode {
        match self {
            LeadsError::Invalid(_) => ErrorCode::InvalidArgument,
            LeadsError::NotFound { .. } => ErrorCode::NotFound,
            LeadsError::VersionConflict { .. } => ErrorCode::Aborted,
            LeadsError::FailedPrecondition(_) => ErrorCode::FailedPrecondition,
            LeadsError::PermissionDenied(_) => ErrorCode::PermissionDenied,
            LeadsError::ResourceExhausted(_) => ErrorCode::ResourceExhausted,
            LeadsError::Unauthenticated(_) => ErrorCode::Unauthenticated,
            LeadsError::Database(error) => classify_database_error(error),
        }
    }

    fn field_violations(&self) -> &[FieldViolation] {
        match self {
            LeadsError::Invalid(violations) => violations,
            _ => &[],
        }
    }
}

crm_platform::service_error_conversions!(LeadsError, Invalid);
