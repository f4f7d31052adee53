//! How far a forecast was from what happened (F5, F6): the one definition of error, absolute
//! percentage error and their summary that every forecast of the service is judged by — the
//! statistical methods' back-tests and the reps' and managers' calls alike, so the figures shown
//! side by side are comparable.
//!
//! Decimal in, decimal out. The figures are exact until the end and rounded once, to 2
//! decimals by the kit's rule for reports and ratios ([`round_commercial`], half away from
//! zero): a mean of rounded errors would drift from the mean of the errors.

use std::fmt;

use crm_platform::money::round_commercial;
use rust_decimal::Decimal;

/// The places every accuracy figure is rounded to: cents for errors, hundredths of a percent
/// for percentages.
const PLACES: u32 = 2;

/// A figure left the range decimal arithmetic holds (about ±7.9 × 10²⁸). Only absurd amounts
/// get there; the caller reports it instead of the process panicking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overflow;

impl fmt::Display for Overflow {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a figure is too large for decimal arithmetic")
    }
}

impl std::error::Error for Overflow {}

/// `forecast − actual`, exact: positive when the forecast was too high.
pub fn error(forecast: Decimal, actual: Decimal) -> Result<Decimal, Overflow> {
    forecast.checked_sub(actual).ok_or(Overflow)
}

/// `|forecast − actual| ÷ |actual| × 100`, exact; `None` when nothing happened (actual 0), where
/// a percentage of nothing means nothing. Bookings are never negative; the absolute value of
/// the actual keeps the figure a distance all the same.
pub fn absolute_percentage_error(
    forecast: Decimal,
    actual: Decimal,
) -> Result<Option<Decimal>, Overflow> {
    if actual.is_zero() {
        return Ok(None);
    }
    let distance = error(forecast, actual)?.abs();
    distance
        .checked_mul(Decimal::ONE_HUNDRED)
        .and_then(|scaled| scaled.checked_div(actual.abs()))
        .map(Some)
        .ok_or(Overflow)
}

/// One forecast beside what happened, rounded for showing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comparison {
    pub forecast: Decimal,
    pub actual: Decimal,
    /// [`error`], rounded.
    pub error: Decimal,
    /// [`absolute_percentage_error`], rounded; `None` when the actual was 0.
    pub absolute_percentage_error: Option<Decimal>,
}

impl Comparison {
    pub fn of(forecast: Decimal, actual: Decimal) -> Result<Self, Overflow> {
        Ok(Comparison {
            forecast,
            actual,
            error: round_commercial(error(forecast, actual)?, PLACES),
            absolute_percentage_error: absolute_percentage_error(forecast, actual)?
                .map(|percentage| round_commercial(percentage, PLACES)),
        })
    }
}

/// The summary of many forecasts against what happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accuracy {
    /// How many forecasts were judged.
    pub count: usize,
    /// The mean error (bias): positive when the forecasts ran high. `None` without forecasts.
    pub mean_error: Option<Decimal>,
    /// How many forecasts had an absolute percentage error (their actual was not 0).
    pub percentage_count: usize,
    /// The mean absolute percentage error (MAPE) over those; `None` when there were none.
    pub mean_absolute_percentage_error: Option<Decimal>,
}

impl Accuracy {
    /// Summarises `(forecast, actual)` pairs, rounding only the means.
    pub fn of(pairs: impl IntoIterator<Item = (Decimal, Decimal)>) -> Result<Self, Overflow> {
        let mut count = 0_usize;
        let mut error_sum = Decimal::ZERO;
        let mut percentage_count = 0_usize;
        let mut percentage_sum = Decimal::ZERO;
        for (forecast, actual) in pairs {
            count += 1;
            error_sum = error_sum
                .checked_add(error(forecast, actual)?)
                .ok_or(Overflow)?;
            if let Some(percentage) = absolute_percentage_error(forecast, actual)? {
                percentage_count += 1;
                percentage_sum = percentage_sum.checked_add(percentage).ok_or(Overflow)?;
            }
        }
        Ok(Accuracy {
            count,
            mean_error: mean(error_sum, count)?,
            percentage_count,
            mean_absolute_percentage_error: mean(percentage_sum, percentage_count)?,
        })
    }
}

fn mean(sum: Decimal, count: usize) -> Result<Option<Decimal>, Overflow> {
    if count == 0 {
        return Ok(None);
    }
    let count = Decimal::from(u64::try_from(count).map_err(|_| Overflow)?);
    sum.checked_div(count)
        .map(|mean| Some(round_commercial(mean, PLACES)))
        .ok_or(Overflow)
}

#[cfg(test)]
#[path = "accuracy_tests.rs"]
mod tests;
