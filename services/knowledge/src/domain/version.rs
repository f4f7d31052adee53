//! An article's versions: what saving a draft does (change the open draft, or start a new
//! version after a published or archived one), and which version a reader is shown.

use chrono::{DateTime, Utc};
use crm_platform::auth::Role;
use uuid::Uuid;

use super::article::{Actor, ArticleContent, VersionStatus, readable};

/// One version of an article as kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    pub number: u32,
    pub status: VersionStatus,
    pub content: ArticleContent,
    pub author_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub published_by: Option<Uuid>,
    pub review_comment: String,
}

impl Version {
    /// A new version `number`, a draft of `author_id`'s, written at `now`.
    pub fn draft(
        number: u32,
        content: ArticleContent,
        author_id: Uuid,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            number,
            status: VersionStatus::Draft,
            content,
            author_id,
            created_at: now,
            updated_at: now,
            published_at: None,
            published_by: None,
            review_comment: String::new(),
        }
    }
}

/// A version as the history lists it, without its content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionEntry {
    pub number: u32,
    pub status: VersionStatus,
    pub title: String,
    pub author_id: Uuid,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

impl VersionEntry {
    /// Whether the caller (`user_id` in `role`) reads this version.
    pub fn read_by(&self, user_id: Uuid, role: Role) -> bool {
        readable(
            self.status,
            Actor {
                role,
                is_author: self.author_id == user_id,
            },
        )
    }
}

/// What saving a draft does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DraftSave {
    /// The open draft is changed in place.
    InPlace,
    /// A new version with this number is started, a draft of the caller's.
    NewVersion(u32),
}

/// Why a draft cannot be saved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DraftRefused {
    #[error("version {0} is in review: it is sent back before it changes")]
    InReview(u32),
    #[error(
        "version {0} is another author's draft: only its author, managers and admins change it"
    )]
    AnotherAuthors(u32),
}

/// What saving a draft over the article's `latest` version does, for `actor` (is_author: they
/// wrote `latest`).
pub fn save_draft(
    latest_number: u32,
    latest: VersionStatus,
    actor: Actor,
) -> Result<DraftSave, DraftRefused> {
    match latest {
        VersionStatus::Draft if actor.is_author || actor.publishes() => Ok(DraftSave::InPlace),
        VersionStatus::Draft => Err(DraftRefused::AnotherAuthors(latest_number)),
        VersionStatus::InReview => Err(DraftRefused::InReview(latest_number)),
        VersionStatus::Published | VersionStatus::Archived => {
            Ok(DraftSave::NewVersion(latest_number + 1))
        }
    }
}

/// The version shown to a caller who asks for none: the latest they read (`None`: they read
/// none, so to them the article does not exist). `history` is newest first or in any order.
pub fn shown(history: &[VersionEntry], user_id: Uuid, role: Role) -> Option<u32> {
    history
        .iter()
        .filter(|entry| entry.read_by(user_id, role))
        .map(|entry| entry.number)
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, is_author: bool) -> Actor {
        Actor { role, is_author }
    }

    #[test]
    fn a_draft_is_changed_in_place_by_its_author_or_a_publisher() {
        assert_eq!(
            save_draft(2, VersionStatus::Draft, actor(Role::Rep, true)),
            Ok(DraftSave::InPlace)
        );
        assert_eq!(
            save_draft(2, VersionStatus::Draft, actor(Role::Manager, false)),
            Ok(DraftSave::InPlace)
        );
        assert_eq!(
            save_draft(2, VersionStatus::Draft, actor(Role::Rep, false)),
            Err(DraftRefused::AnotherAuthors(2))
        );
    }

    #[test]
    fn a_version_in_review_is_sent_back_before_it_changes() {
        for role in [Role::Rep, Role::Manager, Role::Admin] {
            assert_eq!(
                save_draft(3, VersionStatus::InReview, actor(role, true)),
                Err(DraftRefused::InReview(3))
            );
        }
    }

    #[test]
    fn a_published_or_archived_version_is_followed_by_a_new_one() {
        for status in [VersionStatus::Published, VersionStatus::Archived] {
            assert_eq!(
                save_draft(4, status, actor(Role::Rep, false)),
                Ok(DraftSave::NewVersion(5))
            );
        }
    }

    fn entry(number: u32, status: VersionStatus, author: u128) -> VersionEntry {
        VersionEntry {
            number,
            status,
            title: format!("v{number}"),
            author_id: Uuid::from_u128(author),
            updated_at: DateTime::UNIX_EPOCH,
            published_at: None,
        }
    }

    #[test]
    fn readers_are_shown_the_published_version_authors_and_publishers_the_latest() {
        let history = [
            entry(3, VersionStatus::Draft, 7),
            entry(2, VersionStatus::Published, 8),
            entry(1, VersionStatus::Archived, 8),
        ];
        let reader = Uuid::from_u128(9);
        assert_eq!(shown(&history, reader, Role::Rep), Some(2));
        assert_eq!(shown(&history, Uuid::from_u128(7), Role::Rep), Some(3));
        assert_eq!(shown(&history, reader, Role::Manager), Some(3));
        let unpublished = [entry(1, VersionStatus::Draft, 7)];
        assert_eq!(shown(&unpublished, reader, Role::Rep), None);
        let archived = [entry(1, VersionStatus::Archived, 7)];
        assert_eq!(shown(&archived, reader, Role::Rep), None);
        assert_eq!(shown(&archived, reader, Role::Admin), Some(1));
    }
}
