//! The service's periodic jobs, in one table: each job's name (its advisory lock), the setting
//! of its interval and its body at a moment. Every replica ticks every job; each job's lock and
//! durable marks make one replica do each piece of work once (kit `schedule`). The timers run
//! the bodies with the clock's now; tests and operators run them on demand with a chosen one
//! ([`crate::run_job`]).

use crm_platform::schedule::Job;

use crate::service::{self, Forecasting};

pub(crate) const JOBS: &[Job<Forecasting>] = &[
    // The weekly snapshot (F5): checked hourly, taken once per ISO week — the week is the
    // snapshot's key, so the first tick of a week on any replica takes it and every other
    // tick finds it taken.
    Job {
        name: service::WEEKLY_SNAPSHOT,
        interval: ("SNAPSHOT_INTERVAL", "1h"),
        run: |forecasting, now| {
            Box::pin(async move { Ok(forecasting.run_weekly_snapshot(now).await?) })
        },
    },
];
