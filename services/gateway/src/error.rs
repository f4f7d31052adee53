//! Everything that can go wrong in the gateway, mapped once to the wire.

use crm_platform::error::{ErrorCode, FieldViolation, ServiceError, classify_database_error};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("the request has invalid fields")]
    Invalid(Vec<FieldViolation>),
    #[error("{kind} {id} not found")]
    NotFound { kind: &'static str, id: Uuid },
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    PermissionDenied(String),
    /// Wrong credentials, unknown, expired, revoked or reused tokens. Deliberately vague.
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{kind} {id} is at version {actual}, not {expected}: re-read and retry")]
    VersionConflict {
        kind: &'static str,
        id: Uuid,
        expected: i64,
        actual: i64,
    },
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

impl GatewayError {
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        GatewayError::Invalid(vec![FieldViolation::new(field, description)])
    }
}

impl ServiceError for GatewayError {
    fn code(&self) -> ErrorCode {
        match self {
            GatewayError::Invalid(_) => ErrorCode::InvalidArgument,
            GatewayError::NotFound { .. } => ErrorCode::NotFound,
            GatewayError::AlreadyExists(_) => ErrorCode::AlreadyExists,
            GatewayError::PermissionDenied(_) => ErrorCode::PermissionDenied,
            GatewayError::Unauthenticated(_) => ErrorCode::Unauthenticated,
            GatewayError::VersionConflict { .. } => ErrorCode::Aborted,
            GatewayError::FailedPrecondition(_) => ErrorCode::FailedPrecondition,
            GatewayError::Database(error) => classify_database_error(error),
        }
    }

    fn field_violations(&self) -> &[FieldViolation] {
        match self {
            GatewayError::Invalid(violations) => violations,
            _ => &[],
        }
    }
}

crm_platform::service_error_conversions!(GatewayError, Invalid);
