//! The service's periodic jobs, in one table: each job's name (its advisory lock), the setting
//! of its interval and its body at a moment. Every replica ticks every job; each job's lock and
//! durable marks make one replica do each piece of work once (kit `schedule`). The timers run
//! the bodies with the clock's now; tests and operators run them on demand with a chosen one
//! ([`crate::run_job`]).

use chrono_tz::Tz;
use crm_platform::{config::ServiceSettings, schedule::Job};

use crate::service::{self, Opportunities};

/// What the jobs run with.
#[derive(Clone)]
pub(crate) struct Scheduled {
    pub opportunities: Opportunities,
    /// The time zone of the generated work reports' weeks and months.
    pub work_report_zone: Tz,
}

impl Scheduled {
    pub fn new(opportunities: Opportunities, settings: &ServiceSettings) -> anyhow::Result<Self> {
        Ok(Self {
            opportunities,
            work_report_zone: work_report_time_zone(settings)?,
        })
    }
}

/// The IANA time zone of generated work reports (`CRM_OPPORTUNITIES_WORK_REPORT_TIME_ZONE`).
fn work_report_time_zone(settings: &ServiceSettings) -> anyhow::Result<Tz> {
    let zone = settings.string("WORK_REPORT_TIME_ZONE", "UTC");
    zone.parse().map_err(|_| {
        settings
            .error(
                "WORK_REPORT_TIME_ZONE",
                format!("{zone:?} is not an IANA time zone, such as Asia/Shanghai"),
            )
            .into()
    })
}

/// Task reminders and newly stale deals are looked for at the same pace (docs/operations.md).
const REMINDER_INTERVAL: (&str, &str) = ("REMINDER_INTERVAL", "60s");

pub(crate) const JOBS: &[Job<Scheduled>] = &[
    Job {
        name: service::TASK_REMINDERS,
        interval: REMINDER_INTERVAL,
        run: |jobs, now| {
            Box::pin(async move { Ok(jobs.opportunities.run_task_reminders(now).await?) })
        },
    },
    Job {
        name: service::STALE_DEALS,
        interval: REMINDER_INTERVAL,
        run: |jobs, now| {
            Box::pin(async move { Ok(jobs.opportunities.run_stale_deal_check(now).await?) })
        },
    },
    Job {
        name: service::MILESTONE_CHECK,
        interval: ("MILESTONE_CHECK_INTERVAL", "1h"),
        run: |jobs, now| {
            Box::pin(async move { Ok(jobs.opportunities.run_milestone_check(now).await?) })
        },
    },
    // Payment reminders (O8): the job's lock and durable marks make each reminder go out once
    // (service::payment_reminders).
    Job {
        name: service::PAYMENT_REMINDERS,
        interval: ("PAYMENT_REMINDER_INTERVAL", "1h"),
        run: |jobs, now| {
            Box::pin(async move { Ok(jobs.opportunities.run_payment_reminders(now).await?) })
        },
    },
    // Care reminders are due by the day, in UTC.
    Job {
        name: service::CARE_REMINDERS,
        interval: ("CARE_REMINDERS_INTERVAL", "1h"),
        run: |jobs, now| {
            Box::pin(async move {
                Ok(jobs
                    .opportunities
                    .run_care_reminders(now.date_naive())
                    .await?)
            })
        },
    },
    Job {
        name: service::WORK_REPORTS,
        interval: ("WORK_REPORT_INTERVAL", "15m"),
        run: |jobs, now| {
            Box::pin(async move {
                let zone = jobs.work_report_zone;
                Ok(jobs.opportunities.run_work_reports(now, zone).await?)
            })
        },
    },
];
