//! The closed set of error codes every service maps its own error enum onto, once, and the
//! translation of those codes to gRPC (and HTTP, for the gateway).

use std::{collections::HashMap, fmt};

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::text::LocalizableText;

/// What kind of failure a caller sees. Services map their typed errors onto these; nothing
/// else reaches the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    InvalidArgument,
    NotFound,
    AlreadyExists,
    /// The request is valid but the record is not in a state that allows it.
    FailedPrecondition,
    /// An optimistic-concurrency check failed: the caller should re-read and retry.
    Aborted,
    PermissionDenied,
    Unauthenticated,
    ResourceExhausted,
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn grpc_code(self) -> Code {
        match self {
            ErrorCode::InvalidArgument => Code::InvalidArgument,
            ErrorCode::NotFound => Code::NotFound,
            ErrorCode::AlreadyExists => Code::AlreadyExists,
            ErrorCode::FailedPrecondition => Code::FailedPrecondition,
            ErrorCode::Aborted => Code::Aborted,
            ErrorCode::PermissionDenied => Code::PermissionDenied,
            ErrorCode::Unauthenticated => Code::Unauthenticated,
            ErrorCode::ResourceExhausted => Code::ResourceExhausted,
            ErrorCode::Unavailable => Code::Unavailable,
            ErrorCode::Internal => Code::Internal,
        }
    }

    /// The code a gRPC status maps back to; `None` for codes the services never send.
    pub fn from_grpc_code(code: Code) -> Option<Self> {
        Some(match code {
            Code::InvalidArgument => ErrorCode::InvalidArgument,
            Code::NotFound => ErrorCode::NotFound,
            Code::AlreadyExists => ErrorCode::AlreadyExists,
            Code::FailedPrecondition => ErrorCode::FailedPrecondition,
            Code::Aborted => ErrorCode::Aborted,
            Code::PermissionDenied => ErrorCode::PermissionDenied,
            Code::Unauthenticated => ErrorCode::Unauthenticated,
            Code::ResourceExhausted => ErrorCode::ResourceExhausted,
            Code::Unavailable => ErrorCode::Unavailable,
            Code::Internal => ErrorCode::Internal,
            _ => return None,
        })
    }

    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::InvalidArgument => 400,
            ErrorCode::NotFound => 404,
            ErrorCode::AlreadyExists | ErrorCode::Aborted => 409,
            ErrorCode::FailedPrecondition => 422,
            ErrorCode::PermissionDenied => 403,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::ResourceExhausted => 429,
            ErrorCode::Unavailable => 503,
            ErrorCode::Internal => 500,
        }
    }
}

/// One invalid field, reported as a google.rpc.BadRequest field violation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldViolation {
    /// Path of the field in the request, e.g. `account.website`.
    pub field: String,
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }
}

impl fmt::Display for FieldViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.description)
    }
}

