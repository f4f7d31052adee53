//! Funnel analytics (O10): the figures of a pipeline's funnel from the monthly roll-up's sums —
//! per stage the share of stays that moved forward and the average time in it, and overall the
//! win rate, average deal size, sales-cycle length and pipeline velocity; and, comparing reps,
//! the stage where a rep loses most deals. Undefined figures (nothing exited, nothing closed)
//! are `None`, never 0, so a console does not show a rate nobody earned.

use std::ops::AddAssign;

use crm_platform::money::{CurrencyCode, Money, fixed};
use rust_decimal::Decimal;
use uuid::Uuid;

/// Decimals of rates (conversion, win rate, the weakest stage's gap).
const RATE_PLACES: u32 = 4;
/// Decimals of day counts.
const DAY_PLACES: u32 = 2;
const SECONDS_PER_DAY: i64 = 86_400;

/// What flowed through one open stage (summed roll-up rows).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StageFlows {
    /// Stays that began in the stage.
    pub entered: u64,
    /// Stays that ended (moved forward, moved back, won or lost) …
    pub exited: u64,
    /// … of which moved forward to a later stage or won …
    pub advanced: u64,
    /// … or ended with the deal lost.
    pub lost: u64,
    /// The ended stays' durations, summed.
    pub seconds_in_stage: Decimal,
}

impl AddAssign for StageFlows {
    fn add_assign(&mut self, other: Self) {
        self.entered += other.entered;
        self.exited += other.exited;
        self.advanced += other.advanced;
        self.lost += other.lost;
        self.seconds_in_stage += other.seconds_in_stage;
    }
}

impl StageFlows {
    /// advanced / exited, four decimals; `None` when nothing exited.
    pub fn conversion_rate(&self) -> Option<Decimal> {
        rate(self.advanced, self.exited)
    }

    /// seconds / exited / 86,400, two decimals; `None` when nothing exited.
    pub fn average_days_in_stage(&self) -> Option<Decimal> {
        (self.exited > 0).then(|| {
            fixed(
                self.seconds_in_stage / Decimal::from(self.exited) / Decimal::from(SECONDS_PER_DAY),
                DAY_PLACES,
            )
        })
    }

    /// True when nothing flowed (a retired stage with no flows is left out of a funnel).
    pub fn is_empty(&self) -> bool {
        *self == StageFlows::default()
    }
}

/// Deals closed in the period (summed roll-up rows).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcomes {
    pub won: u64,
    pub lost: u64,
    /// The won deals' corporate amounts, summed.
    pub won_amount: Decimal,
    /// How many won deals had a corporate amount.
    pub won_with_amount: u64,
    /// Seconds from creation to win, summed over the won deals.
    pub cycle_seconds: Decimal,
}

impl AddAssign for Outcomes {
    fn add_assign(&mut self, other: Self) {
        self.won += other.won;
        self.lost += other.lost;
        self.won_amount += other.won_amount;
        self.won_with_amount += other.won_with_amount;
        self.cycle_seconds += other.cycle_seconds;
    }
}

/// Open deals now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenDeals {
    pub count: u64,
    /// Their corporate amounts, summed (deals without one add nothing).
    pub amount: Decimal,
}

impl AddAssign for OpenDeals {
    fn add_assign(&mut self, other: Self) {
        self.count += other.count;
        self.amount += other.amount;
    }
}

/// The figures of one funnel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunnelFigures {
    pub won: u64,
    pub lost: u64,
    /// won / (won + lost), four decimals; `None` when nothing closed.
    pub win_rate: Option<Decimal>,
    /// won amount / won deals with an amount, in the currency's minor units; `None` when no won
    /// deal had a corporate amount (or there is no corporate currency).
    pub average_deal_size: Option<Money>,
    /// cycle seconds / won / 86,400, two decimals; `None` when nothing was won.
    pub average_sales_cycle_days: Option<Decimal>,
    pub open_deals: u64,
    /// `None` without a corporate currency.
    pub open_amount: Option<Money>,
    /// open deals × average deal size × win rate / average sales-cycle days, from the unrounded
    /// factors, in the currency's minor units; `None` when a factor is missing (or the cycle is
    /// 0 days, which would divide by zero).
    pub velocity_per_day: Option<Money>,
    /// `None` without a corporate currency.
    pub won_amount: Option<Money>,
}

