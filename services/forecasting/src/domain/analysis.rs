//! Sales analysis (F8): bookings or pipeline of a period grouped by a dimension (product,
//! customer, industry, rep, team, month) — each group's share of the total, its change against
//! the previous period and the same period a year earlier, and its rank. Amounts are in the
//! corporate currency and never negative (the read model holds no negative amounts).

use crm_platform::shares::apportion;
use rust_decimal::Decimal;

use super::ranking::{PERCENT_PLACES, competition_ranks, percent_of};

/// A figure against its base: the difference and the difference as a percentage of the base
/// (`None` when the base is zero — growth from nothing has no percentage).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    pub absolute: Decimal,
    pub percent: Option<Decimal>,
}

impl Change {
    pub fn between(current: Decimal, base: Decimal) -> Change {
        let absolute = current - base;
        Change {
            absolute,
            percent: percent_of(absolute, base),
        }
    }
}

/// One group's amounts in the period analysed, the one before and the same one a year earlier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupAmounts<K> {
    pub key: K,
    pub current: Decimal,
    pub previous: Decimal,
    pub year_ago: Decimal,
}

/// A group of the analysis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupAnalysis<K> {
    pub key: K,
    /// By the current amount; equal amounts share a rank.
    pub rank: u32,
    pub current: Decimal,
    /// Percent of the period's total, [`PERCENT_PLACES`] decimals; the groups' shares add up
    /// to exactly 100. `None` when the total is zero.
    pub share: Option<Decimal>,
    pub previous: Decimal,
    pub year_ago: Decimal,
    pub against_previous: Change,
    pub against_year_ago: Change,
}

/// The analysis of a period: its totals and the groups, largest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Analysis<K> {
    pub total: GroupAmounts<()>,
    pub total_against_previous: Change,
    pub total_against_year_ago: Change,
    pub groups: Vec<GroupAnalysis<K>>,
}

/// Analyses `groups` (one entry per key): ranked by the current amount, then key, so the order
/// is the same on every call. A group with nothing now but something before is kept, ranked
/// last, to show what fell away.
pub fn analyse<K: Ord>(mut groups: Vec<GroupAmounts<K>>) -> Analysis<K> {
    groups.sort_by(|a, b| b.current.cmp(&a.current).then_with(|| a.key.cmp(&b.key)));
    let sum = |amount: fn(&GroupAmounts<K>) -> Decimal| groups.iter().map(amount).sum();
    let total = GroupAmounts {
        key: (),
        current: sum(|group| group.current),
        previous: sum(|group| group.previous),
        year_ago: sum(|group| group.year_ago),
    };
    let currents: Vec<Decimal> = groups.iter().map(|group| group.current).collect();
    let shares = largest_remainder_shares(&currents, PERCENT_PLACES).map_or_else(
        || vec![None; groups.len()],
        |shares| shares.into_iter().map(Some).collect(),
    );
    let ranks = competition_ranks(&currents, |a, b| a == b);
    Analysis {
        total_against_previous: Change::between(total.current, total.previous),
        total_against_year_ago: Change::between(total.current, total.year_ago),
        total,
        groups: groups
            .into_iter()
            .zip(shares.into_iter().zip(ranks))
            .map(|(group, (share, rank))| GroupAnalysis {
                rank,
                share,
                against_previous: Change::between(group.current, group.previous),
                against_year_ago: Change::between(group.current, group.year_ago),
                key: group.key,
                current: group.current,
                previous: group.previous,
                year_ago: group.year_ago,
            })
            .collect(),
    }
}

/// Each amount's percentage of their sum at `places` decimals, adding up to exactly 100 (see
/// [`apportion`]). `None` when the sum is not positive or an amount is negative.
pub fn largest_remainder_shares(amounts: &[Decimal], places: u32) -> Option<Vec<Decimal>> {
    apportion(Decimal::ONE_HUNDRED, amounts, places)
}

#[cfg(test)]
#[path = "analysis_tests.rs"]
mod tests;
