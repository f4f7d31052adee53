//! Least squares of bookings on the period's index: `bookings ≈ intercept + slope × index`,
//! index 0 the oldest period. With x̄ and ȳ the means of indexes and bookings,
//! `slope = Σ (x − x̄)(y − ȳ) ÷ Σ (x − x̄)²` and `intercept = ȳ − slope × x̄`.

use rust_decimal::Decimal;

use super::{Overflow, StatisticsError, add, count, div, mul, sub};

/// A fitted straight line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line {
    pub intercept: Decimal,
    pub slope: Decimal,
}

impl Line {
    /// The line's height at period `index`.
    pub fn at(&self, index: usize) -> Result<Decimal, Overflow> {
        add(self.intercept, mul(self.slope, count(index)?)?)
    }

    /// The line's figures for the `horizon` periods after a series of `len` periods,
    /// unrounded and unclamped.
    pub fn forecast(&self, len: usize, horizon: usize) -> Result<Vec<Decimal>, Overflow> {
        (len..len + horizon).map(|index| self.at(index)).collect()
    }
}

/// The least-squares line through `bookings` (at least two periods, so the indexes spread).
pub fn fit(bookings: &[Decimal]) -> Result<Line, StatisticsError> {
    if bookings.len() < 2 {
        return Err(StatisticsError::NotEnoughHistory {
            needed: 2,
            got: bookings.len(),
        });
    }
    let periods = count(bookings.len())?;
    let sum = bookings
        .iter()
        .try_fold(Decimal::ZERO, |sum, &value| add(sum, value))?;
    let mean_bookings = div(sum, periods)?;
    // The indexes 0 … n−1 have the mean (n − 1) ÷ 2.
    let mean_index = div(sub(periods, Decimal::ONE)?, Decimal::TWO)?;
    let mut covariance = Decimal::ZERO;
    let mut spread = Decimal::ZERO;
    for (index, &value) in bookings.iter().enumerate() {
        let dx = sub(count(index)?, mean_index)?;
        covariance = add(covariance, mul(dx, sub(value, mean_bookings)?)?)?;
        spread = add(spread, mul(dx, dx)?)?;
    }
    let slope = div(covariance, spread)?;
    Ok(Line {
        intercept: sub(mean_bookings, mul(slope, mean_index)?)?,
        slope,
    })
}

#[cfg(test)]
#[path = "regression_tests.rs"]
mod tests;
