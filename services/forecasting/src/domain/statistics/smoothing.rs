//! Exponential smoothing: Holt's linear method (level and additive trend) and Holt–Winters
//! (level, additive trend and additive season), their weights chosen from a grid.
//!
//! The weights alpha (level), beta (trend) and gamma (season) are tried over 0.1, 0.2 … 0.9
//! and the combination with the smallest in-sample sum of squared one-step-ahead errors is
//! kept. A grid rather than a numerical optimiser: it is exact in decimals, needs no starting
//! point and gives the same weights on every machine; ties (a perfectly fitted series fits
//! under every weight) go to the smallest weights — alpha first, then beta, then gamma — so the
//! choice is deterministic.

use rust_decimal::Decimal;

use super::{Overflow, Parameters, StatisticsError, add, count, div, mul, sub};

/// The weights tried: 0.1 ≤ w ≤ 0.9 in steps of 0.1, smallest first.
fn grid() -> impl Iterator<Item = Decimal> + Clone {
    (1..=9).map(|tenths| Decimal::new(tenths, 1))
}

/// A fitted smoothing model: its weights and its state after the last period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmoothingFit {
    pub alpha: Decimal,
    pub beta: Decimal,
    /// Holt–Winters only.
    pub gamma: Option<Decimal>,
    pub level: Decimal,
    pub trend: Decimal,
    /// The season's offsets, one per period of the season, indexed by period index modulo
    /// the season's length; empty for Holt.
    pub seasonals: Vec<Decimal>,
    /// How many periods the series had (the seasonal offset of a period ahead depends on it).
    pub len: usize,
    /// The in-sample sum of squared one-step-ahead errors the weights minimise.
    pub sum_of_squares: Decimal,
}

impl SmoothingFit {
    pub fn parameters(&self) -> Parameters {
        Parameters::Smoothing {
            alpha: self.alpha,
            beta: self.beta,
            gamma: self.gamma,
        }
    }

    /// The model's figures for the `horizon` periods after the series, unrounded and
    /// unclamped: `level + h × trend (+ the season's offset for that period)`.
    pub fn forecast(&self, horizon: usize) -> Result<Vec<Decimal>, Overflow> {
        (1..=horizon)
            .map(|ahead| {
                let trended = add(self.level, mul(count(ahead)?, self.trend)?)?;
                if self.seasonals.is_empty() {
                    return Ok(trended);
                }
                let index = (self.len + ahead - 1) % self.seasonals.len();
                add(trended, self.seasonals[index])
            })
            .collect()
    }
}

/// Holt's linear method fitted to `bookings` (at least two periods: the level starts at the
/// first, the trend at the step to the second).
pub fn fit_holt(bookings: &[Decimal]) -> Result<SmoothingFit, StatisticsError> {
    if bookings.len() < 2 {
        return Err(StatisticsError::NotEnoughHistory {
            needed: 2,
            got: bookings.len(),
        });
    }
    let mut best: Option<SmoothingFit> = None;
    for alpha in grid() {
        for beta in grid() {
            let fit = run_holt(bookings, alpha, beta, &mut |_, _, _| {})?;
            if best
                .as_ref()
                .is_none_or(|best| fit.sum_of_squares < best.sum_of_squares)
            {
                best = Some(fit);
            }
        }
    }
    // The grid is never empty: a fit was kept.
    best.ok_or(StatisticsError::Overflow)
}

/// What a run shows before it reads period `index`: the squared one-step errors of the
/// periods before it, added up, and its forecast of the period — the fit of those periods
/// alone, since every recursion only looks back.
type Observer<'a> = &'a mut dyn FnMut(usize, Decimal, Decimal);

