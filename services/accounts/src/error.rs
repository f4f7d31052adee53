//! Everything that can go wrong in the accounts service, mapped once to the wire: the kit's
//! common failures, and the accounts' own typed ones.

use crm_platform::error::{CommonError, ErrorCode, FieldViolation, Reason, ServiceError};
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

    /// The refusals' reasons ([`reasons`]) and texts for people ([`text_codes`]), sent beside
    /// the English message as a `google.rpc.ErrorInfo`; the English is the `Display` text.
    fn reason(&self) -> Option<Reason> {
        let reason = |reason: &'static str, code: &str| Reason::new(reason, code, self.to_string());
        Some(match self {
            AccountsError::Common(common) => return common.reason(),
            AccountsError::LikelyDuplicate { kind, matches } => {
                reason(reasons::LIKELY_DUPLICATE, text_codes::LIKELY_DUPLICATE)
                    .param("kind", kind)
                    .param("matches", matches)
            }
            AccountsError::IdTaken { kind, id } => reason(reasons::ID_TAKEN, text_codes::ID_TAKEN)
                .param("kind", kind)
                .param("id", id),
            AccountsError::IllegalTransition { kind, id, from, to } => reason(
                reasons::RECORD_TRANSITION_NOT_ALLOWED,
                text_codes::ILLEGAL_TRANSITION,
            )
            .param("kind", kind)
            .param("id", id)
            .param("from", from)
            .param("to", to),
            AccountsError::NotActive { kind, id, status } => {
                reason(reasons::RECORD_NOT_ACTIVE, text_codes::NOT_ACTIVE)
                    .param("kind", kind)
                    .param("id", id)
                    .param("status", status)
            }
        })
    }
}

/// The reasons of the accounts' refusals (the `reason` of their `google.rpc.ErrorInfo`,
/// domain `crm`), for programs; the metadata are the parameters of the matching text code.
/// Never changed in meaning or metadata.
pub mod reasons {
    /// ALREADY_EXISTS: a likely duplicate exists and the policy was to refuse.
    pub const LIKELY_DUPLICATE: &str = "LIKELY_DUPLICATE";
    /// ALREADY_EXISTS: a create retried with an id another user's record has.
    pub const ID_TAKEN: &str = "ID_TAKEN";
    /// FAILED_PRECONDITION: the record's status does not allow the change.
    pub const RECORD_TRANSITION_NOT_ALLOWED: &str = "RECORD_TRANSITION_NOT_ALLOWED";
    /// FAILED_PRECONDITION: only active records merge.
    pub const RECORD_NOT_ACTIVE: &str = "RECORD_NOT_ACTIVE";
}

/// The codes of the accounts' refusals (the `reason` of their `google.rpc.ErrorInfo`, domain
/// `crm`), with their parameters; `kind` is `account` or `contact`, statuses are `active`,
/// `archived`, `merged`. Never changed in meaning or parameters.
pub mod text_codes {
    /// A likely duplicate exists and the policy was to refuse. `kind`, `matches` (the
    /// duplicates, as the message lists them).
    pub const LIKELY_DUPLICATE: &str = "accounts.likely_duplicate";
    /// A create retried with an id another user's record has. `kind`, `id`.
    pub const ID_TAKEN: &str = "accounts.id_taken";
    /// "{kind} {id} is {from}, so it cannot become {to}". `kind`, `id`, `from`, `to`.
    pub const ILLEGAL_TRANSITION: &str = "accounts.illegal_transition";
    /// Only active records merge. `kind`, `id`, `status`.
    pub const NOT_ACTIVE: &str = "accounts.not_active";
}

#[cfg(test)]
mod tests {
    use tonic_types::StatusExt;

    use super::*;

    /// Programs branch on the reasons and consoles translate by the codes: changing one
    /// breaks them.
    #[test]
    fn refusal_reasons_and_codes_are_stable_and_go_on_the_wire() {
        assert_eq!(
            [
                reasons::LIKELY_DUPLICATE,
                reasons::ID_TAKEN,
                reasons::RECORD_TRANSITION_NOT_ALLOWED,
                reasons::RECORD_NOT_ACTIVE,
            ],
            [
                "LIKELY_DUPLICATE",
                "ID_TAKEN",
                "RECORD_TRANSITION_NOT_ALLOWED",
                "RECORD_NOT_ACTIVE"
            ]
        );
        assert_eq!(
            [
                text_codes::LIKELY_DUPLICATE,
                text_codes::ID_TAKEN,
                text_codes::ILLEGAL_TRANSITION,
                text_codes::NOT_ACTIVE,
            ],
            [
                "accounts.likely_duplicate",
                "accounts.id_taken",
                "accounts.illegal_transition",
                "accounts.not_active"
            ]
        );
        let refused = AccountsError::IllegalTransition {
            kind: "account",
            id: Uuid::nil(),
            from: RecordStatus::Archived,
            to: RecordStatus::Archived,
        };
        let message = refused.to_string();
        let status = tonic::Status::from(refused);
        let details = status.get_error_details();
        assert_eq!(status.code(), tonic::Code::FailedPrecondition);
        let info = details.error_info().expect("error info");
        assert_eq!(info.reason, "RECORD_TRANSITION_NOT_ALLOWED");
        assert_eq!(info.metadata["text_code"], "accounts.illegal_transition");
        assert_eq!(info.metadata["from"], "archived");
        assert_eq!(status.message(), message);
    }
}

crm_platform::service_error_conversions!(AccountsError);
