//! SQL of usage (K5): views (`article_views`), votes (`article_votes`) and content influence —
//! the deals each article touched (attached, or read from the deal's page) by outcome.

use chrono::{DateTime, Utc};
use crm_platform::{access::push_visibility, auth::Visibility};
use sqlx::{PgConnection, PgExecutor, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{
    deals::DEAL_OWNER_COLUMNS,
    summaries::{ArticleSummary, SUMMARY_COLUMNS, SummaryRow},
};
use crate::domain::{article::ArticleKind, influence::Outcomes};

pub async fn record_view(
    connection: &mut PgConnection,
    article_id: Uuid,
    viewer_id: Uuid,
    deal_id: Option<Uuid>,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO article_views (article_id, viewer_id, deal_id, viewed_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(article_id)
    .bind(viewer_id)
    .bind(deal_id)
    .bind(at)
    .execute(connection)
    .await?;
    Ok(())
}

/// The voter's vote, replacing theirs.
pub async fn vote(
    connection: &mut PgConnection,
    article_id: Uuid,
    voter_id: Uuid,
    helpful: bool,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO article_votes (article_id, voter_id, helpful, voted_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (article_id, voter_id) DO UPDATE SET helpful = EXCLUDED.helpful, \
         voted_at = EXCLUDED.voted_at",
    )
    .bind(article_id)
    .bind(voter_id)
    .bind(helpful)
    .bind(at)
    .execute(connection)
    .await?;
    Ok(())
}

/// An article's views and votes, and the reader's own vote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub views: i64,
    pub readers: i64,
    pub helpful: i64,
    pub not_helpful: i64,
    pub own_vote: Option<bool>,
}

pub async fn usage<'e>(
    executor: impl PgExecutor<'e>,
    article_id: Uuid,
    reader_id: Uuid,
) -> sqlx::Result<Usage> {
    let (views, readers, helpful, not_helpful, own_vote): (i64, i64, i64, i64, Option<bool>) =
        sqlx::query_as(
            "SELECT (SELECT count(*) FROM article_views WHERE article_id = $1), \
             (SELECT count(DISTINCT viewer_id) FROM article_views WHERE article_id = $1), \
             (SELECT count(*) FROM article_votes WHERE article_id = $1 AND helpful), \
             (SELECT count(*) FROM article_votes WHERE article_id = $1 AND NOT helpful), \
             (SELECT helpful FROM article_votes WHERE article_id = $1 AND voter_id = $2)",
        )
        .bind(article_id)
        .bind(reader_id)
        .fetch_one(executor)
        .await?;
    Ok(Usage {
        views,
        readers,
        helpful,
        not_helpful,
        own_vote,
    })
}

/// One article's influence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArticleInfluence {
    pub article: ArticleSummary,
    pub outcomes: Outcomes,
    pub views: i64,
    pub helpful: i64,
    pub not_helpful: i64,
}

#[derive(sqlx::FromRow)]
struct InfluenceRow {
    #[sqlx(flatten)]
    article: SummaryRow,
    won: i64,
    lost: i64,
    open: i64,
    views: i64,
    helpful: i64,
    not_helpful: i64,
}

#[derive(sqlx::FromRow)]
struct OutcomeRow {
    won: i64,
    lost: i64,
    open: i64,
}

impl OutcomeRow {
    fn outcomes(&self) -> Outcomes {
        let count = |value: i64| u64::try_from(value).unwrap_or(0);
        Outcomes {
            won: count(self.won),
            lost: count(self.lost),
            open: count(self.open),
        }
    }
}

const OUTCOME_COUNTS: &str = "count(DISTINCT t.deal_id) FILTER (WHERE t.status = 'won') AS won, \
     count(DISTINCT t.deal_id) FILTER (WHERE t.status = 'lost') AS lost, \
     count(DISTINCT t.deal_id) FILTER (WHERE t.status = 'open') AS open";

/// `WITH touched AS (…)`: each (article, deal) pair where the article was attached to or read
/// from a deal the caller sees (archived deals count nowhere), with the deal's status and the
/// article's headline version (`v`: its published one, else its last).
fn push_touched(query: &mut QueryBuilder<Postgres>, visibility: &Visibility) {
    query.push(
        "WITH pairs AS (SELECT article_id, deal_id FROM deal_articles \
         UNION SELECT article_id, deal_id FROM article_views WHERE deal_id IS NOT NULL), \
         touched AS (SELECT p.article_id, p.deal_id, d.status FROM pairs p \
         JOIN deals d ON d.id = p.deal_id WHERE d.status <> 'archived'",
    );
    push_visibility(query, visibility, DEAL_OWNER_COLUMNS);
    query.push(
        "), heads AS (SELECT DISTINCT ON (v.article_id) v.* FROM article_versions v \
         WHERE v.article_id IN (SELECT article_id FROM touched) \
         ORDER BY v.article_id, v.status = 'published' DESC, v.version DESC) ",
    );
}

