//! SQL of the credit ledger (`credits`, and the bookings' deal lines `booking_lines`): entries
//! appended once per source and rep, the bookings of a deal that still stand, and the entries
//! statements are computed from.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{
    credit::{Credit, CreditKind, DealLine},
    ledger::NewCredit,
};

/// Appends `credit` made by event `event_id`; `false` when its source had already credited the
/// rep (a redelivery or a replay), which changes nothing.
pub async fn append(
    connection: &mut PgConnection,
    credit: &NewCredit,
    event_id: Uuid,
) -> sqlx::Result<bool> {
    let id = Uuid::now_v7();
    let inserted = sqlx::query(
        "INSERT INTO credits (id, source, user_id, kind, deal_id, deal_name, pipeline_id, \
         effective_on, currency, amount, share, reverses, event_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (source, user_id) DO NOTHING",
    )
    .bind(id)
    .bind(&credit.source)
    .bind(credit.user_id)
    .bind(credit.kind.as_str())
    .bind(credit.deal_id)
    .bind(&credit.deal_name)
    .bind(credit.pipeline_id)
    .bind(credit.effective_on)
    .bind(credit.currency.as_str())
    .bind(credit.amount)
    .bind(credit.share)
    .bind(credit.reverses)
    .bind(event_id)
    .execute(&mut *connection)
    .await?
    .rows_affected();
    if inserted == 1 && !credit.lines.is_empty() {
        let codes: Vec<&str> = credit
            .lines
            .iter()
            .map(|line| line.product_code.as_str())
            .collect();
        let amounts: Vec<Decimal> = credit.lines.iter().map(|line| line.amount).collect();
        sqlx::query(
            "INSERT INTO booking_lines (credit_id, position, product_code, amount) \
             SELECT $1, line.position::int, line.code, line.amount \
             FROM unnest($2::text[], $3::numeric[]) WITH ORDINALITY AS line(code, amount, position)",
        )
        .bind(id)
        .bind(&codes)
        .bind(&amounts)
        .execute(connection)
        .await?;
    }
    Ok(inserted == 1)
}

#[derive(sqlx::FromRow)]
struct CreditRow {
    id: Uuid,
    sequence: i64,
    user_id: Uuid,
    kind: String,
    deal_id: Option<Uuid>,
    deal_name: String,
    pipeline_id: Option<Uuid>,
    effective_on: NaiveDate,
    currency: String,
    amount: Decimal,
    share: Decimal,
    reverses: Option<Uuid>,
    event_id: Uuid,
}

impl CreditRow {
    fn into_credit(self) -> sqlx::Result<Credit> {
        Ok(Credit {
            kind: CreditKind::parse(&self.kind).ok_or_else(|| {
                sqlx::Error::Decode(format!("credit kind {:?}", self.kind).into())
            })?,
            id: self.id,
            sequence: self.sequence,
            user_id: self.user_id,
            deal_id: self.deal_id,
            deal_name: self.deal_name,
            pipeline_id: self.pipeline_id,
            lines: Vec::new(),
            effective_on: self.effective_on,
            currency: self
                .currency
                .parse()
                .map_err(|error: String| sqlx::Error::Decode(error.into()))?,
            amount: self.amount,
            share: self.share,
            reverses: self.reverses,
            event_id: self.event_id,
        })
    }
}

const COLUMNS: &str = "c.id, c.sequence, c.user_id, c.kind, c.deal_id, c.deal_name, \
     c.pipeline_id, c.effective_on, c.currency, c.amount, c.share, c.reverses, c.event_id";

/// The deal's bookings no reversal has taken back, each rep's, locked until the transaction
/// ends (two replicas reversing one deal do it one after the other), in ledger order.
pub async fn standing_bookings(
    connection: &mut PgConnection,
    deal_id: Uuid,
) -> sqlx::Result<Vec<Credit>> {
    sqlx::query_as::<_, CreditRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM credits c WHERE c.deal_id = $1 AND c.kind = 'booking' \
         AND NOT EXISTS (SELECT 1 FROM credits r WHERE r.reverses = c.id) \
         ORDER BY c.sequence FOR UPDATE OF c"
    )))
    .bind(deal_id)
    .fetch_all(connection)
    .await?
    .into_iter()
    .map(CreditRow::into_credit)
    .collect()
}

