//! Periodic jobs that stay correct with several replicas of a service running them.
//!
//! Every replica ticks; what makes it safe is the job, not the timer. A job does its work in
//! one transaction that (a) takes the job's lock with [`try_lock`] and skips the tick when
//! another replica holds it, and (b) claims what is due by a durable mark written in the same
//! transaction as the outbox events it enqueues (a reminder's `sent_at`, a report's unique
//! period key). A replica killed mid-tick rolls back and the next tick, on any replica, does
//! the work once. Use cases expose the job's body (`run_due(now)`), so tests and operators
//! run it on demand with a chosen clock instead of waiting for the timer.

use std::{future::Future, time::Duration};

use sqlx::PgConnection;
use tokio_util::sync::CancellationToken;

/// Runs `tick` every `period` until `shutdown`, the first time after one period (a starting
/// process has enough to do). A tick's error is logged with the job's name and the timer
/// goes on: a database outage delays the job, it does not stop it. A tick returns how much it
/// did, logged at debug level when not zero.
pub async fn every<F, Fut>(
    name: &'static str,
    period: Duration,
    shutdown: CancellationToken,
    mut tick: F,
) where
    F: FnMut() -> Fut + Send,
    Fut: Future<Output = anyhow::Result<u64>> + Send,
{
    let start = tokio::time::Instant::now() + period;
    let mut timer = tokio::time::interval_at(start, period);
    // A tick that overruns the period is not followed by a burst of catch-up ticks.
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = timer.tick() => {}
            () = shutdown.cancelled() => return,
        }
        match tick().await {
            Ok(0) => {}
            Ok(done) => tracing::debug!(job = name, done, "scheduled job ran"),
            Err(error) => {
                tracing::warn!(job = name, error = %format!("{error:#}"), "scheduled job failed; retried on the next tick")
            }
        }
    }
}

/// Takes the transaction-scoped lock of job `name` if it is free: `true` when this
/// transaction runs the job now, `false` when another replica's transaction is running it
/// (skip this tick; the lock is released when that transaction ends).
///
/// End the transaction yourself (commit, or `rollback().await` when skipping after the lock
/// was taken): a dropped sqlx transaction is rolled back lazily, when its connection is next
/// used, and until then that pooled connection keeps holding the job's lock.
pub async fn try_lock(connection: &mut PgConnection, name: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT pg_try_advisory_xact_lock(hashtextextended('crm.schedule.' || $1, 0))",
    )
    .bind(name)
    .fetch_one(connection)
    .await
}
