use std::collections::BTreeMap;

use crm_platform::auth::TeamPath;
use proptest::prelude::*;

use super::*;
use crate::domain::deal::DealStatus;

fn contribution(owner: u128, month: u32, status: DealStatus, amount: i64) -> Contribution {
    let amount = Decimal::from(amount);
    Contribution {
        owner_id: Uuid::from_u128(owner),
        owner_team_path: TeamPath::parse("/sales/east/").unwrap(),
        month: NaiveDate::from_ymd_opt(2027, month, 1).unwrap(),
        status,
        category: ForecastCategory::Pipeline,
        currency: Some("EUR"),
        amount,
        // 40 %, exact.
        weighted: amount * Decimal::new(4, 1),
    }
}

#[test]
fn a_deal_moving_between_months_leaves_one_and_joins_the_other() {
    let (january, march) = (
        contribution(1, 1, DealStatus::Open, 1_000),
        contribution(1, 3, DealStatus::Open, 1_200),
    );
    let mut changes = SumChanges::default();
    changes.move_deal(Some(&january), Some(&march));
    assert_eq!(
        changes.into_changes(),
        vec![
            (
                SumKey::of(&january),
                SumChange {
                    deal_count: -1,
                    amount: Decimal::from(-1_000),
                    weighted: Decimal::from(-400),
                },
            ),
            (
                SumKey::of(&march),
                SumChange {
                    deal_count: 1,
                    amount: Decimal::from(1_200),
                    weighted: Decimal::from(480),
                },
            ),
        ]
    );
}

#[test]
fn moves_into_one_sum_add_up_and_moves_that_cancel_change_nothing() {
    let mut changes = SumChanges::default();
    // One rep's deals: two new in January (1,000 and 500), a third one's amount 300 → 800 there.
    changes.move_deal(None, Some(&contribution(1, 1, DealStatus::Open, 1_000)));
    changes.move_deal(None, Some(&contribution(1, 1, DealStatus::Open, 500)));
    changes.move_deal(
        Some(&contribution(1, 1, DealStatus::Open, 300)),
        Some(&contribution(1, 1, DealStatus::Open, 800)),
    );
    // A February deal leaves for March while another of the same amount arrives: February
    // ends as it was.
    changes.move_deal(
        Some(&contribution(1, 2, DealStatus::Open, 700)),
        Some(&contribution(1, 3, DealStatus::Open, 700)),
    );
    changes.move_deal(None, Some(&contribution(1, 2, DealStatus::Open, 700)));
    // An unchanged deal moves nothing.
    let same = contribution(1, 4, DealStatus::Open, 900);
    changes.move_deal(Some(&same), Some(&same));
    let changes = changes.into_changes();
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(
        changes[0].1,
        SumChange {
            deal_count: 2,
            amount: Decimal::from(2_000),
            weighted: Decimal::from(800),
        }
    );
    assert_eq!(changes[1].0.month.to_string(), "2027-03-01");
    assert_eq!(changes[1].1.deal_count, 1);
}

/// The sums as `pipeline_months` keeps them: a sum with no deals left is removed.
type Sums = BTreeMap<SumKey, SumChange>;

fn apply(sums: &mut Sums, key: SumKey, change: SumChange) {
    let sum = sums.entry(key.clone()).or_default();
    sum.deal_count += change.deal_count;
    sum.amount += change.amount;
    sum.weighted += change.weighted;
    if sum.deal_count == 0 {
        sums.remove(&key);
    }
}

fn any_contribution() -> impl Strategy<Value = Option<Contribution>> {
    let status = prop_oneof![
        Just(DealStatus::Open),
        Just(DealStatus::Won),
        Just(DealStatus::Lost)
    ];
    prop::option::weighted(
        0.85,
        (0_u128..3, 1_u32..=4, status, 0_i64..5_000)
            .prop_map(|(owner, month, status, amount)| contribution(owner, month, status, amount)),
    )
}

proptest! {
    /// Events of several deals, many per deal: moving each deal from its first version to its
    /// last, added up per sum and written once, leaves the sums exactly as moving every event
    /// one after another does.
    #[test]
    fn a_batch_written_at_once_equals_its_events_one_by_one(
        histories in prop::collection::vec(prop::collection::vec(any_contribution(), 1..6), 1..12),
    ) {
        // Each deal's first version is what the sums already hold for it.
        let mut one_by_one = Sums::new();
        for history in &histories {
            if let Some(first) = &history[0] {
                apply(&mut one_by_one, SumKey::of(first), SumChange { deal_count: 1, amount: first.amount, weighted: first.weighted });
            }
        }
        let mut at_once = one_by_one.clone();
        for history in &histories {
            for pair in history.windows(2) {
                let mut step = SumChanges::default();
                step.move_deal(pair[0].as_ref(), pair[1].as_ref());
                for (key, change) in step.into_changes() {
                    apply(&mut one_by_one, key, change);
                }
            }
        }
        let mut batch = SumChanges::default();
        for history in &histories {
            batch.move_deal(history[0].as_ref(), history[history.len() - 1].as_ref());
        }
        for (key, change) in batch.into_changes() {
            apply(&mut at_once, key, change);
        }
        prop_assert_eq!(at_once, one_by_one);
    }
}
