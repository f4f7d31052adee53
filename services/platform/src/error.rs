//! The closed set of error codes every service maps its own error enum onto, once, and the
//! translation of those codes to gRPC (and HTTP, for the gateway).

use std::{collections::HashMap, fmt, time::Duration};

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
    /// Set when the field is refused for what the data holds rather than for its form (a
    /// national phone number while the organisation has no default calling code): a request
    /// whose violations all have one is FAILED_PRECONDITION with this reason, not invalid.
    pub reason: Option<&'static str>,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
            reason: None,
        }
    }

    /// A field of the right form the data rules out, with the refusal's `reason`.
    pub fn refusal(
        reason: &'static str,
        field: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        Self {
            reason: Some(reason),
            ..Self::new(field, description)
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
    /// Like [`Violations::into_result`], for violations that name records the request cannot
    /// use ([`CommonError::unusable_reference`]): FAILED_PRECONDITION, not invalid input.
    pub fn into_references(self) -> Result<(), CommonError> {
        match self.into_result() {
            Ok(()) => Ok(()),
            Err(violations) => Err(CommonError::Unusable {
                reason: reasons::UNUSABLE_REFERENCE,
                violations,
            }),
        }
    }

    pub fn into_result(self) -> Result<(), Vec<FieldViolation>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

/// A required text of a request, trimmed: empty (or only white space) and longer than `max`
/// characters are violations of `field`. (Control characters never get this far: every
/// request's texts are checked for them as it is decoded, `crm_proto::text`.)
pub fn required_text(violations: &mut Violations, field: &str, value: &str, max: usize) -> String {
    let value = value.trim();
    if value.is_empty() {
        violations.add(field, "must not be empty");
    } else if value.chars().count() > max {
        violations.add(field, format!("must be at most {max} characters"));
    }
    value.to_owned()
}

/// A text of a request that may be empty, trimmed: longer than `max` characters is a violation
/// of `field`.
pub fn optional_text(violations: &mut Violations, field: &str, value: &str, max: usize) -> String {
    let value = value.trim();
    if value.chars().count() > max {
        violations.add(field, format!("must be at most {max} characters"));
    }
    value.to_owned()
}

/// The violations as refusals for the data with `reason` (FAILED_PRECONDITION, 422): for rules
/// a request's form cannot show — a list's items together, a value's range the schema does not
/// state — so a request the OpenAPI document calls valid is never a 400.
pub fn as_refusals(reason: &'static str, violations: Vec<FieldViolation>) -> Vec<FieldViolation> {
    violations
        .into_iter()
        .map(|violation| FieldViolation {
            reason: violation.reason.or(Some(reason)),
            ..violation
        })
        .collect()
}

/// Implemented by each service's error enum: the single place where its errors meet the wire.
///
/// The kind of failure decides the code (docs/api.md, "Error model"): invalid input is
/// INVALID_ARGUMENT with field violations; a business rule or an illegal state change is
/// FAILED_PRECONDITION with a [`Reason`]; a conflict with another writer is ALREADY_EXISTS or
/// ABORTED; throttling alone is RESOURCE_EXHAUSTED, and it and an outage (UNAVAILABLE) always
/// carry a retry delay.
pub trait ServiceError: std::error::Error {
    fn code(&self) -> ErrorCode;

    fn field_violations(&self) -> &[FieldViolation] {
        &[]
    }

    /// Why the request was refused, for programs (a stable UPPER_SNAKE reason) and for people
    /// (a text code and its parameters beside the English message, which should be the error's
    /// `Display`), sent as a `google.rpc.ErrorInfo`. `None` (the default) for invalid fields,
    /// which carry their violations instead, and for internal failures.
    fn reason(&self) -> Option<Reason> {
        None
    }

    /// How long the caller should wait before retrying, sent as a `google.rpc.RetryInfo` (and
    /// as `Retry-After` over HTTP). Throttling and outages always carry one: when this is
    /// `None` they get [`THROTTLED_RETRY_AFTER`] or [`OUTAGE_RETRY_AFTER`].
    fn retry_after(&self) -> Option<Duration> {
        None
    }
}

/// A refusal's machine reason and its text for people. The reason (`CLAIM_CAP_REACHED`) is
/// what a program branches on; the text (`leads.pool.claim_cap_reached` with `claimed` and
/// `cap`) is what a console translates. Both are stable; the documented list is in
/// docs/api.md.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    /// UPPER_SNAKE, unique in the [`ERROR_INFO_DOMAIN`]: the `google.rpc.ErrorInfo` reason.
    pub reason: &'static str,
    pub text: LocalizableText,
}

impl Reason {
    /// The reason `reason` with the text `text_code` whose English is `english`.
    pub fn new(reason: &'static str, text_code: &str, english: impl Into<String>) -> Self {
        Self {
            reason,
            text: LocalizableText::new(text_code, english),
        }
    }

    /// Adds a parameter of the text (also a metadata entry of the ErrorInfo).
    pub fn param(mut self, name: &str, value: impl fmt::Display) -> Self {
        self.text = self.text.param(name, value);
        self
    }

    /// The `google.rpc.ErrorInfo` metadata: the text's parameters and, under
    /// [`TEXT_CODE_KEY`], its code.
    pub fn metadata(&self) -> HashMap<String, String> {
        let mut metadata: HashMap<String, String> = self
            .text
            .params
            .iter()
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        metadata.insert(TEXT_CODE_KEY.to_owned(), self.text.code.clone());
        metadata
    }
}

/// The `google.rpc.ErrorInfo` domain of the suite's refusals: an ErrorInfo in this domain has
/// the refusal's machine reason (UPPER_SNAKE) as its `reason`, and its text's parameters and
/// text code (under [`TEXT_CODE_KEY`]) as its `metadata`.
pub const ERROR_INFO_DOMAIN: &str = "crm";

/// The ErrorInfo metadata key that carries the refusal's text code (`leads.pool.claim_cap_reached`);
/// every other key is a parameter of that text.
pub const TEXT_CODE_KEY: &str = "text_code";

/// The retry delay of an outage (a database or an upstream service unreachable) when the
/// failure names none: about how long the readiness probe takes to notice a recovery.
pub const OUTAGE_RETRY_AFTER: Duration = Duration::from_secs(2);

/// The retry delay of throttling when the limit names none.
pub const THROTTLED_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The reasons the kit itself gives; each service adds its own (`LEAD_TRANSITION_NOT_ALLOWED`).
/// Never changed in meaning or metadata: programs branch on them.
pub mod reasons {
    /// The record does not exist or is out of the caller's reach. `kind`, `id`.
    pub const NOT_FOUND: &str = "NOT_FOUND";
    /// `expected_version` is stale (ABORTED). `kind`, `id`, `expected`, `actual`.
    pub const VERSION_CONFLICT: &str = "VERSION_CONFLICT";
    /// The record was merged into another (FAILED_PRECONDITION). `kind`, `id`, `into`.
    pub const MERGED_AWAY: &str = "MERGED_AWAY";
    /// The role, team or API-key scopes do not allow it.
    pub const PERMISSION_DENIED: &str = "PERMISSION_DENIED";
    /// A dependency (the database, an upstream service) is unreachable: retry after the delay.
    pub const SERVICE_UNAVAILABLE: &str = "SERVICE_UNAVAILABLE";
    /// The caller sent too many requests: retry after the delay.
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    /// A field names a record that does not exist, is out of reach or cannot be used in its
    /// state (FAILED_PRECONDITION). `field`.
    pub const UNUSABLE_REFERENCE: &str = "UNUSABLE_REFERENCE";
    /// A page token of the right form that this listing (in this sort) did not make:
    /// start again without it (FAILED_PRECONDITION). `field`.
    pub const PAGE_TOKEN_NOT_RECOGNISED: &str = "PAGE_TOKEN_NOT_RECOGNISED";
    /// A national phone number while the organisation has no default calling code to read it
    /// with (FAILED_PRECONDITION; an admin sets one). `field`.
    pub const NO_DEFAULT_CALLING_CODE: &str = "NO_DEFAULT_CALLING_CODE";
    /// A merge names one record as both survivor and duplicate (FAILED_PRECONDITION). `field`.
    pub const MERGE_WITH_ITSELF: &str = "MERGE_WITH_ITSELF";
    /// Fields each valid alone that contradict each other (a recycling warning after its
    /// deadline, two ramp steps for one day): no schema of one field can state the rule
    /// (FAILED_PRECONDITION). `field`.
    pub const INCONSISTENT_FIELDS: &str = "INCONSISTENT_FIELDS";
}

/// The message of an outage: callers never see which dependency or why.
pub const UNAVAILABLE_MESSAGE: &str = "service temporarily unavailable, retry later";

/// Turns a service error into the status a caller sees. Internal errors are logged with their
/// cause chain and answered with a generic message: callers never see SQL or stack details.
/// Outages are logged too and answered with a generic message, a retry delay and the reason
/// [`reasons::SERVICE_UNAVAILABLE`].
pub fn to_status<E: ServiceError>(error: &E) -> Status {
    let code = error.code();
    match code {
        ErrorCode::Internal => {
            tracing::error!(error = %error_chain(error), "request failed");
            return Status::new(code.grpc_code(), "internal error");
        }
        ErrorCode::Unavailable => {
            tracing::warn!(error = %error_chain(error), "request failed: a dependency is unavailable");
            return unavailable_status(
                UNAVAILABLE_MESSAGE,
                error.retry_after().unwrap_or(OUTAGE_RETRY_AFTER),
            );
        }
        _ => {}
    }
    let violations = error.field_violations();
    let reason = error.reason();
    let retry_after = match code {
        ErrorCode::ResourceExhausted => Some(error.retry_after().unwrap_or(THROTTLED_RETRY_AFTER)),
        _ => error.retry_after(),
    };
    if violations.is_empty() && reason.is_none() && retry_after.is_none() {
        return Status::new(code.grpc_code(), error.to_string());
    }
    let mut details = ErrorDetails::new();
    for violation in violations {
        details.add_bad_request_violation(violation.field.clone(), violation.description.clone());
    }
    if let Some(reason) = reason {
        details.set_error_info(reason.reason, ERROR_INFO_DOMAIN, reason.metadata());
    }
    if let Some(delay) = retry_after {
        details.set_retry_info(Some(delay));
    }
    Status::with_error_details(code.grpc_code(), error.to_string(), details)
}

/// UNAVAILABLE with `message`, a `google.rpc.RetryInfo` of `retry_after` and the reason
/// [`reasons::SERVICE_UNAVAILABLE`]: what a caller gets while a dependency is down (the
/// gateway also sends it for an unreachable upstream service).
pub fn unavailable_status(message: &str, retry_after: Duration) -> Status {
    let reason = Reason::new(
        reasons::SERVICE_UNAVAILABLE,
        text_codes::UNAVAILABLE,
        message,
    );
    let mut details = ErrorDetails::new();
    details.set_error_info(reason.reason, ERROR_INFO_DOMAIN, reason.metadata());
    details.set_retry_info(Some(retry_after));
    Status::with_error_details(Code::Unavailable, message, details)
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
    /// A field of the right form whose value the data rules out: it names a record that does
    /// not exist, is out of the caller's reach or cannot be used in its state (an archived
    /// parent account), a page token the listing did not make, the same record twice in a
    /// merge. The request's form is valid — the OpenAPI document cannot say which ids exist —
    /// so it is FAILED_PRECONDITION, with `reason` and the field named as a violation.
    #[error("{}", describe(.violations))]
    Unusable {
        reason: &'static str,
        violations: Vec<FieldViolation>,
    },
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

impl CommonError {
    /// `field` names a record the request cannot use ([`reasons::UNUSABLE_REFERENCE`]):
    /// `("parent_team_id", "is not a team")`.
    pub fn unusable_reference(field: impl Into<String>, description: impl Into<String>) -> Self {
        CommonError::Unusable {
            reason: reasons::UNUSABLE_REFERENCE,
            violations: vec![FieldViolation::new(field, description)],
        }
    }
}

/// The reason of violations that are all refusals for the data (the first one's), if they are.
fn refusal_reason(violations: &[FieldViolation]) -> Option<&'static str> {
    if violations.is_empty() {
        return None;
    }
    violations
        .iter()
        .map(|violation| violation.reason)
        .collect::<Option<Vec<_>>>()
        .map(|reasons| reasons[0])
}

/// "parent_team_id is not a team; team_id is not a team".
fn describe(violations: &[FieldViolation]) -> String {
    violations
        .iter()
        .map(|violation| format!("{} {}", violation.field, violation.description))
        .collect::<Vec<_>>()
        .join("; ")
}

impl ServiceError for CommonError {
    fn code(&self) -> ErrorCode {
        match self {
            CommonError::Invalid(violations) if refusal_reason(violations).is_some() => {
                ErrorCode::FailedPrecondition
            }
            CommonError::Invalid(_) => ErrorCode::InvalidArgument,
            CommonError::NotFound { .. } => ErrorCode::NotFound,
            CommonError::VersionConflict { .. } => ErrorCode::Aborted,
            CommonError::MergedAway { .. } => ErrorCode::FailedPrecondition,
            CommonError::PermissionDenied(_) => ErrorCode::PermissionDenied,
            CommonError::Unusable { .. } => ErrorCode::FailedPrecondition,
            CommonError::Database(error) => classify_database_error(error),
        }
    }

    fn field_violations(&self) -> &[FieldViolation] {
        match self {
            CommonError::Invalid(violations) => violations,
            CommonError::Unusable { violations, .. } => violations,
            _ => &[],
        }
    }

    /// Reasons for the refusals every service shares ([`reasons`], [`text_codes`]). Invalid
    /// fields carry field violations instead; database failures are not refusals (an outage
    /// gets its reason in [`to_status`]).
    fn reason(&self) -> Option<Reason> {
        let reason = |reason: &'static str, code: &str| Reason::new(reason, code, self.to_string());
        Some(match self {
            CommonError::Invalid(violations) => {
                let code = refusal_reason(violations)?;
                let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
                return Some(
                    Reason::new(code, refusal_text_code(code), self.to_string())
                        .param("field", fields.join(",")),
                );
            }
            CommonError::Database(_) => return None,
            CommonError::NotFound { kind, id } => reason(reasons::NOT_FOUND, text_codes::NOT_FOUND)
                .param("kind", kind)
                .param("id", id),
            CommonError::VersionConflict {
                kind,
                id,
                expected,
                actual,
            } => reason(reasons::VERSION_CONFLICT, text_codes::VERSION_CONFLICT)
                .param("kind", kind)
                .param("id", id)
                .param("expected", expected)
                .param("actual", actual),
            CommonError::MergedAway { kind, id, into } => {
                reason(reasons::MERGED_AWAY, text_codes::MERGED_AWAY)
                    .param("kind", kind)
                    .param("id", id)
                    .param("into", into)
            }
            CommonError::PermissionDenied(_) => {
                reason(reasons::PERMISSION_DENIED, text_codes::PERMISSION_DENIED)
            }
            CommonError::Unusable {
                reason: code,
                violations,
            } => {
                let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
                reason(code, refusal_text_code(code)).param("field", fields.join(","))
            }
        })
    }
}

/// The text code of a refusal for the data, by its reason (each reason has its own; the text
/// codes were once all `no_default_calling_code` for field violations carrying a reason).
fn refusal_text_code(reason: &str) -> &'static str {
    match reason {
        reasons::NO_DEFAULT_CALLING_CODE => text_codes::NO_DEFAULT_CALLING_CODE,
        reasons::PAGE_TOKEN_NOT_RECOGNISED => text_codes::PAGE_TOKEN_NOT_RECOGNISED,
        reasons::MERGE_WITH_ITSELF => text_codes::MERGE_WITH_ITSELF,
        reasons::INCONSISTENT_FIELDS => text_codes::INCONSISTENT_FIELDS,
        _ => text_codes::UNUSABLE_REFERENCE,
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
    /// "service temporarily unavailable, retry later" (a dependency is down).
    pub const UNAVAILABLE: &str = "common.unavailable";
    /// "{field} is not a team" and the like: the field names a record the request cannot
    /// use. `field`.
    pub const UNUSABLE_REFERENCE: &str = "common.unusable_reference";
    /// The page token is not one this listing made. `field`.
    pub const PAGE_TOKEN_NOT_RECOGNISED: &str = "common.page_token_not_recognised";
    /// A record cannot be merged into itself. `field`.
    pub const MERGE_WITH_ITSELF: &str = "common.merge_with_itself";
    /// A national phone number and no default calling code to read it with. `field`.
    pub const NO_DEFAULT_CALLING_CODE: &str = "common.no_default_calling_code";
    /// The fields contradict each other; the English says how. `field`.
    pub const INCONSISTENT_FIELDS: &str = "common.inconsistent_fields";
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

            /// `field` names a record the request cannot use (FAILED_PRECONDITION, the
            /// field named): `unusable_reference("parent_team_id", "is not a team")`.
            pub fn unusable_reference(
                field: impl Into<String>,
                description: impl Into<String>,
            ) -> Self {
                $error::Common($crate::error::CommonError::unusable_reference(
                    field,
                    description,
                ))
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

/// What a database error means to a caller. By SQLSTATE ([`classify_sqlstate`]) for the
/// server's refusals; a connection that cannot be had or broke (pool timed out or closed, I/O
/// errors such as a refused or reset connection, TLS) is an outage; anything else (a decode
/// error, a protocol error) is a bug and stays internal.
pub fn classify_database_error(error: &sqlx::Error) -> ErrorCode {
    match error {
        sqlx::Error::RowNotFound => ErrorCode::NotFound,
        sqlx::Error::Database(db) => classify_sqlstate(db.code().as_deref()),
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => ErrorCode::Unavailable,
        _ => ErrorCode::Internal,
    }
}

/// What a PostgreSQL SQLSTATE means to a caller: a unique violation is a conflict, a
/// foreign-key violation points at a missing record, a check or a malformed value is invalid
/// input, a serialisation failure or deadlock is retryable (ABORTED); a connection exception
/// (class 08), the server shutting down or starting (57P01 admin shutdown, 57P02 crash
/// shutdown, 57P03 cannot connect now) and too many connections (53300) are an outage. Any
/// other is internal.
pub fn classify_sqlstate(sqlstate: Option<&str>) -> ErrorCode {
    match sqlstate {
        Some("23505") => ErrorCode::AlreadyExists,
        Some("23503") => ErrorCode::NotFound,
        Some("23514" | "22001" | "22P02") => ErrorCode::InvalidArgument,
        Some("40001" | "40P01") => ErrorCode::Aborted,
        Some("57P01" | "57P02" | "57P03" | "53300") => ErrorCode::Unavailable,
        Some(code) if code.starts_with("08") => ErrorCode::Unavailable,
        _ => ErrorCode::Internal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each refusal for the data keeps its own text code, whichever way it was raised.
    #[test]
    fn a_refusal_carried_by_field_violations_has_its_own_text_code() {
        for (reason, text) in [
            (
                reasons::INCONSISTENT_FIELDS,
                text_codes::INCONSISTENT_FIELDS,
            ),
            (
                reasons::NO_DEFAULT_CALLING_CODE,
                text_codes::NO_DEFAULT_CALLING_CODE,
            ),
            (reasons::UNUSABLE_REFERENCE, text_codes::UNUSABLE_REFERENCE),
        ] {
            let refused = CommonError::Invalid(vec![FieldViolation::refusal(
                reason,
                "a_threshold",
                "is below b",
            )]);
            assert_eq!(refused.code(), ErrorCode::FailedPrecondition);
            let given = refused.reason().unwrap();
            assert_eq!(given.reason, reason);
            assert_eq!(given.metadata()["text_code"], text, "{reason}");
        }
    }

    #[derive(Debug, thiserror::Error)]
    enum TestError {
        #[error("invalid request")]
        Invalid(Vec<FieldViolation>),
        #[error("database exploded at row 7")]
        Internal,
        #[error("claim cap reached: 3 of 3 leads claimed")]
        CapReached,
        #[error("too many requests")]
        Throttled(Option<Duration>),
    }

    impl ServiceError for TestError {
        fn code(&self) -> ErrorCode {
            match self {
                TestError::Invalid(_) => ErrorCode::InvalidArgument,
                TestError::Internal => ErrorCode::Internal,
                TestError::CapReached => ErrorCode::FailedPrecondition,
                TestError::Throttled(_) => ErrorCode::ResourceExhausted,
            }
        }
        fn field_violations(&self) -> &[FieldViolation] {
            match self {
                TestError::Invalid(v) => v,
                _ => &[],
            }
        }
        fn reason(&self) -> Option<Reason> {
            let TestError::CapReached = self else {
                return None;
            };
            Some(
                Reason::new(
                    "CLAIM_CAP_REACHED",
                    "leads.pool.claim_cap_reached",
                    self.to_string(),
                )
                .param("claimed", 3)
                .param("cap", 3),
            )
        }
        fn retry_after(&self) -> Option<Duration> {
            match self {
                TestError::Throttled(delay) => *delay,
                _ => None,
            }
        }
    }

    #[test]
    fn a_refusal_carries_its_reason_text_code_and_parameters_as_error_info() {
        let status = to_status(&TestError::CapReached);

        assert_eq!(status.code(), Code::FailedPrecondition);
        assert_eq!(status.message(), "claim cap reached: 3 of 3 leads claimed");
        let details = status.get_error_details();
        let info = details.error_info().expect("error info");
        assert_eq!(info.reason, "CLAIM_CAP_REACHED");
        assert_eq!(info.domain, ERROR_INFO_DOMAIN);
        assert_eq!(info.metadata[TEXT_CODE_KEY], "leads.pool.claim_cap_reached");
        assert_eq!(info.metadata["claimed"], "3");
        assert_eq!(info.metadata["cap"], "3");
        assert!(
            details.retry_info().is_none(),
            "a business rule is no throttle"
        );
        assert!(to_status(&TestError::Internal).details().is_empty());
    }

    #[test]
    fn throttling_always_carries_a_retry_delay() {
        let delay = |error: &TestError| {
            let status = to_status(error);
            assert_eq!(status.code(), Code::ResourceExhausted);
            status
                .get_error_details()
                .retry_info()
                .expect("retry info")
                .retry_delay
        };

        assert_eq!(
            delay(&TestError::Throttled(Some(Duration::from_secs(7)))),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            delay(&TestError::Throttled(None)),
            Some(THROTTLED_RETRY_AFTER)
        );
    }

    #[test]
    fn an_outage_is_unavailable_with_a_retry_delay_and_no_detail_of_the_cause() {
        for error in [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
            sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset)),
        ] {
            let status = to_status(&CommonError::Database(error));

            assert_eq!(status.code(), Code::Unavailable);
            assert_eq!(status.message(), UNAVAILABLE_MESSAGE);
            let details = status.get_error_details();
            assert_eq!(
                details.retry_info().and_then(|info| info.retry_delay),
                Some(OUTAGE_RETRY_AFTER)
            );
            assert_eq!(
                details.error_info().map(|info| info.reason.as_str()),
                Some(reasons::SERVICE_UNAVAILABLE)
            );
        }
        let bug = to_status(&CommonError::Database(sqlx::Error::Protocol(
            "garbled".into(),
        )));
        assert_eq!(bug.code(), Code::Internal);
        assert_eq!(bug.message(), "internal error");
    }

    #[test]
    fn sqlstates_of_a_server_going_away_are_an_outage_and_others_keep_their_meaning() {
        for outage in [
            "08000", "08001", "08003", "08006", "08P01", "57P01", "57P02", "57P03", "53300",
        ] {
            assert_eq!(
                classify_sqlstate(Some(outage)),
                ErrorCode::Unavailable,
                "{outage}"
            );
        }
        assert_eq!(classify_sqlstate(Some("23505")), ErrorCode::AlreadyExists);
        assert_eq!(classify_sqlstate(Some("23503")), ErrorCode::NotFound);
        assert_eq!(classify_sqlstate(Some("22P02")), ErrorCode::InvalidArgument);
        assert_eq!(classify_sqlstate(Some("40001")), ErrorCode::Aborted);
        for bug in ["42P01", "42703", "57014", "XX000"] {
            assert_eq!(classify_sqlstate(Some(bug)), ErrorCode::Internal, "{bug}");
        }
        assert_eq!(classify_sqlstate(None), ErrorCode::Internal);
    }

    /// Programs branch on the reasons and consoles translate by the codes: changing one
    /// breaks them.
    #[test]
    fn common_refusals_carry_stable_reasons_and_codes() {
        assert_eq!(
            [
                reasons::NOT_FOUND,
                reasons::VERSION_CONFLICT,
                reasons::MERGED_AWAY,
                reasons::PERMISSION_DENIED,
                reasons::SERVICE_UNAVAILABLE,
                reasons::RATE_LIMITED,
            ],
            [
                "NOT_FOUND",
                "VERSION_CONFLICT",
                "MERGED_AWAY",
                "PERMISSION_DENIED",
                "SERVICE_UNAVAILABLE",
                "RATE_LIMITED",
            ]
        );
        assert_eq!(
            [
                text_codes::NOT_FOUND,
                text_codes::VERSION_CONFLICT,
                text_codes::MERGED_AWAY,
                text_codes::PERMISSION_DENIED,
                text_codes::UNAVAILABLE,
            ],
            [
                "common.not_found",
                "common.version_conflict",
                "common.merged_away",
                "common.permission_denied",
                "common.unavailable",
            ]
        );
        let conflict = CommonError::VersionConflict {
            kind: "lead",
            id: uuid::Uuid::nil(),
            expected: 2,
            actual: 3,
        };
        let status = to_status(&conflict);
        assert_eq!(status.code(), Code::Aborted);
        let details = status.get_error_details();
        let info = details.error_info().expect("error info");
        assert_eq!(info.reason, "VERSION_CONFLICT");
        assert_eq!(info.metadata[TEXT_CODE_KEY], "common.version_conflict");
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
