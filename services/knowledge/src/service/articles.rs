//! Articles (K1): written by anyone signed in, reviewed and published by managers and admins,
//! every version kept; each change an event carrying the versions in use.

use crm_platform::{
    auth::Caller,
    error::{
        CommonError, FieldViolation, as_refusals, check_version, reasons::INCONSISTENT_FIELDS,
    },
    paging::{Listing, Page},
};
use crm_proto::crm::knowledge::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Knowledge, Result};
use crate::{
    convert,
    domain::{
        article::{
            Actor, ArticleContent, ReviewAction, ReviewRefused, VersionStatus, readable, review,
        },
        diff::{VersionDiff, diff},
        version::{DraftRefused, DraftSave, Version, VersionEntry, save_draft, shown},
    },
    error::KnowledgeError,
    store::{
        self,
        articles::{ArticleFilter, ArticleHead, ReviewRecord},
    },
};

/// An article as a caller sees it: one version with content, and the history they read.
#[derive(Clone, Debug)]
pub struct ShownArticle {
    pub head: ArticleHead,
    pub version: Version,
    pub history: Vec<VersionEntry>,
}

const ARTICLE: &str = "article";

fn actor(caller: &Caller, author_id: Uuid) -> Actor {
    Actor {
        role: caller.role,
        is_author: author_id == caller.user_id,
    }
}

/// Whether the caller publishes (a manager or admin: they read every draft).
pub(super) fn publishes(caller: &Caller) -> bool {
    actor(caller, Uuid::nil()).publishes()
}

/// The content as kept, or every problem with it: its form (invalid), and what its kind asks
/// of it (a refusal for the data: the schema cannot say a battlecard names its competitor).
fn checked(content: ArticleContent) -> Result<ArticleContent> {
    let content = content.normalised();
    let in_content = |violations: Vec<FieldViolation>| -> Vec<FieldViolation> {
        violations
            .into_iter()
            .map(|mut violation| {
                violation.field = format!("content.{}", violation.field);
                violation
            })
            .collect()
    };
    content.check().map_err(in_content)?;
    content
        .check_kind()
        .map_err(|violations| as_refusals(INCONSISTENT_FIELDS, in_content(violations)))?;
    Ok(content)
}

fn refusal(field: &str, description: &str) -> KnowledgeError {
    FieldViolation::refusal(INCONSISTENT_FIELDS, field, description).into()
}

impl Knowledge {
    /// A new article: version 1, a draft of the caller's.
    pub async fn create_article(
        &self,
        caller: &Caller,
        content: ArticleContent,
    ) -> Result<ShownArticle> {
        let content = checked(content)?;
        let now = crm_platform::time::now();
        let head = ArticleHead {
            id: Uuid::now_v7(),
            revision: 1,
            latest_version: 1,
            published_version: None,
            created_by: caller.user_id,
            created_at: now,
            updated_at: now,
        };
        let version = Version::draft(1, content, caller.user_id, now);
        let mut transaction = self.pool.begin().await?;
        let article = self
            .write_draft(&mut transaction, caller, head, version)
            .await?;
        self.outbox.commit(transaction).await?;
        Ok(article)
    }

    /// Writes a draft (new or changed) and the article's row after it, with `article_changed`:
    /// the article as the caller then sees it.
    async fn write_draft(
        &self,
        connection: &mut PgConnection,
        caller: &Caller,
        head: ArticleHead,
        version: Version,
    ) -> Result<ShownArticle> {
        store::articles::save_head(connection, &head).await?;
        store::articles::save_version(connection, head.id, &version).await?;
        let event = pb::ArticleChanged {
            article: Some(self.snapshot(connection, &head).await?),
            version: version.number,
            changed_by: caller.user_id.to_string(),
            occurred_at: Some(crm_platform::time::to_timestamp(head.updated_at)),
        };
        self.outbox
            .enqueue_for(connection, ARTICLE, head.id, head.revision, &event)
            .await?;
        self.shown(connection, caller, head, version).await
    }

    /// Saves the article's draft: the open draft in place, or a new version after a published
    /// or archived one.
    pub async fn save_draft(
        &self,
        caller: &Caller,
        id: Uuid,
        revision: Option<i64>,
        content: ArticleContent,
    ) -> Result<ShownArticle> {
        let content = checked(content)?;
        let mut transaction = self.pool.begin().await?;
        let (mut head, latest) = self.latest_read(&mut transaction, caller, id, true).await?;
        check_version(ARTICLE, id, revision, head.revision)?;
        let now = crm_platform::time::now();
        let version = match save_draft(
            latest.number,
            latest.status,
            actor(caller, latest.author_id),
        ) {
            Ok(DraftSave::InPlace) => Version {
                content,
                updated_at: now,
                ..latest
            },
            Ok(DraftSave::NewVersion(number)) => {
                Version::draft(number, content, caller.user_id, now)
            }
            Err(DraftRefused::InReview(version)) => {
                return Err(KnowledgeError::VersionInReview {
                    article_id: id,
                    version,
                });
            }
            Err(refused @ DraftRefused::AnotherAuthors(_)) => {
                return Err(CommonError::PermissionDenied(refused.to_string()).into());
            }
        };
        head.latest_version = version.number;
        head.revision += 1;
        head.updated_at = now;
        let article = self
            .write_draft(&mut transaction, caller, head, version)
            .await?;
        self.outbox.commit(transaction).await?;
        Ok(article)
    }

