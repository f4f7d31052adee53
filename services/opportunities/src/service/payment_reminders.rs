//! The `payment-reminders` job (O8): `payment_due_soon` [`DUE_SOON_DAYS`] days before an open
//! instalment's due date (up to the day itself), `payment_overdue` from the day after it while
//! it stays open — each at most once per instalment. Run by the kit's scheduler
//! (`crm_platform::schedule::every`, spawned in lib.rs) on every replica: the job's lock skips
//! a tick another replica is running, the schedules are claimed `FOR UPDATE SKIP LOCKED`, and
//! each reminder's durable mark is written in the transaction that enqueues its event.

use chrono::{DateTime, Days, Utc};
use crm_platform::money::Money;
use crm_proto::crm::opportunities::v1 as pb;

use super::{Opportunities, Result};
use crate::{convert::collections as wire, store::payment_reminders as store_reminders};

/// The job's name: its lock and its log lines.
pub const PAYMENT_REMINDERS: &str = "payment-reminders";

/// How many days before its due date an open instalment is reminded of (a constant: the
/// collection settings have no place for it yet).
pub const DUE_SOON_DAYS: u64 = 7;

impl Opportunities {
    /// One run of the job at `now`: the reminders enqueued (0 when another run holds the
    /// job's lock).
    pub async fn run_payment_reminders(&self, now: DateTime<Utc>) -> Result<u64> {
        let mut transaction = self.pool.begin().await?;
        if !crm_platform::schedule::try_lock(&mut transaction, PAYMENT_REMINDERS).await? {
            return Ok(0);
        }
        let today = now.date_naive();
        let mut sent = 0;
        for schedule in store_reminders::claim_open_schedules(&mut transaction).await? {
            for instalment in schedule.instalments.iter().filter(|i| !i.open().is_zero()) {
                let soon_from = instalment.due_date - Days::new(DUE_SOON_DAYS);
                let kind = if today > instalment.due_date {
                    "overdue"
                } else if today >= soon_from {
                    "due_soon"
                } else {
                    continue;
                };
                let marked = store_reminders::mark_sent(
                    &mut transaction,
                    schedule.id,
                    instalment.number,
                    kind,
                    now,
                )
                .await?;
                if !marked {
                    continue;
                }
                let reminder = pb::PaymentReminder {
                    schedule: Some(wire::schedule(&schedule, &[])),
                    instalment_number: instalment.number,
                    due_date: instalment.due_date.to_string(),
                    open: Some(
                        Money {
                            currency: schedule.currency,
                            amount: instalment.open(),
                        }
                        .to_message(),
                    ),
                    days_overdue: u32::try_from((today - instalment.due_date).num_days().max(0))
                        .unwrap_or(u32::MAX),
                };
                if kind == "overdue" {
                    let message = pb::PaymentOverdue {
                        reminder: Some(reminder),
                    };
                    self.outbox
                        .enqueue_for(
                            &mut transaction,
                            "payment_schedule",
                            schedule.id,
                            schedule.revision,
                            &message,
                        )
                        .await?;
                } else {
                    let message = pb::PaymentDueSoon {
                        reminder: Some(reminder),
                    };
                    self.outbox
                        .enqueue_for(
                            &mut transaction,
                            "payment_schedule",
                            schedule.id,
                            schedule.revision,
                            &message,
                        )
                        .await?;
                }
                sent += 1;
            }
        }
        self.outbox.commit(transaction).await?;
        Ok(sent)
    }
}