/// The figures of a funnel from its outcomes and open deals, amounts in `currency` (the
/// corporate currency; `None` while the organisation has none).
pub fn figures(
    outcomes: &Outcomes,
    open: &OpenDeals,
    currency: Option<CurrencyCode>,
) -> FunnelFigures {
    let closed = outcomes.won + outcomes.lost;
    let unrounded_size = (outcomes.won_with_amount > 0)
        .then(|| outcomes.won_amount / Decimal::from(outcomes.won_with_amount));
    let unrounded_win_rate =
        (closed > 0).then(|| Decimal::from(outcomes.won) / Decimal::from(closed));
    let unrounded_cycle_days = (outcomes.won > 0).then(|| {
        outcomes.cycle_seconds / Decimal::from(outcomes.won) / Decimal::from(SECONDS_PER_DAY)
    });
    let velocity = match (unrounded_size, unrounded_win_rate, unrounded_cycle_days) {
        (Some(size), Some(win_rate), Some(days)) if days > Decimal::ZERO => {
            Decimal::from(open.count)
                .checked_mul(size)
                .and_then(|value| value.checked_mul(win_rate))
                .and_then(|value| value.checked_div(days))
        }
        _ => None,
    };
    let money = |amount: Decimal| {
        currency.map(|currency| Money {
            currency,
            amount: fixed(amount, currency.minor_units()),
        })
    };
    FunnelFigures {
        won: outcomes.won,
        lost: outcomes.lost,
        win_rate: win_rate(outcomes.won, outcomes.lost),
        average_deal_size: unrounded_size.and_then(money),
        average_sales_cycle_days: unrounded_cycle_days.map(|days| fixed(days, DAY_PLACES)),
        open_deals: open.count,
        open_amount: money(open.amount),
        velocity_per_day: velocity.and_then(money),
        won_amount: money(outcomes.won_amount),
    }
}

/// won / (won + lost), four decimals; `None` when nothing closed (a funnel's, or a
/// competitor's over the deals it was on).
pub fn win_rate(won: u64, lost: u64) -> Option<Decimal> {
    rate(won, won + lost)
}

/// part / whole, four decimals; `None` when the whole is 0.
fn rate(part: u64, whole: u64) -> Option<Decimal> {
    (whole > 0).then(|| fixed(Decimal::from(part) / Decimal::from(whole), RATE_PLACES))
}

/// One open stage as a rep and the average went through it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageComparison {
    pub stage_id: Uuid,
    pub position: u32,
    pub rep: StageFlows,
    pub average: StageFlows,
}

/// The stage where a rep loses most deals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeakestStage {
    pub stage_id: Uuid,
    /// The rep's conversion rate there minus the average's, both as shown (four decimals), so
    /// the gap is exactly their difference; `None` if either is undefined.
    pub gap: Option<Decimal>,
}

