//! SQL of articles (`articles`), their versions (`article_versions`) and the review trail
//! (`article_reviews`). Rows are private; unknown kinds, languages or statuses read back are
//! errors, never defaults.

use chrono::{DateTime, Utc};
use crm_platform::paging::{KeyKind, Listing, Page, SortKey, SortOrder};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::{
    domain::{
        article::{ArticleContent, ArticleKind, Language, ReviewAction, VersionStatus},
        version::{Version, VersionEntry},
    },
    search::index::IndexedArticle,
};

/// An article's own row: its revision and which versions are the latest and the published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArticleHead {
    pub id: Uuid,
    pub revision: i64,
    pub latest_version: u32,
    pub published_version: Option<u32>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct HeadRow {
    id: Uuid,
    revision: i64,
    latest_version: i32,
    published_version: Option<i32>,
    created_by: Uuid,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn decode_error(what: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("unknown {what} {value:?} in the store").into())
}

fn number(value: i32) -> sqlx::Result<u32> {
    u32::try_from(value).map_err(|_| decode_error("version number", &value.to_string()))
}

impl HeadRow {
    fn into_head(self) -> sqlx::Result<ArticleHead> {
        Ok(ArticleHead {
            id: self.id,
            revision: self.revision,
            latest_version: number(self.latest_version)?,
            published_version: self.published_version.map(number).transpose()?,
            created_by: self.created_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    version: i32,
    status: String,
    title: String,
    summary: String,
    body: String,
    kind: String,
    language: String,
    category: String,
    tags: Vec<String>,
    stage_ids: Vec<Uuid>,
    competitor_ids: Vec<Uuid>,
    product_codes: Vec<String>,
    industries: Vec<String>,
    author_id: Uuid,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    published_at: Option<DateTime<Utc>>,
    published_by: Option<Uuid>,
    review_comment: String,
}

fn status(text: &str) -> sqlx::Result<VersionStatus> {
    VersionStatus::parse(text).ok_or_else(|| decode_error("status", text))
}

impl VersionRow {
    fn into_version(self) -> sqlx::Result<Version> {
        Ok(Version {
            number: number(self.version)?,
            status: status(&self.status)?,
            content: ArticleContent {
                kind: ArticleKind::parse(&self.kind)
                    .ok_or_else(|| decode_error("kind", &self.kind))?,
                language: Language::parse(&self.language)
                    .ok_or_else(|| decode_error("language", &self.language))?,
                title: self.title,
                summary: self.summary,
                body: self.body,
                category: self.category,
                tags: self.tags,
                stage_ids: self.stage_ids,
                competitor_ids: self.competitor_ids,
                product_codes: self.product_codes,
                industries: self.industries,
            },
            author_id: self.author_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
            published_at: self.published_at,
            published_by: self.published_by,
            review_comment: self.review_comment,
        })
    }
}

const VERSION_COLUMNS: &str = "version, status, title, summary, body, kind, language, category, \
     tags, stage_ids, competitor_ids, product_codes, industries, author_id, created_at, \
     updated_at, published_at, published_by, review_comment";

/// The article's row, locked for the rest of the transaction when `lock`.
pub async fn head(
    connection: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> sqlx::Result<Option<ArticleHead>> {
    let sql = if lock {
        "SELECT * FROM articles WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT * FROM articles WHERE id = $1"
    };
    sqlx::query_as::<_, HeadRow>(sql)
        .bind(id)
        .fetch_optional(connection)
        .await?
        .map(HeadRow::into_head)
        .transpose()
}

/// Writes the article's row, new or changed.
pub async fn save_head(connection: &mut PgConnection, head: &ArticleHead) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO articles (id, revision, latest_version, published_version, created_by, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (id) DO UPDATE SET revision = EXCLUDED.revision, \
         latest_version = EXCLUDED.latest_version, \
         published_version = EXCLUDED.published_version, updated_at = EXCLUDED.updated_at",
    )
    .bind(head.id)
    .bind(head.revision)
    .bind(head.latest_version as i32)
    .bind(head.published_version.map(|number| number as i32))
    .bind(head.created_by)
    .bind(head.created_at)
    .bind(head.updated_at)
    .execute(connection)
    .await?;
    Ok(())
}

/// One version with its content.
pub async fn version(
    connection: &mut PgConnection,
    article_id: Uuid,
    number: u32,
) -> sqlx::Result<Option<Version>> {
    sqlx::query_as::<_, VersionRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {VERSION_COLUMNS} FROM article_versions WHERE article_id = $1 AND version = $2"
    )))
    .bind(article_id)
    .bind(number as i32)
    .fetch_optional(connection)
    .await?
    .map(VersionRow::into_version)
    .transpose()
}

