//! SQL for payment schedules and payments: instalments, allocations and refunds as jsonb.

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::{auth::Caller, money::CurrencyCode};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, Postgres, QueryBuilder, types::Json};
use uuid::Uuid;

use super::{corrupt, deals::push_readable, stored_team};
use crate::domain::{
    collection::{Allocation, Instalment},
    opportunity::OpportunityStatus,
    payment::{Payment, PaymentMethod, PaymentSchedule, Refund},
};

#[derive(Serialize, Deserialize)]
struct StoredInstalment {
    number: u32,
    due_date: NaiveDate,
    percent: Option<Decimal>,
    amount: Decimal,
    paid: Decimal,
    note: String,
}

#[derive(Serialize, Deserialize)]
struct StoredAllocation {
    instalment_number: u32,
    amount: Decimal,
}

#[derive(Serialize, Deserialize)]
struct StoredRefund {
    id: Uuid,
    amount: Decimal,
    reason: String,
    allocations: Vec<StoredAllocation>,
    from_credit: Decimal,
    recorded_by: Uuid,
    recorded_at: DateTime<Utc>,
}

fn stored_allocations(allocations: &[Allocation]) -> Vec<StoredAllocation> {
    allocations
        .iter()
        .map(|a| StoredAllocation {
            instalment_number: a.instalment_number,
            amount: a.amount,
        })
        .collect()
}

fn allocations(stored: Vec<StoredAllocation>) -> Vec<Allocation> {
    stored
        .into_iter()
        .map(|a| Allocation {
            instalment_number: a.instalment_number,
            amount: a.amount,
        })
        .collect()
}

fn stored_instalments(instalments: &[Instalment]) -> Json<Vec<StoredInstalment>> {
    Json(
        instalments
            .iter()
            .map(|i| StoredInstalment {
                number: i.number,
                due_date: i.due_date,
                percent: i.percent,
                amount: i.amount,
                paid: i.paid,
                note: i.note.clone(),
            })
            .collect(),
    )
}

fn stored_refunds(refunds: &[Refund]) -> Json<Vec<StoredRefund>> {
    Json(
        refunds
            .iter()
            .map(|r| StoredRefund {
                id: r.id,
                amount: r.amount,
                reason: r.reason.clone(),
                allocations: stored_allocations(&r.allocations),
                from_credit: r.from_credit,
                recorded_by: r.recorded_by,
                recorded_at: r.recorded_at,
            })
            .collect(),
    )
}

#[derive(sqlx::FromRow)]
pub(super) struct ScheduleRow {
    id: Uuid,
    opportunity_id: Uuid,
    order_id: Option<Uuid>,
    account_id: Option<Uuid>,
    owner_id: Uuid,
    owner_team_path: String,
    currency_code: String,
    instalments: Json<Vec<StoredInstalment>>,
    overpaid: Decimal,
    created_by: Uuid,
    created_at: DateTime<Utc>,
    updated_by: Uuid,
    updated_at: DateTime<Utc>,
    revision: i64,
}

impl TryFrom<ScheduleRow> for PaymentSchedule {
    type Error = sqlx::Error;

    fn try_from(row: ScheduleRow) -> sqlx::Result<Self> {
        let currency: CurrencyCode = row.currency_code.parse().map_err(corrupt)?;
        Ok(PaymentSchedule {
            id: row.id,
            opportunity_id: row.opportunity_id,
            order_id: row.order_id,
            account_id: row.account_id,
            owner_id: row.owner_id,
            owner_team_path: stored_team(&row.owner_team_path)?,
            currency,
            instalments: row
                .instalments
                .0
                .into_iter()
                .map(|i| Instalment {
                    number: i.number,
                    due_date: i.due_date,
                    percent: i.percent,
                    amount: i.amount,
                    paid: i.paid,
                    note: i.note,
                })
                .collect(),
            overpaid: row.overpaid,
            created_by: row.created_by,
            created_at: row.created_at,
            updated_by: row.updated_by,
            updated_at: row.updated_at,
            revision: row.revision,
        })
    }
}

pub(super) const SCHEDULE_COLUMNS: &str = "id, opportunity_id, order_id, account_id, owner_id, \
     owner_team_path, currency_code, instalments, overpaid, created_by, created_at, updated_by, \
     updated_at, revision";

/// The deal's schedule; `lock` holds it for the transaction.
pub(crate) async fn schedule_of_deal(
    connection: &mut PgConnection,
    opportunity_id: Uuid,
    lock: bool,
) -> sqlx::Result<Option<PaymentSchedule>> {
    let row: Option<ScheduleRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {SCHEDULE_COLUMNS} FROM payment_schedules WHERE opportunity_id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    )))
    .bind(opportunity_id)
    .fetch_optional(connection)
    .await?;
    row.map(PaymentSchedule::try_from).transpose()
}

/// The schedule a payment was recorded against.
pub(crate) async fn schedule_of_payment(
    connection: &mut PgConnection,
    payment_id: Uuid,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "SELECT s.opportunity_id FROM payments p JOIN payment_schedules s \
         ON s.id = p.schedule_id WHERE p.id = $1",
    )
    .bind(payment_id)
    .fetch_optional(connection)
    .await
}

