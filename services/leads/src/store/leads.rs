//! Lead rows: insert, read, lock, update, duplicate candidates, listings, loads.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use crm_platform::{
    access,
    auth::{TeamPath, Visibility},
    paging::{KeyKind, Listing, Page, SortKey, SortOrder},
};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, Postgres, QueryBuilder, types::Json};
use uuid::Uuid;

use crate::domain::scoring::ScoreReason;

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
    pub reasons: Vec<StoredReason>,
}

/// One reason of a stored score. Scores stored before reasons had codes hold `[label, points]`
/// and read back with an empty code (the wire then says: no translation, show the label).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StoredReason {
    Coded(ScoreReason),
    Plain(String, i32),
}

impl StoredReason {
    pub fn reason(&self) -> ScoreReason {
        match self {
            StoredReason::Coded(reason) => reason.clone(),
            StoredReason::Plain(label, points) => ScoreReason {
                label: label.clone(),
                points: *points,
                code: String::new(),
                params: Default::default(),
            },
        }
    }
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

/// The key columns derived from a lead's fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DerivedKeys {
    pub person_key: String,
    pub company_key: String,
    /// From the website, else the email; never a free mail domain.
    pub domain: Option<String>,
}

impl DerivedKeys {
    pub fn of(lead: &LeadRecord) -> Self {
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

fn push_lead_values(query: &mut QueryBuilder<Postgres>, lead: &LeadRecord) {
    let DerivedKeys {
        person_key,
        company_key,
        domain,
    } = DerivedKeys::of(lead);
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

/// `COPY leads (…) FROM STDIN` in text format: the rows [`push_copy_row`] writes.
pub fn copy_statement() -> String {
    format!("COPY leads ({WRITE_COLUMNS}, created_by) FROM STDIN")
}

/// Sends lines written by [`push_copy_row`] with one `COPY`; returns how many rows it wrote.
pub async fn copy_rows(connection: &mut PgConnection, text: &[u8]) -> sqlx::Result<u64> {
    let mut copy = connection.copy_in_raw(&copy_statement()).await?;
    if let Err(error) = copy.send(text).await {
        let _ = copy.abort("sending the rows failed").await;
        return Err(error);
    }
    copy.finish().await
}

/// Appends a new lead (with its [`DerivedKeys`]) as a line of `COPY … FROM STDIN` text, in
/// the columns of [`copy_statement`]: how an import writes leads in bulk.
pub fn push_copy_row(
    out: &mut Vec<u8>,
    lead: &LeadRecord,
    keys: &DerivedKeys,
    created_by: Option<Uuid>,
) {
    let mut row = CopyRow { out, first: true };
    row.uuid(Some(lead.id));
    row.text(Some(&lead.first_name));
    row.text(Some(&lead.last_name));
    row.text(Some(&keys.person_key));
    row.text(lead.email.as_deref());
    row.text(lead.phone.as_deref());
    row.text(Some(&lead.company));
    row.text(Some(&keys.company_key));
    row.text(keys.domain.as_deref());
    row.text(Some(&lead.title));
    row.text(Some(&lead.website));
    row.text(Some(&lead.industry));
    row.text(Some(&lead.territory));
    row.number(i64::from(lead.company_size));
    row.text(Some(&lead.product_interest));
    row.text(Some(&lead.description));
    row.number(i64::from(lead.source_channel));
    row.uuid(lead.campaign_id);
    row.text(Some(&lead.status));
    row.text(lead.disqualify_reason.as_deref());
    row.uuid(lead.owner_id);
    row.text(lead.owner_team_path.as_deref());
    row.raw(if lead.held_by_claim { "t" } else { "f" });
    row.text(Some(&lead.pool_team_path));
    row.number(i64::from(lead.score.total));
    let score = serde_json::to_string(&lead.score.0).unwrap_or_else(|_| "{}".to_owned());
    row.text(Some(&score));
    row.uuid(lead.possible_duplicate_of);
    row.number(i64::from(lead.duplicate_score));
    row.uuid(lead.merged_into_lead_id);
    row.uuid(lead.converted_account_id);
    row.uuid(lead.converted_contact_id);
    row.uuid(lead.converted_opportunity_id);
    row.time(lead.converted_at);
    row.time(lead.assigned_at);
    row.time(lead.last_touched_at);
    row.time(lead.recycle_warned_at);
    row.number(lead.version);
    row.time(Some(lead.created_at));
    row.time(Some(lead.updated_at));
    row.uuid(created_by);
    row.out.push(b'\n');
}

/// One line of `COPY` text format: tab-separated, `\N` for NULL, backslash escapes.
struct CopyRow<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl CopyRow<'_> {
    fn separate(&mut self) {
        if !std::mem::take(&mut self.first) {
            self.out.push(b'\t');
        }
    }

    fn raw(&mut self, value: &str) {
        self.separate();
        self.out.extend_from_slice(value.as_bytes());
    }

    fn null(&mut self) {
        self.raw("\\N");
    }

    fn text(&mut self, value: Option<&str>) {
        let Some(value) = value else {
            return self.null();
        };
        self.separate();
        for byte in value.bytes() {
            match byte {
                b'\\' => self.out.extend_from_slice(b"\\\\"),
                b'\n' => self.out.extend_from_slice(b"\\n"),
                b'\r' => self.out.extend_from_slice(b"\\r"),
                b'\t' => self.out.extend_from_slice(b"\\t"),
                other => self.out.push(other),
            }
        }
    }

    fn number(&mut self, value: i64) {
        use std::io::Write;
        self.separate();
        let _ = write!(self.out, "{value}");
    }

    fn uuid(&mut self, value: Option<Uuid>) {
        match value {
            Some(id) => {
                self.separate();
                let mut buffer = Uuid::encode_buffer();
                self.out
                    .extend_from_slice(id.hyphenated().encode_lower(&mut buffer).as_bytes());
            }
            None => self.null(),
        }
    }

    fn time(&mut self, value: Option<DateTime<Utc>>) {
        use std::io::Write;
        match value {
            Some(time) => {
                self.separate();
                let _ = write!(self.out, "{}+00", time.naive_utc());
            }
            None => self.null(),
        }
    }
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

/// Live leads that may be the same person as a new one: the 20 strongest by kind of key (same
/// email or phone first, then same company domain, then a similar company name), oldest first
/// within a kind. Ranked so that in a large pool a crowd of similar names cannot push out the
/// lead with the very same email.
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
         ORDER BY (email = $1 OR phone = $2) IS TRUE DESC, (domain = $3) IS TRUE DESC, \
           created_at LIMIT 20"
    )))
    .bind(email)
    .bind(phone)
    .bind(domain)
    .bind(company_key)
    .fetch_all(connection)
    .await
}

