//! `Idempotency-Key` on the front door's writes: the first request with a key runs, and its
//! result is kept; a retry with the same key and the same request gets that result again,
//! marked `Idempotency-Replayed: true`, instead of a second create.

use std::time::Duration;

use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

/// What to do with a request that carries a key.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// First use (or a take-over of an abandoned one): run it, then [`finish`] or [`release`].
    Run,
    /// Seen and finished: send this result again.
    Replay { status: u16, body: Vec<u8> },
    /// The first request with this key is still running.
    InFlight,
    /// The key was used for a different request.
    Mismatch,
}

/// (operation, request hash, status, response, abandoned) of a key already used.
type StoredKey = (String, Vec<u8>, Option<i16>, Option<Vec<u8>>, bool);

/// A first request that has not finished after this long is taken to have died with its
/// gateway, and a retry may run it again.
const ABANDONED_AFTER: Duration = Duration::from_secs(60);

/// Checks a key: 1 to 255 visible ASCII characters (a UUID, typically).
pub fn valid_key(key: &str) -> bool {
    (1..=255).contains(&key.len()) && key.bytes().all(|byte| byte.is_ascii_graphic())
}

/// The fingerprint of a request's content, compared on retries.
pub fn request_hash(query: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut hash = Sha256::new();
    hash.update(query.unwrap_or("").as_bytes());
    hash.update([0]);
    hash.update(body);
    hash.finalize().to_vec()
}

pub async fn claim(
    pool: &PgPool,
    caller: Uuid,
    key: &str,
    operation: &str,
    hash: &[u8],
) -> sqlx::Result<Claim> {
    loop {
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (caller_id, idempotency_key, operation, request_hash) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(caller)
        .bind(key)
        .bind(operation)
        .bind(hash)
        .execute(pool)
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok(Claim::Run);
        }
        let existing: Option<StoredKey> = sqlx::query_as(
            "SELECT operation, request_hash, status, response, \
                        created_at < now() - make_interval(secs => $3) \
                 FROM idempotency_keys WHERE caller_id = $1 AND idempotency_key = $2",
        )
        .bind(caller)
        .bind(key)
        .bind(ABANDONED_AFTER.as_secs_f64())
        .fetch_optional(pool)
        .await?;
        // Deleted between the two statements (pruned or released): try again.
        let Some((stored_operation, stored_hash, status, response, abandoned)) = existing else {
            continue;
        };
        if stored_operation != operation || stored_hash != hash {
            return Ok(Claim::Mismatch);
        }
        return Ok(match (status, response) {
            (Some(status), Some(body)) => Claim::Replay {
                status: u16::try_from(status).unwrap_or(500),
                body,
            },
            _ if abandoned => {
                let taken = sqlx::query(
                    "UPDATE idempotency_keys SET created_at = now() \
                     WHERE caller_id = $1 AND idempotency_key = $2 AND status IS NULL \
                       AND created_at < now() - make_interval(secs => $3)",
                )
                .bind(caller)
                .bind(key)
                .bind(ABANDONED_AFTER.as_secs_f64())
                .execute(pool)
                .await?
                .rows_affected();
                if taken == 1 {
                    Claim::Run
                } else {
                    Claim::InFlight
                }
            }
            _ => Claim::InFlight,
        });
    }
}

/// Keeps the result of a claimed request for replay.
pub async fn finish(
    pool: &PgPool,
    caller: Uuid,
    key: &str,
    status: u16,
    body: &[u8],
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE idempotency_keys SET status = $3, response = $4 \
         WHERE caller_id = $1 AND idempotency_key = $2",
    )
    .bind(caller)
    .bind(key)
    .bind(i16::try_from(status).unwrap_or(500))
    .bind(body)
    .execute(pool)
    .await?;
    Ok(())
}

/// Forgets a claimed request whose outcome should not be replayed (the service was unavailable,
/// or the caller was throttled): a retry runs it again.
pub async fn release(pool: &PgPool, caller: Uuid, key: &str) -> sqlx::Result<()> {
    sqlx::query(
        "DELETE FROM idempotency_keys \
         WHERE caller_id = $1 AND idempotency_key = $2 AND status IS NULL",
    )
    .bind(caller)
    .bind(key)
    .execute(pool)
    .await?;
    Ok(())
}

/// Whether a result is kept for replay: successes, and rejections that a retry of the same
/// request would get again. Not 401/403 (a new token may pass), 409 (a conflict can clear),
/// 429 or 5xx.
pub fn is_replayable(status: u16) -> bool {
    (200..300).contains(&status) || matches!(status, 400 | 404 | 422)
}

/// Deletes keys older than the retention; returns how many.
pub async fn prune(pool: &PgPool, retention: Duration) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)",
    )
    .bind(retention.as_secs_f64())
    .execute(pool)
    .await?
    .rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_short_visible_ascii() {
        assert!(valid_key("0193a1b2-7c1d-7e3f-9a4b-1c2d3e4f5a6b"));
        assert!(!valid_key(""));
        assert!(!valid_key("with space"));
        assert!(!valid_key(&"k".repeat(256)));
        assert_ne!(request_hash(Some("a=1"), b""), request_hash(None, b"a=1"));
    }
}