/// The open stage the rep lost most deals from (ties: the earlier position); `None` when the
/// rep lost none.
pub fn weakest_stage(stages: &[StageComparison]) -> Option<WeakestStage> {
    stages
        .iter()
        .filter(|stage| stage.rep.lost > 0)
        .min_by(|a, b| {
            b.rep
                .lost
                .cmp(&a.rep.lost)
                .then(a.position.cmp(&b.position))
        })
        .map(|stage| WeakestStage {
            stage_id: stage.stage_id,
            gap: match (stage.rep.conversion_rate(), stage.average.conversion_rate()) {
                (Some(rep), Some(average)) => Some(fixed(rep - average, RATE_PLACES)),
                _ => None,
            },
        })
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use proptest::prelude::*;

    use super::*;

    fn decimal(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn shown(money: Option<Money>) -> Option<String> {
        money.map(|money| format!("{} {}", money.currency, money.amount))
    }

    const DAY: i64 = 86_400;

    fn flows(exited: u64, advanced: u64, lost: u64, seconds: i64) -> StageFlows {
        StageFlows {
            entered: exited,
            exited,
            advanced,
            lost,
            seconds_in_stage: Decimal::from(seconds),
        }
    }

    #[test]
    fn a_stage_converts_the_share_of_its_exits_that_moved_forward() {
        // 3 of 4 stays moved forward: 3 / 4 = 0.75; stays of 1, 2, 4.5 and 2.5 days:
        // (86,400 + 172,800 + 388,800 + 216,000) / 4 / 86,400 = 864,000 / 345,600 = 2.5.
        let stage = flows(4, 3, 1, 864_000);
        assert_eq!(stage.conversion_rate().unwrap().to_string(), "0.7500");
        assert_eq!(stage.average_days_in_stage().unwrap().to_string(), "2.50");
        // 1 / 3 = 0.3333…, 2 / 3 = 0.6666… → 0.6667; 100,000 s / 3 / 86,400 = 0.3858… → 0.39.
        assert_eq!(
            flows(3, 1, 0, 0).conversion_rate().unwrap().to_string(),
            "0.3333"
        );
        assert_eq!(
            flows(3, 2, 0, 0).conversion_rate().unwrap().to_string(),
            "0.6667"
        );
        assert_eq!(
            flows(3, 0, 0, 100_000)
                .average_days_in_stage()
                .unwrap()
                .to_string(),
            "0.39"
        );
    }

    #[test]
    fn a_stage_nothing_left_has_no_rates() {
        let entered_only = StageFlows {
            entered: 5,
            ..StageFlows::default()
        };
        assert_eq!(entered_only.conversion_rate(), None);
        assert_eq!(entered_only.average_days_in_stage(), None);
        assert!(!entered_only.is_empty());
        assert!(StageFlows::default().is_empty());
    }

    fn outcomes() -> Outcomes {
        // Won: 1,000,000 + 1,500,000 + 500,000 after 30, 60 and 90 days; one lost.
        Outcomes {
            won: 3,
            lost: 1,
            won_amount: decimal("3000000.00"),
            won_with_amount: 3,
            cycle_seconds: Decimal::from((30 + 60 + 90) * DAY),
        }
    }

    #[test]
    fn the_figures_of_a_funnel() {
        let open = OpenDeals {
            count: 10,
            amount: decimal("4200000.00"),
        };
        let figures = figures(&outcomes(), &open, Some(CurrencyCode::CNY));
        assert_eq!((figures.won, figures.lost, figures.open_deals), (3, 1, 10));
        // 3 / (3 + 1) = 0.75.
        assert_eq!(figures.win_rate.unwrap().to_string(), "0.7500");
        // 3,000,000 / 3 = 1,000,000.
        assert_eq!(shown(figures.average_deal_size).unwrap(), "CNY 1000000.00");
        // 180 days × 86,400 / 3 / 86,400 = 60.
        assert_eq!(
            figures.average_sales_cycle_days.unwrap().to_string(),
            "60.00"
        );
        // 10 × 1,000,000 × 0.75 / 60 = 125,000 a day.
        assert_eq!(shown(figures.velocity_per_day).unwrap(), "CNY 125000.00");
        assert_eq!(shown(figures.open_amount).unwrap(), "CNY 4200000.00");
        assert_eq!(shown(figures.won_amount).unwrap(), "CNY 3000000.00");
    }

    #[test]
    fn velocity_uses_the_unrounded_factors() {
        // 1 won of 3 closed: 1 / 3 (shown 0.3333); 100,000 won in 7 days; 3 open deals:
        // 3 × 100,000 × (1 / 3) / 7 = 14,285.714… → 14,285.71 (0.3333 would give 14,284.29).
        let outcomes = Outcomes {
            won: 1,
            lost: 2,
            won_amount: decimal("100000"),
            won_with_amount: 1,
            cycle_seconds: Decimal::from(7 * DAY),
        };
        let open = OpenDeals {
            count: 3,
            amount: Decimal::ZERO,
        };
        let figures = figures(&outcomes, &open, Some(CurrencyCode::CNY));
        assert_eq!(figures.win_rate.unwrap().to_string(), "0.3333");
        assert_eq!(
            figures.average_sales_cycle_days.unwrap().to_string(),
            "7.00"
        );
        assert_eq!(shown(figures.velocity_per_day).unwrap(), "CNY 14285.71");
    }

    #[test]
    fn won_deals_without_a_corporate_amount_leave_the_average_size_alone() {
        // Two won, one with an amount of 800,000: the average is 800,000 / 1, not / 2.
        let outcomes = Outcomes {
            won: 2,
            lost: 0,
            won_amount: decimal("800000"),
            won_with_amount: 1,
            cycle_seconds: Decimal::from(20 * DAY),
        };
        let figures = figures(&outcomes, &OpenDeals::default(), Some(CurrencyCode::CNY));
        assert_eq!(shown(figures.average_deal_size).unwrap(), "CNY 800000.00");
        assert_eq!(figures.win_rate.unwrap().to_string(), "1.0000");
        // No open deals: nothing is expected a day, which is a figure (0), not a missing one.
        assert_eq!(shown(figures.velocity_per_day).unwrap(), "CNY 0.00");
    }

    #[test]
    fn undefined_figures_are_absent() {
        let open = OpenDeals {
            count: 4,
            amount: decimal("10"),
        };
        let nothing_closed = figures(&Outcomes::default(), &open, Some(CurrencyCode::CNY));
        assert_eq!(nothing_closed.win_rate, None);
        assert_eq!(nothing_closed.average_deal_size, None);
        assert_eq!(nothing_closed.average_sales_cycle_days, None);
        assert_eq!(nothing_closed.velocity_per_day, None);
        assert_eq!(shown(nothing_closed.won_amount).unwrap(), "CNY 0.00");
        // Only losses: a win rate of 0, but no size, cycle or velocity.
        let lost_only = Outcomes {
            lost: 2,
            ..Outcomes::default()
        };
        let lost = figures(&lost_only, &open, Some(CurrencyCode::CNY));
        assert_eq!(lost.win_rate.unwrap().to_string(), "0.0000");
        assert_eq!(lost.velocity_per_day, None);
        // Won on the day they were created: a 0-day cycle gives no velocity.
        let instant = Outcomes {
            cycle_seconds: Decimal::ZERO,
            ..outcomes()
        };
        assert_eq!(
            figures(&instant, &open, Some(CurrencyCode::CNY)).velocity_per_day,
            None
        );
        // No corporate currency: no amounts at all, the counts and rates stay.
        let uncurrenced = figures(&outcomes(), &open, None);
        assert_eq!(uncurrenced.open_amount, None);
        assert_eq!(uncurrenced.won_amount, None);
        assert_eq!(uncurrenced.average_deal_size, None);
        assert_eq!(uncurrenced.velocity_per_day, None);
        assert_eq!(uncurrenced.win_rate.unwrap().to_string(), "0.7500");
    }

    #[test]
    fn amounts_round_to_the_currencys_minor_unit_half_away_from_zero() {
        // 1,000.01 / 2 = 500.005 → 500.01 in CNY; 1,001 / 2 = 500.5 → 501 in JPY.
        let outcomes = Outcomes {
            won: 2,
            won_with_amount: 2,
            won_amount: decimal("1000.01"),
            cycle_seconds: Decimal::from(DAY),
            ..Outcomes::default()
        };
        let cny = figures(&outcomes, &OpenDeals::default(), Some(CurrencyCode::CNY));
        assert_eq!(shown(cny.average_deal_size).unwrap(), "CNY 500.01");
        let yen = Outcomes {
            won_amount: decimal("1001"),
            ..outcomes
        };
        let jpy: CurrencyCode = "JPY".parse().unwrap();
        let figures = figures(&yen, &OpenDeals::default(), Some(jpy));
        assert_eq!(shown(figures.average_deal_size).unwrap(), "JPY 501");
    }

    fn comparison(position: u32, rep: StageFlows, average: StageFlows) -> StageComparison {
        StageComparison {
            stage_id: Uuid::now_v7(),
            position,
            rep,
            average,
        }
    }

    #[test]
    fn the_weakest_stage_is_where_the_rep_lost_most() {
        // Lost 2 at Develop and 2 at Propose: the earlier, Develop. There the rep converted
        // 1 / 4 = 0.25 and everyone 6 / 10 = 0.6: a gap of 0.25 − 0.6 = −0.35.
        let qualify = comparison(1, flows(5, 4, 1, 0), flows(20, 15, 5, 0));
        let develop = comparison(2, flows(4, 1, 2, 0), flows(10, 6, 3, 0));
        let propose = comparison(3, flows(3, 1, 2, 0), flows(8, 5, 3, 0));
        let weakest = weakest_stage(&[propose, qualify, develop]).unwrap();
        assert_eq!(weakest.stage_id, develop.stage_id);
        assert_eq!(weakest.gap.unwrap().to_string(), "-0.3500");
    }

    #[test]
    fn the_gap_is_the_difference_of_the_rates_as_shown() {
        // The rep's 1 / 3 shows 0.3333, the average's 1 / 2 shows 0.5000: −0.1667, and a rep
        // above the average has a positive gap: 3 / 4 − 1 / 2 = 0.25.
        let below = comparison(1, flows(3, 1, 1, 0), flows(6, 3, 1, 0));
        assert_eq!(
            weakest_stage(&[below]).unwrap().gap.unwrap().to_string(),
            "-0.1667"
        );
        let above = comparison(1, flows(4, 3, 1, 0), flows(8, 4, 2, 0));
        assert_eq!(
            weakest_stage(&[above]).unwrap().gap.unwrap().to_string(),
            "0.2500"
        );
    }

    #[test]
    fn a_rep_who_lost_nothing_has_no_weakest_stage() {
        let clean = comparison(1, flows(3, 3, 0, 0), flows(6, 3, 1, 0));
        assert_eq!(weakest_stage(&[clean]), None);
        assert_eq!(weakest_stage(&[]), None);
    }

    #[test]
    fn fixed_places_round_half_away_from_zero_and_keep_their_zeros() {
        assert_eq!(fixed(decimal("0.5"), 4).to_string(), "0.5000");
        assert_eq!(fixed(decimal("0.00005"), 4).to_string(), "0.0001");
        assert_eq!(fixed(decimal("-0.00005"), 4).to_string(), "-0.0001");
        assert_eq!(fixed(decimal("2.345"), 2).to_string(), "2.35");
    }

    proptest! {
        #[test]
        fn rates_lie_between_0_and_1(
            exited in 0u64..1_000_000,
            advanced_share in 0u64..=100,
            won in 0u64..1_000_000,
            lost in 0u64..1_000_000,
        ) {
            let advanced = exited * advanced_share / 100;
            let stage = StageFlows { exited, advanced, ..StageFlows::default() };
            if let Some(rate) = stage.conversion_rate() {
                prop_assert!(rate >= Decimal::ZERO && rate <= Decimal::ONE);
                prop_assert_eq!(rate.scale(), 4);
            } else {
                prop_assert_eq!(exited, 0);
            }
            if let Some(rate) = win_rate(won, lost) {
                prop_assert!(rate >= Decimal::ZERO && rate <= Decimal::ONE);
            } else {
                prop_assert_eq!(won + lost, 0);
            }
        }

        #[test]
        fn a_gap_lies_between_minus_1_and_1(
            rep_exited in 1u64..1000,
            rep_advanced in 0u64..1000,
            average_exited in 1u64..1000,
            average_advanced in 0u64..1000,
        ) {
            let rep = flows(rep_exited, rep_advanced.min(rep_exited), 1, 0);
            let average = flows(average_exited, average_advanced.min(average_exited), 1, 0);
            let gap = weakest_stage(&[comparison(1, rep, average)]).unwrap().gap.unwrap();
            prop_assert!(gap >= -Decimal::ONE && gap <= Decimal::ONE);
        }
    }
}
