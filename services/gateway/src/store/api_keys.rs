//! API keys, stored with a hash of their secret.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::api_key::{ApiKey, RateLimit};

#[derive(sqlx::FromRow)]
struct ApiKeyRow {
    id: Uuid,
    owner_user_id: Uuid,
    name: String,
    prefix: String,
    scopes: Vec<String>,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    rate_limit_per_second: Option<i32>,
    rate_limit_burst: Option<i32>,
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = sqlx::Error;

    fn try_from(row: ApiKeyRow) -> sqlx::Result<Self> {
        let rate_limit = rate_limit_of(row.id, row.rate_limit_per_second, row.rate_limit_burst)?;
        Ok(ApiKey {
            id: row.id,
            owner_user_id: row.owner_user_id,
            name: row.name,
            prefix: row.prefix,
            scopes: row.scopes,
            created_at: row.created_at,
            revoked_at: row.revoked_at,
            last_used_at: row.last_used_at,
            rate_limit,
        })
    }
}

/// A stored limit: both columns or neither (the table checks it); a bad one is an error.
fn rate_limit_of(
    id: Uuid,
    per_second: Option<i32>,
    burst: Option<i32>,
) -> sqlx::Result<Option<RateLimit>> {
    let (Some(per_second), Some(burst)) = (per_second, burst) else {
        return Ok(None);
    };
    let positive = |value: i32| u32::try_from(value).unwrap_or(0);
    RateLimit::new("rate_limit", positive(per_second), positive(burst))
        .map(Some)
        .map_err(|violation| {
            sqlx::Error::Decode(format!("api key {id}: stored {violation}").into())
        })
}

fn keys(rows: Vec<ApiKeyRow>) -> sqlx::Result<Vec<ApiKey>> {
    rows.into_iter().map(ApiKey::try_from).collect()
}

const API_KEY_COLUMNS: &str = "id, owner_user_id, name, prefix, scopes, created_at, revoked_at, last_used_at, rate_limit_per_second, rate_limit_burst";

fn limit_columns(limit: Option<RateLimit>) -> (Option<i32>, Option<i32>) {
    // Both at most MAX_RATE_LIMIT, so they fit an i32.
    let column = |value: std::num::NonZeroU32| i32::try_from(value.get()).unwrap_or(i32::MAX);
    (
        limit.map(|limit| column(limit.per_second)),
        limit.map(|limit| column(limit.burst)),
    )
}

pub async fn insert_api_key(
    connection: &mut PgConnection,
    key: &ApiKey,
    key_hash: &str,
) -> sqlx::Result<()> {
    let (per_second, burst) = limit_columns(key.rate_limit);
    sqlx::query(
        "INSERT INTO api_keys (id, owner_user_id, name, prefix, key_hash, scopes, created_at, rate_limit_per_second, rate_limit_burst) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(key.id)
    .bind(key.owner_user_id)
    .bind(&key.name)
    .bind(&key.prefix)
    .bind(key_hash)
    .bind(&key.scopes)
    .bind(key.created_at)
    .bind(per_second)
    .bind(burst)
    .execute(connection)
    .await?;
    Ok(())
}

/// A live key by its hash; records the use.
pub async fn use_api_key(
    connection: &mut PgConnection,
    key_hash: &str,
) -> sqlx::Result<Option<ApiKey>> {
    let row: Option<ApiKeyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE api_keys SET last_used_at = now() WHERE key_hash = $1 AND revoked_at IS NULL RETURNING {API_KEY_COLUMNS}"
    )))
    .bind(key_hash)
    .fetch_optional(connection)
    .await?;
    row.map(ApiKey::try_from).transpose()
}

pub async fn api_keys_of(
    connection: &mut PgConnection,
    owner_user_id: Uuid,
) -> sqlx::Result<Vec<ApiKey>> {
    let rows: Vec<ApiKeyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE owner_user_id = $1 ORDER BY created_at"
    )))
    .bind(owner_user_id)
    .fetch_all(connection)
    .await?;
    keys(rows)
}

pub async fn revoke_api_key(
    connection: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<ApiKey>> {
    let row: Option<ApiKeyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING {API_KEY_COLUMNS}"
    )))
    .bind(id)
    .fetch_optional(connection)
    .await?;
    row.map(ApiKey::try_from).transpose()
}

/// Sets (or, `None`, clears) a key's own rate limit; `None` when there is no such key.
pub async fn set_api_key_rate_limit(
    connection: &mut PgConnection,
    id: Uuid,
    limit: Option<RateLimit>,
) -> sqlx::Result<Option<ApiKey>> {
    let (per_second, burst) = limit_columns(limit);
    let row: Option<ApiKeyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE api_keys SET rate_limit_per_second = $2, rate_limit_burst = $3 WHERE id = $1 RETURNING {API_KEY_COLUMNS}"
    )))
    .bind(id)
    .bind(per_second)
    .bind(burst)
    .fetch_optional(connection)
    .await?;
    row.map(ApiKey::try_from).transpose()
}

/// The own rate limit of a live key: `Some(None)` for a key on the default, `None` for a key
/// that is unknown or revoked. The front door asks this (and caches the answer for a moment).
pub async fn api_key_rate_limit(
    executor: impl sqlx::PgExecutor<'_>,
    id: Uuid,
) -> sqlx::Result<Option<Option<RateLimit>>> {
    let row: Option<(Option<i32>, Option<i32>)> = sqlx::query_as(
        "SELECT rate_limit_per_second, rate_limit_burst FROM api_keys WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(id)
    .fetch_optional(executor)
    .await?;
    row.map(|(per_second, burst)| rate_limit_of(id, per_second, burst))
        .transpose()
}
