//! The exchange rates into the corporate currency, one row per (corporate currency, currency,
//! day).

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::money::CurrencyCode;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::stored_currency;
use crate::domain::exchange_rate::{ExchangeRate, NewExchangeRate};

#[derive(sqlx::FromRow)]
struct RateRow {
    corporate_currency: String,
    currency_code: String,
    effective_on: NaiveDate,
    rate: Decimal,
    set_at: DateTime<Utc>,
    set_by: Uuid,
    version: i64,
}

impl TryFrom<RateRow> for ExchangeRate {
    type Error = sqlx::Error;

    fn try_from(row: RateRow) -> sqlx::Result<Self> {
        Ok(ExchangeRate {
            currency: stored_currency("currency_code", &row.currency_code)?,
            corporate_currency: stored_currency("corporate_currency", &row.corporate_currency)?,
            effective_on: row.effective_on,
            rate: row.rate,
            set_at: row.set_at,
            set_by: row.set_by,
            version: row.version,
        })
    }
}

const RATE_COLUMNS: &str =
    "corporate_currency, currency_code, effective_on, rate, set_at, set_by, version";

/// Sets the day's rate, replacing the one set before. `set_at` moves forward from the one it
/// replaces even when the clock does not (two admins in the same microsecond, a clock step
/// back): the services keep the rate with the latest `set_at`, and the row lock orders the
/// writers, so the last committed is the one kept everywhere.
pub async fn upsert_exchange_rate(
    connection: &mut PgConnection,
    corporate_currency: CurrencyCode,
    new: &NewExchangeRate,
    set_at: DateTime<Utc>,
    set_by: Uuid,
) -> sqlx::Result<ExchangeRate> {
    let row: RateRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO exchange_rates (corporate_currency, currency_code, effective_on, rate, \
         set_at, set_by) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (corporate_currency, currency_code, effective_on) DO UPDATE SET \
         rate = EXCLUDED.rate, set_by = EXCLUDED.set_by, version = exchange_rates.version + 1, \
         set_at = GREATEST(EXCLUDED.set_at, exchange_rates.set_at + interval '1 microsecond') \
         RETURNING {RATE_COLUMNS}"
    )))
    .bind(corporate_currency.as_str())
    .bind(new.currency.as_str())
    .bind(new.effective_on)
    .bind(new.rate)
    .bind(set_at)
    .bind(set_by)
    .fetch_one(connection)
    .await?;
    row.try_into()
}

/// The rates into `corporate_currency`, newest day first (by currency within a day), of
/// `currency` only when given.
pub async fn exchange_rates(
    connection: &mut PgConnection,
    corporate_currency: CurrencyCode,
    currency: Option<CurrencyCode>,
) -> sqlx::Result<Vec<ExchangeRate>> {
    let rows: Vec<RateRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {RATE_COLUMNS} FROM exchange_rates WHERE corporate_currency = $1 \
         AND ($2::text IS NULL OR currency_code = $2) \
         ORDER BY effective_on DESC, currency_code"
    )))
    .bind(corporate_currency.as_str())
    .bind(currency.map(|code| code.as_str()))
    .fetch_all(connection)
    .await?;
    rows.into_iter().map(TryInto::try_into).collect()
}
