//! Lead rows: insert, read, lock, update, duplicate candidates, listings, loads.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use crm_platform::{
    auth::Visibility,
    paging::{Cursor, Page},
};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, Postgres, QueryBuilder, types::Json};
use uuid::Uuid;

const LEAD_COLUMNS: &str = "id, first_name, last_name, email, phone, company, title, website, industry, \
    territory, company_size, product_interest, description, source_channel, campaign_id, status, \
    disqualify_reason, owner_id, owner_team_path, held_by_claim, pool_team_path, score_total, score, \
    possible_duplicate_of, duplicate_score, merged_into_lead_id, converted_account_id, \
    converted_contact_id, converted_opportunity_id, converted_at, assigned_at, last_touched_at, \
    recycle_warned_at, version, created_at, updated_at";

/// A lead's score as stored: the total and the reasons behind it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StoredScore {
    pub total: i32,
    pub fit: i32,
    pub engagement: i32,
    pub reasons: Vec<(String, i32)>,
}

/// A lead as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct LeadRecord {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: String,
    pub title: String,
    pub website: String,
    pub industry: String,
    pub territory: String,
    pub company_size: i16,
    pub product_interest: String,
    pub description: String,
    pub source_channel: i16,
    pub campaign_id: Option<Uuid>,
    pub status: String,
    pub disqualify_reason: Option<String>,
    pub owner_id: Option<Uuid>,
    pub owner_team_path: Option<String>,
    pub held_by_claim: bool,
    pub pool_team_path: String,
    pub score_total: i32,
    pub score: Json<StoredScore>,
    pub possible_duplicate_of: Option<Uuid>,
    pub duplicate_score: i16,
    pub merged_into_lead_id: Option<Uuid>,
    pub converted_account_id: Option<Uuid>,
    pub converted_contact_id: Option<Uuid>,
    pub converted_opportunity_id: Option<Uuid>,
    pub converted_at: Option<DateTime<Utc>>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub last_touched_at: Option<DateTime<Utc>>,
    pub recycle_warned_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl LeadRecord {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
            .trim()
            .to_owned()
    }
}

fn push_lead_values(query: &mut QueryBuilder<Postgres>, lead: &LeadRecord) {
    let person_key = crm_contact_data::normalize_person_name(&lead.full_name());
    let company_key = crm_contact_data::normalize_company_name(&lead.company);
    let domain = crm_contact_data::normalize_domain(&lead.website)
        .or_else(|| {
            lead.email
                .as_deref()
                .and_then(crm_contact_data::normalize_domain)
        })
        .filter(|domain| !crm_contact_data::is_free_mail_domain(domain));
    let mut values = query.separated(", ");
    values
        .push_bind(lead.id)
        .push_bind(lead.first_name.clone())
        .push_bind(lead.last_name.clone())
        .push_bind(person_key)
        .push_bind(lead.email.clone())
        .push_bind(lead.phone.clone())
        .push_bind(lead.company.clone())
        .push_bind(company_key)
        .push_bind(domain)
        .push_bind(lead.title.clone())
        .push_bind(lead.website.clone())
        .push_bind(lead.industry.clone())
        .push_bind(lead.territory.clone())
        .push_bind(lead.company_size)
        .push_bind(lead.product_interest.clone())
        .push_bind(lead.description.clone())
        .push_bind(lead.source_channel)
        .push_bind(lead.campaign_id)
        .push_bind(lead.status.clone())
        .push_bind(lead.disqualify_reason.clone())
        .push_bind(lead.owner_id)
        .push_bind(lead.owner_team_path.clone())
        .push_bind(lead.held_by_claim)
        .push_bind(lead.pool_team_path.clone())
        .push_bind(lead.score.total)
        .push_bind(Json(lead.score.0.clone()))
        .push_bind(lead.possible_duplicate_of)
        .push_bind(lead.duplicate_score)
        .push_bind(lead.merged_into_lead_id)
        .push_bind(lead.converted_account_id)
        .push_bind(lead.converted_contact_id)
        .push_bind(lead.converted_opportunity_id)
        .push_bind(lead.converted_at)
        .push_bind(lead.assigned_at)
        .push_bind(lead.last_touched_at)
        .push_bind(lead.recycle_warned_at)
        .push_bind(lead.version)
        .push_bind(lead.created_at)
        .push_bind(lead.updated_at);
}

const WRITE_COLUMNS: &str = "id, first_name, last_name, person_key, email, phone, company, company_key, domain, \
    title, website, industry, territory, company_size, product_interest, description, source_channel, \
    campaign_id, status, disqualify_reason, owner_id, owner_team_path, held_by_claim, pool_team_path, \
    score_total, score, possible_duplicate_of, duplicate_score, merged_into_lead_id, converted_account_id, \
    converted_contact_id, converted_opportunity_id, converted_at, assigned_at, last_touched_at, \
    recycle_warned_at, version, created_at, updated_at";