/// The versions in use — published, draft, in review — with their content, oldest first.
pub async fn live_versions(
    connection: &mut PgConnection,
    article_id: Uuid,
) -> sqlx::Result<Vec<Version>> {
    sqlx::query_as::<_, VersionRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {VERSION_COLUMNS} FROM article_versions \
         WHERE article_id = $1 AND status <> 'archived' ORDER BY version"
    )))
    .bind(article_id)
    .fetch_all(connection)
    .await?
    .into_iter()
    .map(VersionRow::into_version)
    .collect()
}

#[derive(sqlx::FromRow)]
struct LiveRow {
    article_id: Uuid,
    #[sqlx(flatten)]
    version: VersionRow,
}

/// A page of articles in id order after `after`, each with its revision and versions in use:
/// what the search index is rebuilt from.
pub async fn live_page(
    connection: &mut PgConnection,
    after: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<IndexedArticle>> {
    let heads: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT id, revision FROM articles WHERE $1::uuid IS NULL OR id > $1 ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(&mut *connection)
    .await?;
    let ids: Vec<Uuid> = heads.iter().map(|(id, _)| *id).collect();
    let rows: Vec<LiveRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT article_id, {VERSION_COLUMNS} FROM article_versions \
         WHERE article_id = ANY($1) AND status <> 'archived' ORDER BY article_id, version"
    )))
    .bind(&ids)
    .fetch_all(&mut *connection)
    .await?;
    let mut articles: Vec<IndexedArticle> = heads
        .into_iter()
        .map(|(id, revision)| IndexedArticle {
            id,
            revision,
            versions: Vec::new(),
        })
        .collect();
    for row in rows {
        let version = row.version.into_version()?;
        // Both lists are in id order.
        if let Ok(at) = articles.binary_search_by_key(&row.article_id, |article| article.id) {
            articles[at].versions.push(version);
        }
    }
    Ok(articles)
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    version: i32,
    status: String,
    title: String,
    author_id: Uuid,
    updated_at: DateTime<Utc>,
    published_at: Option<DateTime<Utc>>,
}

/// Every version of the article without content, newest first.
pub async fn history(
    connection: &mut PgConnection,
    article_id: Uuid,
) -> sqlx::Result<Vec<VersionEntry>> {
    sqlx::query_as::<_, EntryRow>(
        "SELECT version, status, title, author_id, updated_at, published_at \
         FROM article_versions WHERE article_id = $1 ORDER BY version DESC",
    )
    .bind(article_id)
    .fetch_all(connection)
    .await?
    .into_iter()
    .map(|row| {
        Ok(VersionEntry {
            number: number(row.version)?,
            status: status(&row.status)?,
            title: row.title,
            author_id: row.author_id,
            updated_at: row.updated_at,
            published_at: row.published_at,
        })
    })
    .collect()
}

/// Writes a version, new or changed (its content, status and review fields).
pub async fn save_version(
    connection: &mut PgConnection,
    article_id: Uuid,
    version: &Version,
) -> sqlx::Result<()> {
    let content = &version.content;
    sqlx::query(
        "INSERT INTO article_versions (article_id, version, status, title, summary, body, kind, \
         language, category, tags, stage_ids, competitor_ids, product_codes, industries, \
         author_id, created_at, updated_at, published_at, published_by, review_comment) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         $18, $19, $20) \
         ON CONFLICT (article_id, version) DO UPDATE SET status = EXCLUDED.status, \
         title = EXCLUDED.title, summary = EXCLUDED.summary, body = EXCLUDED.body, \
         kind = EXCLUDED.kind, language = EXCLUDED.language, category = EXCLUDED.category, \
         tags = EXCLUDED.tags, stage_ids = EXCLUDED.stage_ids, \
         competitor_ids = EXCLUDED.competitor_ids, product_codes = EXCLUDED.product_codes, \
         industries = EXCLUDED.industries, updated_at = EXCLUDED.updated_at, \
         published_at = EXCLUDED.published_at, published_by = EXCLUDED.published_by, \
         review_comment = EXCLUDED.review_comment",
    )
    .bind(article_id)
    .bind(version.number as i32)
    .bind(version.status.as_str())
    .bind(&content.title)
    .bind(&content.summary)
    .bind(&content.body)
    .bind(content.kind.as_str())
    .bind(content.language.as_str())
    .bind(&content.category)
    .bind(&content.tags)
    .bind(&content.stage_ids)
    .bind(&content.competitor_ids)
    .bind(&content.product_codes)
    .bind(&content.industries)
    .bind(version.author_id)
    .bind(version.created_at)
    .bind(version.updated_at)
    .bind(version.published_at)
    .bind(version.published_by)
    .bind(&version.review_comment)
    .execute(connection)
    .await?;
    Ok(())
}

