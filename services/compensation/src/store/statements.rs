//! SQL of closed periods and their locked statements (`closed_periods`, `statements`,
//! `statement_credits`, `statement_deals`) and of manual adjustments (`adjustments`). All of
//! it append-only: a trigger refuses to change or remove a row.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{run::Adjustment, settlement::DealHistory};

/// A closed period as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ClosedPeriodRow {
    pub label: String,
    pub kind: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub statement_count: i32,
    pub total: Decimal,
    pub currency: Option<String>,
    pub closed_by: Option<Uuid>,
    pub closed_at: DateTime<Utc>,
}

const CLOSED_COLUMNS: &str =
    "label, kind, starts_on, ends_on, statement_count, total, currency, closed_by, closed_at";

/// Every closed period, latest first.
pub async fn closed_periods(connection: &mut PgConnection) -> sqlx::Result<Vec<ClosedPeriodRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CLOSED_COLUMNS} FROM closed_periods ORDER BY ends_on DESC, label"
    )))
    .fetch_all(connection)
    .await
}

/// Takes the lock every close holds to its end, so closes (and plan changes, which read the
/// closed days) run one after another.
pub async fn lock_closing(connection: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("LOCK TABLE closed_periods IN SHARE ROW EXCLUSIVE MODE")
        .execute(connection)
        .await?;
    Ok(())
}

pub async fn insert_closed(
    connection: &mut PgConnection,
    row: &ClosedPeriodRow,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO closed_periods (label, kind, starts_on, ends_on, statement_count, total, \
         currency, closed_by, closed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&row.label)
    .bind(&row.kind)
    .bind(row.starts_on)
    .bind(row.ends_on)
    .bind(row.statement_count)
    .bind(row.total)
    .bind(row.currency.as_deref())
    .bind(row.closed_by)
    .bind(row.closed_at)
    .execute(connection)
    .await?;
    Ok(())
}

/// A statement to lock: its message, what it took in and the deals it touched.
pub struct LockedStatement<'a> {
    pub user_id: Uuid,
    pub total: Decimal,
    pub draw_balance: Decimal,
    pub body: Vec<u8>,
    pub credit_ids: &'a [Uuid],
    pub standing: &'a [DealHistory],
}