/// Collects every violation of a request before failing, so a caller fixes all at once.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    /// Records the error of a fallible parse under `field` and returns its value if it parsed.
    pub fn check<T, E: fmt::Display>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.add(field, error.to_string());
                None
            }
        }
    }

    /// Records a violation the caller already made.
    pub fn push(&mut self, violation: FieldViolation) {
        self.0.push(violation);
    }

    /// Records the violation of a kit parser (see [`crate::ids`]) and returns its value if any.
    pub fn take<T>(&mut self, result: Result<T, FieldViolation>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(violation) => {
                self.0.push(violation);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when nothing was recorded.
    pub fn into_result(self) -> Result<(), Vec<FieldViolation>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

/// Implemented by each service's error enum: the single place where its errors meet the wire.
pub trait ServiceError: std::error::Error {
    fn code(&self) -> ErrorCode;

    fn field_violations(&self) -> &[FieldViolation] {
        &[]
    }

    /// The refusal as a text for people: a stable code and its parameters beside the English
    /// message (which should be the error's `Display`), so that a console can show it in another
    /// language. `None` (the default) sends the English message alone.
    fn text(&self) -> Option<LocalizableText> {
        None
    }
}

/// The `google.rpc.ErrorInfo` domain of the suite's refusals: an ErrorInfo in this domain has
/// the refusal's text code as its `reason` and the text's parameters as its `metadata`.
pub const ERROR_INFO_DOMAIN: &str = "crm";

/// Turns a service error into the status a caller sees. Internal errors are logged with their
/// cause chain and answered with a generic message: callers never see SQL or stack details.
pub fn to_status<E: ServiceError>(error: &E) -> Status {
    let code = error.code();
    if code == ErrorCode::Internal || code == ErrorCode::Unavailable {
        tracing::error!(error = %error_chain(error), "request failed");
        let message = if code == ErrorCode::Internal {
            "internal error"
        } else {
            "service temporarily unavailable, retry later"
        };
        return Status::new(code.grpc_code(), message);
    }
    let violations = error.field_violations();
    let text = error.text();
    if violations.is_empty() && text.is_none() {
        return Status::new(code.grpc_code(), error.to_string());
    }
    let mut details = ErrorDetails::new();
    for violation in violations {
        details.add_bad_request_violation(violation.field.clone(), violation.description.clone());
    }
    if let Some(text) = text {
        let params: HashMap<String, String> = text.params.into_iter().collect();
        details.set_error_info(text.code, ERROR_INFO_DOMAIN, params);
    }
    Status::with_error_details(code.grpc_code(), error.to_string(), details)
}

/// The failures every service shares, one definition: each service's error enum holds these
/// as its `Common` variant (`#[error(transparent)] Common(#[from] CommonError)`) beside its
/// own typed domain variants, and [`service_error_conversions!`] gives it the constructors.
#[derive(Debug, thiserror::Error)]
pub enum CommonError {
    #[error("the request has invalid fields")]
    Invalid(Vec<FieldViolation>),
    /// Also what a record out of the caller's reach looks like, so its existence does not leak.
    #[error("{kind} {id} not found")]
    NotFound { kind: &'static str, id: uuid::Uuid },
    #[error(
        "{kind} {id} is at version {actual}, not {expected}: it changed since it was read; re-read and retry"
    )]
    VersionConflict {
        kind: &'static str,
        id: uuid::Uuid,
        expected: i64,
        actual: i64,
    },
    /// A merged-away record no longer changes; its survivor does.
    #[error("{kind} {id} was merged into {into}")]
    MergedAway {
        kind: &'static str,
        id: uuid::Uuid,
        into: uuid::Uuid,
    },
    #[error("{0}")]
    PermissionDenied(String),
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

impl ServiceError for CommonError {
    fn code(&self) -> ErrorCode {
        match self {
            CommonError::Invalid(_) => ErrorCode::InvalidArgument,
            CommonError::NotFound { .. } => ErrorCode::NotFound,
            CommonError::VersionConflict { .. } => ErrorCode::Aborted,
            CommonError::MergedAway { .. } => ErrorCode::FailedPrecondition,
            CommonError::PermissionDenied(_) => ErrorCode::PermissionDenied,
            CommonError::Database(error) => classify_database_error(error),
        }
    }

    fn field_violations(&self) -> &[FieldViolation] {
        match self {
            CommonError::Invalid(violations) => violations,
            _ => &[],
        }
    }

    /// Codes for the refusals every service shares ([`text_codes`]). Invalid fields carry field
    /// violations instead; database failures are not refusals.
    fn text(&self) -> Option<LocalizableText> {
        let text = |code: &str| LocalizableText::new(code, self.to_string());
        Some(match self {
            CommonError::Invalid(_) | CommonError::Database(_) => return None,
            CommonError::NotFound { kind, id } => text(text_codes::NOT_FOUND)
                .param("kind", kind)
                .param("id", id),
            CommonError::VersionConflict {
                kind,
                id,
                expected,
                actual,
            } => text(text_codes::VERSION_CONFLICT)
                .param("kind", kind)
                .param("id", id)
                .param("expected", expected)
                .param("actual", actual),
            CommonError::MergedAway { kind, id, into } => text(text_codes::MERGED_AWAY)
                .param("kind", kind)
                .param("id", id)
                .param("into", into),
            CommonError::PermissionDenied(_) => text(text_codes::PERMISSION_DENIED),
        })
    }
}

/// The codes of the common refusals ([`CommonError`]), with their parameters; `kind` is the
/// record kind as the services name it (`account`, `lead`, `user`), ids are UUIDs. Never
/// changed in meaning or parameters: consoles translate by them.
pub mod text_codes {
    /// "{kind} {id} not found" (also a record out of the caller's reach). `kind`, `id`.
    pub const NOT_FOUND: &str = "common.not_found";
    /// The record changed since it was read. `kind`, `id`, `expected`, `actual`.
    pub const VERSION_CONFLICT: &str = "common.version_conflict";
    /// The record was merged into another. `kind`, `id`, `into`.
    pub const MERGED_AWAY: &str = "common.merged_away";
    /// The caller's role, team or API-key scopes do not allow it; the English says which.
    pub const PERMISSION_DENIED: &str = "common.permission_denied";
}

/// A request field the kit's parsers refused, answered as INVALID_ARGUMENT with its violation.
impl From<FieldViolation> for Status {
    fn from(violation: FieldViolation) -> Self {
        to_status(&CommonError::Invalid(vec![violation]))
    }
}

/// Checks an optimistic-concurrency guard: `expected` (if any) must be the record's version.
pub fn check_version(
    kind: &'static str,
    id: uuid::Uuid,
    expected: Option<i64>,
    actual: i64,
) -> Result<(), CommonError> {
    match expected {
        Some(expected) if expected != actual => Err(CommonError::VersionConflict {
            kind,
            id,
            expected,
            actual,
        }),
        _ => Ok(()),
    }
}

/// Implements the wire conversions and common constructors of a service's error enum, whose
/// `Common` variant holds a [`CommonError`]: `tonic::Status` through [`to_status`]; the enum
/// from field violations, a [`CommonError`] (by `#[from]`) and `sqlx::Error`; and
/// `invalid`, `not_found`, `permission_denied`. `service_error_conversions!(LeadsError)`.
#[macro_export]
macro_rules! service_error_conversions {
    ($error:ident) => {
        impl From<$error> for ::tonic::Status {
            fn from(error: $error) -> Self {
                $crate::error::to_status(&error)
            }
        }

        impl From<Vec<$crate::error::FieldViolation>> for $error {
            fn from(violations: Vec<$crate::error::FieldViolation>) -> Self {
                $error::Common($crate::error::CommonError::Invalid(violations))
            }
        }

        impl From<$crate::error::FieldViolation> for $error {
            fn from(violation: $crate::error::FieldViolation) -> Self {
                $error::Common($crate::error::CommonError::Invalid(vec![violation]))
            }
        }

        impl From<::sqlx::Error> for $error {
            fn from(error: ::sqlx::Error) -> Self {
                $error::Common($crate::error::CommonError::Database(error))
            }
        }

        #[allow(dead_code)]
        impl $error {
            /// One invalid field.
            pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
                $crate::error::FieldViolation::new(field, description).into()
            }

            /// The record does not exist, or is out of the caller's reach.
            pub fn not_found(kind: &'static str, id: ::uuid::Uuid) -> Self {
                $error::Common($crate::error::CommonError::NotFound { kind, id })
            }

            pub fn permission_denied(reason: impl Into<String>) -> Self {
                $error::Common($crate::error::CommonError::PermissionDenied(reason.into()))
            }
        }
    };
}

/// `error: cause: cause`, for logs.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// What a database error means to a caller, by SQLSTATE: a unique violation is a conflict, a
/// foreign-key violation points at a missing record, a serialisation failure is retryable.
pub fn classify_database_error(error: &sqlx::Error) -> ErrorCode {
    match error {
        sqlx::Error::RowNotFound => ErrorCode::NotFound,
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("23505") => ErrorCode::AlreadyExists,
            Some("23503") => ErrorCode::NotFound,
            Some("23514") | Some("22001") | Some("22P02") => ErrorCode::InvalidArgument,
            Some("40001") | Some("40P01") => ErrorCode::Aborted,
            _ => ErrorCode::Internal,
        },
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
            ErrorCode::Unavailable
        }
        _ => ErrorCode::Internal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum TestError {
        #[error("invalid request")]
        Invalid(Vec<FieldViolation>),
        #[error("database exploded at row 7")]
        Internal,
        #[error("claim cap reached: 3 of 3 leads claimed")]
        CapReached,
    }

    impl ServiceError for TestError {
        fn code(&self) -> ErrorCode {
            match self {
                TestError::Invalid(_) => ErrorCode::InvalidArgument,
                TestError::Internal => ErrorCode::Internal,
                TestError::CapReached => ErrorCode::ResourceExhausted,
            }
        }
        fn field_violations(&self) -> &[FieldViolation] {
            match self {
                TestError::Invalid(v) => v,
                TestError::Internal | TestError::CapReached => &[],
            }
        }
        fn text(&self) -> Option<LocalizableText> {
            let TestError::CapReached = self else {
                return None;
            };
            Some(
                LocalizableText::new("leads.pool.claim_cap_reached", self.to_string())
                    .param("claimed", 3)
                    .param("cap", 3),
            )
        }
    }

    #[test]
    fn a_refusal_with_a_text_carries_its_code_and_parameters_as_error_info() {
        let status = to_status(&TestError::CapReached);

        assert_eq!(status.code(), Code::ResourceExhausted);
        assert_eq!(status.message(), "claim cap reached: 3 of 3 leads claimed");
        let details = status.get_error_details();
        let info = details.error_info().expect("error info");
        assert_eq!(info.reason, "leads.pool.claim_cap_reached");
        assert_eq!(info.domain, ERROR_INFO_DOMAIN);
        assert_eq!(info.metadata["claimed"], "3");
        assert_eq!(info.metadata["cap"], "3");
        assert!(to_status(&TestError::Internal).details().is_empty());
    }

    /// The console and integrators translate by these codes: changing one breaks them.
    #[test]
    fn common_refusals_carry_stable_codes() {
        assert_eq!(
            [
                text_codes::NOT_FOUND,
                text_codes::VERSION_CONFLICT,
                text_codes::MERGED_AWAY,
                text_codes::PERMISSION_DENIED,
            ],
            [
                "common.not_found",
                "common.version_conflict",
                "common.merged_away",
                "common.permission_denied"
            ]
        );
        let conflict = CommonError::VersionConflict {
            kind: "lead",
            id: uuid::Uuid::nil(),
            expected: 2,
            actual: 3,
        };
        let status = to_status(&conflict);
        let details = status.get_error_details();
        let info = details.error_info().expect("error info");
        assert_eq!(info.reason, "common.version_conflict");
        assert_eq!(info.metadata["kind"], "lead");
        assert_eq!(info.metadata["expected"], "2");
        assert_eq!(status.message(), conflict.to_string());
        let invalid = CommonError::Invalid(vec![FieldViolation::new("name", "is empty")]);
        assert!(
            to_status(&invalid)
                .get_error_details()
                .error_info()
                .is_none()
        );
    }

    #[test]
    fn invalid_argument_carries_field_violations() {
        let status = to_status(&TestError::Invalid(vec![FieldViolation::new(
            "account.name",
            "must not be empty",
        )]));
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let bad_request = details.bad_request().expect("bad request details");
        assert_eq!(bad_request.field_violations[0].field, "account.name");
        assert_eq!(
            bad_request.field_violations[0].description,
            "must not be empty"
        );
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let status = to_status(&TestError::Internal);
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), "internal error");
    }

    #[test]
    fn violations_collects_all_before_failing() {
        let mut violations = Violations::new();
        violations.add("a", "bad");
        let parsed: Option<u32> = violations.check("b", "x".parse::<u32>());
        assert!(parsed.is_none());
        assert_eq!(violations.into_result().unwrap_err().len(), 2);
    }
}
