//! Sales-operations set-up: assignment rules and their round-robin state, policies, the
//! directory of known accounts, merges, and the locks that serialise assignment and
//! conversion.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, types::Json};
use uuid::Uuid;

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