/// Inserts or replaces (by id) a schedule.
pub(crate) async fn save_schedule(
    connection: &mut PgConnection,
    schedule: &PaymentSchedule,
) -> sqlx::Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO payment_schedules ({SCHEDULE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, \
         $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (id) DO UPDATE SET \
         order_id = EXCLUDED.order_id, account_id = EXCLUDED.account_id, \
         owner_id = EXCLUDED.owner_id, owner_team_path = EXCLUDED.owner_team_path, \
         currency_code = EXCLUDED.currency_code, instalments = EXCLUDED.instalments, \
         overpaid = EXCLUDED.overpaid, updated_by = EXCLUDED.updated_by, \
         updated_at = EXCLUDED.updated_at, revision = EXCLUDED.revision"
    )))
    .bind(schedule.id)
    .bind(schedule.opportunity_id)
    .bind(schedule.order_id)
    .bind(schedule.account_id)
    .bind(schedule.owner_id)
    .bind(schedule.owner_team_path.as_str())
    .bind(schedule.currency.as_str())
    .bind(stored_instalments(&schedule.instalments))
    .bind(schedule.overpaid)
    .bind(schedule.created_by)
    .bind(schedule.created_at)
    .bind(schedule.updated_by)
    .bind(schedule.updated_at)
    .bind(schedule.revision)
    .execute(connection)
    .await
    .map(drop)
}

#[derive(sqlx::FromRow)]
struct PaymentRow {
    id: Uuid,
    schedule_id: Uuid,
    amount: Decimal,
    refunded: Decimal,
    received_on: NaiveDate,
    method: String,
    reference: String,
    allocations: Json<Vec<StoredAllocation>>,
    to_credit: Decimal,
    refunds: Json<Vec<StoredRefund>>,
    recorded_by: Uuid,
    recorded_at: DateTime<Utc>,
}

impl TryFrom<PaymentRow> for Payment {
    type Error = sqlx::Error;

    fn try_from(row: PaymentRow) -> sqlx::Result<Self> {
        let method = PaymentMethod::ALL
            .into_iter()
            .find(|method| method.as_str() == row.method)
            .ok_or_else(|| corrupt(format!("payment method {:?}", row.method)))?;
        Ok(Payment {
            id: row.id,
            schedule_id: row.schedule_id,
            amount: row.amount,
            refunded: row.refunded,
            received_on: row.received_on,
            method,
            reference: row.reference,
            allocations: allocations(row.allocations.0),
            to_credit: row.to_credit,
            refunds: row
                .refunds
                .0
                .into_iter()
                .map(|r| Refund {
                    id: r.id,
                    amount: r.amount,
                    reason: r.reason,
                    allocations: allocations(r.allocations),
                    from_credit: r.from_credit,
                    recorded_by: r.recorded_by,
                    recorded_at: r.recorded_at,
                })
                .collect(),
            recorded_by: row.recorded_by,
            recorded_at: row.recorded_at,
        })
    }
}

const PAYMENT_COLUMNS: &str = "id, schedule_id, amount, refunded, received_on, method, \
     reference, allocations, to_credit, refunds, recorded_by, recorded_at";

/// One payment; `lock` holds it for the transaction.
pub(crate) async fn get_payment(
    connection: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> sqlx::Result<Option<Payment>> {
    let row: Option<PaymentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    )))
    .bind(id)
    .fetch_optional(connection)
    .await?;
    row.map(Payment::try_from).transpose()
}

/// A schedule's payments, oldest first.
pub(crate) async fn payments_of(
    connection: &mut PgConnection,
    schedule_id: Uuid,
) -> sqlx::Result<Vec<Payment>> {
    let rows: Vec<PaymentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments WHERE schedule_id = $1 ORDER BY recorded_at, id"
    )))
    .bind(schedule_id)
    .fetch_all(connection)
    .await?;
    rows.into_iter().map(Payment::try_from).collect()
}

/// Inserts a payment, or updates its refunds (everything else of a payment never changes).
pub(crate) async fn save_payment(
    connection: &mut PgConnection,
    payment: &Payment,
) -> sqlx::Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO payments ({PAYMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
         $10, $11, $12) ON CONFLICT (id) DO UPDATE SET refunded = EXCLUDED.refunded, \
         refunds = EXCLUDED.refunds"
    )))
    .bind(payment.id)
    .bind(payment.schedule_id)
    .bind(payment.amount)
    .bind(payment.refunded)
    .bind(payment.received_on)
    .bind(payment.method.as_str())
    .bind(&payment.reference)
    .bind(Json(stored_allocations(&payment.allocations)))
    .bind(payment.to_credit)
    .bind(stored_refunds(&payment.refunds))
    .bind(payment.recorded_by)
    .bind(payment.recorded_at)
    .execute(connection)
    .await
    .map(drop)
}

/// Every schedule of the deals the caller may read (in their reach, or naming them on the team
/// or splits), archived deals' left out; of one account's deals when `account_id` is given.
pub(crate) async fn visible_schedules(
    connection: &mut PgConnection,
    reader: &Caller,
    account_id: Option<Uuid>,
) -> sqlx::Result<Vec<PaymentSchedule>> {
    let mut query = QueryBuilder::<Postgres>::new(format!(
        "SELECT {SCHEDULE_COLUMNS} FROM payment_schedules WHERE opportunity_id IN \
         (SELECT id FROM opportunities WHERE status <> "
    ));
    query.push_bind(OpportunityStatus::Archived as i16);
    if let Some(account_id) = account_id {
        query.push(" AND account_id = ").push_bind(account_id);
    }
    push_readable(&mut query, reader);
    query.push(") ORDER BY id");
    let rows: Vec<ScheduleRow> = query.build_query_as().fetch_all(connection).await?;
    rows.into_iter().map(PaymentSchedule::try_from).collect()
}
