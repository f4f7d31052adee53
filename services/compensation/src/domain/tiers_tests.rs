use proptest::prelude::*;

use super::*;
use crate::domain::plan::{Payout, Tier};

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

/// 5 % up to quota, 8 % above (the scenario's senior plan), optionally with a ceiling.
fn senior(tiering: Tiering, ceiling: Option<&str>) -> Commission {
    Commission {
        tiers: vec![
            Tier {
                from_attainment: d("0"),
                rate: d("5"),
            },
            Tier {
                from_attainment: d("100"),
                rate: d("8"),
            },
        ],
        tiering,
        payout: Payout::OnBooking,
        attainment_ceiling: ceiling.map(d),
        cap_per_period: None,
    }
}

#[test]
fn a_credit_crossing_quota_is_split_at_the_boundary() {
    // Quota 3,000,000; 2,400,000 credited before; the Contoso deal's 1,150,000 crosses it.
    let schedule = Schedule::new(&senior(Tiering::Marginal, None), d("3000000"));
    let segments = schedule.segments(d("2400000"), d("1150000"), d("3550000"));
    assert_eq!(
        segments,
        vec![
            Segment {
                tier: Some(0),
                rate: d("5"),
                base: d("600000"),
            },
            Segment {
                tier: Some(1),
                rate: d("8"),
                base: d("550000"),
            },
        ]
    );
    // 30,000 + 44,000.
    let commission: Decimal = segments.iter().map(Segment::commission).sum();
    assert_eq!(commission, d("74000"));
}

#[test]
fn retroactive_tiers_rate_every_credit_by_the_periods_total() {
    let schedule = Schedule::new(&senior(Tiering::Retroactive, None), d("3000000"));
    // The period's total reached 3,550,000: the first deal too earns 8 %.
    assert_eq!(
        schedule.segments(d("0"), d("2400000"), d("3550000")),
        vec![Segment {
            tier: Some(1),
            rate: d("8"),
            base: d("2400000"),
        }]
    );
    // Below quota, 5 %.
    assert_eq!(schedule.commission_on(d("2999999.99")), d("149999.9995"));
    assert_eq!(schedule.commission_on(d("3000000")), d("240000"));
}

#[test]
fn credit_beyond_the_ceiling_earns_nothing() {
    // Ceiling at 150 % of 1,000,000: of a 700,000 credit after 1,000,000, 500,000 earns 8 %.
    let schedule = Schedule::new(&senior(Tiering::Marginal, Some("150")), d("1000000"));
    let segments = schedule.segments(d("1000000"), d("700000"), d("1700000"));
    assert_eq!(
        segments,
        vec![
            Segment {
                tier: Some(1),
                rate: d("8"),
                base: d("500000"),
            },
            Segment {
                tier: None,
                rate: d("0"),
                base: d("200000"),
            },
        ]
    );
    assert_eq!(schedule.commission_on(d("1700000")), d("90000"));
}

/// Three to five tiers with non-decreasing rates (accelerators), a quota and maybe a ceiling.
fn any_commission(tiering: Tiering) -> impl Strategy<Value = (Commission, Decimal)> {
    (
        prop::collection::vec((1_u32..80, 0_u32..1_500), 1..5),
        0_u32..1_500,
        prop::option::of(0_u32..200),
        1_u64..10_000_000,
    )
        .prop_map(move |(steps, first_rate, ceiling, quota)| {
            let mut tiers = vec![Tier {
                from_attainment: Decimal::ZERO,
                rate: Decimal::new(i64::from(first_rate), 2),
            }];
            let (mut from, mut rate) = (Decimal::ZERO, Decimal::new(i64::from(first_rate), 2));
            for (step, raise) in steps {
                from += Decimal::from(step);
                rate = (rate + Decimal::new(i64::from(raise), 2)).min(Decimal::ONE_HUNDRED);
                tiers.push(Tier {
                    from_attainment: from,
                    rate,
                });
            }
            let commission = Commission {
                tiers,
                tiering,
                payout: Payout::OnBooking,
                attainment_ceiling: ceiling.map(|above| from + Decimal::from(above + 1)),
                cap_per_period: None,
            };
            (commission, Decimal::new(quota as i64, 2))
        })
}

fn any_tiering() -> impl Strategy<Value = Tiering> {
    prop_oneof![Just(Tiering::Marginal), Just(Tiering::Retroactive)]
}

proptest! {
    /// A period's credits in any pieces: the parts of each add up to it, and marginally the
    /// commission of the pieces is the commission of the whole.
    #[test]
    fn the_parts_of_credits_add_up_and_pieces_earn_what_the_whole_does(
        (commission, quota) in any_tiering().prop_flat_map(any_commission),
        pieces in prop::collection::vec(0_u64..500_000_000, 1..8),
    ) {
        let schedule = Schedule::new(&commission, quota);
        let pieces: Vec<Decimal> = pieces.into_iter().map(|cents| Decimal::new(cents as i64, 2)).collect();
        let total: Decimal = pieces.iter().sum();
        let mut before = Decimal::ZERO;
        let mut earned = Decimal::ZERO;
        for piece in &pieces {
            let segments = schedule.segments(before, *piece, total);
            prop_assert_eq!(segments.iter().map(|segment| segment.base).sum::<Decimal>(), *piece);
            earned += segments.iter().map(Segment::commission).sum::<Decimal>();
            before += piece;
        }
        prop_assert_eq!(earned, schedule.commission_on(total));
    }

    /// Marginal tiers are continuous: a cent more credit earns at most a cent times the top
    /// rate more, also across a boundary — and never less.
    #[test]
    fn marginal_commission_is_continuous_and_monotone(
        (commission, quota) in any_commission(Tiering::Marginal),
        total in 0_u64..5_000_000_000,
    ) {
        let schedule = Schedule::new(&commission, quota);
        let total = Decimal::new(total as i64, 2);
        let cent = Decimal::new(1, 2);
        let step = schedule.commission_on(total + cent) - schedule.commission_on(total);
        prop_assert!(step >= Decimal::ZERO);
        prop_assert!(step <= cent);
        // At each boundary exactly: the two sides meet.
        for tier in &commission.tiers {
            let boundary = quota * tier.from_attainment / Decimal::ONE_HUNDRED;
            let below = schedule.commission_on((boundary - cent).max(Decimal::ZERO));
            let at = schedule.commission_on(boundary);
            prop_assert!(at - below <= cent);
        }
    }

    /// More attainment never pays less, however the tiers apply (rates not decreasing).
    #[test]
    fn commission_is_monotone_in_attainment(
        (commission, quota) in any_tiering().prop_flat_map(any_commission),
        low in 0_u64..5_000_000_000,
        more in 0_u64..5_000_000_000,
    ) {
        let schedule = Schedule::new(&commission, quota);
        let low = Decimal::new(low as i64, 2);
        let high = low + Decimal::new(more as i64, 2);
        prop_assert!(schedule.commission_on(high) >= schedule.commission_on(low));
    }
}