/// Inserts unless the id exists; `false` when it did (a retried create).
pub async fn insert_lead(
    connection: &mut PgConnection,
    lead: &LeadRecord,
    created_by: Option<Uuid>,
) -> sqlx::Result<bool> {
    let mut query = QueryBuilder::<Postgres>::new(format!(
        "INSERT INTO leads ({WRITE_COLUMNS}, created_by) VALUES ("
    ));
    push_lead_values(&mut query, lead);
    query
        .push(", ")
        .push_bind(created_by)
        .push(") ON CONFLICT (id) DO NOTHING");
    Ok(query.build().execute(connection).await?.rows_affected() == 1)
}

/// Writes every column of `lead` (version already bumped by the caller).
pub async fn update_lead(connection: &mut PgConnection, lead: &LeadRecord) -> sqlx::Result<()> {
    let mut query =
        QueryBuilder::<Postgres>::new(format!("UPDATE leads SET ({WRITE_COLUMNS}) = ("));
    push_lead_values(&mut query, lead);
    query.push(") WHERE id = ").push_bind(lead.id);
    query.build().execute(connection).await?;
    Ok(())
}

pub async fn get_lead(connection: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<LeadRecord>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {LEAD_COLUMNS} FROM leads WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(connection)
    .await
}

pub async fn lock_lead(
    connection: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<LeadRecord>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {LEAD_COLUMNS} FROM leads WHERE id = $1 FOR UPDATE"
    )))
    .bind(id)
    .fetch_optional(connection)
    .await
}

pub async fn created_by(connection: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("SELECT created_by FROM leads WHERE id = $1")
        .bind(id)
        .fetch_optional(connection)
        .await
        .map(Option::flatten)
}

/// Live (not merged) leads sharing the email, phone or company domain, or with a similar
/// company name.
pub async fn duplicate_candidates(
    connection: &mut PgConnection,
    email: Option<&str>,
    phone: Option<&str>,
    domain: Option<&str>,
    company_key: &str,
) -> sqlx::Result<Vec<LeadRecord>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        // A union, not OR, so that each branch uses its index.
        "SELECT {LEAD_COLUMNS} FROM leads WHERE id IN ( \
           SELECT id FROM leads WHERE email = $1 \
           UNION SELECT id FROM leads WHERE phone = $2 \
           UNION SELECT id FROM leads WHERE domain = $3 \
           UNION SELECT id FROM leads WHERE length($4) > 2 AND company_key % $4) \
         AND merged_into_lead_id IS NULL AND status <> 'converted' \
         ORDER BY created_at LIMIT 20"
    )))
    .bind(email)
    .bind(phone)
    .bind(domain)
    .bind(company_key)
    .fetch_all(connection)
    .await
}

#[derive(Clone, Debug, Default)]
pub struct LeadFilter {
    pub status: Option<String>,
    pub owner_id: Option<Uuid>,
    pub in_pool: bool,
    pub campaign_id: Option<Uuid>,
    pub source_channel: Option<i16>,
    pub flagged_duplicates_only: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeadSort {
    CreatedAt { descending: bool },
    Score { descending: bool },
}

impl LeadSort {
    pub fn key(&self) -> String {
        format!("{self:?}")
    }

