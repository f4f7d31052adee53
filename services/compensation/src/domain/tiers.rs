//! Tier maths: where a plan's attainment boundaries fall in money for a rep's quota, and which
//! rate each part of a credit earns — marginally (a credit crossing a boundary is split there)
//! or retroactively (every credit at the rate the period's total reaches). Exact: the parts of
//! a credit add up to it, and nothing is rounded here.

use rust_decimal::Decimal;

use super::plan::{Commission, Tiering};

/// A part of a credit and the rate it earned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The tier's index in the plan; `None` above the attainment ceiling.
    pub tier: Option<usize>,
    pub rate: Decimal,
    pub base: Decimal,
}

impl Segment {
    /// Exact, unrounded.
    pub fn commission(&self) -> Decimal {
        self.base * self.rate / Decimal::ONE_HUNDRED
    }
}

/// The tiers in money: each tier's lower bound (quota × its attainment) and rate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    tiers: Vec<(Decimal, Decimal)>,
    ceiling: Option<Decimal>,
    tiering: Tiering,
}

impl Schedule {
    /// `quota` is the period's (prorated) quota; a flat plan needs none (pass 0).
    pub fn new(commission: &Commission, quota: Decimal) -> Schedule {
        let at = |attainment: Decimal| quota * attainment / Decimal::ONE_HUNDRED;
        Schedule {
            tiers: commission
                .tiers
                .iter()
                .map(|tier| (at(tier.from_attainment), tier.rate))
                .collect(),
            ceiling: commission.attainment_ceiling.map(at),
            tiering: commission.tiering,
        }
    }

    /// The index of the tier a cumulative credit of `total` stands in.
    pub fn tier_of(&self, total: Decimal) -> usize {
        self.tiers
            .iter()
            .rposition(|(from, _)| *from <= total)
            .unwrap_or(0)
    }

    /// The parts of a credit of `amount` (≥ 0) credited after `before` in the period, with the
    /// rates they earn. Marginal: split at every boundary the credit crosses. Retroactive: at
    /// the rate of the tier the period's `total` reaches. Either way, split at the ceiling.
    pub fn segments(&self, before: Decimal, amount: Decimal, total: Decimal) -> Vec<Segment> {
        let after = before + amount;
        let capped_after = self.ceiling.map_or(after, |ceiling| after.min(ceiling));
        let mut segments = Vec::new();
        match self.tiering {
            Tiering::Marginal => {
                for (index, (from, rate)) in self.tiers.iter().enumerate() {
                    let until = self.tiers.get(index + 1).map(|(next, _)| *next);
                    let low = before.max(*from);
                    let high = until.map_or(capped_after, |until| until.min(capped_after));
                    if high > low {
                        segments.push(Segment {
                            tier: Some(index),
                            rate: *rate,
                            base: high - low,
                        });
                    }
                }
            }
            Tiering::Retroactive => {
                let tier = self.tier_of(total.min(self.ceiling.unwrap_or(total)));
                if capped_after > before {
                    segments.push(Segment {
                        tier: Some(tier),
                        rate: self.tiers[tier].1,
                        base: capped_after - before,
                    });
                }
            }
        }
        let above = after - capped_after.max(before);
        if above > Decimal::ZERO {
            segments.push(Segment {
                tier: None,
                rate: Decimal::ZERO,
                base: above,
            });
        }
        segments
    }

    /// The exact commission on a period's credit of `total` (in one piece).
    pub fn commission_on(&self, total: Decimal) -> Decimal {
        self.segments(Decimal::ZERO, total, total)
            .iter()
            .map(Segment::commission)
            .sum()
    }
}

#[cfg(test)]
#[path = "tiers_tests.rs"]
mod tests;
