//! Refresh tokens: the sessions, stored as hashes, rotated on every use.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::credentials::RefreshToken;

#[derive(sqlx::FromRow)]
struct RefreshRow {
    id: Uuid,
    family_id: Uuid,
    user_id: Uuid,
    expires_at: DateTime<Utc>,
    rotated_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<RefreshRow> for RefreshToken {
    fn from(row: RefreshRow) -> Self {
        RefreshToken {
            id: row.id,
            family_id: row.family_id,
            user_id: row.user_id,
            expires_at: row.expires_at,
            rotated_at: row.rotated_at,
            revoked_at: row.revoked_at,
        }
    }
}

pub async fn insert_refresh_token(
    connection: &mut PgConnection,
    family_id: Uuid,
    user_id: Uuid,
    token_hash: &str,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(Uuid::now_v7())
        .bind(family_id)
        .bind(user_id)
        .bind(token_hash)
        .bind(expires_at)
        .execute(connection)
        .await?;
    Ok(())
}

pub async fn lock_refresh_token(
    connection: &mut PgConnection,
    token_hash: &str,
) -> sqlx::Result<Option<RefreshToken>> {
    let row: Option<RefreshRow> = sqlx::query_as(
        "SELECT id, family_id, user_id, expires_at, rotated_at, revoked_at FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE",
    )
    .bind(token_hash)
    .fetch_optional(connection)
    .await?;
    Ok(row.map(RefreshToken::from))
}

pub async fn mark_rotated(connection: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE refresh_tokens SET rotated_at = now() WHERE id = $1")
        .bind(id)
        .execute(connection)
        .await?;
    Ok(())
}

pub async fn revoke_family(connection: &mut PgConnection, family_id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL",
    )
    .bind(family_id)
    .execute(connection)
    .await?;
    Ok(())
}

/// Ends every session of a user (deactivation, password change).
pub async fn revoke_user_tokens(connection: &mut PgConnection, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(user_id)
    .execute(connection)
    .await?;
    Ok(())
}
