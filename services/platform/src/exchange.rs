//! The organisation's exchange rates as this service last heard them (the gateway's
//! `ExchangeRateSet` events, kept by the org directory's consumer), and the conversion of an
//! amount into the corporate currency with them: what a deal's events carry beside its own
//! amount, so no consumer needs rates of its own.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use crm_proto::crm::gateway::v1::ExchangeRateSet;
use rust_decimal::Decimal;
use sqlx::PgConnection;

use crate::{
    consumer::{HandlerError, ReceivedEvent},
    money::{CorporateAmount, CurrencyCode, Money, parse_exchange_rate},
    org::OrgDirectory,
};

/// A rate as the gateway published it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExchangeRate {
    pub corporate_currency: CurrencyCode,
    pub currency: CurrencyCode,
    pub effective_on: NaiveDate,
    pub rate: Decimal,
    pub set_at: DateTime<Utc>,
}

fn permanent(what: &'static str) -> impl Fn(String) -> HandlerError {
    move |error| HandlerError::Permanent(anyhow::anyhow!("{what}: {error}"))
}

impl ExchangeRate {
    /// Decodes an `ExchangeRateSet` event.
    pub fn decode(event: &ReceivedEvent) -> Result<Self, HandlerError> {
        let set: ExchangeRateSet = event.decode()?;
        let rate = set
            .rate
            .ok_or_else(|| HandlerError::Permanent(anyhow::anyhow!("event carries no rate")))?;
        Ok(ExchangeRate {
            corporate_currency: CurrencyCode::from_str(&rate.corporate_currency)
                .map_err(permanent("corporate currency"))?,
            currency: CurrencyCode::from_str(&rate.currency_code).map_err(permanent("currency"))?,
            effective_on: NaiveDate::from_str(&rate.effective_on)
                .map_err(|error| permanent("effective_on")(error.to_string()))?,
            rate: parse_exchange_rate(&rate.rate).map_err(permanent("rate"))?,
            set_at: rate
                .set_at
                .as_ref()
                .and_then(crate::time::from_timestamp)
                .ok_or_else(|| HandlerError::Permanent(anyhow::anyhow!("rate has no set_at")))?,
        })
    }

    /// Keeps the rate unless the row holds one set later (a day's rate set again replaces it;
    /// an older event arriving late changes nothing).
    pub async fn record(&self, connection: &mut PgConnection) -> sqlx::Result<()> {
        sqlx::query(
            "INSERT INTO org_exchange_rates (corporate_currency, currency_code, effective_on, rate, set_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (corporate_currency, currency_code, effective_on) DO UPDATE \
             SET rate = EXCLUDED.rate, set_at = EXCLUDED.set_at \
             WHERE org_exchange_rates.set_at <= EXCLUDED.set_at",
        )
        .bind(self.corporate_currency.as_str())
        .bind(self.currency.as_str())
        .bind(self.effective_on)
        .bind(self.rate)
        .bind(self.set_at)
        .execute(connection)
        .await
        .map(drop)
    }
}

/// `amount` in `corporate` at the rate of `rate` (taken on `rate_date`): the same currency at
/// rate 1 on `on`, else the product rounded to the corporate currency's minor units.
pub fn convert(
    amount: &Money,
    corporate: CurrencyCode,
    rate: Option<(Decimal, NaiveDate)>,
    on: NaiveDate,
) -> Option<CorporateAmount> {
    if amount.currency == corporate {
        return Some(CorporateAmount {
            amount: *amount,
            rate: Decimal::ONE,
            rate_date: on,
        });
    }
    let (rate, rate_date) = rate?;
    Some(CorporateAmount {
        amount: amount.converted(rate, corporate)?,
        rate,
        rate_date,
    })
}

impl OrgDirectory {
    /// `amount` in the organisation's corporate currency on `on`: with the latest rate of its
    /// currency into the current corporate currency effective on or before `on`. `None` while
    /// no corporate currency is set, or no such rate is known.
    pub async fn to_corporate(
        connection: &mut PgConnection,
        amount: &Money,
        on: NaiveDate,
    ) -> sqlx::Result<Option<CorporateAmount>> {
        let Some(corporate) = OrgDirectory::settings(&mut *connection)
            .await?
            .corporate_currency
        else {
            return Ok(None);
        };
        if amount.currency == corporate {
            return Ok(convert(amount, corporate, None, on));
        }
        let rate: Option<(Decimal, NaiveDate)> = sqlx::query_as(
            "SELECT rate, effective_on FROM org_exchange_rates \
             WHERE corporate_currency = $1 AND currency_code = $2 AND effective_on <= $3 \
             ORDER BY effective_on DESC LIMIT 1",
        )
        .bind(corporate.as_str())
        .bind(amount.currency.as_str())
        .bind(on)
        .fetch_optional(connection)
        .await?;
        Ok(convert(amount, corporate, rate, on))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(currency: &str, amount: &str) -> Money {
        Money {
            currency: currency.parse().unwrap(),
            amount: Decimal::from_str(amount).unwrap(),
        }
    }

    fn day(text: &str) -> NaiveDate {
        NaiveDate::from_str(text).unwrap()
    }

    #[test]
    fn the_corporate_currency_converts_at_one_on_the_day() {
        let converted = convert(
            &money("CNY", "1200000.00"),
            "CNY".parse().unwrap(),
            None,
            day("2026-12-02"),
        );
        assert_eq!(
            converted,
            Some(CorporateAmount {
                amount: money("CNY", "1200000.00"),
                rate: Decimal::ONE,
                rate_date: day("2026-12-02"),
            })
        );
    }

    #[test]
    fn another_currency_converts_at_its_rate_and_says_the_rate_date() {
        // 1,200,000.00 CNY × 0.1385 = 166,200.00 EUR
        let converted = convert(
            &money("CNY", "1200000.00"),
            "EUR".parse().unwrap(),
            Some((Decimal::from_str("0.1385").unwrap(), day("2026-11-30"))),
            day("2026-12-02"),
        )
        .unwrap();
        assert_eq!(converted.amount, money("EUR", "166200.00"));
        assert_eq!(converted.rate_date, day("2026-11-30"));
        // No rate: nothing.
        assert_eq!(
            convert(
                &money("USD", "1"),
                "EUR".parse().unwrap(),
                None,
                day("2026-12-02")
            ),
            None
        );
    }
}