/// Locks the statements of period `label` (ending `ends_on`), set-wise.
pub async fn lock_statements(
    connection: &mut PgConnection,
    label: &str,
    ends_on: NaiveDate,
    statements: &[LockedStatement<'_>],
) -> sqlx::Result<()> {
    let users: Vec<Uuid> = statements
        .iter()
        .map(|statement| statement.user_id)
        .collect();
    let totals: Vec<Decimal> = statements.iter().map(|statement| statement.total).collect();
    let draws: Vec<Decimal> = statements
        .iter()
        .map(|statement| statement.draw_balance)
        .collect();
    let bodies: Vec<&[u8]> = statements
        .iter()
        .map(|statement| statement.body.as_slice())
        .collect();
    sqlx::query(
        "INSERT INTO statements (user_id, period_label, ends_on, total, draw_balance, body) \
         SELECT s.user_id, $1, $2, s.total, s.draw, s.body \
         FROM unnest($3::uuid[], $4::numeric[], $5::numeric[], $6::bytea[]) AS s(user_id, total, draw, body)",
    )
    .bind(label)
    .bind(ends_on)
    .bind(&users)
    .bind(&totals)
    .bind(&draws)
    .bind(&bodies)
    .execute(&mut *connection)
    .await?;
    let (credit_users, credits): (Vec<Uuid>, Vec<Uuid>) = statements
        .iter()
        .flat_map(|statement| {
            statement
                .credit_ids
                .iter()
                .map(|id| (statement.user_id, *id))
        })
        .unzip();
    sqlx::query(
        "INSERT INTO statement_credits (credit_id, user_id, period_label) \
         SELECT c.credit_id, c.user_id, $1 FROM unnest($2::uuid[], $3::uuid[]) AS c(user_id, credit_id)",
    )
    .bind(label)
    .bind(&credit_users)
    .bind(&credits)
    .execute(&mut *connection)
    .await?;
    let deals: Vec<(Uuid, &DealHistory)> = statements
        .iter()
        .flat_map(|statement| {
            statement
                .standing
                .iter()
                .map(|deal| (statement.user_id, deal))
        })
        .collect();
    let column = |pick: fn(&DealHistory) -> Decimal| -> Vec<Decimal> {
        deals.iter().map(|(_, deal)| pick(deal)).collect()
    };
    sqlx::query(
        "INSERT INTO statement_deals (user_id, period_label, ends_on, deal_id, deal_name, paid, \
         collected, released, booked, earned) \
         SELECT d.user_id, $1, $2, d.deal_id, d.deal_name, d.paid, d.collected, d.released, \
         d.booked, d.earned FROM unnest($3::uuid[], $4::uuid[], $5::text[], $6::numeric[], \
         $7::numeric[], $8::numeric[], $9::numeric[], $10::numeric[]) \
         AS d(user_id, deal_id, deal_name, paid, collected, released, booked, earned)",
    )
    .bind(label)
    .bind(ends_on)
    .bind(deals.iter().map(|(user, _)| *user).collect::<Vec<_>>())
    .bind(
        deals
            .iter()
            .map(|(_, deal)| deal.deal_id)
            .collect::<Vec<_>>(),
    )
    .bind(
        deals
            .iter()
            .map(|(_, deal)| deal.deal_name.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(column(|deal| deal.paid))
    .bind(column(|deal| deal.collected))
    .bind(column(|deal| deal.released))
    .bind(column(|deal| deal.booked))
    .bind(column(|deal| deal.earned))
    .execute(connection)
    .await?;
    Ok(())
}

/// The locked statements of period `label`, of `users` (all, when `None`).
pub async fn locked(
    connection: &mut PgConnection,
    label: &str,
    users: Option<&[Uuid]>,
) -> sqlx::Result<Vec<(Uuid, Vec<u8>)>> {
    sqlx::query_as(
        "SELECT user_id, body FROM statements WHERE period_label = $1 \
         AND ($2::uuid[] IS NULL OR user_id = ANY($2)) ORDER BY user_id",
    )
    .bind(label)
    .bind(users)
    .fetch_all(connection)
    .await
}

#[derive(sqlx::FromRow)]
struct StandingRow {
    user_id: Uuid,
    deal_id: Uuid,
    deal_name: String,
    paid: Decimal,
    collected: Decimal,
    released: Decimal,
    booked: Decimal,
    earned: Decimal,
}

/// Each rep's deals as the latest locked statement ending on or before `before` left them.
pub async fn standing(
    connection: &mut PgConnection,
    users: &[Uuid],
    before: NaiveDate,
) -> sqlx::Result<HashMap<Uuid, Vec<DealHistory>>> {
    let rows: Vec<StandingRow> = sqlx::query_as(
        "SELECT DISTINCT ON (user_id, deal_id) user_id, deal_id, deal_name, paid, collected, \
         released, booked, earned FROM statement_deals \
         WHERE user_id = ANY($1) AND ends_on <= $2 ORDER BY user_id, deal_id, ends_on DESC",
    )
    .bind(users)
    .bind(before)
    .fetch_all(connection)
    .await?;
    let mut standing: HashMap<Uuid, Vec<DealHistory>> = HashMap::new();
    for row in rows {
        standing.entry(row.user_id).or_default().push(DealHistory {
            deal_id: row.deal_id,
            deal_name: row.deal_name,
            paid: row.paid,
            booked: row.booked,
            earned: row.earned,
            collected: row.collected,
            released: row.released,
        });
    }
    Ok(standing)
}

/// Each rep's recoverable draw outstanding after the latest locked statement ending on or
/// before `before`.
pub async fn draw_balances(
    connection: &mut PgConnection,
    users: &[Uuid],
    before: NaiveDate,
) -> sqlx::Result<HashMap<Uuid, Decimal>> {
    let rows: Vec<(Uuid, Decimal)> = sqlx::query_as(
        "SELECT DISTINCT ON (user_id) user_id, draw_balance FROM statements \
         WHERE user_id = ANY($1) AND ends_on <= $2 ORDER BY user_id, ends_on DESC",
    )
    .bind(users)
    .bind(before)
    .fetch_all(connection)
    .await?;
    Ok(rows.into_iter().collect())
}

pub async fn add_adjustment(
    connection: &mut PgConnection,
    user_id: Uuid,
    period_label: &str,
    currency: &str,
    adjustment: &Adjustment,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO adjustments (id, user_id, period_label, currency, amount, note, adjusted_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(adjustment.id)
    .bind(user_id)
    .bind(period_label)
    .bind(currency)
    .bind(adjustment.amount)
    .bind(&adjustment.note)
    .bind(adjustment.adjusted_by)
    .execute(connection)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct AdjustmentRow {
    id: Uuid,
    user_id: Uuid,
    period_label: String,
    amount: Decimal,
    note: String,
    adjusted_by: Uuid,
}

/// The adjustments of `users` in the periods `labels`, in the order they were made, as
/// (rep, label, adjustment).
pub async fn adjustments(
    connection: &mut PgConnection,
    users: &[Uuid],
    labels: &[String],
) -> sqlx::Result<Vec<(Uuid, String, Adjustment)>> {
    let rows: Vec<AdjustmentRow> = sqlx::query_as(
        "SELECT id, user_id, period_label, amount, note, adjusted_by FROM adjustments \
         WHERE user_id = ANY($1) AND period_label = ANY($2) ORDER BY adjusted_at, id",
    )
    .bind(users)
    .bind(labels)
    .fetch_all(connection)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            (
                row.user_id,
                row.period_label,
                Adjustment {
                    id: row.id,
                    amount: row.amount,
                    note: row.note,
                    adjusted_by: row.adjusted_by,
                },
            )
        })
        .collect())
}
