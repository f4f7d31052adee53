//! Recycling (L5): leads not followed up in N days, or not converted in M, go back to the pool;
//! owners are warned K days before. Runs on a schedule in every replica: rows are claimed with
//! SKIP LOCKED, so replicas split the work instead of repeating it.

use chrono::{DateTime, Duration, Utc};
use crm_platform::time::to_timestamp;
use crm_proto::crm::leads::v1 as pb;
use tokio_util::sync::CancellationToken;

use super::{History, Leads, Result, load_policies};
use crate::{
    domain::{
        lifecycle::{LeadTransition, transition},
        recycling::{LeadActivityClock, RecycleDecision, recycle_decision},
    },
    store,
};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecyclingRun {
    pub warned: u32,
    pub recycled: u32,
}

const BATCH: i64 = 200;

impl Leads {
    /// Warns and recycles what is due at `now`.
    pub async fn recycle_stale(&self, now: DateTime<Utc>) -> Result<RecyclingRun> {
        let mut run = RecyclingRun::default();
        loop {
            let mut transaction = self.pool.begin().await?;
            let policy = load_policies(&mut transaction).await?.recycling;
            let warn_from = i64::from(policy.warn_days_before);
            let touched_before = now - Duration::days(i64::from(policy.follow_up_days) - warn_from);
            let assigned_before =
                now - Duration::days(i64::from(policy.convert_within_days) - warn_from);
            let due = store::leads::claim_recyclable(
                &mut transaction,
                touched_before,
                assigned_before,
                BATCH,
            )
            .await?;
            let claimed = due.len() as i64;
            for mut lead in due {
                let (Some(owner_id), Some(assigned_at)) = (lead.owner_id, lead.assigned_at) else {
                    continue;
                };
                let clock = LeadActivityClock {
                    owner_id,
                    assigned_at,
                    last_touched_at: lead.last_touched_at.unwrap_or(assigned_at),
                    status: lead.status,
                };
                match recycle_decision(&clock, &policy, now) {
                    RecycleDecision::Keep => {}
                    RecycleDecision::Warn { recycle_at, reason } => {
                        if lead.recycle_warned_at.is_some() {
                            continue;
                        }
                        lead.recycle_warned_at = Some(now);
                        let summary = format!(
                            "will return to the pool on {} ({reason}) unless followed up",
                            recycle_at.format("%Y-%m-%d %H:%M UTC")
                        );
                        let history = History::by("recycle_warning", None, summary);
                        self.save(&mut transaction, &mut lead, history, |lead| {
                            pb::LeadRecycleWarned {
                                lead: Some(lead),
                                recycle_at: Some(to_timestamp(recycle_at)),
                                reason: reason.to_string(),
                            }
                        })
                        .await?;
                        run.warned += 1;
                    }
                    RecycleDecision::Recycle { reason } => {
                        let Ok(status) = transition(clock.status, &LeadTransition::ReturnToPool)
                        else {
                            continue;
                        };
                        lead.return_to_pool(status);
                        let history = History {
                            from_owner: Some(owner_id),
                            ..History::by(
                                "recycled",
                                None,
                                format!("returned to the pool: {reason}"),
                            )
                        };
                        self.save(&mut transaction, &mut lead, history, |lead| {
                            pb::LeadRecycled {
                                lead: Some(lead),
                                previous_owner_id: owner_id.to_string(),
                                reason: reason.to_string(),
                            }
                        })
                        .await?;
                        run.recycled += 1;
                    }
                }
            }
            self.outbox.commit(transaction).await?;
            if claimed < BATCH {
                return Ok(run);
            }
        }
    }

    /// Runs [`Leads::recycle_stale`] every `interval` until `shutdown`.
    pub async fn run_recycling(self, interval: std::time::Duration, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = shutdown.cancelled() => return,
            }
            match self.recycle_stale(crm_platform::time::now()).await {
                Ok(run) if run.warned + run.recycled > 0 => {
                    tracing::info!(
                        warned = run.warned,
                        recycled = run.recycled,
                        "lead recycling run"
                    );
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(error = %error, "lead recycling run failed"),
            }
        }
    }
}
