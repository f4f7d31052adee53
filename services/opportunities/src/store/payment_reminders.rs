//! SQL for payment reminders: the schedules to look at, claimed for the job's transaction, and
//! the durable marks that make each reminder go out at most once.

use sqlx::PgConnection;
use uuid::Uuid;

use super::collections::{SCHEDULE_COLUMNS, ScheduleRow};
use crate::domain::{opportunity::OpportunityStatus, payment::PaymentSchedule};

/// The schedules with something open of deals not archived, locked for this transaction;
/// schedules another transaction holds are skipped (it is reminding of them, or paying them —
/// the next tick looks again).
pub(crate) async fn claim_open_schedules(
    connection: &mut PgConnection,
) -> sqlx::Result<Vec<PaymentSchedule>> {
    let rows: Vec<ScheduleRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {SCHEDULE_COLUMNS} FROM payment_schedules WHERE opportunity_id IN \
         (SELECT id FROM opportunities WHERE status <> $1) \
         AND EXISTS (SELECT 1 FROM jsonb_array_elements(instalments) i \
         WHERE (i->>'paid')::numeric < (i->>'amount')::numeric) \
         ORDER BY id FOR UPDATE SKIP LOCKED"
    )))
    .bind(OpportunityStatus::Archived as i16)
    .fetch_all(connection)
    .await?;
    rows.into_iter().map(PaymentSchedule::try_from).collect()
}

/// Marks the reminder `kind` of an instalment sent; `false` when it was sent before.
pub(crate) async fn mark_sent(
    connection: &mut PgConnection,
    schedule_id: Uuid,
    instalment_number: u32,
    kind: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO payment_reminders (schedule_id, instalment_number, kind, sent_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(schedule_id)
    .bind(i64::from(instalment_number))
    .bind(kind)
    .bind(at)
    .execute(connection)
    .await?;
    Ok(done.rows_affected() == 1)
}
