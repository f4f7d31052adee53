//! Lead rows: insert, read, lock, update, duplicate candidates, listings, loads.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use crm_platform::{
    access,
    auth::{TeamPath, Visibility},
    paging::{KeyKind, Listing, Page, SortKey, SortOrder},
};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

pub(crate) use super::copy::copy_rows;
pub(crate) use super::copy::push_copy_row;
use super::lead_row::{LeadRow, channel_code, leads};
pub(crate) use super::lead_row::{from_snapshot, snapshot};
use crate::domain::{
    campaign_funnel::LeadCounts,
    lead::{Lead, SourceChannel},
    lifecycle::LeadStatus,
};

const LEAD_COLUMNS: &str = "id, first_name, last_name, email, phone, company, title, website, industry, \
    territory, company_size, product_interest, description, source_channel, campaign_id, status, \
    disqualify_reason, owner_id, owner_team_path, held_by_claim, pool_team_path, score_total, score, \
    possible_duplicate_of, duplicate_score, merged_into_lead_id, converted_account_id, \
    converted_contact_id, converted_opportunity_id, converted_at, assigned_at, last_touched_at, \
    recycle_warned_at, version, created_at, updated_at";

/// The key columns derived from a lead's fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DerivedKeys {
    pub person_key: String,
    pub company_key: String,
    /// From the website, else the email; never a free mail domain.
    pub domain: Option<String>,
}

impl DerivedKeys {
    pub fn of(lead: &Lead) -> Self {
        let domain = crm_contact_data::normalize_domain(&lead.website)
            .or_else(|| {
                lead.email
                    .as_deref()
                    .and_then(crm_contact_data::normalize_domain)
            })
            .filter(|domain| !crm_contact_data::is_free_mail_domain(domain));
        DerivedKeys {
            person_key: crm_contact_data::normalize_person_name(&lead.full_name()),
            company_key: crm_contact_data::normalize_company_name(&lead.company),
            domain,
        }
    }
}

fn push_lead_values(query: &mut QueryBuilder<Postgres>, lead: &Lead) {
    let DerivedKeys {
        person_key,
        company_key,
        domain,
    } = DerivedKeys::of(lead);
    let row = LeadRow::from(lead);
    let mut values = query.separated(", ");
    values
        .push_bind(row.id)
        .push_bind(row.first_name)
        .push_bind(row.last_name)
        .push_bind(person_key)
        .push_bind(row.email)
        .push_bind(row.phone)
        .push_bind(row.company)
        .push_bind(company_key)
        .push_bind(domain)
        .push_bind(row.title)
        .push_bind(row.website)
        .push_bind(row.industry)
        .push_bind(row.territory)
        .push_bind(row.company_size)
        .push_bind(row.product_interest)
        .push_bind(row.description)
        .push_bind(row.source_channel)
        .push_bind(row.campaign_id)
        .push_bind(row.status)
        .push_bind(row.disqualify_reason)
        .push_bind(row.owner_id)
        .push_bind(row.owner_team_path)
        .push_bind(row.held_by_claim)
        .push_bind(row.pool_team_path)
        .push_bind(row.score_total)
        .push_bind(row.score)
        .push_bind(row.possible_duplicate_of)
        .push_bind(row.duplicate_score)
        .push_bind(row.merged_into_lead_id)
        .push_bind(row.converted_account_id)
        .push_bind(row.converted_contact_id)
        .push_bind(row.converted_opportunity_id)
        .push_bind(row.converted_at)
        .push_bind(row.assigned_at)
        .push_bind(row.last_touched_at)
        .push_bind(row.recycle_warned_at)
        .push_bind(row.version)
        .push_bind(row.created_at)
        .push_bind(row.updated_at);
}

pub(super) const WRITE_COLUMNS: &str = "id, first_name, last_name, person_key, email, phone, company, company_key, domain, \
    title, website, industry, territory, company_size, product_interest, description, source_channel, \
    campaign_id, status, disqualify_reason, owner_id, owner_team_path, held_by_claim, pool_team_path, \
    score_total, score, possible_duplicate_of, duplicate_score, merged_into_lead_id, converted_account_id, \
    converted_contact_id, converted_opportunity_id, converted_at, assigned_at, last_touched_at, \
    recycle_warned_at, version, created_at, updated_at";

