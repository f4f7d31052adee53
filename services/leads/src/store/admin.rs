//! Sales-operations set-up: reps, assignment rules and their round-robin state, policies,
//! campaigns, web forms, and the directory of known accounts.

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::{access, auth::TeamPath};

use crm_platform::money::Money;

use super::lead_row::{channel_code, channel_of_code};
use crate::domain::{campaign::Campaign, fairness::RepStage, roster::Rep};
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::{PgConnection, Postgres, QueryBuilder, types::Json};
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct RepRow {
    rep_id: Uuid,
    team_path: String,
    display_name: String,
    stage: String,
    started_on: NaiveDate,
    capacity: i32,
    claim_cap: i32,
    active: bool,
    open_pipeline: Decimal,
}

/// A stored value this version does not know is corrupt data, not a default.
fn corrupt_rep(rep_id: Uuid, what: &str, value: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(
        format!("rep {rep_id}: stored {what} {value} is not one this service knows").into(),
    )
}

impl TryFrom<RepRow> for Rep {
    type Error = sqlx::Error;

    fn try_from(row: RepRow) -> sqlx::Result<Rep> {
        let id = row.rep_id;
        Ok(Rep {
            rep_id: id,
            team_path: TeamPath::parse(&row.team_path)
                .map_err(|_| corrupt_rep(id, "team path", format!("{:?}", row.team_path)))?,
            display_name: row.display_name,
            stage: RepStage::parse(&row.stage)
                .ok_or_else(|| corrupt_rep(id, "stage", format!("{:?}", row.stage)))?,
            started_on: row.started_on,
            capacity: u32::try_from(row.capacity)
                .map_err(|_| corrupt_rep(id, "capacity", row.capacity))?,
            claim_cap: u32::try_from(row.claim_cap)
                .map_err(|_| corrupt_rep(id, "claim cap", row.claim_cap))?,
            active: row.active,
            open_pipeline: row.open_pipeline,
        })
    }
}

fn reps(rows: Vec<RepRow>) -> sqlx::Result<Vec<Rep>> {
    rows.into_iter().map(Rep::try_from).collect()
}

/// Puts a rep on the roster or updates them. A rep whose team comes from the organisation's
/// directory keeps it: `false` (nothing written) when `rep` names another team for them.
pub async fn upsert_rep(connection: &mut PgConnection, rep: &Rep) -> sqlx::Result<bool> {
    let written = sqlx::query(
        "INSERT INTO reps (rep_id, team_path, display_name, stage, started_on, capacity, claim_cap, active) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (rep_id) DO UPDATE SET team_path = EXCLUDED.team_path, \
         display_name = EXCLUDED.display_name, stage = EXCLUDED.stage, started_on = EXCLUDED.started_on, \
         capacity = EXCLUDED.capacity, claim_cap = EXCLUDED.claim_cap, active = EXCLUDED.active, updated_at = now() \
         WHERE NOT reps.from_directory OR reps.team_path = EXCLUDED.team_path",
    )
    .bind(rep.rep_id)
    .bind(rep.team_path.as_str())
    .bind(&rep.display_name)
    .bind(rep.stage.as_str())
    .bind(rep.started_on)
    .bind(i32::try_from(rep.capacity).unwrap_or(i32::MAX))
    .bind(i32::try_from(rep.claim_cap).unwrap_or(i32::MAX))
    .bind(rep.active)
    .execute(connection)
    .await?
    .rows_affected();
    Ok(written == 1)
}

const REP_COLUMNS: &str = "rep_id, team_path, display_name, stage, started_on, capacity, claim_cap, active, open_pipeline";

pub async fn get_rep(connection: &mut PgConnection, rep_id: Uuid) -> sqlx::Result<Option<Rep>> {
    let row: Option<RepRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {REP_COLUMNS} FROM reps WHERE rep_id = $1"
    )))
    .bind(rep_id)
    .fetch_optional(connection)
    .await?;
    row.map(Rep::try_from).transpose()
}

/// Reps in a team subtree (`/northwind/east/` includes `/northwind/east/east-1/`).
pub async fn reps_in_subtree(
    connection: &mut PgConnection,
    team_path: &TeamPath,
) -> sqlx::Result<Vec<Rep>> {
    let mut query = QueryBuilder::<Postgres>::new(format!("SELECT {REP_COLUMNS} FROM reps WHERE "));
    access::push_within(&mut query, "team_path", team_path);
    query.push(" ORDER BY display_name, rep_id");
    reps(query.build_query_as().fetch_all(connection).await?)
}

