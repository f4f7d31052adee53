//! The statistical forecast (F6): time-series methods over the bookings of past periods, each
//! back-tested the way the reps' calls are judged ([`crate::domain::accuracy`]), and stage-to-win
//! rates learned from closed deals in place of the stages' nominal probabilities.
//!
//! Decimal arithmetic throughout, not floats: the forecasts sit beside amounts of money and
//! calls that are decimals, and a series holding the same bookings must give the same forecast
//! on every machine. Every operation is checked; an overflow (only absurd amounts get there)
//! is [`StatisticsError::Overflow`], never a panic.

pub mod backtest;
pub mod regression;
pub mod smoothing;
pub mod stages;
pub mod win_rates;

use std::fmt;

use crm_platform::money::round_commercial;
use rust_decimal::Decimal;

pub use crate::domain::accuracy::Overflow;

/// The bookings of consecutive periods, oldest first, with the length of the season that
/// repeats in them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Series {
    pub bookings: Vec<Decimal>,
    /// Periods per season: 12 for months, 4 for quarters, 1 for none.
    pub season: usize,
    /// The currency's minor units: forecasts are amounts and are rounded to them.
    pub minor_units: u32,
}

/// A way of forecasting a series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// Exponential smoothing with an additive trend (Holt).
    HoltLinear,
    /// Exponential smoothing with an additive trend and an additive season (Holt–Winters).
    HoltWinters,
    /// Least squares of the bookings on the period's index.
    LinearRegression,
}

impl Method {
    /// The periods of history a method needs: a season is only learned from two full ones
    /// (one to set it, one to check it against); a trend needs two points.
    pub fn minimum_history(self, season: usize) -> usize {
        match self {
            Method::HoltWinters => 2 * season.max(1),
            Method::HoltLinear | Method::LinearRegression => 2,
        }
    }

    /// The smoothing method for `len` periods of a series with `season`: Holt–Winters when
    /// there is a season and two full ones of history, else Holt.
    pub fn best_for(len: usize, season: usize) -> Method {
        if season > 1 && len >= Method::HoltWinters.minimum_history(season) {
            Method::HoltWinters
        } else {
            Method::HoltLinear
        }
    }

    /// The methods that can forecast `len` periods of a series with `season`: the smoothing
    /// one [`Method::best_for`] chooses and the regression, when there is history enough.
    pub fn applicable(len: usize, season: usize) -> Vec<Method> {
        let smoothing = Method::best_for(len, season);
        [smoothing, Method::LinearRegression]
            .into_iter()
            .filter(|method| len >= method.minimum_history(season))
            .collect()
    }
}

/// What the method fitted, to show beside its forecast.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parameters {
    /// Smoothing weights of level, trend and (Holt–Winters) season, from the grid 0.1 … 0.9.
    Smoothing {
        alpha: Decimal,
        beta: Decimal,
        gamma: Option<Decimal>,
    },
    /// `bookings ≈ intercept + slope × period index` (index 0 the oldest period).
    Line { intercept: Decimal, slope: Decimal },
}

/// A method's forecast of the periods after the series.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forecast {
    pub method: Method,
    pub parameters: Parameters,
    /// One amount per period ahead, the next first.
    pub bookings: Vec<Decimal>,
}

/// Why a forecast could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatisticsError {
    /// The method needs `needed` periods of history; the series has `got`.
    NotEnoughHistory {
        needed: usize,
        got: usize,
    },
    Overflow,
}

impl fmt::Display for StatisticsError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatisticsError::NotEnoughHistory { needed, got } => write!(
                formatter,
                "the method needs {needed} periods of history, the series has {got}"
            ),
            StatisticsError::Overflow => Overflow.fmt(formatter),
        }
    }
}

impl std::error::Error for StatisticsError {}

impl From<Overflow> for StatisticsError {
    fn from(_: Overflow) -> Self {
        StatisticsError::Overflow
    }
}

/// Forecasts the `horizon` periods after `series` with `method`, fitted on the whole series.
pub fn forecast(
    series: &Series,
    method: Method,
    horizon: usize,
) -> Result<Forecast, StatisticsError> {
    let needed = method.minimum_history(series.season);
    if series.bookings.len() < needed {
        return Err(StatisticsError::NotEnoughHistory {
            needed,
            got: series.bookings.len(),
        });
    }
    let (parameters, raw) = match method {
        Method::HoltLinear => {
            let fit = smoothing::fit_holt(&series.bookings)?;
            (fit.parameters(), fit.forecast(horizon)?)
        }
        Method::HoltWinters => {
            let fit = smoothing::fit_holt_winters(&series.bookings, series.season)?;
            (fit.parameters(), fit.forecast(horizon)?)
        }
        Method::LinearRegression => {
            let line = regression::fit(&series.bookings)?;
            (
                Parameters::Line {
                    intercept: line.intercept,
                    slope: line.slope,
                },
                line.forecast(series.bookings.len(), horizon)?,
            )
        }
    };
    Ok(Forecast {
        method,
        parameters,
        bookings: raw
            .into_iter()
            .map(|amount| as_bookings(amount, series.minor_units))
            .collect(),
    })
}

/// A model's figure as bookings: never below 0 — a trend running down would otherwise forecast
/// negative revenue, which no period can book — and rounded to the currency's minor units.
pub(crate) fn as_bookings(amount: Decimal, minor_units: u32) -> Decimal {
    round_commercial(amount.max(Decimal::ZERO), minor_units)
}

/// Checked arithmetic in the models, so an overflow is a value.
pub(crate) fn add(a: Decimal, b: Decimal) -> Result<Decimal, Overflow> {
    a.checked_add(b).ok_or(Overflow)
}

pub(crate) fn sub(a: Decimal, b: Decimal) -> Result<Decimal, Overflow> {
    a.checked_sub(b).ok_or(Overflow)
}

pub(crate) fn mul(a: Decimal, b: Decimal) -> Result<Decimal, Overflow> {
    a.checked_mul(b).ok_or(Overflow)
}

pub(crate) fn div(a: Decimal, b: Decimal) -> Result<Decimal, Overflow> {
    a.checked_div(b).ok_or(Overflow)
}

/// A count or index as a decimal.
pub(crate) fn count(n: usize) -> Result<Decimal, Overflow> {
    u64::try_from(n).map(Decimal::from).map_err(|_| Overflow)
}

#[cfg(test)]
#[path = "mod_tests.rs"]
mod tests;