    pub fn cursor_after(&self, lead: &LeadRecord) -> Cursor {
        let sort_key = match self {
            LeadSort::CreatedAt { .. } => lead.created_at.to_rfc3339(),
            LeadSort::Score { .. } => lead.score_total.to_string(),
        };
        Cursor {
            sort_key,
            id: lead.id,
            sort: self.key(),
        }
    }
}

/// Leads the caller may see: owned ones by the owner rules, and pool leads of the teams the
/// caller belongs to (a rep sees the pools above them, to claim from).
pub async fn list_leads(
    connection: &mut PgConnection,
    visibility: &Visibility,
    caller_team: &str,
    filter: &LeadFilter,
    sort: LeadSort,
    page: &Page,
) -> sqlx::Result<Vec<LeadRecord>> {
    let mut query = QueryBuilder::<Postgres>::new(format!(
        "SELECT {LEAD_COLUMNS} FROM leads WHERE merged_into_lead_id IS NULL"
    ));
    if filter.in_pool {
        // A pool is visible to everyone in its team subtree and to managers above it.
        query
            .push(" AND owner_id IS NULL AND (starts_with(")
            .push_bind(caller_team.to_owned())
            .push(", pool_team_path)");
        match visibility {
            crm_platform::auth::Visibility::All => {
                query.push(" OR true");
            }
            crm_platform::auth::Visibility::TeamSubtree(path) => {
                query
                    .push(" OR pool_team_path LIKE ")
                    .push_bind(format!("{path}%"));
            }
            crm_platform::auth::Visibility::Own(_) => {}
        }
        query.push(")");
    } else {
        match visibility {
            Visibility::All => {}
            Visibility::TeamSubtree(path) => {
                query
                    .push(" AND (owner_team_path LIKE ")
                    .push_bind(format!("{path}%"))
                    .push(" OR (owner_id IS NULL AND pool_team_path LIKE ")
                    .push_bind(format!("{path}%"))
                    .push("))");
            }
            Visibility::Own(user_id) => {
                query.push(" AND owner_id = ").push_bind(*user_id);
            }
        }
    }
    if let Some(status) = &filter.status {
        query.push(" AND status = ").push_bind(status.clone());
    }
    if let Some(owner_id) = filter.owner_id {
        query.push(" AND owner_id = ").push_bind(owner_id);
    }
    if let Some(campaign_id) = filter.campaign_id {
        query.push(" AND campaign_id = ").push_bind(campaign_id);
    }
    if let Some(channel) = filter.source_channel {
        query.push(" AND source_channel = ").push_bind(channel);
    }
    if filter.flagged_duplicates_only {
        query.push(" AND possible_duplicate_of IS NOT NULL");
    }
    let (column, descending) = match sort {
        LeadSort::CreatedAt { descending } => ("created_at", descending),
        LeadSort::Score { descending } => ("score_total", descending),
    };
    let (comparison, direction) = if descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    if let Some(cursor) = &page.after {
        query.push(format!(" AND ({column}, id) {comparison} ("));
        match sort {
            LeadSort::CreatedAt { .. } => {
                let time = DateTime::parse_from_rfc3339(&cursor.sort_key)
                    .map(|time| time.with_timezone(&Utc))
                    .unwrap_or_default();
                query.push_bind(time);
            }
            LeadSort::Score { .. } => {
                query.push_bind(cursor.sort_key.parse::<i32>().unwrap_or_default());
            }
        }
        query.push(", ").push_bind(cursor.id).push(")");
    }
    query
        .push(format!(
            " ORDER BY {column} {direction}, id {direction} LIMIT "
        ))
        .push_bind(page.fetch_limit());
    query.build_query_as().fetch_all(connection).await
}

/// Open leads (assigned or working) per rep, and how many of them were claimed.
pub async fn open_lead_counts(
    connection: &mut PgConnection,
    rep_ids: &[Uuid],
) -> sqlx::Result<HashMap<Uuid, (u32, u32)>> {
    let rows: Vec<(Uuid, i64, i64)> = sqlx::query_as(
        "SELECT owner_id, count(*), count(*) FILTER (WHERE held_by_claim) FROM leads \
         WHERE owner_id = ANY($1) AND status IN ('assigned', 'working') AND merged_into_lead_id IS NULL GROUP BY owner_id",
    )
    .bind(rep_ids)
    .fetch_all(connection)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(rep, open, claimed)| (rep, (open as u32, claimed as u32)))
        .collect())
}

/// Owned leads still being worked, oldest touch first, locked for this recycling run and
/// skipped by any other replica's run.
/// Only leads touched before `touched_before` or assigned before `assigned_before` can be due
/// for a warning, so the rest are not read at all.
pub async fn claim_recyclable(
    connection: &mut PgConnection,
    touched_before: DateTime<Utc>,
    assigned_before: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<LeadRecord>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {LEAD_COLUMNS} FROM leads WHERE status IN ('assigned', 'working') \
         AND merged_into_lead_id IS NULL AND (last_touched_at < $1 OR assigned_at < $2) \
         ORDER BY last_touched_at LIMIT $3 FOR UPDATE SKIP LOCKED"
    )))
    .bind(touched_before)
    .bind(assigned_before)
    .bind(limit)
    .fetch_all(connection)
    .await
}

/// Campaign funnel counts: leads, qualified (ever), converted, won, won revenue.
pub async fn campaign_funnel(
    connection: &mut PgConnection,
    campaign_id: Uuid,
) -> sqlx::Result<(i64, i64, i64, i64, rust_decimal::Decimal)> {
    sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE status IN ('qualified', 'converted')), \
         count(*) FILTER (WHERE status = 'converted'), count(*) FILTER (WHERE won_at IS NOT NULL), \
         coalesce(sum(won_amount), 0) FROM leads WHERE campaign_id = $1 AND merged_into_lead_id IS NULL",
    )
    .bind(campaign_id)
    .fetch_one(connection)
    .await
}