    /// One review step on a version: submit, send back, publish (archiving the version it
    /// replaces) or archive.
    pub async fn review(
        &self,
        caller: &Caller,
        id: Uuid,
        number: u32,
        action: ReviewAction,
        comment: String,
        revision: Option<i64>,
    ) -> Result<ShownArticle> {
        let comment = comment.trim().to_owned();
        if action == ReviewAction::Reject && comment.is_empty() {
            return Err(refusal(
                "comment",
                "a version sent back says why: the author reads it",
            ));
        }
        let mut transaction = self.pool.begin().await?;
        let mut head = store::articles::head(&mut transaction, id, true)
            .await?
            .ok_or_else(|| KnowledgeError::not_found(ARTICLE, id))?;
        let mut version = store::articles::version(&mut transaction, id, number)
            .await?
            .filter(|version| readable(version.status, actor(caller, version.author_id)))
            .ok_or_else(|| {
                KnowledgeError::unusable_reference("version", "is not a version of the article")
            })?;
        check_version(ARTICLE, id, revision, head.revision)?;
        let from = version.status;
        let to =
            review(from, action, actor(caller, version.author_id)).map_err(
                |refused| match refused {
                    ReviewRefused::NotFrom { from, action } => KnowledgeError::ReviewRefused {
                        article_id: id,
                        version: number,
                        from,
                        action,
                    },
                    denied => CommonError::PermissionDenied(denied.to_string()).into(),
                },
            )?;
        let now = crm_platform::time::now();
        let replaced = match action {
            ReviewAction::Publish => head
                .published_version
                .filter(|&published| published != number),
            _ => None,
        };
        if let Some(replaced) = replaced {
            self.archive_replaced(&mut transaction, caller, id, replaced, number, now)
                .await?;
        }
        version.status = to;
        version.updated_at = now;
        if !comment.is_empty() {
            version.review_comment = comment.clone();
        }
        match action {
            ReviewAction::Publish => {
                version.published_at = Some(now);
                version.published_by = Some(caller.user_id);
                head.published_version = Some(number);
            }
            ReviewAction::Archive => head.published_version = None,
            ReviewAction::Submit | ReviewAction::Reject => {}
        }
        store::articles::save_version(&mut transaction, id, &version).await?;
        store::articles::record_review(
            &mut transaction,
            &ReviewRecord {
                article_id: id,
                version: number,
                action,
                from,
                to,
                actor_id: caller.user_id,
                comment: &comment,
                at: now,
            },
        )
        .await?;
        head.revision += 1;
        head.updated_at = now;
        store::articles::save_head(&mut transaction, &head).await?;
        let article = Some(self.snapshot(&mut transaction, &head).await?);
        let changed_by = caller.user_id.to_string();
        let occurred_at = Some(crm_platform::time::to_timestamp(now));
        let revision = head.revision;
        match action {
            ReviewAction::Publish => {
                let event = pb::ArticlePublished {
                    article,
                    version: number,
                    replaced_version: replaced.unwrap_or(0),
                    changed_by,
                    occurred_at,
                };
                self.outbox
                    .enqueue_for(&mut transaction, ARTICLE, id, revision, &event)
                    .await?;
            }
            ReviewAction::Archive => {
                let event = pb::ArticleArchived {
                    article,
                    version: number,
                    changed_by,
                    occurred_at,
                };
                self.outbox
                    .enqueue_for(&mut transaction, ARTICLE, id, revision, &event)
                    .await?;
            }
            ReviewAction::Submit | ReviewAction::Reject => {
                let event = pb::ArticleChanged {
                    article,
                    version: number,
                    changed_by,
                    occurred_at,
                };
                self.outbox
                    .enqueue_for(&mut transaction, ARTICLE, id, revision, &event)
                    .await?;
            }
        }
        let article = self.shown(&mut transaction, caller, head, version).await?;
        self.outbox.commit(transaction).await?;
        Ok(article)
    }

    /// The published version a newer one replaces, archived, with the trail saying why.
    async fn archive_replaced(
        &self,
        connection: &mut PgConnection,
        caller: &Caller,
        id: Uuid,
        replaced: u32,
        by: u32,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        let Some(mut old) = store::articles::version(connection, id, replaced).await? else {
            return Ok(());
        };
        old.status = VersionStatus::Archived;
        old.updated_at = now;
        store::articles::save_version(connection, id, &old).await?;
        store::articles::record_review(
            connection,
            &ReviewRecord {
                article_id: id,
                version: replaced,
                action: ReviewAction::Archive,
                from: VersionStatus::Published,
                to: VersionStatus::Archived,
                actor_id: caller.user_id,
                comment: &format!("replaced by version {by}"),
                at: now,
            },
        )
        .await?;
        Ok(())
    }

