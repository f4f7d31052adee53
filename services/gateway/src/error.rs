//! Everything that can go wrong in the gateway, mapped once to the wire: the kit's common
//! failures, and the gateway's own, each a typed variant.

use crm_platform::error::{CommonError, ErrorCode, FieldViolation, Reason, ServiceError};

use crate::domain::exchange_rate::RateRefusal;

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
    /// Hashing a password or drawing a secret failed: a fault of the gateway (INTERNAL).
    #[error("{0}")]
    Credentials(String),
    /// An exchange rate the organisation's settings rule out.
    #[error(transparent)]
    Rate(#[from] RateRefusal),
    /// A password of the allowed length that is guessable (FAILED_PRECONDITION): the
    /// violation of `password` saying why.
    #[error("{}", .0[0])]
    WeakPassword([FieldViolation; 1]),
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
    #[error("a user with id {0} and another email already exists")]
    UserId(uuid::Uuid),
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
            | GatewayError::Rate(_)
            | GatewayError::WeakPassword(_) => ErrorCode::FailedPrecondition,
            GatewayError::Credentials(_) => ErrorCode::Internal,
        }
    }

    fn field_violations(&self) -> &[FieldViolation] {
        match self {
            GatewayError::Common(common) => common.field_violations(),
            GatewayError::WeakPassword(violation) => violation,
            _ => &[],
        }
    }

    /// The refusals' reasons ([`reasons`]) and texts for people ([`text_codes`]), sent beside
    /// the English message as a `google.rpc.ErrorInfo`; the English is the `Display` text.
    fn reason(&self) -> Option<Reason> {
        let reason = |reason: &'static str, code: &str| Reason::new(reason, code, self.to_string());
        Some(match self {
            GatewayError::Common(common) => return common.reason(),
            GatewayError::Credentials(_) => return None,
            GatewayError::AlreadyExists(Taken::TeamPath(path)) => {
                reason(reasons::TEAM_PATH_TAKEN, text_codes::TEAM_TAKEN).param("team_path", path)
            }
            GatewayError::AlreadyExists(Taken::Email(email)) => {
                reason(reasons::EMAIL_TAKEN, text_codes::EMAIL_TAKEN).param("email", email)
            }
            GatewayError::AlreadyExists(Taken::TerritoryCode(code)) => reason(
                reasons::TERRITORY_CODE_TAKEN,
                text_codes::TERRITORY_CODE_TAKEN,
            )
            .param("code", code),
            GatewayError::AlreadyExists(Taken::UserId(id)) => {
                reason(reasons::USER_ID_TAKEN, text_codes::USER_ID_TAKEN)
                    .param("user_id", id.to_string())
            }
            GatewayError::WeakPassword(_) => {
                reason(reasons::WEAK_PASSWORD, text_codes::WEAK_PASSWORD)
            }
            GatewayError::Unauthenticated(refusal) => {
                let (machine, code) = match refusal {
                    Refusal::BadLogin => (reasons::BAD_LOGIN, text_codes::BAD_LOGIN),
                    Refusal::UnknownRefreshToken => (
                        reasons::UNKNOWN_REFRESH_TOKEN,
                        text_codes::UNKNOWN_REFRESH_TOKEN,
                    ),
                    Refusal::RefreshRevoked => {
                        (reasons::REFRESH_TOKEN_REVOKED, text_codes::REFRESH_REVOKED)
                    }
                    Refusal::RefreshReused => {
                        (reasons::REFRESH_TOKEN_REUSED, text_codes::REFRESH_REUSED)
                    }
                    Refusal::RefreshExpired => {
                        (reasons::REFRESH_TOKEN_EXPIRED, text_codes::REFRESH_EXPIRED)
                    }
                    Refusal::AccountDisabled => {
                        (reasons::ACCOUNT_DISABLED, text_codes::ACCOUNT_DISABLED)
                    }
                    Refusal::UnknownApiKey => {
                        (reasons::UNKNOWN_API_KEY, text_codes::UNKNOWN_API_KEY)
                    }
                    Refusal::KeyOwnerDisabled => (
                        reasons::API_KEY_OWNER_DISABLED,
                        text_codes::KEY_OWNER_DISABLED,
                    ),
                };
                reason(machine, code)
            }
            GatewayError::AdminExists => reason(reasons::ADMIN_EXISTS, text_codes::ADMIN_EXISTS),
            GatewayError::CallerUnknown => {
                reason(reasons::CALLER_NOT_IN_DIRECTORY, text_codes::CALLER_UNKNOWN)
            }
            GatewayError::Rate(RateRefusal::NoCorporateCurrency) => reason(
                reasons::NO_CORPORATE_CURRENCY,
                text_codes::NO_CORPORATE_CURRENCY,
            ),
            GatewayError::Rate(RateRefusal::OfTheCorporateCurrency(currency)) => reason(
                reasons::RATE_OF_CORPORATE_CURRENCY,
                text_codes::RATE_OF_CORPORATE_CURRENCY,
            )
            .param("currency_code", currency),
        })
    }
}

