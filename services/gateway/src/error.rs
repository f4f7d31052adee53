//! Everything that can go wrong in the gateway, mapped once to the wire: the kit's common
//! failures, and the gateway's own, each a typed variant.

use crm_platform::error::{CommonError, ErrorCode, FieldViolation, ServiceError};

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error(transparent)]
    Common(#[from] CommonError),
    /// A team path, an email or a territory code is taken.
    #[error("{0}")]
    AlreadyExists(Taken),
    /// Wrong credentials, unknown, expired, revoked or reused tokens. Deliberately vague.
    #[error("{0}")]
    Unauthenticated(Refusal),
    /// The first admin is created once; admins create the others.
    #[error("an admin exists already; admins create further admins")]
    AdminExists,
    /// The caller's token names a user the directory does not have.
    #[error("your user is not in the directory")]
    CallerUnknown,
    /// Hashing a password or drawing a secret failed.
    #[error("{0}")]
    Credentials(String),
}

/// What is taken already.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Taken {
    #[error("team {0} already exists")]
    TeamPath(String),
    #[error("a user with email {0} already exists")]
    Email(String),
    #[error("a territory with code {0} already exists")]
    TerritoryCode(String),
}

/// Why a sign-in or a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("invalid email or password")]
    BadLogin,
    #[error("unknown refresh token")]
    UnknownRefreshToken,
    #[error("refresh token revoked; sign in again")]
    RefreshRevoked,
    #[error("refresh token already used; sign in again")]
    RefreshReused,
    #[error("refresh token expired; sign in again")]
    RefreshExpired,
    #[error("the account is disabled")]
    AccountDisabled,
    #[error("unknown or revoked API key")]
    UnknownApiKey,
    #[error("the key's owner is disabled")]
    KeyOwnerDisabled,
}

impl ServiceError for GatewayError {
    fn code(&self) -> ErrorCode {
        match self {
            GatewayError::Common(common) => common.code(),
            GatewayError::AlreadyExists(_) => ErrorCode::AlreadyExists,
            GatewayError::Unauthenticated(_) => ErrorCode::Unauthenticated,
            GatewayError::AdminExists
            | GatewayError::CallerUnknown
            | GatewayError::Credentials(_) => ErrorCode::FailedPrecondition,
        }
    }

    fn field_violations(&self) -> &[FieldViolation] {
        match self {
            GatewayError::Common(common) => common.field_violations(),
            _ => &[],
        }
    }
}

crm_platform::service_error_conversions!(GatewayError);

#[cfg(test)]
mod tests {
    use tonic::Code;

    use super::*;

    #[test]
    fn each_failure_keeps_its_code_on_the_wire() {
        let cases = [
            (
                GatewayError::invalid("email", "is not an email"),
                Code::InvalidArgument,
            ),
            (
                GatewayError::not_found("user", uuid::Uuid::nil()),
                Code::NotFound,
            ),
            (
                GatewayError::permission_denied("no"),
                Code::PermissionDenied,
            ),
            (
                GatewayError::AlreadyExists(Taken::Email("ada@northwind.example".into())),
                Code::AlreadyExists,
            ),
            (
                GatewayError::Unauthenticated(Refusal::BadLogin),
                Code::Unauthenticated,
            ),
            (GatewayError::AdminExists, Code::FailedPrecondition),
            (GatewayError::CallerUnknown, Code::FailedPrecondition),
        ];
        for (error, code) in cases {
            assert_eq!(tonic::Status::from(error).code(), code);
        }
    }
}
