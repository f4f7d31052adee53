//! SQL of what the service knows of deals (`deals`) and accounts' industries
//! (`account_industries`), both kept from other services' events by version, and of the
//! articles attached to deals (`deal_articles`). Rows are private.

use chrono::{DateTime, Utc};
use crm_platform::{
    access::{OwnerColumns, push_visibility},
    auth::{TeamPath, Visibility},
    deals::DealStatus,
};
use sqlx::{PgConnection, PgExecutor, Postgres, QueryBuilder};
use uuid::Uuid;

use super::summaries::{ArticleSummary, SUMMARY_COLUMNS, SummaryRow};

/// A deal as its latest event described it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DealRecord {
    pub id: Uuid,
    pub version: i64,
    pub name: String,
    pub account_id: Uuid,
    pub owner_id: Uuid,
    pub owner_team_path: TeamPath,
    pub stage_id: Option<Uuid>,
    pub stage_name: String,
    pub status: DealStatus,
    pub competitor_ids: Vec<Uuid>,
    pub competitor_names: Vec<String>,
    pub product_codes: Vec<String>,
}

/// A deal with its account's industry ("" when unknown).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownDeal {
    pub deal: DealRecord,
    pub industry: String,
}

#[derive(sqlx::FromRow)]
struct DealRow {
    id: Uuid,
    version: i64,
    name: String,
    account_id: Uuid,
    owner_id: Uuid,
    owner_team_path: String,
    stage_id: Option<Uuid>,
    stage_name: String,
    status: String,
    competitor_ids: Vec<Uuid>,
    competitor_names: Vec<String>,
    product_codes: Vec<String>,
    industry: Option<String>,
}

fn decode_error(what: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("unknown {what} {value:?} in the store").into())
}

impl DealRow {
    fn into_known(self) -> sqlx::Result<KnownDeal> {
        let status = DealStatus::parse(&self.status)
            .ok_or_else(|| decode_error("deal status", &self.status))?;
        let owner_team_path = TeamPath::parse(&self.owner_team_path)
            .map_err(|_| decode_error("team path", &self.owner_team_path))?;
        Ok(KnownDeal {
            deal: DealRecord {
                id: self.id,
                version: self.version,
                name: self.name,
                account_id: self.account_id,
                owner_id: self.owner_id,
                owner_team_path,
                stage_id: self.stage_id,
                stage_name: self.stage_name,
                status,
                competitor_ids: self.competitor_ids,
                competitor_names: self.competitor_names,
                product_codes: self.product_codes,
            },
            industry: self.industry.unwrap_or_default(),
        })
    }
}

/// Records a deal's state unless a newer version is kept. Returns whether it was applied.
pub async fn record_deal(connection: &mut PgConnection, deal: &DealRecord) -> sqlx::Result<bool> {
    let applied = sqlx::query(
        "INSERT INTO deals (id, version, name, account_id, owner_id, owner_team_path, stage_id, \
         stage_name, status, competitor_ids, competitor_names, product_codes) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, name = EXCLUDED.name, \
         account_id = EXCLUDED.account_id, owner_id = EXCLUDED.owner_id, \
         owner_team_path = EXCLUDED.owner_team_path, stage_id = EXCLUDED.stage_id, \
         stage_name = EXCLUDED.stage_name, status = EXCLUDED.status, \
         competitor_ids = EXCLUDED.competitor_ids, competitor_names = EXCLUDED.competitor_names, \
         product_codes = EXCLUDED.product_codes, updated_at = now() \
         WHERE deals.version < EXCLUDED.version",
    )
    .bind(deal.id)
    .bind(deal.version)
    .bind(&deal.name)
    .bind(deal.account_id)
    .bind(deal.owner_id)
    .bind(deal.owner_team_path.as_str())
    .bind(deal.stage_id)
    .bind(&deal.stage_name)
    .bind(deal.status.as_str())
    .bind(&deal.competitor_ids)
    .bind(&deal.competitor_names)
    .bind(&deal.product_codes)
    .execute(connection)
    .await?
    .rows_affected();
    Ok(applied == 1)
}

/// Records an account's industry unless a newer version is kept.
pub async fn record_industry(
    connection: &mut PgConnection,
    account_id: Uuid,
    version: i64,
    industry: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO account_industries (account_id, version, industry) VALUES ($1, $2, $3) \
         ON CONFLICT (account_id) DO UPDATE SET version = EXCLUDED.version, \
         industry = EXCLUDED.industry WHERE account_industries.version < EXCLUDED.version",
    )
    .bind(account_id)
    .bind(version)
    .bind(industry)
    .execute(connection)
    .await?;
    Ok(())
}