/// A review step as the trail keeps it.
pub struct ReviewRecord<'a> {
    pub article_id: Uuid,
    pub version: u32,
    pub action: ReviewAction,
    pub from: VersionStatus,
    pub to: VersionStatus,
    pub actor_id: Uuid,
    pub comment: &'a str,
    pub at: DateTime<Utc>,
}

fn action_text(action: ReviewAction) -> &'static str {
    match action {
        ReviewAction::Submit => "submit",
        ReviewAction::Reject => "reject",
        ReviewAction::Publish => "publish",
        ReviewAction::Archive => "archive",
    }
}

pub async fn record_review(
    connection: &mut PgConnection,
    record: &ReviewRecord<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO article_reviews (id, article_id, version, action, from_status, to_status, \
         actor_id, comment, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(Uuid::now_v7())
    .bind(record.article_id)
    .bind(record.version as i32)
    .bind(action_text(record.action))
    .bind(record.from.as_str())
    .bind(record.to.as_str())
    .bind(record.actor_id)
    .bind(record.comment)
    .bind(record.at)
    .execute(connection)
    .await?;
    Ok(())
}

/// What a listing keeps.
#[derive(Clone, Debug, Default)]
pub struct ArticleFilter {
    pub kind: Option<ArticleKind>,
    pub status: Option<VersionStatus>,
    pub language: Option<Language>,
    pub tag: Option<String>,
    pub category: Option<String>,
}

/// The order of [`list`]: the article's last change, newest first.
pub const RECENT_FIRST: SortOrder = SortOrder::new("article_updated_at", KeyKind::Time, true);

#[derive(sqlx::FromRow)]
struct ListedRow {
    id: Uuid,
    revision: i64,
    latest_version: i32,
    published_version: Option<i32>,
    created_by: Uuid,
    article_created_at: DateTime<Utc>,
    article_updated_at: DateTime<Utc>,
    #[sqlx(flatten)]
    version: VersionRow,
}

/// A page of articles, most recently changed first, each with the latest version the reader
/// (`user_id`; `publishes`: a manager or admin) reads, with its Markdown (the wire's content
/// requires a body; its rendering is left to the article page). Articles whose
/// versions are all archived are listed only when archived ones are asked for. `page` is in
/// [`RECENT_FIRST`] order.
pub async fn list(
    connection: &mut PgConnection,
    filter: &ArticleFilter,
    user_id: Uuid,
    publishes: bool,
    page: &Page,
) -> sqlx::Result<Listing<(ArticleHead, Version)>> {
    let mut query: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT * FROM (SELECT DISTINCT ON (v.article_id) a.id, a.revision, a.latest_version, \
         a.published_version, a.created_by, a.created_at AS article_created_at, \
         a.updated_at AS article_updated_at, v.version, v.status, v.title, v.summary, \
         v.body, v.kind, v.language, v.category, v.tags, v.stage_ids, v.competitor_ids, \
         v.product_codes, v.industries, v.author_id, v.created_at, v.updated_at, \
         v.published_at, v.published_by, v.review_comment \
         FROM article_versions v JOIN articles a ON a.id = v.article_id \
         WHERE (v.status = 'published' OR v.author_id = ",
    );
    query
        .push_bind(user_id)
        .push(" OR ")
        .push_bind(publishes)
        .push(") ORDER BY v.article_id, v.version DESC) AS listed WHERE true");
    match filter.status {
        Some(status) => {
            query.push(" AND status = ").push_bind(status.as_str());
        }
        None => {
            query.push(" AND status <> 'archived'");
        }
    }
    if let Some(kind) = filter.kind {
        query.push(" AND kind = ").push_bind(kind.as_str());
    }
    if let Some(language) = filter.language
        && language != Language::Both
    {
        query
            .push(" AND language IN ('both', ")
            .push_bind(language.as_str())
            .push(")");
    }
    if let Some(tag) = &filter.tag {
        query
            .push(" AND ")
            .push_bind(tag.clone())
            .push(" = ANY (tags)");
    }
    if let Some(category) = &filter.category {
        query.push(" AND category = ").push_bind(category.clone());
    }
    page.push_keyset(&mut query);
    let rows = query
        .build_query_as::<ListedRow>()
        .fetch_all(connection)
        .await?
        .into_iter()
        .map(|row| {
            let head = HeadRow {
                id: row.id,
                revision: row.revision,
                latest_version: row.latest_version,
                published_version: row.published_version,
                created_by: row.created_by,
                created_at: row.article_created_at,
                updated_at: row.article_updated_at,
            };
            Ok((head.into_head()?, row.version.into_version()?))
        })
        .collect::<sqlx::Result<Vec<_>>>()?;
    Ok(Listing::from_rows(rows, page, |(head, _)| {
        (SortKey::Time(head.updated_at), head.id)
    }))
}