pub async fn reps_by_id(connection: &mut PgConnection, rep_ids: &[Uuid]) -> sqlx::Result<Vec<Rep>> {
    let rows: Vec<RepRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {REP_COLUMNS} FROM reps WHERE rep_id = ANY($1)"
    )))
    .bind(rep_ids)
    .fetch_all(connection)
    .await?;
    reps(rows)
}

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct RuleRow {
    pub id: Uuid,
    pub position: i32,
    pub name: String,
    pub criteria: Json<Value>,
    pub rep_ids: Vec<Uuid>,
}

/// Replaces the team's rules with `rules` (in order).
pub async fn replace_rules(
    connection: &mut PgConnection,
    team_path: &str,
    rules: &[RuleRow],
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM assignment_rules WHERE team_path = $1")
        .bind(team_path)
        .execute(&mut *connection)
        .await?;
    for rule in rules {
        sqlx::query(
            "INSERT INTO assignment_rules (id, team_path, position, name, criteria, rep_ids) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(rule.id)
        .bind(team_path)
        .bind(rule.position)
        .bind(&rule.name)
        .bind(&rule.criteria)
        .bind(&rule.rep_ids)
        .execute(&mut *connection)
        .await?;
    }
    Ok(())
}

pub async fn rules(connection: &mut PgConnection, team_path: &str) -> sqlx::Result<Vec<RuleRow>> {
    sqlx::query_as(
        "SELECT id, position, name, criteria, rep_ids FROM assignment_rules WHERE team_path = $1 ORDER BY position",
    )
    .bind(team_path)
    .fetch_all(connection)
    .await
}

/// Round-robin state of the given groups (missing groups start fresh).
pub async fn assignment_state(
    connection: &mut PgConnection,
    keys: &[String],
) -> sqlx::Result<Vec<(String, Json<Value>)>> {
    sqlx::query_as("SELECT group_key, state FROM assignment_state WHERE group_key = ANY($1)")
        .bind(keys)
        .fetch_all(connection)
        .await
}

pub async fn save_assignment_state(
    connection: &mut PgConnection,
    key: &str,
    state: &Value,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO assignment_state (group_key, state) VALUES ($1, $2) \
         ON CONFLICT (group_key) DO UPDATE SET state = EXCLUDED.state, updated_at = now()",
    )
    .bind(key)
    .bind(state)
    .execute(connection)
    .await?;
    Ok(())
}

pub async fn policies(connection: &mut PgConnection) -> sqlx::Result<Option<Json<Value>>> {
    sqlx::query_scalar("SELECT policies FROM lead_policies WHERE id")
        .fetch_optional(connection)
        .await
}

pub async fn save_policies(
    connection: &mut PgConnection,
    policies: &Value,
    by: Uuid,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO lead_policies (id, policies, updated_by) VALUES (true, $1, $2) \
         ON CONFLICT (id) DO UPDATE SET policies = EXCLUDED.policies, updated_by = EXCLUDED.updated_by, updated_at = now()",
    )
    .bind(policies)
    .bind(by)
    .execute(connection)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct CampaignRow {
    id: Uuid,
    name: String,
    channel: i16,
    cost_amount: Decimal,
    cost_currency: String,
    starts_on: Option<NaiveDate>,
    ends_on: Option<NaiveDate>,
    created_at: DateTime<Utc>,
}

impl TryFrom<CampaignRow> for Campaign {
    type Error = sqlx::Error;

    fn try_from(row: CampaignRow) -> sqlx::Result<Campaign> {
        let corrupt = |what: &str, value: &dyn std::fmt::Display| {
            sqlx::Error::Decode(
                format!(
                    "campaign {}: stored {what} {value} is not one this service knows",
                    row.id
                )
                .into(),
            )
        };
        let channel = match row.channel {
            0 => None,
            code => Some(channel_of_code(code).map_err(|_| corrupt("channel", &code))?),
        };
        let currency = row
            .cost_currency
            .parse()
            .map_err(|_| corrupt("currency", &row.cost_currency))?;
        Ok(Campaign {
            id: row.id,
            name: row.name,
            channel,
            cost: Money {
                currency,
                amount: row.cost_amount,
            },
            starts_on: row.starts_on,
            ends_on: row.ends_on,
            created_at: row.created_at,
        })
    }
}