/// Fills in the bookings' deal lines.
async fn with_lines(
    connection: &mut PgConnection,
    mut credits: Vec<Credit>,
) -> sqlx::Result<Vec<Credit>> {
    let bookings: Vec<Uuid> = credits
        .iter()
        .filter(|credit| credit.kind == CreditKind::Booking)
        .map(|credit| credit.id)
        .collect();
    if bookings.is_empty() {
        return Ok(credits);
    }
    let lines: Vec<(Uuid, String, Decimal)> = sqlx::query_as(
        "SELECT credit_id, product_code, amount FROM booking_lines \
         WHERE credit_id = ANY($1) ORDER BY credit_id, position",
    )
    .bind(&bookings)
    .fetch_all(connection)
    .await?;
    let mut by_credit: std::collections::HashMap<Uuid, Vec<DealLine>> =
        std::collections::HashMap::new();
    for (credit_id, product_code, amount) in lines {
        by_credit.entry(credit_id).or_default().push(DealLine {
            product_code,
            amount,
        });
    }
    for credit in &mut credits {
        if let Some(lines) = by_credit.remove(&credit.id) {
            credit.lines = lines;
        }
    }
    Ok(credits)
}

/// The entries of `users` effective on a day of `[from, until)` — only those no locked
/// statement took in when `late` — with their lines, by rep in ledger order.
async fn of_days(
    connection: &mut PgConnection,
    users: &[Uuid],
    (from, until): (NaiveDate, NaiveDate),
    late: bool,
) -> sqlx::Result<Vec<Credit>> {
    let credits = sqlx::query_as::<_, CreditRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM credits c WHERE c.user_id = ANY($1) \
         AND c.effective_on >= $2 AND c.effective_on < $3 \
         AND (NOT $4 OR NOT EXISTS (SELECT 1 FROM statement_credits s WHERE s.credit_id = c.id)) \
         ORDER BY c.user_id, c.sequence"
    )))
    .bind(users)
    .bind(from)
    .bind(until)
    .bind(late)
    .fetch_all(&mut *connection)
    .await?
    .into_iter()
    .map(CreditRow::into_credit)
    .collect::<sqlx::Result<Vec<_>>>()?;
    with_lines(connection, credits).await
}

/// The entries of `users` effective on a day of `[from, until)`, by rep in ledger order.
pub async fn of_reps(
    connection: &mut PgConnection,
    users: &[Uuid],
    from: NaiveDate,
    until: NaiveDate,
) -> sqlx::Result<Vec<Credit>> {
    of_days(connection, users, (from, until), false).await
}

/// The entries of `users` of closed days `[from, before)` that no locked statement took in:
/// recorded after their period closed. By rep in ledger order.
pub async fn late(
    connection: &mut PgConnection,
    users: &[Uuid],
    from: NaiveDate,
    before: NaiveDate,
) -> sqlx::Result<Vec<Credit>> {
    of_days(connection, users, (from, before), true).await
}

/// The bookings, net of reversals, of everyone whose team is `team_path` or below it on days
/// of `[from, until)`: a team pool's base.
pub async fn team_bookings(
    connection: &mut PgConnection,
    team_path: &str,
    from: NaiveDate,
    until: NaiveDate,
) -> sqlx::Result<Decimal> {
    sqlx::query_scalar(
        "SELECT coalesce(sum(CASE c.kind WHEN 'booking' THEN c.amount ELSE -c.amount END), 0) \
         FROM credits c JOIN org_users u ON u.user_id = c.user_id \
         WHERE starts_with(u.team_path, $1) AND c.kind IN ('booking', 'booking_reversal') \
         AND c.effective_on >= $2 AND c.effective_on < $3",
    )
    .bind(team_path)
    .bind(from)
    .bind(until)
    .fetch_one(connection)
    .await
}