/// A live lead found by [`duplicate_candidates_of_many`], with the domain it was found by.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Candidate {
    #[sqlx(flatten)]
    pub lead: LeadRecord,
    pub stored_domain: Option<String>,
}

/// Live (not merged, not converted) leads with any of the emails, phones or company domains:
/// the candidates of a whole import chunk in one query. Unlike [`duplicate_candidates`] there
/// is no company name branch: the only index on `company_key` is the trigram one, which at a
/// million leads costs about 10 ms per name even for an exact match (see `Leads::import`).
pub async fn duplicate_candidates_of_many(
    connection: &mut PgConnection,
    emails: &[String],
    phones: &[String],
    domains: &[String],
) -> sqlx::Result<Vec<Candidate>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
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
    pub fn key_of(self, lead: &LeadRecord) -> (SortKey, Uuid) {
        let key = match self {
            LeadSort::CreatedAt { .. } => SortKey::Time(lead.created_at),
            LeadSort::Score { .. } => SortKey::Integer(i64::from(lead.score_total)),
        };
        (key, lead.id)
    }
}

/// Leads the caller may see: owned ones by the owner rules, and pool leads of the teams the
/// caller belongs to (a rep sees the pools above them, to claim from). `page` was parsed
/// with `sort`'s order.
pub async fn list_leads(
    connection: &mut PgConnection,
    visibility: &Visibility,
    caller_team: &TeamPath,
    filter: &LeadFilter,
    sort: LeadSort,
    page: &Page,
) -> sqlx::Result<Listing<LeadRecord>> {
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
    page.push_keyset(&mut query);
    let rows = query.build_query_as().fetch_all(connection).await?;
    Ok(Listing::from_rows(rows, page, |lead| sort.key_of(lead)))
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

/// After a move: the leads the user owns belong to their new team.
pub async fn rescope_owned_leads(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_score_stored_before_reasons_had_codes_reads_back_with_an_empty_code() {
        let stored: StoredScore = serde_json::from_str(
            r#"{"total": 25, "fit": 20, "engagement": 5, "reasons": [["industry fit: Steel", 20],
                {"label": "1 call today", "points": 5, "code": "leads.score.activity_today",
                 "params": {"kind": "call"}}]}"#,
        )
        .unwrap();

        let reasons: Vec<ScoreReason> = stored.reasons.iter().map(StoredReason::reason).collect();

        assert_eq!(
            (reasons[0].label.as_str(), reasons[0].code.as_str()),
            ("industry fit: Steel", "")
        );
        assert_eq!(reasons[1].code, "leads.score.activity_today");
        assert_eq!(reasons[1].params["kind"], "call");
        let again = serde_json::to_string(&stored).unwrap();
        assert_eq!(serde_json::from_str::<StoredScore>(&again).unwrap(), stored);
    }
}