fn run_holt(
    bookings: &[Decimal],
    alpha: Decimal,
    beta: Decimal,
    observe: Observer<'_>,
) -> Result<SmoothingFit, Overflow> {
    // The callers hold at least two periods.
    let mut level = bookings[0];
    let mut trend = sub(bookings[1], bookings[0])?;
    let mut sum_of_squares = Decimal::ZERO;
    for (index, &actual) in bookings.iter().enumerate().skip(1) {
        let predicted = add(level, trend)?;
        observe(index, sum_of_squares, predicted);
        let error = sub(actual, predicted)?;
        sum_of_squares = add(sum_of_squares, mul(error, error)?)?;
        let new_level = add(
            mul(alpha, actual)?,
            mul(sub(Decimal::ONE, alpha)?, predicted)?,
        )?;
        trend = add(
            mul(beta, sub(new_level, level)?)?,
            mul(sub(Decimal::ONE, beta)?, trend)?,
        )?;
        level = new_level;
    }
    Ok(SmoothingFit {
        alpha,
        beta,
        gamma: None,
        level,
        trend,
        seasonals: Vec::new(),
        len: bookings.len(),
        sum_of_squares,
    })
}

/// Holt–Winters (additive) fitted to `bookings`, which hold at least two full seasons of
/// `season` periods.
///
/// The start comes from the first two seasons: the trend is the step between their means
/// spread over a season, the level the first season's mean carried to its last period, and
/// each offset the first season's value less that trend line — so a series that is exactly a
/// trend plus a fixed season is fitted without error from the start.
pub fn fit_holt_winters(
    bookings: &[Decimal],
    season: usize,
) -> Result<SmoothingFit, StatisticsError> {
    let season = season.max(1);
    if bookings.len() < 2 * season {
        return Err(StatisticsError::NotEnoughHistory {
            needed: 2 * season,
            got: bookings.len(),
        });
    }
    let start = start_holt_winters(bookings, season)?;
    let mut best: Option<SmoothingFit> = None;
    for alpha in grid() {
        for beta in grid() {
            for gamma in grid() {
                let fit =
                    run_holt_winters(bookings, &start, (alpha, beta, gamma), &mut |_, _, _| {})?;
                if best
                    .as_ref()
                    .is_none_or(|best| fit.sum_of_squares < best.sum_of_squares)
                {
                    best = Some(fit);
                }
            }
        }
    }
    best.ok_or(StatisticsError::Overflow)
}

/// The state at the end of the first season.
struct Start {
    season: usize,
    level: Decimal,
    trend: Decimal,
    seasonals: Vec<Decimal>,
}

fn start_holt_winters(bookings: &[Decimal], season: usize) -> Result<Start, Overflow> {
    let periods = count(season)?;
    let mean = |values: &[Decimal]| -> Result<Decimal, Overflow> {
        let sum = values
            .iter()
            .try_fold(Decimal::ZERO, |sum, &value| add(sum, value))?;
        div(sum, periods)
    };
    let first_mean = mean(&bookings[..season])?;
    let second_mean = mean(&bookings[season..2 * season])?;
    let trend = div(sub(second_mean, first_mean)?, periods)?;
    // The first season's mean is the trend line's height at its middle period.
    let middle = div(sub(periods, Decimal::ONE)?, Decimal::TWO)?;
    let level = add(first_mean, mul(trend, middle)?)?;
    let seasonals = bookings[..season]
        .iter()
        .enumerate()
        .map(|(index, &value)| {
            let line = add(first_mean, mul(trend, sub(count(index)?, middle)?)?)?;
            sub(value, line)
        })
        .collect::<Result<_, _>>()?;
    Ok(Start {
        season,
        level,
        trend,
        seasonals,
    })
}