/// Inserts unless the id exists; `false` when it did (a retried create).
pub(crate) async fn insert_lead(
    connection: &mut PgConnection,
    lead: &Lead,
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
pub(crate) async fn update_lead(connection: &mut PgConnection, lead: &Lead) -> sqlx::Result<()> {
    let mut query =
        QueryBuilder::<Postgres>::new(format!("UPDATE leads SET ({WRITE_COLUMNS}) = ("));
    push_lead_values(&mut query, lead);
    query.push(") WHERE id = ").push_bind(lead.id);
    query.build().execute(connection).await?;
    Ok(())
}

pub(crate) async fn get_lead(
    connection: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<Lead>> {
    let row: Option<LeadRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {LEAD_COLUMNS} FROM leads WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(connection)
    .await?;
    row.map(Lead::try_from).transpose()
}

pub(crate) async fn lock_lead(
    connection: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<Lead>> {
    let row: Option<LeadRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {LEAD_COLUMNS} FROM leads WHERE id = $1 FOR UPDATE"
    )))
    .bind(id)
    .fetch_optional(connection)
    .await?;
    row.map(Lead::try_from).transpose()
}

pub(crate) async fn created_by(
    connection: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("SELECT created_by FROM leads WHERE id = $1")
        .bind(id)
        .fetch_optional(connection)
        .await
        .map(Option::flatten)
}

/// Live leads that may be the same person as a new one: the 20 strongest by kind of key (same
/// email or phone first, then same company domain, then a similar company name), oldest first
/// within a kind. Ranked so that in a large pool a crowd of similar names cannot push out the
/// lead with the very same email.
pub(crate) async fn duplicate_candidates(
    connection: &mut PgConnection,
    email: Option<&str>,
    phone: Option<&str>,
    domain: Option<&str>,
    company_key: &str,
) -> sqlx::Result<Vec<Lead>> {
    let rows: Vec<LeadRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        // A union, not OR, so that each branch uses its index.
        "SELECT {LEAD_COLUMNS} FROM leads WHERE id IN ( \
           SELECT id FROM leads WHERE email = $1 \
           UNION SELECT id FROM leads WHERE phone = $2 \
           UNION SELECT id FROM leads WHERE domain = $3 \
           UNION SELECT id FROM leads WHERE length($4) > 2 AND company_key % $4) \
         AND merged_into_lead_id IS NULL AND status <> 'converted' \
         ORDER BY (email = $1 OR phone = $2) IS TRUE DESC, (domain = $3) IS TRUE DESC, \
           created_at LIMIT 20"
    )))
    .bind(email)
    .bind(phone)
    .bind(domain)
    .bind(company_key)
    .fetch_all(connection)
    .await?;
    leads(rows)
}

/// A live lead found by [`duplicate_candidates_of_many`], with the domain it was found by.
#[derive(Clone, Debug)]
pub(crate) struct Candidate {
    pub lead: Lead,
    pub stored_domain: Option<String>,
}

#[derive(sqlx::FromRow)]
struct CandidateRow {
    #[sqlx(flatten)]
    lead: LeadRow,
    stored_domain: Option<String>,
}

/// Live (not merged, not converted) leads with any of the emails, phones or company domains:
/// the candidates of a whole import chunk in one query. Unlike [`duplicate_candidates`] there
/// is no company name branch: the only index on `company_key` is the trigram one, which at a
/// million leads costs about 10 ms per name even for an exact match (see `Leads::import`).
pub(crate) async fn duplicate_candidates_of_many(
    connection: &mut PgConnection,
    emails: &[String],
    phones: &[String],
    domains: &[String],
) -> sqlx::Result<Vec<Candidate>> {
    let rows: Vec<CandidateRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        // A union of index scans; the branches repeat the partial indexes' predicate.
        "SELECT {LEAD_COLUMNS}, domain AS stored_domain FROM leads WHERE id IN ( \
           SELECT id FROM leads WHERE email = ANY($1) AND merged_into_lead_id IS NULL \
           UNION SELECT id FROM leads WHERE phone = ANY($2) AND merged_into_lead_id IS NULL \
           UNION SELECT id FROM leads WHERE domain = ANY($3) AND merged_into_lead_id IS NULL) \
         AND merged_into_lead_id IS NULL AND status <> 'converted'"
    )))
    .bind(emails)
    .bind(phones)
    .bind(domains)
    .fetch_all(connection)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok(Candidate {
                lead: Lead::try_from(row.lead)?,
                stored_domain: row.stored_domain,
            })
        })
        .collect()
}

#[derive(Clone, Debug, Default)]
pub(crate) struct LeadFilter {
    pub status: Option<LeadStatus>,
    pub owner_id: Option<Uuid>,
    pub in_pool: bool,
    pub campaign_id: Option<Uuid>,
    pub source_channel: Option<SourceChannel>,
    pub flagged_duplicates_only: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LeadSort {
    CreatedAt { descending: bool },
    Score { descending: bool },
}

impl LeadSort {
    /// The listing's order, which its page tokens are bound to.
    pub fn order(self) -> SortOrder {
        match self {
            LeadSort::CreatedAt { descending } => {
                SortOrder::new("created_at", KeyKind::Time, descending)
            }
            LeadSort::Score { descending } => {
                SortOrder::new("score_total", KeyKind::Integer, descending)
            }
        }
    }

