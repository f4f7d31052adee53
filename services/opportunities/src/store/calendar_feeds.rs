//! SQL for calendar feeds: a user's token's SHA-256, never the token.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// Issues or rotates a user's feed: the old token's hash is replaced.
pub(crate) async fn put_feed(
    connection: &mut PgConnection,
    user_id: Uuid,
    token_sha256: &[u8],
    issued_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO calendar_feeds (user_id, token_sha256, issued_at) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET token_sha256 = EXCLUDED.token_sha256, \
         issued_at = EXCLUDED.issued_at",
    )
    .bind(user_id)
    .bind(token_sha256)
    .bind(issued_at)
    .execute(connection)
    .await
    .map(drop)
}

/// Ends a user's feed; whether there was one.
pub(crate) async fn delete_feed(
    connection: &mut PgConnection,
    user_id: Uuid,
) -> sqlx::Result<bool> {
    let deleted = sqlx::query("DELETE FROM calendar_feeds WHERE user_id = $1")
        .bind(user_id)
        .execute(connection)
        .await?
        .rows_affected();
    Ok(deleted == 1)
}

/// The user whose feed a token's hash names.
pub(crate) async fn feed_owner(
    connection: &mut PgConnection,
    token_sha256: &[u8],
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("SELECT user_id FROM calendar_feeds WHERE token_sha256 = $1")
        .bind(token_sha256)
        .fetch_optional(connection)
        .await
}
