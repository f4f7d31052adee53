//! SQL of the credit ledger (`credits`): entries appended once per source and rep, and the
//! bookings of a deal that still stand.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{
    credit::{Credit, CreditKind},
    ledger::NewCredit,
};

/// Appends `credit` made by event `event_id`; `false` when its source had already credited the
/// rep (a redelivery or a replay), which changes nothing.
pub async fn append(
    connection: &mut PgConnection,
    credit: &NewCredit,
    event_id: Uuid,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO credits (id, source, user_id, kind, deal_id, deal_name, pipeline_id, \
         effective_on, currency, amount, share, reverses, event_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (source, user_id) DO NOTHING",
    )
    .bind(Uuid::now_v7())
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
    .execute(connection)
    .await?
    .rows_affected();
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
