//! API keys, stored with a hash of their secret.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::api_key::ApiKey;

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
}

impl From<ApiKeyRow> for ApiKey {
    fn from(row: ApiKeyRow) -> Self {
        ApiKey {
            id: row.id,
            owner_user_id: row.owner_user_id,
            name: row.name,
            prefix: row.prefix,
            scopes: row.scopes,
            created_at: row.created_at,
            revoked_at: row.revoked_at,
            last_used_at: row.last_used_at,
        }
    }
}

const API_KEY_COLUMNS: &str =
    "id, owner_user_id, name, prefix, scopes, created_at, revoked_at, last_used_at";

pub async fn insert_api_key(
    connection: &mut PgConnection,
    key: &ApiKey,
    key_hash: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO api_keys (id, owner_user_id, name, prefix, key_hash, scopes, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(key.id)
    .bind(key.owner_user_id)
    .bind(&key.name)
    .bind(&key.prefix)
    .bind(key_hash)
    .bind(&key.scopes)
    .bind(key.created_at)
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
    Ok(row.map(ApiKey::from))
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
    Ok(rows.into_iter().map(ApiKey::from).collect())
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
    Ok(row.map(ApiKey::from))
}
