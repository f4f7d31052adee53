//! Back-testing by rolling origin: for each past period t from the first one a method may
//! forecast, the method is fitted on the periods before t only, forecasts one period ahead, and
//! that forecast is judged against what period t booked — the accuracy a method would have had
//! had it been used all along, judged as the calls are ([`crate::domain::accuracy`]). The
//! smoothing methods get every prefix's fit from one run per combination of weights
//! ([`smoothing::rolling_holt`]); the tests hold them to fitting each prefix anew.

use rust_decimal::Decimal;

use super::{Method, Series, StatisticsError, as_bookings, regression, smoothing};
use crate::domain::accuracy::{Accuracy, Comparison};

/// One back-tested period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BacktestPoint {
    /// The period's index in the series (0 the oldest).
    pub period_index: usize,
    /// The one-step-ahead forecast from the periods before it, beside what it booked.
    pub comparison: Comparison,
}

/// A method's back-test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backtest {
    pub method: Method,
    pub points: Vec<BacktestPoint>,
    pub accuracy: Accuracy,
}

/// The first origin every one of `methods` can forecast from: back-testing them all from it
/// judges them over the same periods, so their accuracies compare like with like.
pub fn shared_origin(methods: &[Method], season: usize) -> usize {
    methods
        .iter()
        .map(|method| method.minimum_history(season))
        .max()
        .unwrap_or(0)
}

/// Back-tests `method` over every period of `series` from `min_train` on (raised to the
/// method's minimum history when lower): `len − min_train` points, none when the series is no
/// longer than that.
pub fn backtest(
    series: &Series,
    method: Method,
    min_train: usize,
) -> Result<Backtest, StatisticsError> {
    let origin = min_train.max(method.minimum_history(series.season));
    let bookings = &series.bookings;
    let predicted = match method {
        Method::HoltLinear => smoothing::rolling_holt(bookings, origin)?,
        Method::HoltWinters => smoothing::rolling_holt_winters(bookings, series.season, origin)?,
        // A line is cheap to fit: each prefix anew.
        Method::LinearRegression => (origin..bookings.len())
            .map(|period_index| Ok(regression::fit(&bookings[..period_index])?.at(period_index)?))
            .collect::<Result<_, StatisticsError>>()?,
    };
    let points = predicted
        .into_iter()
        .zip(bookings.iter().enumerate().skip(origin))
        .map(|(predicted, (period_index, &actual))| {
            Ok(BacktestPoint {
                period_index,
                comparison: Comparison::of(as_bookings(predicted, series.minor_units), actual)?,
            })
        })
        .collect::<Result<Vec<_>, StatisticsError>>()?;
    let accuracy = Accuracy::of(
        points
            .iter()
            .map(|point| (point.comparison.forecast, point.comparison.actual)),
    )?;
    Ok(Backtest {
        method,
        points,
        accuracy,
    })
}

/// The method with the smallest mean absolute percentage error; the first of equals, and
/// `None` when no back-test has one.
pub fn recommend(backtests: &[Backtest]) -> Option<Method> {
    let mut best: Option<(&Backtest, Decimal)> = None;
    for backtest in backtests {
        let Some(mape) = backtest.accuracy.mean_absolute_percentage_error else {
            continue;
        };
        if best.is_none_or(|(_, best_mape)| mape < best_mape) {
            best = Some((backtest, mape));
        }
    }
    best.map(|(backtest, _)| backtest.method)
}

#[cfg(test)]
#[path = "backtest_tests.rs"]
mod tests;