fn push_kind(query: &mut QueryBuilder<Postgres>, kind: Option<ArticleKind>) {
    if let Some(kind) = kind {
        query.push(" WHERE v.kind = ").push_bind(kind.as_str());
    }
}

/// Each article's influence over the deals the caller sees, most deals first (then most won).
pub async fn article_influence<'e>(
    executor: impl PgExecutor<'e>,
    visibility: &Visibility,
    kind: Option<ArticleKind>,
) -> sqlx::Result<Vec<ArticleInfluence>> {
    let mut query = QueryBuilder::<Postgres>::new("");
    push_touched(&mut query, visibility);
    query.push(format!(
        "SELECT {SUMMARY_COLUMNS}, {OUTCOME_COUNTS}, \
         (SELECT count(*) FROM article_views w WHERE w.article_id = v.article_id) AS views, \
         (SELECT count(*) FROM article_votes o WHERE o.article_id = v.article_id AND o.helpful) AS helpful, \
         (SELECT count(*) FROM article_votes o WHERE o.article_id = v.article_id AND NOT o.helpful) AS not_helpful \
         FROM touched t JOIN heads v ON v.article_id = t.article_id"
    ));
    push_kind(&mut query, kind);
    query.push(format!(
        " GROUP BY {SUMMARY_COLUMNS} ORDER BY count(DISTINCT t.deal_id) DESC, \
         count(DISTINCT t.deal_id) FILTER (WHERE t.status = 'won') DESC, v.article_id"
    ));
    let rows: Vec<InfluenceRow> = query.build_query_as().fetch_all(executor).await?;
    rows.into_iter()
        .map(|row| {
            let outcomes = OutcomeRow {
                won: row.won,
                lost: row.lost,
                open: row.open,
            }
            .outcomes();
            Ok(ArticleInfluence {
                article: row.article.into_summary()?,
                outcomes,
                views: row.views,
                helpful: row.helpful,
                not_helpful: row.not_helpful,
            })
        })
        .collect()
}

/// The deals touched by any article of each kind (each deal once per kind).
pub async fn kind_influence<'e>(
    executor: impl PgExecutor<'e>,
    visibility: &Visibility,
    kind: Option<ArticleKind>,
) -> sqlx::Result<Vec<(ArticleKind, Outcomes)>> {
    #[derive(sqlx::FromRow)]
    struct KindRow {
        kind: String,
        #[sqlx(flatten)]
        outcomes: OutcomeRow,
    }
    let mut query = QueryBuilder::<Postgres>::new("");
    push_touched(&mut query, visibility);
    query.push(format!(
        "SELECT v.kind, {OUTCOME_COUNTS} FROM touched t JOIN heads v ON v.article_id = t.article_id"
    ));
    push_kind(&mut query, kind);
    query.push(" GROUP BY v.kind ORDER BY v.kind");
    let rows: Vec<KindRow> = query.build_query_as().fetch_all(executor).await?;
    rows.into_iter()
        .map(|row| {
            let kind = ArticleKind::parse(&row.kind).ok_or_else(|| {
                sqlx::Error::Decode(format!("unknown kind {:?} in the store", row.kind).into())
            })?;
            Ok((kind, row.outcomes.outcomes()))
        })
        .collect()
}

/// Every deal the caller sees, by outcome (archived ones count nowhere).
pub async fn all_deals<'e>(
    executor: impl PgExecutor<'e>,
    visibility: &Visibility,
) -> sqlx::Result<Outcomes> {
    let mut query = QueryBuilder::<Postgres>::new(
        "SELECT count(*) FILTER (WHERE d.status = 'won') AS won, \
         count(*) FILTER (WHERE d.status = 'lost') AS lost, \
         count(*) FILTER (WHERE d.status = 'open') AS open \
         FROM deals d WHERE d.status <> 'archived'",
    );
    push_visibility(&mut query, visibility, DEAL_OWNER_COLUMNS);
    let row: OutcomeRow = query.build_query_as().fetch_one(executor).await?;
    Ok(row.outcomes())
}