fn run_holt_winters(
    bookings: &[Decimal],
    start: &Start,
    (alpha, beta, gamma): (Decimal, Decimal, Decimal),
    observe: Observer<'_>,
) -> Result<SmoothingFit, Overflow> {
    let mut level = start.level;
    let mut trend = start.trend;
    let mut seasonals = start.seasonals.clone();
    let mut sum_of_squares = Decimal::ZERO;
    for (index, &actual) in bookings.iter().enumerate().skip(start.season) {
        let slot = index % start.season;
        let offset = seasonals[slot];
        let trended = add(level, trend)?;
        let predicted = add(trended, offset)?;
        observe(index, sum_of_squares, predicted);
        let error = sub(actual, predicted)?;
        sum_of_squares = add(sum_of_squares, mul(error, error)?)?;
        let new_level = add(
            mul(alpha, sub(actual, offset)?)?,
            mul(sub(Decimal::ONE, alpha)?, trended)?,
        )?;
        trend = add(
            mul(beta, sub(new_level, level)?)?,
            mul(sub(Decimal::ONE, beta)?, trend)?,
        )?;
        seasonals[slot] = add(
            mul(gamma, sub(actual, new_level)?)?,
            mul(sub(Decimal::ONE, gamma)?, offset)?,
        )?;
        level = new_level;
    }
    Ok(SmoothingFit {
        alpha,
        beta,
        gamma: Some(gamma),
        level,
        trend,
        seasonals,
        len: bookings.len(),
        sum_of_squares,
    })
}

/// For every period from `origin` on, the one-step forecast of the model fitted on the periods
/// before it — its weights chosen on those periods alone, as a fit of that prefix would choose
/// them — unrounded. The same figures as fitting every prefix anew, in one run of the series
/// per combination of weights instead of one per prefix: a prefix's state and squared errors
/// are the whole run's at that point. `origin` is at least the method's minimum history and
/// below the series' length.
fn rolling_one_step<W: Copy>(
    len: usize,
    origin: usize,
    weights: impl Iterator<Item = W>,
    mut run: impl FnMut(W, Observer<'_>) -> Result<(), Overflow>,
) -> Result<Vec<Decimal>, Overflow> {
    let mut best: Vec<Option<(Decimal, Decimal)>> = vec![None; len.saturating_sub(origin)];
    for weight in weights {
        run(weight, &mut |index, sum_of_squares, predicted| {
            let Some(slot) = index.checked_sub(origin).and_then(|at| best.get_mut(at)) else {
                return;
            };
            if slot.is_none_or(|(smallest, _)| sum_of_squares < smallest) {
                *slot = Some((sum_of_squares, predicted));
            }
        })?;
    }
    Ok(best
        .into_iter()
        .map(|kept| kept.map_or(Decimal::ZERO, |(_, predicted)| predicted))
        .collect())
}

/// Holt's one-step forecasts of every period from `origin` (≥ 2) on, each fitted on the
/// periods before it.
pub fn rolling_holt(bookings: &[Decimal], origin: usize) -> Result<Vec<Decimal>, StatisticsError> {
    if origin < 2 || bookings.len() <= origin {
        return Ok(Vec::new());
    }
    let weights = grid().flat_map(|alpha| grid().map(move |beta| (alpha, beta)));
    Ok(rolling_one_step(
        bookings.len(),
        origin,
        weights,
        |(alpha, beta), observe| run_holt(bookings, alpha, beta, observe).map(drop),
    )?)
}

/// Holt–Winters' one-step forecasts of every period from `origin` (≥ two seasons) on, each
/// fitted on the periods before it.
pub fn rolling_holt_winters(
    bookings: &[Decimal],
    season: usize,
    origin: usize,
) -> Result<Vec<Decimal>, StatisticsError> {
    let season = season.max(1);
    if origin < 2 * season || bookings.len() <= origin {
        return Ok(Vec::new());
    }
    let start = start_holt_winters(bookings, season)?;
    let weights = grid().flat_map(|alpha| {
        grid().flat_map(move |beta| grid().map(move |gamma| (alpha, beta, gamma)))
    });
    Ok(rolling_one_step(
        bookings.len(),
        origin,
        weights,
        |weights, observe| run_holt_winters(bookings, &start, weights, observe).map(drop),
    )?)
}

#[cfg(test)]
#[path = "smoothing_tests.rs"]
mod tests;