const DEAL_COLUMNS: &str = "d.id, d.version, d.name, d.account_id, d.owner_id, d.owner_team_path, \
     d.stage_id, d.stage_name, d.status, d.competitor_ids, d.competitor_names, d.product_codes, \
     i.industry";

/// The deal with its account's industry, if its events have come.
pub async fn deal<'e>(executor: impl PgExecutor<'e>, id: Uuid) -> sqlx::Result<Option<KnownDeal>> {
    let row: Option<DealRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DEAL_COLUMNS} FROM deals d \
         LEFT JOIN account_industries i ON i.account_id = d.account_id WHERE d.id = $1"
    )))
    .bind(id)
    .fetch_optional(executor)
    .await?;
    row.map(DealRow::into_known).transpose()
}

/// An article attached to a deal, with the deal's name and status now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub deal_id: Uuid,
    pub deal_name: String,
    pub deal_status: DealStatus,
    pub article: ArticleSummary,
    pub attached_by: Uuid,
    pub attached_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct AttachmentRow {
    deal_id: Uuid,
    deal_name: String,
    deal_status: String,
    attached_by: Uuid,
    attached_at: DateTime<Utc>,
    #[sqlx(flatten)]
    article: SummaryRow,
}

impl AttachmentRow {
    fn into_attachment(self) -> sqlx::Result<Attachment> {
        Ok(Attachment {
            deal_status: DealStatus::parse(&self.deal_status)
                .ok_or_else(|| decode_error("deal status", &self.deal_status))?,
            deal_id: self.deal_id,
            deal_name: self.deal_name,
            article: self.article.into_summary()?,
            attached_by: self.attached_by,
            attached_at: self.attached_at,
        })
    }
}

/// Attaches the article to the deal unless it is; returns whether it was new.
pub async fn attach(
    connection: &mut PgConnection,
    deal_id: Uuid,
    article_id: Uuid,
    by: Uuid,
    at: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO deal_articles (deal_id, article_id, attached_by, attached_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(deal_id)
    .bind(article_id)
    .bind(by)
    .bind(at)
    .execute(connection)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Removes an attachment; returns whether there was one.
pub async fn detach(
    connection: &mut PgConnection,
    deal_id: Uuid,
    article_id: Uuid,
) -> sqlx::Result<bool> {
    let deleted = sqlx::query("DELETE FROM deal_articles WHERE deal_id = $1 AND article_id = $2")
        .bind(deal_id)
        .bind(article_id)
        .execute(connection)
        .await?
        .rows_affected();
    Ok(deleted == 1)
}

/// Which deals' attachments a listing reads.
pub enum Attached<'a> {
    Deal(Uuid),
    /// An account's deals the caller sees.
    Account(Uuid, &'a Visibility),
}

/// Attachments, most recent first, at most `limit`; each article as its published version
/// shows it (an article since archived as its last published one).
pub async fn attachments<'e>(
    executor: impl PgExecutor<'e>,
    which: Attached<'_>,
    limit: i64,
) -> sqlx::Result<Vec<Attachment>> {
    let mut query = QueryBuilder::<Postgres>::new(format!(
        "SELECT a.deal_id, d.name AS deal_name, d.status AS deal_status, a.attached_by, \
         a.attached_at, {SUMMARY_COLUMNS} FROM deal_articles a \
         JOIN deals d ON d.id = a.deal_id \
         JOIN LATERAL (SELECT * FROM article_versions v WHERE v.article_id = a.article_id \
         AND v.status IN ('published', 'archived') ORDER BY v.status = 'published' DESC, \
         v.version DESC LIMIT 1) v ON true WHERE "
    ));
    match which {
        Attached::Deal(deal_id) => {
            query.push("a.deal_id = ").push_bind(deal_id);
        }
        Attached::Account(account_id, visibility) => {
            query.push("d.account_id = ").push_bind(account_id);
            push_visibility(&mut query, visibility, DEAL_OWNER_COLUMNS);
        }
    }
    query
        .push(" ORDER BY a.attached_at DESC, a.article_id LIMIT ")
        .push_bind(limit);
    let rows: Vec<AttachmentRow> = query.build_query_as().fetch_all(executor).await?;
    rows.into_iter()
        .map(AttachmentRow::into_attachment)
        .collect()
}

/// The deals table's owner columns, as the deals alias `d` names them.
pub const DEAL_OWNER_COLUMNS: OwnerColumns = OwnerColumns {
    owner_id: "d.owner_id",
    team_path: "d.owner_team_path",
};

/// The articles attached to the deal, by id.
pub async fn attached_ids<'e>(
    executor: impl PgExecutor<'e>,
    deal_id: Uuid,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar("SELECT article_id FROM deal_articles WHERE deal_id = $1")
        .bind(deal_id)
        .fetch_all(executor)
        .await
}
