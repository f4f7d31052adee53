//! Exchange rates into the organisation's corporate currency, set by admins: how many units of
//! the corporate currency one unit of another currency was worth from a day on. Every deal
//! keeps its own currency; the services convert its amount with the latest rate on or before
//! the day of the change (crm_platform::org::OrgDirectory::to_corporate).

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::money::CurrencyCode;
use rust_decimal::Decimal;
use uuid::Uuid;

/// One day's rate of a currency into a corporate currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExchangeRate {
    pub currency: CurrencyCode,
    /// The corporate currency the rate converts into (the one at the time it was set).
    pub corporate_currency: CurrencyCode,
    /// The rate applies from this day until the next rate of the same currency.
    pub effective_on: NaiveDate,
    /// Units of the corporate currency per unit of `currency`: positive, at most
    /// [`crm_platform::money::RATE_FRACTION_DIGITS`] fraction digits.
    pub rate: Decimal,
    /// When it was last set; setting the same day again always moves it forward, so the
    /// services keep the latest by it.
    pub set_at: DateTime<Utc>,
    pub set_by: Uuid,
    /// How many times this day's rate was set (the outbox's aggregate version).
    pub version: i64,
}

/// A rate an admin sets, its fields already read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewExchangeRate {
    pub currency: CurrencyCode,
    pub effective_on: NaiveDate,
    /// Read by [`crm_platform::money::parse_exchange_rate`].
    pub rate: Decimal,
}

/// Why a rate cannot be set with the organisation's settings as they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RateRefusal {
    /// Rates are into the corporate currency: there must be one first.
    #[error(
        "the organisation has no corporate currency yet: an admin sets it first \
         (OrgService.UpdateOrgSettings, PATCH /v1/orgSettings corporate_currency)"
    )]
    NoCorporateCurrency,
    /// The corporate currency converts into itself at 1, always.
    #[error("{0} is the corporate currency: its rate into itself is always 1")]
    OfTheCorporateCurrency(CurrencyCode),
}

impl NewExchangeRate {
    /// The corporate currency this rate converts into, given the organisation's.
    pub fn converting_into(
        &self,
        corporate_currency: Option<CurrencyCode>,
    ) -> Result<CurrencyCode, RateRefusal> {
        let corporate = corporate_currency.ok_or(RateRefusal::NoCorporateCurrency)?;
        if corporate == self.currency {
            return Err(RateRefusal::OfTheCorporateCurrency(corporate));
        }
        Ok(corporate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn euro_rate() -> NewExchangeRate {
        NewExchangeRate {
            currency: "EUR".parse().unwrap(),
            effective_on: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            rate: Decimal::new(78_125, 4),
        }
    }

    #[test]
    fn a_rate_converts_into_the_corporate_currency_set_and_not_into_itself() {
        assert_eq!(
            euro_rate().converting_into(None),
            Err(RateRefusal::NoCorporateCurrency)
        );
        assert_eq!(
            euro_rate().converting_into(Some(CurrencyCode::CNY)),
            Ok(CurrencyCode::CNY)
        );
        let euro = "EUR".parse().unwrap();
        let refused = euro_rate().converting_into(Some(euro)).unwrap_err();
        assert_eq!(refused, RateRefusal::OfTheCorporateCurrency(euro));
        assert_eq!(
            refused.to_string(),
            "EUR is the corporate currency: its rate into itself is always 1"
        );
    }
}