pub async fn insert_campaign(
    connection: &mut PgConnection,
    campaign: &Campaign,
    created_by: Uuid,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO campaigns (id, name, channel, cost_amount, cost_currency, starts_on, ends_on, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(campaign.id)
    .bind(&campaign.name)
    .bind(campaign.channel.map_or(0, channel_code))
    .bind(campaign.cost.amount)
    .bind(campaign.cost.currency.as_str())
    .bind(campaign.starts_on)
    .bind(campaign.ends_on)
    .bind(created_by)
    .bind(campaign.created_at)
    .execute(connection)
    .await?;
    Ok(())
}

const CAMPAIGN_COLUMNS: &str =
    "id, name, channel, cost_amount, cost_currency, starts_on, ends_on, created_at";

pub async fn get_campaign(
    connection: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<Campaign>> {
    let row: Option<CampaignRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(connection)
    .await?;
    row.map(Campaign::try_from).transpose()
}

pub async fn campaigns(connection: &mut PgConnection) -> sqlx::Result<Vec<Campaign>> {
    let rows: Vec<CampaignRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CAMPAIGN_COLUMNS} FROM campaigns ORDER BY created_at DESC LIMIT 500"
    )))
    .fetch_all(connection)
    .await?;
    rows.into_iter().map(Campaign::try_from).collect()
}

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct WebFormRow {
    pub id: Uuid,
    pub name: String,
    pub campaign_id: Option<Uuid>,
    pub team_path: String,
    pub rate_limit_per_minute: i32,
    pub active: bool,
}

pub async fn insert_web_form(
    connection: &mut PgConnection,
    form: &WebFormRow,
    key_hash: &str,
    created_by: Uuid,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO web_forms (id, name, key_hash, campaign_id, team_path, rate_limit_per_minute, active, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(form.id)
    .bind(&form.name)
    .bind(key_hash)
    .bind(form.campaign_id)
    .bind(&form.team_path)
    .bind(form.rate_limit_per_minute)
    .bind(form.active)
    .bind(created_by)
    .execute(connection)
    .await?;
    Ok(())
}

pub async fn web_form_by_key_hash(
    connection: &mut PgConnection,
    key_hash: &str,
) -> sqlx::Result<Option<WebFormRow>> {
    sqlx::query_as(
        "SELECT id, name, campaign_id, team_path, rate_limit_per_minute, active FROM web_forms WHERE key_hash = $1",
    )
    .bind(key_hash)
    .fetch_optional(connection)
    .await
}

/// Records an account leads knows of (from its own conversions or account events).
pub async fn upsert_account(
    connection: &mut PgConnection,
    account_id: Uuid,
    name: &str,
    domain: Option<&str>,
    active: bool,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO account_directory (account_id, name, name_key, domain, active) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (account_id) DO UPDATE SET name = EXCLUDED.name, name_key = EXCLUDED.name_key, \
         domain = EXCLUDED.domain, active = EXCLUDED.active, updated_at = now()",
    )
    .bind(account_id)
    .bind(name)
    .bind(crm_contact_data::normalize_company_name(name))
    .bind(domain)
    .bind(active)
    .execute(connection)
    .await?;
    Ok(())
}

/// A merged-away account no longer matches a conversion.
pub async fn deactivate_account(
    connection: &mut PgConnection,
    account_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE account_directory SET active = false, updated_at = now() WHERE account_id = $1",
    )
    .bind(account_id)
    .execute(connection)
    .await?;
    Ok(())
}

/// An active account with the same company name key or domain.
pub async fn matching_account(
    connection: &mut PgConnection,
    name_key: &str,
    domain: Option<&str>,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "SELECT account_id FROM account_directory WHERE active AND (name_key = $1 OR domain = $2) \
         ORDER BY (name_key = $1) DESC, updated_at LIMIT 1",
    )
    .bind(name_key)
    .bind(domain)
    .fetch_optional(connection)
    .await
}

pub async fn account_exists(connection: &mut PgConnection, account_id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM account_directory WHERE account_id = $1 AND active)",
    )
    .bind(account_id)
    .fetch_one(connection)
    .await
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MergeRow {
    pub id: Uuid,
    pub survivor_id: Uuid,
    pub duplicate_id: Uuid,
    pub survivor_before: Json<Value>,
    pub duplicate_before: Json<Value>,
    pub origins: Json<Value>,
    pub undone_at: Option<DateTime<Utc>>,
}

pub async fn insert_merge(
    connection: &mut PgConnection,
    merge: &MergeRow,
    merged_by: Option<Uuid>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO lead_merges (id, survivor_id, duplicate_id, merged_by, survivor_before, duplicate_before, origins) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(merge.id)
    .bind(merge.survivor_id)
    .bind(merge.duplicate_id)
    .bind(merged_by)
    .bind(&merge.survivor_before)
    .bind(&merge.duplicate_before)
    .bind(&merge.origins)
    .execute(connection)
    .await?;
    Ok(())
}

