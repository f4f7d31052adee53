//! `Idempotency-Key` on the front door's writes: the first request with a key runs, and its
//! result is kept; a retry with the same key and the same request gets that result again,
//! marked `Idempotency-Replayed: true`, instead of a second create.
//!
//! A claim is held by this gateway process ([`Instance`]), which renews its liveness row every
//! [`HEARTBEAT`]. A claim whose holder has not renewed for [`DEAD_AFTER`] (a process killed
//! mid-request) is taken over by the next retry, which forwards the key to the service: the
//! service answers with the first request's stored reply when its write committed
//! (`crm_platform::replies`), so the take-over gets the first result and never writes twice.
//! A retry that finds the first request still running waits for it (or for its holder to be
//! found dead) for up to [`IN_FLIGHT_WAIT`] before it is answered 409.

use std::{sync::Arc, time::Duration};

use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// What to do with a request that carries a key.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// Run it, then [`finish`] or [`release`]. `first`: no request with this key ran before
    /// (not a take-over of an abandoned one).
    Run { first: bool },
    /// Seen and finished: send this result again.
    Replay { status: u16, body: Vec<u8> },
    /// The first request with this key is still running.
    InFlight,
    /// The key was used for a different request.
    Mismatch,
}

/// (operation, request hash, status, response, abandoned) of a key already used.
type StoredKey = (String, Vec<u8>, Option<i16>, Option<Vec<u8>>, bool);

/// How often a gateway process renews its liveness.
pub const HEARTBEAT: Duration = Duration::from_secs(1);
/// A holder not seen for this long is taken to have died, and its claims are taken over.
pub const DEAD_AFTER: Duration = Duration::from_secs(4);
/// A claim of a live holder not finished after this long is taken to be stuck, and taken over
/// too (the service's stored reply keeps that from writing twice).
const STUCK_AFTER: Duration = Duration::from_secs(60);
/// How long a retry waits for a first request still in flight before it is answered 409.
pub const IN_FLIGHT_WAIT: Duration = Duration::from_secs(6);

/// The abandoned test of a claim `k` (parameters `$3` dead-after and `$4` stuck-after seconds).
const ABANDONED: &str = "k.status IS NULL AND (k.holder IS NULL \
     OR k.claimed_at < now() - make_interval(secs => $4) \
     OR NOT EXISTS (SELECT 1 FROM gateway_instances i \
                    WHERE i.instance_id = k.holder AND i.seen_at > now() - make_interval(secs => $3)))";

/// This gateway process as the holder of its claims.
#[derive(Debug)]
pub struct Instance {
    id: Uuid,
    pool: PgPool,
    registered: tokio::sync::OnceCell<()>,
}

impl Instance {
    pub fn new(pool: PgPool) -> Arc<Self> {
        Arc::new(Self {
            id: Uuid::now_v7(),
            pool,
            registered: tokio::sync::OnceCell::new(),
        })
    }

    /// Marks this process alive now.
    async fn renew(&self) -> sqlx::Result<()> {
        sqlx::query(
            "INSERT INTO gateway_instances (instance_id) VALUES ($1) \
             ON CONFLICT (instance_id) DO UPDATE SET seen_at = now()",
        )
        .bind(self.id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Registered before its first claim, so a claim never names a holder unknown yet.
    async fn ensure_registered(&self) -> sqlx::Result<()> {
        self.registered
            .get_or_try_init(|| self.renew())
            .await
            .map(|_| ())
    }

    /// Renews this process's liveness every [`HEARTBEAT`] until `shutdown`, then removes it
    /// (in-flight requests have drained by then), so a claim left behind is taken over at once.
    pub async fn heartbeat(self: Arc<Self>, shutdown: CancellationToken) {
        let mut every = tokio::time::interval(HEARTBEAT);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = every.tick() => {}
                () = shutdown.cancelled() => break,
            }
            if let Err(error) = self.renew().await {
                tracing::warn!(%error, "the gateway's liveness could not be renewed");
            }
        }
        let _ = sqlx::query("DELETE FROM gateway_instances WHERE instance_id = $1")
            .bind(self.id)
            .execute(&self.pool)
            .await;
    }
}

/// Checks a key: 1 to 255 visible ASCII characters (a UUID, typically).
pub fn valid_key(key: &str) -> bool {
    crm_platform::replies::valid_key(key)
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
    instance: &Instance,
    caller: Uuid,
    key: &str,
    operation: &str,
    hash: &[u8],
) -> sqlx::Result<Claim> {
    instance.ensure_registered().await?;
    let pool = &instance.pool;
    loop {
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (caller_id, idempotency_key, operation, request_hash, holder) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(caller)
        .bind(key)
        .bind(operation)
        .bind(hash)
        .bind(instance.id)
        .execute(pool)
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok(Claim::Run { first: true });
        }
        let existing: Option<StoredKey> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT operation, request_hash, status, response, {ABANDONED} \
             FROM idempotency_keys k WHERE caller_id = $1 AND idempotency_key = $2"
        )))
        .bind(caller)
        .bind(key)
        .bind(DEAD_AFTER.as_secs_f64())
        .bind(STUCK_AFTER.as_secs_f64())
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
                // The test again, under the row's lock: of two retries one takes it over.
                let taken = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE idempotency_keys k SET holder = $5, claimed_at = now() \
                     WHERE caller_id = $1 AND idempotency_key = $2 AND {ABANDONED}"
                )))
                .bind(caller)
                .bind(key)
                .bind(DEAD_AFTER.as_secs_f64())
                .bind(STUCK_AFTER.as_secs_f64())
                .bind(instance.id)
                .execute(pool)
                .await?
                .rows_affected();
                if taken == 1 {
                    tracing::info!(%caller, "an abandoned Idempotency-Key claim was taken over");
                    Claim::Run { first: false }
                } else {
                    Claim::InFlight
                }
            }
            _ => Claim::InFlight,
        });
    }
}

