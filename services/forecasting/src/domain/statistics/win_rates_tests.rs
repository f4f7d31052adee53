use std::collections::BTreeSet;

use proptest::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::*;

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

const QUALIFY: Uuid = Uuid::from_u128(1);
const PROPOSE: Uuid = Uuid::from_u128(2);
const NEGOTIATE: Uuid = Uuid::from_u128(3);
const UNSEEN: Uuid = Uuid::from_u128(4);

fn closed(stages: &[Uuid], won: bool) -> ClosedDeal {
    ClosedDeal {
        stages_reached: stages.iter().copied().collect(),
        won,
    }
}

/// Five closed deals: two won through every stage, one lost in propose, one in qualify, one
/// lost in negotiate having skipped propose.
fn history() -> Vec<ClosedDeal> {
    vec![
        closed(&[QUALIFY, PROPOSE, NEGOTIATE], true),
        closed(&[QUALIFY, PROPOSE], false),
        closed(&[QUALIFY], false),
        closed(&[QUALIFY, PROPOSE, NEGOTIATE], true),
        closed(&[QUALIFY, NEGOTIATE], false),
    ]
}

#[test]
fn a_stages_rate_is_the_won_share_of_the_closed_deals_that_reached_it() {
    let rates = learn(&history());
    let listed: Vec<_> = rates
        .values()
        .map(|rate| (rate.stage_id, rate.won, rate.closed, rate.rate().unwrap()))
        .collect();
    assert_eq!(
        listed,
        vec![
            (QUALIFY, 2, 5, d("0.4")),
            (PROPOSE, 2, 3, d("2") / d("3")),
            (NEGOTIATE, 2, 3, d("2") / d("3")),
        ]
    );
}

#[test]
fn an_open_deal_counts_at_the_learned_rate_only_with_sample_enough() {
    let rates = learn(&history());
    let deal = OpenDeal {
        stage_id: PROPOSE,
        amount: d("1000"),
        nominal_probability: 50,
    };
    // 1000 × 2 ÷ 3 = 666.666… → 666.67.
    assert_eq!(
        expected_value(&deal, &rates, 3, 2).unwrap(),
        ExpectedValue {
            amount: d("666.67"),
            source: RateSource::Learned
        }
    );
    assert_eq!(
        expected_value(&deal, &rates, 4, 2).unwrap(),
        ExpectedValue {
            amount: d("500"),
            source: RateSource::Nominal
        }
    );
    let unseen = OpenDeal {
        stage_id: UNSEEN,
        ..deal
    };
    assert_eq!(
        expected_value(&unseen, &rates, 1, 2).unwrap().source,
        RateSource::Nominal
    );
}

#[test]
fn the_pipeline_adds_the_deals_expected_and_nominal_values() {
    let rates = learn(&history());
    let deals = [
        OpenDeal {
            stage_id: QUALIFY,
            amount: d("2000"),
            nominal_probability: 10,
        },
        OpenDeal {
            stage_id: PROPOSE,
            amount: d("1000"),
            nominal_probability: 50,
        },
        OpenDeal {
            stage_id: UNSEEN,
            amount: d("300"),
            nominal_probability: 90,
        },
    ];
    // Learned at a minimum of 3: 800 + 666.67 + 270 (nominal); nominal 200 + 500 + 270.
    assert_eq!(
        pipeline_value(&deals, &rates, 3, 2).unwrap(),
        PipelineValue {
            expected: d("1736.67"),
            nominal: d("970"),
            learned_deals: 2,
        }
    );
}

proptest! {
    #[test]
    fn rates_lie_between_none_and_all_won(
        deals in prop::collection::vec(
            (prop::collection::btree_set(0_u128..6, 0..6), any::<bool>()),
            0..40,
        ),
    ) {
        let deals: Vec<ClosedDeal> = deals
            .into_iter()
            .map(|(stages, won)| ClosedDeal {
                stages_reached: stages.into_iter().map(Uuid::from_u128).collect::<BTreeSet<_>>(),
                won,
            })
            .collect();
        for rate in learn(&deals).values() {
            prop_assert!(rate.won <= rate.closed && rate.closed >= 1);
            let value = rate.rate().unwrap();
            prop_assert!(value >= Decimal::ZERO && value <= Decimal::ONE);
        }
    }
}
