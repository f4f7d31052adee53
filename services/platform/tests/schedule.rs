//! The scheduled-job kit against real PostgreSQL: one replica at a time holds a job's lock,
//! and the timer keeps going after a failing tick.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use crm_platform::schedule;
use crm_test_support::{TestDatabase, eventually};
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn a_job_lock_is_held_by_one_transaction_at_a_time_and_freed_when_it_ends() {
    let database = TestDatabase::platform_only().await;
    let mut first = database.pool.begin().await.unwrap();
    let mut second = database.pool.begin().await.unwrap();
    assert!(
        schedule::try_lock(&mut first, "work-reports")
            .await
            .unwrap()
    );
    assert!(
        !schedule::try_lock(&mut second, "work-reports")
            .await
            .unwrap()
    );
    // Another job's lock is independent.
    assert!(
        schedule::try_lock(&mut second, "payment-reminders")
            .await
            .unwrap()
    );
    first.rollback().await.unwrap();
    assert!(
        schedule::try_lock(&mut second, "work-reports")
            .await
            .unwrap()
    );
    second.commit().await.unwrap();
}

#[tokio::test]
async fn the_timer_goes_on_after_a_failing_tick_and_stops_on_shutdown() {
    let ticks = Arc::new(AtomicU64::new(0));
    let shutdown = CancellationToken::new();
    let counted = ticks.clone();
    let job = tokio::spawn(schedule::every(
        "flaky",
        Duration::from_millis(20),
        shutdown.clone(),
        move || {
            let counted = counted.clone();
            async move {
                match counted.fetch_add(1, Ordering::SeqCst) {
                    0 => anyhow::bail!("the database is away"),
                    _ => Ok(1),
                }
            }
        },
    ));
    eventually(
        Duration::from_secs(5),
        "three ticks, the first failing",
        || async { ticks.load(Ordering::SeqCst) >= 3 },
    )
    .await;
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(1), job)
        .await
        .expect("the job stops on shutdown")
        .unwrap();
}

/// A service's table of jobs: the one named runs with the state and the moment given (what
/// tests and operators do with a chosen clock); a name not in the table is an error.
#[tokio::test]
async fn a_job_of_the_table_runs_by_name_at_the_moment_given() {
    const JOBS: &[schedule::Job<u64>] = &[
        schedule::Job {
            name: "task-reminders",
            interval: ("REMINDER_INTERVAL", "60s"),
            run: |base, now| Box::pin(async move { Ok(base + now.timestamp() as u64) }),
        },
        schedule::Job {
            name: "stale-deals",
            interval: ("REMINDER_INTERVAL", "60s"),
            run: |_, _| Box::pin(async { anyhow::bail!("not this one") }),
        },
    ];
    let moment = chrono::DateTime::from_timestamp(1_000, 0).unwrap();
    let done = schedule::run_job(JOBS, "task-reminders", 7, moment).await;
    assert_eq!(done.unwrap(), 1_007);
    let unknown = schedule::run_job(JOBS, "payment-reminders", 7, moment).await;
    assert!(unknown.is_err());
}