/// The reasons of the gateway's refusals (the `reason` of their `google.rpc.ErrorInfo`,
/// domain `crm`), for programs; the metadata are the parameters of the matching text code.
/// Never changed in meaning or metadata.
pub mod reasons {
    /// ALREADY_EXISTS: a team with this path exists. `team_path`.
    pub const TEAM_PATH_TAKEN: &str = "TEAM_PATH_TAKEN";
    /// ALREADY_EXISTS: a user with this email exists. `email`.
    pub const EMAIL_TAKEN: &str = "EMAIL_TAKEN";
    /// ALREADY_EXISTS: a territory with this code exists. `code`.
    pub const TERRITORY_CODE_TAKEN: &str = "TERRITORY_CODE_TAKEN";
    /// UNAUTHENTICATED: wrong email or password (the same for both).
    pub const BAD_LOGIN: &str = "BAD_LOGIN";
    /// UNAUTHENTICATED: the refresh token is unknown.
    pub const UNKNOWN_REFRESH_TOKEN: &str = "UNKNOWN_REFRESH_TOKEN";
    /// UNAUTHENTICATED: the refresh token was revoked.
    pub const REFRESH_TOKEN_REVOKED: &str = "REFRESH_TOKEN_REVOKED";
    /// UNAUTHENTICATED: a rotated refresh token was presented again; its family is revoked.
    pub const REFRESH_TOKEN_REUSED: &str = "REFRESH_TOKEN_REUSED";
    /// UNAUTHENTICATED: the refresh token expired.
    pub const REFRESH_TOKEN_EXPIRED: &str = "REFRESH_TOKEN_EXPIRED";
    /// UNAUTHENTICATED: the user is disabled.
    pub const ACCOUNT_DISABLED: &str = "ACCOUNT_DISABLED";
    /// UNAUTHENTICATED: the API key is unknown or revoked.
    pub const UNKNOWN_API_KEY: &str = "UNKNOWN_API_KEY";
    /// UNAUTHENTICATED: the API key's owner is disabled.
    pub const API_KEY_OWNER_DISABLED: &str = "API_KEY_OWNER_DISABLED";
    /// FAILED_PRECONDITION: the first admin exists; admins create the others.
    pub const ADMIN_EXISTS: &str = "ADMIN_EXISTS";
    /// FAILED_PRECONDITION: the caller's token names a user the directory does not have.
    pub const CALLER_NOT_IN_DIRECTORY: &str = "CALLER_NOT_IN_DIRECTORY";
    /// FAILED_PRECONDITION: an exchange rate while the organisation has no corporate currency.
    pub const NO_CORPORATE_CURRENCY: &str = "NO_CORPORATE_CURRENCY";
    /// FAILED_PRECONDITION: an exchange rate of the corporate currency itself.
    /// `currency_code`.
    pub const RATE_OF_CORPORATE_CURRENCY: &str = "RATE_OF_CORPORATE_CURRENCY";
    /// ALREADY_EXISTS: a user with the id a create chose has another email. `user_id`.
    pub const USER_ID_TAKEN: &str = "USER_ID_TAKEN";
    /// FAILED_PRECONDITION: a password of the allowed length that is guessable (too few
    /// different characters, or the email in it); the `password` violation says which.
    pub const WEAK_PASSWORD: &str = "WEAK_PASSWORD";
}

