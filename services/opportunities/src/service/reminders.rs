//! The scheduled jobs of activities (O7), safe with replicas (`crm_platform::schedule`): every
//! replica ticks; a tick's transaction takes the job's lock or skips, claims what is due with
//! `FOR UPDATE SKIP LOCKED` and writes its durable marks (a task's `reminder_sent_at`, a deal's
//! `stale_flagged_at`) beside the events it enqueues, so each reminder and each stale episode is
//! announced once.

use chrono::{DateTime, Utc};
use crm_platform::{schedule::try_lock, time::to_timestamp};
use crm_proto::crm::opportunities::v1 as pb;
use uuid::Uuid;

use super::{Opportunities, Result};
use crate::{
    convert,
    domain::stale::days_without_activity,
    store::{activities as store_activities, stale as store_stale},
};

/// The job names (and advisory locks) of the timers lib.rs spawns.
pub const TASK_REMINDERS: &str = "task-reminders";
pub const STALE_DEALS: &str = "stale-deals";
/// Rows claimed per transaction: a backlog is worked off in short transactions.
const BATCH: i64 = 200;

fn system_change(at: DateTime<Utc>) -> Option<pb::ChangeContext> {
    Some(pb::ChangeContext {
        changed_by: String::new(),
        occurred_at: Some(to_timestamp(at)),
    })
}

impl Opportunities {
    /// Announces every reminder due by `now` (event task_reminder_due) and marks it sent, in
    /// batches; returns how many went out. Skips when another replica runs the job.
    pub async fn run_task_reminders(&self, now: DateTime<Utc>) -> Result<u64> {
        let mut sent = 0;
        loop {
            let mut transaction = self.pool.begin().await?;
            if !try_lock(&mut transaction, TASK_REMINDERS).await? {
                transaction.rollback().await?;
                return Ok(sent);
            }
            let due = store_activities::due_reminders(&mut transaction, now, BATCH).await?;
            if due.is_empty() {
                // Ended now, not when the pool gets round to it: the job's lock goes with it.
                transaction.rollback().await?;
                return Ok(sent);
            }
            let ids: Vec<Uuid> = due.iter().map(|task| task.id).collect();
            store_activities::mark_reminded(&mut transaction, &ids, now).await?;
            for mut task in due.iter().cloned() {
                task.reminder_sent_at = Some(now);
                let message = pb::TaskReminderDue {
                    task: Some(convert::activities::task(&task)),
                    change: system_change(now),
                };
                self.outbox
                    .enqueue_for(&mut transaction, "task", task.id, task.revision, &message)
                    .await?;
            }
            self.outbox.commit(transaction).await?;
            sent += due.len() as u64;
            if (due.len() as i64) < BATCH {
                return Ok(sent);
            }
        }
    }

    /// Announces every open deal that went stale by `now` and is not yet flagged in this
    /// episode (event opportunity_went_stale), and flags it; returns how many. Skips when
    /// another replica runs the job.
    pub async fn run_stale_deal_check(&self, now: DateTime<Utc>) -> Result<u64> {
        let mut flagged = 0;
        loop {
            let mut transaction = self.pool.begin().await?;
            if !try_lock(&mut transaction, STALE_DEALS).await? {
                transaction.rollback().await?;
                return Ok(flagged);
            }
            let stale = store_stale::newly_stale(&mut transaction, now, BATCH).await?;
            if stale.is_empty() {
                // Ended now, not when the pool gets round to it: the job's lock goes with it.
                transaction.rollback().await?;
                return Ok(flagged);
            }
            let ids: Vec<Uuid> = stale.iter().map(|deal| deal.opportunity_id).collect();
            store_stale::mark_flagged(&mut transaction, &ids, now).await?;
            for deal in &stale {
                let message = pb::OpportunityWentStale {
                    opportunity_id: deal.opportunity_id.to_string(),
                    owner_id: deal.owner_id.to_string(),
                    owner_team_path: deal.owner_team_path.to_string(),
                    pipeline_id: deal.pipeline_id.to_string(),
                    days_without_activity: days_without_activity(deal.last_activity_at, now),
                    last_activity_at: Some(to_timestamp(deal.last_activity_at)),
                    stale_after_days: deal.stale_after_days,
                    change: system_change(now),
                };
                self.outbox
                    .enqueue_for(
                        &mut transaction,
                        "opportunity",
                        deal.opportunity_id,
                        deal.version,
                        &message,
                    )
                    .await?;
            }
            self.outbox.commit(transaction).await?;
            flagged += stale.len() as u64;
            if (stale.len() as i64) < BATCH {
                return Ok(flagged);
            }
        }
    }
}
