//! Everything that can go wrong in the accounts service, mapped once to the wire: the kit's
//! common failures, and the accounts' own typed ones.

use crm_platform::{
    error::{CommonError, ErrorCode, FieldViolation, ServiceError},
    text::LocalizableText,
};
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

    /// The refusals as texts for people ([`text_codes`]), sent beside the English message as a
    /// `google.rpc.ErrorInfo`; the English is the `Display` text, unchanged.
    fn text(&self) -> Option<LocalizableText> {
        let text = |code: &str| LocalizableText::new(code, self.to_string());
        Some(match self {
            AccountsError::Common(common) => return common.text(),
            AccountsError::LikelyDuplicate { kind, matches } => text(text_codes::LIKELY_DUPLICATE)
                .param("kind", kind)
                .param("matches", matches),
            AccountsError::IdTaken { kind, id } => text(text_codes::ID_TAKEN)
                .param("kind", kind)
                .param("id", id),
            AccountsError::IllegalTransition { kind, id, from, to } => {
                text(text_codes::ILLEGAL_TRANSITION)
                    .param("kind", kind)
                    .param("id", id)
                    .param("from", from)
                    .param("to", to)
            }
            AccountsError::NotActive { kind, id, status } => text(text_codes::NOT_ACTIVE)
                .param("kind", kind)
                .param("id", id)
                .param("status", status),
        })
    }
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

    /// The console and integrators translate by these codes: changing one breaks them.
    #[test]
    fn refusal_codes_are_stable_and_go_on_the_wire() {
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
        let info = details.error_info().expect("error info");
        assert_eq!(info.reason, "accounts.illegal_transition");
        assert_eq!(info.metadata["from"], "archived");
        assert_eq!(status.message(), message);
    }
}

crm_platform::service_error_conversions!(AccountsError);