    /// One article as the caller sees it: `number`, or the latest version they read.
    pub async fn article(
        &self,
        caller: &Caller,
        id: Uuid,
        number: Option<u32>,
    ) -> Result<ShownArticle> {
        let mut connection = self.pool.acquire().await?;
        let head = store::articles::head(&mut connection, id, false)
            .await?
            .ok_or_else(|| KnowledgeError::not_found(ARTICLE, id))?;
        let history = self.history_read(&mut connection, caller, id).await?;
        if history.is_empty() {
            return Err(KnowledgeError::not_found(ARTICLE, id));
        }
        let number = match number {
            Some(number) => history
                .iter()
                .find(|entry| entry.number == number)
                .map(|entry| entry.number)
                .ok_or_else(|| {
                    KnowledgeError::unusable_reference("version", "is not a version of the article")
                })?,
            None => shown(&history, caller.user_id, caller.role)
                .ok_or_else(|| KnowledgeError::not_found(ARTICLE, id))?,
        };
        let version = store::articles::version(&mut connection, id, number)
            .await?
            .ok_or_else(|| KnowledgeError::not_found(ARTICLE, id))?;
        Ok(ShownArticle {
            head,
            version,
            history,
        })
    }

    /// A page of articles, each as the latest version the caller reads (without its body).
    pub async fn articles(
        &self,
        caller: &Caller,
        filter: &ArticleFilter,
        page: &Page,
    ) -> Result<Listing<(ArticleHead, Version)>> {
        let mut connection = self.pool.acquire().await?;
        Ok(store::articles::list(
            &mut connection,
            filter,
            caller.user_id,
            publishes(caller),
            page,
        )
        .await?)
    }

    /// What changed from one version to another, both read by the caller.
    pub async fn diff(&self, caller: &Caller, id: Uuid, from: u32, to: u32) -> Result<VersionDiff> {
        let mut connection = self.pool.acquire().await?;
        let history = self.history_read(&mut connection, caller, id).await?;
        if history.is_empty() {
            return Err(KnowledgeError::not_found(ARTICLE, id));
        }
        let mut contents = Vec::with_capacity(2);
        for (field, number) in [("from_version", from), ("to_version", to)] {
            if !history.iter().any(|entry| entry.number == number) {
                return Err(KnowledgeError::unusable_reference(
                    field,
                    "is not a version of the article",
                ));
            }
            let version = store::articles::version(&mut connection, id, number)
                .await?
                .ok_or_else(|| KnowledgeError::not_found(ARTICLE, id))?;
            contents.push(version.content);
        }
        Ok(diff(&contents[0], &contents[1]))
    }

    /// The article's versions the caller reads, newest first (none: to them it does not
    /// exist).
    async fn history_read(
        &self,
        connection: &mut PgConnection,
        caller: &Caller,
        id: Uuid,
    ) -> Result<Vec<VersionEntry>> {
        Ok(store::articles::history(connection, id)
            .await?
            .into_iter()
            .filter(|entry| entry.read_by(caller.user_id, caller.role))
            .collect())
    }

    /// The article (locked when `lock`) and its latest version, if the caller reads any of its
    /// versions (NOT_FOUND otherwise).
    async fn latest_read(
        &self,
        connection: &mut PgConnection,
        caller: &Caller,
        id: Uuid,
        lock: bool,
    ) -> Result<(ArticleHead, Version)> {
        let head = store::articles::head(connection, id, lock)
            .await?
            .ok_or_else(|| KnowledgeError::not_found(ARTICLE, id))?;
        if self.history_read(connection, caller, id).await?.is_empty() {
            return Err(KnowledgeError::not_found(ARTICLE, id));
        }
        let latest = store::articles::version(connection, id, head.latest_version)
            .await?
            .ok_or_else(|| KnowledgeError::not_found(ARTICLE, id))?;
        Ok((head, latest))
    }

    /// The versions in use after a change, as the events carry them.
    async fn snapshot(
        &self,
        connection: &mut PgConnection,
        head: &ArticleHead,
    ) -> Result<pb::ArticleSnapshot> {
        let live = store::articles::live_versions(connection, head.id).await?;
        Ok(convert::snapshot(head, &live))
    }

    /// The article as the caller sees it after their write.
    async fn shown(
        &self,
        connection: &mut PgConnection,
        caller: &Caller,
        head: ArticleHead,
        version: Version,
    ) -> Result<ShownArticle> {
        let history = self.history_read(connection, caller, head.id).await?;
        Ok(ShownArticle {
            head,
            version,
            history,
        })
    }
}