/// The codes of the gateway's refusals (the `reason` of their `google.rpc.ErrorInfo`, domain
/// `crm`), with their parameters. Never changed in meaning or parameters.
pub mod text_codes {
    /// A team with this path exists. `team_path`.
    pub const TEAM_TAKEN: &str = "gateway.team_taken";
    /// A user with this email exists. `email`.
    pub const EMAIL_TAKEN: &str = "gateway.email_taken";
    /// A territory with this code exists. `code`.
    pub const TERRITORY_CODE_TAKEN: &str = "gateway.territory_code_taken";
    /// Wrong email or password (deliberately the same for both).
    pub const BAD_LOGIN: &str = "gateway.bad_login";
    pub const UNKNOWN_REFRESH_TOKEN: &str = "gateway.unknown_refresh_token";
    pub const REFRESH_REVOKED: &str = "gateway.refresh_revoked";
    /// A rotated refresh token was presented again: its family is revoked.
    pub const REFRESH_REUSED: &str = "gateway.refresh_reused";
    pub const REFRESH_EXPIRED: &str = "gateway.refresh_expired";
    pub const ACCOUNT_DISABLED: &str = "gateway.account_disabled";
    pub const UNKNOWN_API_KEY: &str = "gateway.unknown_api_key";
    pub const KEY_OWNER_DISABLED: &str = "gateway.key_owner_disabled";
    /// The first admin exists; admins create the others.
    pub const ADMIN_EXISTS: &str = "gateway.admin_exists";
    /// The caller's token names a user the directory does not have.
    pub const CALLER_UNKNOWN: &str = "gateway.caller_unknown";
    /// No corporate currency is set yet: an admin sets it before any exchange rate.
    pub const NO_CORPORATE_CURRENCY: &str = "gateway.no_corporate_currency";
    /// The currency is the corporate currency, whose rate is always 1. `currency_code`.
    pub const RATE_OF_CORPORATE_CURRENCY: &str = "gateway.rate_of_corporate_currency";
    /// A user with the chosen id has another email. `user_id`.
    pub const USER_ID_TAKEN: &str = "gateway.user_id_taken";
    /// The password is guessable; the English of the `password` violation says why.
    pub const WEAK_PASSWORD: &str = "gateway.weak_password";
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
            (
                GatewayError::Rate(RateRefusal::NoCorporateCurrency),
                Code::FailedPrecondition,
            ),
            (
                GatewayError::Credentials("no entropy".into()),
                Code::Internal,
            ),
        ];
        for (error, code) in cases {
            assert_eq!(tonic::Status::from(error).code(), code);
        }
    }

    /// Programs branch on the reasons and consoles translate by the codes: changing one
    /// breaks them.
    #[test]
    fn refusal_reasons_and_codes_are_stable_and_go_on_the_wire() {
        assert_eq!(
            [
                reasons::TEAM_PATH_TAKEN,
                reasons::EMAIL_TAKEN,
                reasons::TERRITORY_CODE_TAKEN,
                reasons::BAD_LOGIN,
                reasons::UNKNOWN_REFRESH_TOKEN,
                reasons::REFRESH_TOKEN_REVOKED,
                reasons::REFRESH_TOKEN_REUSED,
                reasons::REFRESH_TOKEN_EXPIRED,
                reasons::ACCOUNT_DISABLED,
                reasons::UNKNOWN_API_KEY,
                reasons::API_KEY_OWNER_DISABLED,
                reasons::ADMIN_EXISTS,
                reasons::CALLER_NOT_IN_DIRECTORY,
                reasons::NO_CORPORATE_CURRENCY,
                reasons::RATE_OF_CORPORATE_CURRENCY,
                reasons::USER_ID_TAKEN,
                reasons::WEAK_PASSWORD,
            ],
            [
                "TEAM_PATH_TAKEN",
                "EMAIL_TAKEN",
                "TERRITORY_CODE_TAKEN",
                "BAD_LOGIN",
                "UNKNOWN_REFRESH_TOKEN",
                "REFRESH_TOKEN_REVOKED",
                "REFRESH_TOKEN_REUSED",
                "REFRESH_TOKEN_EXPIRED",
                "ACCOUNT_DISABLED",
                "UNKNOWN_API_KEY",
                "API_KEY_OWNER_DISABLED",
                "ADMIN_EXISTS",
                "CALLER_NOT_IN_DIRECTORY",
                "NO_CORPORATE_CURRENCY",
                "RATE_OF_CORPORATE_CURRENCY",
                "USER_ID_TAKEN",
                "WEAK_PASSWORD",
            ]
        );
        assert_eq!(
            [
                text_codes::TEAM_TAKEN,
                text_codes::EMAIL_TAKEN,
                text_codes::TERRITORY_CODE_TAKEN,
                text_codes::BAD_LOGIN,
                text_codes::UNKNOWN_REFRESH_TOKEN,
                text_codes::REFRESH_REVOKED,
                text_codes::REFRESH_REUSED,
                text_codes::REFRESH_EXPIRED,
                text_codes::ACCOUNT_DISABLED,
                text_codes::UNKNOWN_API_KEY,
                text_codes::KEY_OWNER_DISABLED,
                text_codes::ADMIN_EXISTS,
                text_codes::CALLER_UNKNOWN,
                text_codes::NO_CORPORATE_CURRENCY,
                text_codes::RATE_OF_CORPORATE_CURRENCY,
                text_codes::USER_ID_TAKEN,
                text_codes::WEAK_PASSWORD,
            ],
            [
                "gateway.team_taken",
                "gateway.email_taken",
                "gateway.territory_code_taken",
                "gateway.bad_login",
                "gateway.unknown_refresh_token",
                "gateway.refresh_revoked",
                "gateway.refresh_reused",
                "gateway.refresh_expired",
                "gateway.account_disabled",
                "gateway.unknown_api_key",
                "gateway.key_owner_disabled",
                "gateway.admin_exists",
                "gateway.caller_unknown",
                "gateway.no_corporate_currency",
                "gateway.rate_of_corporate_currency",
                "gateway.user_id_taken",
                "gateway.weak_password",
            ]
        );
        let status = tonic::Status::from(GatewayError::AlreadyExists(Taken::Email(
            "ada@northwind.example".into(),
        )));
        let details = tonic_types::StatusExt::get_error_details(&status);
        let info = details.error_info().expect("error info");
        assert_eq!(info.reason, "EMAIL_TAKEN");
        assert_eq!(info.metadata["text_code"], "gateway.email_taken");
        assert_eq!(info.metadata["email"], "ada@northwind.example");
        assert_eq!(
            status.message(),
            "a user with email ada@northwind.example already exists"
        );
    }
}
