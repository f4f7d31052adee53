//! Everything that can go wrong in the knowledge service, mapped once to the wire: the kit's
//! common failures, and the review's own refusals for a version's state.

use crm_platform::error::{CommonError, ErrorCode, FieldViolation, Reason, ServiceError};
use uuid::Uuid;

use crate::domain::article::VersionStatus;

#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    #[error(transparent)]
    Common(#[from] CommonError),
    /// The review step does not start from the version's state.
    #[error("version {version} of article {article_id} is {}: it cannot be {action}", .from.as_str())]
    ReviewRefused {
        article_id: Uuid,
        version: u32,
        from: VersionStatus,
        action: &'static str,
    },
    /// A version in review is sent back before it changes.
    #[error(
        "version {version} of article {article_id} is in review: it is sent back before it changes"
    )]
    VersionInReview { article_id: Uuid, version: u32 },
    /// This replica's search index has not caught up since it started.
    #[error("the search index is catching up")]
    IndexCatchingUp,
    /// The search index failed (its files, its memory maps).
    #[error("search index: {0}")]
    Index(String),
}

impl ServiceError for KnowledgeError {
    fn code(&self) -> ErrorCode {
        match self {
            KnowledgeError::Common(common) => common.code(),
            KnowledgeError::ReviewRefused { .. } | KnowledgeError::VersionInReview { .. } => {
                ErrorCode::FailedPrecondition
            }
            KnowledgeError::IndexCatchingUp => ErrorCode::Unavailable,
            KnowledgeError::Index(_) => ErrorCode::Internal,
        }
    }

    fn field_violations(&self) -> &[FieldViolation] {
        match self {
            KnowledgeError::Common(common) => common.field_violations(),
            _ => &[],
        }
    }

    fn reason(&self) -> Option<Reason> {
        let reason = |reason: &'static str, code: &str| Reason::new(reason, code, self.to_string());
        Some(match self {
            KnowledgeError::Common(common) => return common.reason(),
            KnowledgeError::IndexCatchingUp | KnowledgeError::Index(_) => return None,
            KnowledgeError::ReviewRefused {
                article_id,
                version,
                from,
                action,
            } => reason(reasons::REVIEW_REFUSED, text_codes::REVIEW_REFUSED)
                .param("article_id", article_id)
                .param("version", version)
                .param("status", from.as_str())
                .param("action", action),
            KnowledgeError::VersionInReview {
                article_id,
                version,
            } => reason(reasons::VERSION_IN_REVIEW, text_codes::VERSION_IN_REVIEW)
                .param("article_id", article_id)
                .param("version", version),
        })
    }
}

/// The `google.rpc.ErrorInfo` reasons of the service's own refusals (docs/api.md).
pub mod reasons {
    pub const REVIEW_REFUSED: &str = "REVIEW_REFUSED";
    pub const VERSION_IN_REVIEW: &str = "VERSION_IN_REVIEW";
}

/// Text codes consoles translate the refusals by, with their parameters.
pub mod text_codes {
    /// "version {version} of article {article_id} is {status}: it cannot be {action}".
    pub const REVIEW_REFUSED: &str = "knowledge.review_refused";
    /// "version {version} of article {article_id} is in review: it is sent back before it
    /// changes".
    pub const VERSION_IN_REVIEW: &str = "knowledge.version_in_review";
}

crm_platform::service_error_conversions!(KnowledgeError);
