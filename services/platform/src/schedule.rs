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

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use sqlx::PgConnection;
use tokio_util::sync::CancellationToken;

use crate::host::{ServiceContext, ServiceMount};

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

/// A periodic job as a service lists it in its table of jobs: its name (its lock and the log's
/// `job` field), the setting of its interval with the default, and its body, run with the
/// service's state at a moment — the clock's now on the timer, a chosen one in tests.
pub struct Job<S> {
    pub name: &'static str,
    /// `(KEY, default)`: the interval is `CRM_<SERVICE>_<KEY>`, a duration ("15m").
    pub interval: (&'static str, &'static str),
    pub run: fn(S, DateTime<Utc>) -> BoxFuture<'static, anyhow::Result<u64>>,
}

/// Spawns the timer of each of `jobs` on `mount` ([`every`] its interval from the service's
/// settings, with the clock's now) until the service shuts down. Every interval is read
/// first, so a bad or zero one (a timer needs a period) starts none of them.
pub fn spawn_jobs<S>(
    context: &ServiceContext,
    mount: &mut ServiceMount,
    state: &S,
    jobs: &'static [Job<S>],
) -> anyhow::Result<()>
where
    S: Clone + Send + 'static,
{
    let settings = context.settings.service(context.name);
    let mut timers = Vec::with_capacity(jobs.len());
    for job in jobs {
        let (key, default) = job.interval;
        let period = settings.duration(key, default)?;
        if period.is_zero() {
            return Err(settings.error(key, "must be longer than 0").into());
        }
        timers.push((job, period));
    }
    for (job, period) in timers {
        let state = state.clone();
        mount.spawn(every(
            job.name,
            period,
            context.shutdown.clone(),
            move || (job.run)(state.clone(), crate::time::now()),
        ));
    }
    Ok(())
}

/// Runs the job `name` of `jobs` once at `now`, as its timer does: for tests and operators,
/// with a chosen clock. Returns how much it did.
pub async fn run_job<S>(
    jobs: &[Job<S>],
    name: &str,
    state: S,
    now: DateTime<Utc>,
) -> anyhow::Result<u64> {
    let job = jobs
        .iter()
        .find(|job| job.name == name)
        .ok_or_else(|| anyhow::anyhow!("no scheduled job {name:?}"))?;
    (job.run)(state, now).await
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