    /// The sort key and id of a listed lead, for the next page's token.
    pub fn key_of(self, lead: &Lead) -> (SortKey, Uuid) {
        let key = match self {
            LeadSort::CreatedAt { .. } => SortKey::Time(lead.created_at),
            LeadSort::Score { .. } => SortKey::Integer(i64::from(lead.score.total)),
        };
        (key, lead.id)
    }
}

/// Leads the caller may see: owned ones by the owner rules, and pool leads of the teams the
/// caller belongs to (a rep sees the pools above them, to claim from). `page` was parsed
/// with `sort`'s order.
pub(crate) async fn list_leads(
    connection: &mut PgConnection,
    visibility: &Visibility,
    caller_team: &TeamPath,
    filter: &LeadFilter,
    sort: LeadSort,
    page: &Page,
) -> sqlx::Result<Listing<Lead>> {
    debug_assert_eq!(page.order, sort.order());
    let mut query = QueryBuilder::<Postgres>::new(format!(
        "SELECT {LEAD_COLUMNS} FROM leads WHERE merged_into_lead_id IS NULL"
    ));
    if filter.in_pool {
        // A pool is visible to everyone in its team subtree and to managers above it.
        query.push(" AND owner_id IS NULL AND (");
        access::push_holds(&mut query, "pool_team_path", caller_team);
        match visibility {
            Visibility::All => {
                query.push(" OR true");
            }
            Visibility::TeamSubtree(path) => {
                query.push(" OR ");
                access::push_within(&mut query, "pool_team_path", path);
            }
            Visibility::Own(_) => {}
        }
        query.push(")");
    } else {
        match visibility {
            Visibility::All => {}
            Visibility::TeamSubtree(path) => {
                query.push(" AND (");
                access::push_within(&mut query, "owner_team_path", path);
                query.push(" OR (owner_id IS NULL AND ");
                access::push_within(&mut query, "pool_team_path", path);
                query.push("))");
            }
            Visibility::Own(_) => {
                access::push_visibility(&mut query, visibility, access::OWNER_COLUMNS);
            }
        }
    }
    if let Some(status) = filter.status {
        query.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some(owner_id) = filter.owner_id {
        query.push(" AND owner_id = ").push_bind(owner_id);
    }
    if let Some(campaign_id) = filter.campaign_id {
        query.push(" AND campaign_id = ").push_bind(campaign_id);
    }
    if let Some(channel) = filter.source_channel {
        query
            .push(" AND source_channel = ")
            .push_bind(channel_code(channel));
    }
    if filter.flagged_duplicates_only {
        query.push(" AND possible_duplicate_of IS NOT NULL");
    }
    page.push_keyset(&mut query);
    let rows: Vec<LeadRow> = query.build_query_as().fetch_all(connection).await?;
    Ok(Listing::from_rows(leads(rows)?, page, |lead| {
        sort.key_of(lead)
    }))
}

/// Open leads (assigned or working) per rep, and how many of them were claimed.
pub(crate) async fn open_lead_counts(
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
pub(crate) async fn claim_recyclable(
    connection: &mut PgConnection,
    touched_before: DateTime<Utc>,
    assigned_before: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<Lead>> {
    let rows: Vec<LeadRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {LEAD_COLUMNS} FROM leads WHERE status IN ('assigned', 'working') \
         AND merged_into_lead_id IS NULL AND (last_touched_at < $1 OR assigned_at < $2) \
         ORDER BY last_touched_at LIMIT $3 FOR UPDATE SKIP LOCKED"
    )))
    .bind(touched_before)
    .bind(assigned_before)
    .bind(limit)
    .fetch_all(connection)
    .await?;
    leads(rows)
}

/// The campaign's leads (merged-away ones are in their survivor), those qualified now or
/// converted, and those converted.
pub(crate) async fn campaign_lead_counts(
    connection: &mut PgConnection,
    campaign_id: Uuid,
) -> sqlx::Result<LeadCounts> {
    let (leads, qualified, converted): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE status IN ('qualified', 'converted')), \
         count(*) FILTER (WHERE status = 'converted') \
         FROM leads WHERE campaign_id = $1 AND merged_into_lead_id IS NULL",
    )
    .bind(campaign_id)
    .fetch_one(connection)
    .await?;
    Ok(LeadCounts {
        leads: leads as u64,
        qualified: qualified as u64,
        converted: converted as u64,
    })
}

/// After a move: the leads the user owns belong to their new team.
pub(crate) async fn rescope_owned_leads(
    connection: &mut PgConnection,
    user_id: Uuid,
    team_path: &TeamPath,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE leads SET owner_team_path = $2 WHERE owner_id = $1 AND owner_team_path <> $2",
    )
    .bind(user_id)
    .bind(team_path.as_str())
    .execute(connection)
    .await?;
    Ok(())
}
