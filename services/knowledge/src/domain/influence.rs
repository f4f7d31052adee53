//! Content influence (K5): of the deals an article touched (attached to them, or read from
//! their page), how many were won, lost and are still open. A win rate is a claim, so it is
//! given only from a minimum of closed deals on: below it the counts are shown and the rate is
//! withheld — no conclusions from three deals. Pure.

use rust_decimal::{Decimal, RoundingStrategy};

/// The fewest closed deals a win rate is given from when the caller names none.
pub const DEFAULT_MIN_CLOSED: u32 = 10;

/// Deals by outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcomes {
    pub won: u64,
    pub lost: u64,
    pub open: u64,
}

impl Outcomes {
    pub fn deals(&self) -> u64 {
        self.won + self.lost + self.open
    }

    pub fn closed(&self) -> u64 {
        self.won + self.lost
    }

    /// won ÷ (won + lost) to 4 places, half to even; `None` below `min_closed` closed deals
    /// (and always with none closed: there is no rate of nothing).
    pub fn win_rate(&self, min_closed: u32) -> Option<Decimal> {
        let closed = self.closed();
        if closed == 0 || closed < u64::from(min_closed) {
            return None;
        }
        let rate = Decimal::from(self.won) / Decimal::from(closed);
        Some(rate.round_dp_with_strategy(4, RoundingStrategy::MidpointNearestEven))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn outcomes(won: u64, lost: u64, open: u64) -> Outcomes {
        Outcomes { won, lost, open }
    }

    #[test]
    fn the_rate_is_won_over_closed_to_four_places() {
        // 5 won of 8 closed: 0.625 exactly; 2 of 3 is 0.6667 (0.66666… rounded); open deals
        // are counted but take no part in the rate.
        assert_eq!(outcomes(5, 3, 4).win_rate(8), Some(Decimal::new(6250, 4)));
        assert_eq!(outcomes(2, 1, 0).win_rate(3), Some(Decimal::new(6667, 4)));
        assert_eq!(outcomes(5, 3, 4).deals(), 12);
    }

    #[test]
    fn too_few_closed_deals_give_no_rate() {
        assert_eq!(outcomes(3, 0, 40).win_rate(10), None);
        assert_eq!(outcomes(9, 0, 0).win_rate(10), None);
        assert_eq!(outcomes(10, 0, 0).win_rate(10), Some(Decimal::ONE));
        assert_eq!(outcomes(0, 0, 5).win_rate(0), None);
        assert_eq!(outcomes(0, 1, 0).win_rate(0), Some(Decimal::ZERO));
    }

    proptest! {
        /// A rate, when given, lies in 0..=1, is within half a unit of the fourth place of
        /// won ÷ closed, and is given exactly when enough deals closed.
        #[test]
        fn rates_are_bounded_and_exact(won in 0u64..10_000, lost in 0u64..10_000, open in 0u64..100, min in 0u32..50) {
            let counted = outcomes(won, lost, open);
            match counted.win_rate(min) {
                None => prop_assert!(won + lost == 0 || won + lost < u64::from(min)),
                Some(rate) => {
                    prop_assert!(won + lost >= u64::from(min.max(1)));
                    prop_assert!(rate >= Decimal::ZERO && rate <= Decimal::ONE);
                    let exact = Decimal::from(won) / Decimal::from(won + lost);
                    prop_assert!((rate - exact).abs() <= Decimal::new(5, 5));
                }
            }
        }
    }
}
