//! Articles as lists show them: their published version's headline, read from
//! `article_versions` under the alias `v`; and the published versions' links, what
//! recommendations score.

use sqlx::{PgExecutor, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::domain::{
    article::{ArticleKind, Language},
    recommend::{ArticleLinks, DealContext},
};

/// An article's headline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArticleSummary {
    pub article_id: Uuid,
    pub version: u32,
    pub kind: ArticleKind,
    pub language: Language,
    pub title: String,
    pub summary: String,
    pub category: String,
    pub tags: Vec<String>,
}

/// The columns of a [`SummaryRow`], from `article_versions v`.
pub const SUMMARY_COLUMNS: &str = "v.article_id, v.version, v.kind, v.language, v.title, \
     v.summary, v.category, v.tags";

#[derive(sqlx::FromRow)]
pub struct SummaryRow {
    article_id: Uuid,
    version: i32,
    kind: String,
    language: String,
    title: String,
    summary: String,
    category: String,
    tags: Vec<String>,
}

fn decode_error(what: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("unknown {what} {value:?} in the store").into())
}

impl SummaryRow {
    pub fn into_summary(self) -> sqlx::Result<ArticleSummary> {
        Ok(ArticleSummary {
            article_id: self.article_id,
            version: u32::try_from(self.version)
                .map_err(|_| decode_error("version number", &self.version.to_string()))?,
            kind: ArticleKind::parse(&self.kind).ok_or_else(|| decode_error("kind", &self.kind))?,
            language: Language::parse(&self.language)
                .ok_or_else(|| decode_error("language", &self.language))?,
            title: self.title,
            summary: self.summary,
            category: self.category,
            tags: self.tags,
        })
    }
}

/// The article's published version's headline, if it has one.
pub async fn published<'e>(
    executor: impl PgExecutor<'e>,
    article_id: Uuid,
) -> sqlx::Result<Option<ArticleSummary>> {
    let row: Option<SummaryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {SUMMARY_COLUMNS} FROM article_versions v \
         WHERE v.article_id = $1 AND v.status = 'published'"
    )))
    .bind(article_id)
    .fetch_optional(executor)
    .await?;
    row.map(SummaryRow::into_summary).transpose()
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    #[sqlx(flatten)]
    summary: SummaryRow,
    stage_ids: Vec<Uuid>,
    competitor_ids: Vec<Uuid>,
    product_codes: Vec<String>,
    industries: Vec<String>,
}

/// The published versions that share anything with the deal — its stage, a competitor, a
/// product, the industry (texts compared trimmed and without regard to case, as the domain
/// does) — serving a reader of `language` if given: what the recommendation then scores.
pub async fn published_links<'e>(
    executor: impl PgExecutor<'e>,
    deal: &DealContext,
    language: Option<Language>,
) -> sqlx::Result<Vec<(ArticleSummary, ArticleLinks)>> {
    let folded = |texts: &[String]| -> Vec<String> {
        texts
            .iter()
            .map(|text| text.trim().to_lowercase())
            .collect()
    };
    let products = folded(&deal.product_codes);
    let industries = folded(deal.industry.as_slice());
    let mut query = QueryBuilder::<Postgres>::new(format!(
        "SELECT {SUMMARY_COLUMNS}, v.stage_ids, v.competitor_ids, v.product_codes, v.industries \
         FROM article_versions v WHERE v.status = 'published' AND ("
    ));
    query
        .push("v.stage_ids && ")
        .push_bind(deal.stage_id.into_iter().collect::<Vec<Uuid>>())
        .push(" OR v.competitor_ids && ")
        .push_bind(deal.competitor_ids.clone())
        .push(" OR EXISTS (SELECT 1 FROM unnest(v.product_codes) code WHERE lower(btrim(code)) = ANY(")
        .push_bind(products)
        .push(")) OR EXISTS (SELECT 1 FROM unnest(v.industries) industry WHERE lower(btrim(industry)) = ANY(")
        .push_bind(industries)
        .push(")))");
    // A reader of both languages is served by every article.
    if let Some(language) = language.filter(|language| *language != Language::Both) {
        query
            .push(" AND v.language IN (")
            .push_bind(language.as_str())
            .push(", 'both')");
    }
    let rows: Vec<LinkRow> = query.build_query_as().fetch_all(executor).await?;
    rows.into_iter()
        .map(|row| {
            let summary = row.summary.into_summary()?;
            let links = ArticleLinks {
                article_id: summary.article_id,
                kind: summary.kind,
                stage_ids: row.stage_ids,
                competitor_ids: row.competitor_ids,
                product_codes: row.product_codes,
                industries: row.industries,
            };
            Ok((summary, links))
        })
        .collect()
}