pub async fn lock_merge(connection: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<MergeRow>> {
    sqlx::query_as(
        "SELECT id, survivor_id, duplicate_id, survivor_before, duplicate_before, origins, undone_at \
         FROM lead_merges WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(connection)
    .await
}

pub async fn mark_merge_undone(
    connection: &mut PgConnection,
    id: Uuid,
    by: Uuid,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE lead_merges SET undone_at = now(), undone_by = $2 WHERE id = $1")
        .bind(id)
        .bind(by)
        .execute(connection)
        .await?;
    Ok(())
}

/// A user as the organisation's directory describes them, for the roster.
pub struct DirectoryRep<'a> {
    pub user_id: Uuid,
    pub team_path: &'a TeamPath,
    pub display_name: &'a str,
    pub stage: RepStage,
    pub started_on: NaiveDate,
    pub is_rep: bool,
    pub active: bool,
}

/// The roster follows the directory: a rep is put on it (or updated) with the directory's
/// team, stage, start date and activity; a user who is no longer a rep stops taking leads.
pub async fn sync_rep_from_directory(
    connection: &mut PgConnection,
    user: &DirectoryRep<'_>,
) -> sqlx::Result<()> {
    if !user.is_rep {
        sqlx::query(
            "UPDATE reps SET active = false, team_path = $2, from_directory = true, updated_at = now() \
             WHERE rep_id = $1",
        )
        .bind(user.user_id)
        .bind(user.team_path.as_str())
        .execute(connection)
        .await?;
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO reps (rep_id, team_path, display_name, stage, started_on, active, from_directory) \
         VALUES ($1, $2, $3, $4, $5, $6, true) \
         ON CONFLICT (rep_id) DO UPDATE SET team_path = EXCLUDED.team_path, display_name = EXCLUDED.display_name, \
         stage = EXCLUDED.stage, started_on = EXCLUDED.started_on, active = EXCLUDED.active, \
         from_directory = true, updated_at = now()",
    )
    .bind(user.user_id)
    .bind(user.team_path.as_str())
    .bind(user.display_name)
    .bind(user.stage.as_str())
    .bind(user.started_on)
    .bind(user.active)
    .execute(connection)
    .await?;
    Ok(())
}

/// Serialises the transactions that name the same `key` in `scope` ("assign" per pool,
/// "convert" per company): each waits for the one before to end.
pub async fn serialise_on(
    connection: &mut PgConnection,
    scope: &str,
    key: &str,
) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1 || ':' || $2))")
        .bind(scope)
        .bind(key)
        .execute(connection)
        .await?;
    Ok(())
}

/// The latest merge of `duplicate_id` into `survivor_id`.
pub async fn latest_merge(
    connection: &mut PgConnection,
    survivor_id: Uuid,
    duplicate_id: Uuid,
) -> sqlx::Result<Uuid> {
    sqlx::query_scalar(
        "SELECT id FROM lead_merges WHERE survivor_id = $1 AND duplicate_id = $2 \
         ORDER BY merged_at DESC LIMIT 1",
    )
    .bind(survivor_id)
    .bind(duplicate_id)
    .fetch_one(connection)
    .await
}

/// Which of `ids` are campaigns.
pub async fn existing_campaigns(
    connection: &mut PgConnection,
    ids: &[Uuid],
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar("SELECT id FROM campaigns WHERE id = ANY($1)")
        .bind(ids)
        .fetch_all(connection)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> RepRow {
        RepRow {
            rep_id: Uuid::now_v7(),
            team_path: "/northwind/east/".into(),
            display_name: "Ravi".into(),
            stage: "senior".into(),
            started_on: NaiveDate::from_ymd_opt(2023, 1, 1).unwrap(),
            capacity: 50,
            claim_cap: 20,
            active: true,
            open_pipeline: Decimal::ZERO,
        }
    }

    #[test]
    fn a_roster_row_reads_back_typed() {
        let rep = Rep::try_from(row()).unwrap();
        assert_eq!(rep.stage, RepStage::Senior);
        assert_eq!(rep.team_path.as_str(), "/northwind/east/");
        assert_eq!((rep.capacity, rep.claim_cap), (50, 20));
    }

    /// The drift this replaces: a stage the service did not know was read as established.
    #[test]
    fn an_unknown_stored_stage_or_team_is_an_error_not_a_default() {
        for corrupt in [
            RepRow {
                stage: "veteran".into(),
                ..row()
            },
            RepRow {
                team_path: "East".into(),
                ..row()
            },
            RepRow {
                capacity: -1,
                ..row()
            },
        ] {
            assert!(matches!(
                Rep::try_from(corrupt),
                Err(sqlx::Error::Decode(_))
            ));
        }
    }
}
