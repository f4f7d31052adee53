//! Performance rankings (F7): the attainment leaderboard of reps or teams for a period and each
//! one's attainment trend over periods. Figures are in the corporate currency; percentages are
//! rounded half away from zero to [`PERCENT_PLACES`] like every report of the suite.

use std::cmp::Ordering;

use crm_platform::money::round_commercial;
use rust_decimal::Decimal;

/// Decimals of every percentage the forecast shows (attainment, shares, rates, changes).
pub const PERCENT_PLACES: u32 = 2;

/// `part` as a percentage of `whole`, rounded to [`PERCENT_PLACES`]; `None` when there is no
/// base to measure against (`whole` zero) or the quotient is beyond what a `Decimal` holds.
/// A negative `whole` measures against its size, so the sign says which way `part` goes.
pub fn percent_of(part: Decimal, whole: Decimal) -> Option<Decimal> {
    if whole.is_zero() {
        return None;
    }
    let ratio = part
        .checked_mul(Decimal::ONE_HUNDRED)?
        .checked_div(whole.abs())?;
    Some(round_commercial(ratio, PERCENT_PLACES))
}

/// Competition ranks ("1, 2, 2, 4") of a list already in ranking order: an entry the same as
/// the one before it (by `same`) shares its rank, and the next different one is placed after
/// everyone ranked ahead of it.
pub fn competition_ranks<T>(ordered: &[T], same: impl Fn(&T, &T) -> bool) -> Vec<u32> {
    let mut ranks: Vec<u32> = Vec::with_capacity(ordered.len());
    for (index, entry) in ordered.iter().enumerate() {
        let rank = match index.checked_sub(1) {
            Some(before) if same(&ordered[before], entry) => ranks[before],
            _ => u32::try_from(index + 1).unwrap_or(u32::MAX),
        };
        ranks.push(rank);
    }
    ranks
}

/// A rep or a team on the leaderboard: its target (quota) for the period, if it has one, and
/// its result (closed-won bookings).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contender<I> {
    /// A rep's user id, a team's path.
    pub id: I,
    pub target: Option<Decimal>,
    pub result: Decimal,
}

impl<I> Contender<I> {
    /// Result ÷ target as a percentage; `None` without a positive target.
    pub fn attainment(&self) -> Option<Decimal> {
        self.positive_target()
            .and_then(|target| percent_of(self.result, target))
    }

    fn positive_target(&self) -> Option<Decimal> {
        self.target.filter(|target| *target > Decimal::ZERO)
    }

    /// Who stands ahead: the higher attainment (compared exactly, not as rounded — 66.666…% is
    /// ahead of 66.66%), a contender without a target after every one with one; then the
    /// higher result.
    fn standing<J>(&self, other: &Contender<J>) -> Ordering {
        let attainment = match (self.positive_target(), other.positive_target()) {
            (Some(mine), Some(theirs)) => {
                exact_ratio_order(self.result, mine, other.result, theirs)
            }
            (Some(_), None) => Ordering::Greater,
            (None, Some(_)) => Ordering::Less,
            (None, None) => Ordering::Equal,
        };
        attainment.then_with(|| self.result.cmp(&other.result))
    }
}

/// Orders `a / b` against `c / d` (b, d > 0) by cross-multiplying, which is exact; by the
/// quotients when a product is beyond what a `Decimal` holds.
fn exact_ratio_order(a: Decimal, b: Decimal, c: Decimal, d: Decimal) -> Ordering {
    match (a.checked_mul(d), c.checked_mul(b)) {
        (Some(left), Some(right)) => left.cmp(&right),
        _ => (a / b).cmp(&(c / d)),
    }
}

/// A contender's place on the leaderboard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Standing<I> {
    /// 1 for the first; contenders with equal attainment and result share a rank.
    pub rank: u32,
    pub id: I,
    pub target: Option<Decimal>,
    pub result: Decimal,
    /// Percent of target, [`PERCENT_PLACES`] decimals; `None` without a target.
    pub attainment: Option<Decimal>,
}

/// The leaderboard: contenders by attainment, then result, then id (so the order is the same
/// on every call), with competition ranks. Without any targets it ranks by result alone.
pub fn leaderboard<I: Ord>(mut contenders: Vec<Contender<I>>) -> Vec<Standing<I>> {
    contenders.sort_by(|a, b| b.standing(a).then_with(|| a.id.cmp(&b.id)));
    let ranks = competition_ranks(&contenders, |a, b| a.standing(b) == Ordering::Equal);
    contenders
        .into_iter()
        .zip(ranks)
        .map(|(contender, rank)| Standing {
            rank,
            attainment: contender.attainment(),
            id: contender.id,
            target: contender.target,
            result: contender.result,
        })
        .collect()
}

/// One period's target and result of a rep or team.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeriodFigures<P> {
    pub period: P,
    pub target: Option<Decimal>,
    pub result: Decimal,
}

/// A period of an attainment trend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrendPoint<P> {
    pub period: P,
    pub target: Option<Decimal>,
    pub result: Decimal,
    pub attainment: Option<Decimal>,
    /// Percentage points against the period before (of the attainments as shown, so the
    /// figures add up on screen); `None` for the first period or when either has no target.
    pub attainment_change: Option<Decimal>,
    /// The result against the period before; `None` for the first period.
    pub result_change: Option<Decimal>,
}

/// Attainment per period, in the order given (oldest first), each against the one before.
pub fn attainment_trend<P: Clone>(periods: &[PeriodFigures<P>]) -> Vec<TrendPoint<P>> {
    let mut points: Vec<TrendPoint<P>> = Vec::with_capacity(periods.len());
    for figures in periods {
        let attainment = Contender {
            id: (),
            target: figures.target,
            result: figures.result,
        }
        .attainment();
        let before = points.last();
        points.push(TrendPoint {
            period: figures.period.clone(),
            target: figures.target,
            result: figures.result,
            attainment,
            attainment_change: before.and_then(|before| Some(attainment? - before.attainment?)),
            result_change: before.map(|before| figures.result - before.result),
        });
    }
    points
}

#[cfg(test)]
#[path = "ranking_tests.rs"]
mod tests;