/// [`claim`], waiting while the first request is in flight: until it finishes (its result),
/// its holder is found dead (a take-over) or `wait` has passed ([`Claim::InFlight`]).
pub async fn claim_waiting(
    instance: &Instance,
    caller: Uuid,
    key: &str,
    operation: &str,
    hash: &[u8],
    wait: Duration,
) -> sqlx::Result<Claim> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match claim(instance, caller, key, operation, hash).await? {
            Claim::InFlight if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            claim => return Ok(claim),
        }
    }
}

/// Keeps the result of a claimed request for replay (unless another process took the claim
/// over meanwhile: it keeps its own, which is the same first result).
pub async fn finish(
    instance: &Instance,
    caller: Uuid,
    key: &str,
    status: u16,
    body: &[u8],
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE idempotency_keys SET status = $3, response = $4 \
         WHERE caller_id = $1 AND idempotency_key = $2 AND holder = $5 AND status IS NULL",
    )
    .bind(caller)
    .bind(key)
    .bind(i16::try_from(status).unwrap_or(500))
    .bind(body)
    .bind(instance.id)
    .execute(&instance.pool)
    .await?;
    Ok(())
}

/// Forgets a claimed request whose outcome should not be replayed (the service was unavailable,
/// or the caller was throttled): a retry runs it again.
pub async fn release(instance: &Instance, caller: Uuid, key: &str) -> sqlx::Result<()> {
    sqlx::query(
        "DELETE FROM idempotency_keys \
         WHERE caller_id = $1 AND idempotency_key = $2 AND status IS NULL AND holder = $3",
    )
    .bind(caller)
    .bind(key)
    .bind(instance.id)
    .execute(&instance.pool)
    .await?;
    Ok(())
}

/// Whether a result is kept for replay: successes, and rejections that a retry of the same
/// request would get again. Not 401/403 (a new token may pass), 409 (a conflict can clear),
/// 429 or 5xx.
pub fn is_replayable(status: u16) -> bool {
    (200..300).contains(&status) || matches!(status, 400 | 404 | 422)
}

/// Deletes keys older than the retention, and processes not seen for an hour; returns how
/// many keys.
pub async fn prune(pool: &PgPool, retention: Duration) -> sqlx::Result<u64> {
    sqlx::query("DELETE FROM gateway_instances WHERE seen_at < now() - interval '1 hour'")
        .execute(pool)
        .await?;
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

    const HASH: &[u8] = b"hash";

    async fn claim_as(instance: &Instance, caller: Uuid) -> Claim {
        claim(instance, caller, "key-1", "POST /v1/leads", HASH)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_live_holders_claim_is_kept_and_a_dead_ones_is_taken_over_within_seconds() {
        let database = crm_test_support::TestDatabase::create(crate::migrator).await;
        let caller = Uuid::now_v7();
        let first = Instance::new(database.pool.clone());
        let retry = Instance::new(database.pool.clone());
        assert_eq!(claim_as(&first, caller).await, Claim::Run { first: true });

        // The first request runs slowly while its process stays alive: never taken over.
        let alive = CancellationToken::new();
        let heartbeat = tokio::spawn(first.clone().heartbeat(alive.clone()));
        let started = tokio::time::Instant::now();
        while started.elapsed() < DEAD_AFTER + Duration::from_secs(2) {
            assert_eq!(claim_as(&retry, caller).await, Claim::InFlight);
            tokio::time::sleep(Duration::from_millis(500)).await;
        }

        // Its process dies (the heartbeat stops without a goodbye, as after kill -9).
        heartbeat.abort();
        let died = tokio::time::Instant::now();
        let taken = claim_waiting(
            &retry,
            caller,
            "key-1",
            "POST /v1/leads",
            HASH,
            DEAD_AFTER + Duration::from_secs(3),
        )
        .await
        .unwrap();
        assert_eq!(
            taken,
            Claim::Run { first: false },
            "a take-over, not a first run"
        );
        assert!(
            died.elapsed() <= DEAD_AFTER + HEARTBEAT + Duration::from_millis(500),
            "taken over {:?} after the holder died",
            died.elapsed()
        );

        // The dead holder's late answer is not kept; the taker's is, and is replayed.
        finish(&first, caller, "key-1", 200, b"late").await.unwrap();
        finish(&retry, caller, "key-1", 200, b"first result")
            .await
            .unwrap();
        assert_eq!(
            claim_as(&first, caller).await,
            Claim::Replay {
                status: 200,
                body: b"first result".to_vec()
            }
        );
        assert_eq!(
            claim(&first, caller, "key-1", "POST /v1/leads", b"other")
                .await
                .unwrap(),
            Claim::Mismatch
        );
    }

    #[tokio::test]
    async fn a_gateway_that_stops_gracefully_leaves_no_claim_waiting() {
        let database = crm_test_support::TestDatabase::create(crate::migrator).await;
        let caller = Uuid::now_v7();
        let stopping = Instance::new(database.pool.clone());
        let other = Instance::new(database.pool.clone());
        assert_eq!(
            claim_as(&stopping, caller).await,
            Claim::Run { first: true }
        );
        let shutdown = CancellationToken::new();
        let heartbeat = tokio::spawn(stopping.clone().heartbeat(shutdown.clone()));
        shutdown.cancel();
        heartbeat.await.unwrap();
        assert_eq!(claim_as(&other, caller).await, Claim::Run { first: false });
    }
}
