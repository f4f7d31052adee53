use crm_platform::fiscal::FiscalCalendar;
use proptest::prelude::*;

use super::*;

/// FY2027-Q1 of the calendar year: 2027-01-01 to 2027-03-31.
fn quarter() -> FiscalPeriod {
    FiscalCalendar::default().parse("FY2027-Q1").unwrap()
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn deal(n: u128, amount: i64, close: &str, status: DealStatus) -> SnapshotDeal {
    SnapshotDeal {
        id: id(n),
        amount: Decimal::from(amount),
        category: ForecastCategory::Pipeline,
        expected_close_date: day(close),
        status,
    }
}

fn open(n: u128, amount: i64, close: &str) -> SnapshotDeal {
    deal(n, amount, close, DealStatus::Open)
}

fn group(movement: &PipelineMovement, kind: MovementKind) -> &MovementGroup {
    movement
        .groups
        .iter()
        .find(|group| group.kind == kind)
        .unwrap()
}

fn ids(group: &MovementGroup) -> Vec<u128> {
    group.deals.iter().map(|deal| deal.id.as_u128()).collect()
}

#[test]
fn every_kind_of_movement_is_sorted_and_the_totals_reconcile() {
    let from = vec![
        open(1, 100, "2027-02-10"),   // unchanged
        open(2, 200, "2027-02-10"),   // up to 250
        open(3, 300, "2027-02-10"),   // down to 120 and later in the quarter: down wins
        open(4, 400, "2027-03-10"),   // pulled in within the quarter
        open(5, 500, "2027-02-10"),   // pushed out to April
        open(6, 600, "2027-01-20"),   // won
        open(7, 700, "2027-02-20"),   // lost
        open(9, 900, "2027-05-01"),   // pulled in from next quarter
        open(10, 1000, "2027-03-01"), // archived: gone from the snapshot
        open(11, 1100, "2026-12-15"), // slipped in from last quarter
        open(12, 1200, "2027-02-01"), // pulled into last quarter
        open(13, 1300, "2027-05-01"), // next quarter at both: not this quarter's
    ];
    let to = vec![
        open(1, 100, "2027-02-10"),
        open(2, 250, "2027-02-10"),
        open(3, 120, "2027-03-20"),
        open(4, 400, "2027-02-01"),
        open(5, 500, "2027-04-15"),
        deal(6, 650, "2027-01-18", DealStatus::Won),
        deal(7, 700, "2027-02-20", DealStatus::Lost),
        open(8, 800, "2027-03-31"), // new
        open(9, 900, "2027-02-15"),
        open(11, 1100, "2027-01-05"),
        open(12, 1200, "2026-12-20"),
        open(13, 1300, "2027-06-01"),
    ];
    let movement = movement(&quarter(), &from, &to).unwrap();

    // 100 + 200 + 300 + 400 + 500 + 600 + 700 + 1000 + 1200
    assert_eq!(movement.start.total, Decimal::from(5000));
    assert_eq!(movement.start.deal_count, 9);
    // 100 + 250 + 120 + 400 + 800 + 900 + 1100
    assert_eq!(movement.end.total, Decimal::from(3670));
    assert_eq!(movement.end.deal_count, 7);
    assert_eq!(movement.unchanged_count, 1);

    let expect = |kind, deals: Vec<u128>, amount: i64, change: i64| {
        let group = group(&movement, kind);
        assert_eq!(ids(group), deals, "{kind:?}");
        assert_eq!(group.amount, Decimal::from(amount), "{kind:?} amount");
        assert_eq!(group.change, Decimal::from(change), "{kind:?} change");
    };
    expect(MovementKind::In, vec![11, 8], 1900, 1900);
    expect(MovementKind::Out, vec![12, 10], 2200, -2200);
    expect(MovementKind::Up, vec![2], 50, 50);
    expect(MovementKind::Down, vec![3], 180, -180);
    expect(MovementKind::PulledIn, vec![9, 4], 1300, 900);
    expect(MovementKind::PushedOut, vec![5], 500, -500);
    // The amount that left the pipeline, not the 650 it was won at (on the deal's `after`).
    expect(MovementKind::Won, vec![6], 600, -600);
    expect(MovementKind::Lost, vec![7], 700, -700);
    let won = &group(&movement, MovementKind::Won).deals[0];
    assert_eq!(won.after.as_ref().unwrap().amount, Decimal::from(650));

    // 5000 + 1900 − 2200 + 50 − 180 + 900 − 500 − 600 − 700 = 3670
    let changes: Decimal = movement.groups.iter().map(|group| group.change).sum();
    assert_eq!(movement.start.total + changes, movement.end.total);
    assert_eq!(movement.groups.len(), 8);
}

#[test]
fn totals_are_kept_by_category() {
    let mut commit = open(1, 300, "2027-02-10");
    commit.category = ForecastCategory::Commit;
    let snapshot = vec![
        commit,
        open(2, 200, "2027-03-01"),
        open(3, 50, "2027-03-02"),
        deal(4, 999, "2027-03-02", DealStatus::Won),
        open(5, 999, "2027-04-01"),
    ];
    let total = pipeline_total(&quarter(), &snapshot).unwrap();
    assert_eq!(total.total, Decimal::from(550));
    assert_eq!(total.deal_count, 3);
    assert_eq!(
        total.by_category.into_iter().collect::<Vec<_>>(),
        vec![
            (ForecastCategory::Pipeline, Decimal::from(250)),
            (ForecastCategory::Commit, Decimal::from(300)),
        ]
    );
}

#[test]
fn a_reopened_deal_comes_in_and_a_recategorised_one_is_unchanged() {
    let mut recategorised = open(2, 200, "2027-02-10");
    let from = vec![
        deal(1, 100, "2027-02-10", DealStatus::Lost),
        recategorised.clone(),
    ];
    recategorised.category = ForecastCategory::Commit;
    let to = vec![open(1, 100, "2027-02-10"), recategorised];
    let movement = movement(&quarter(), &from, &to).unwrap();
    assert_eq!(ids(group(&movement, MovementKind::In)), vec![1]);
    assert_eq!(movement.unchanged_count, 1);
    assert_eq!(
        movement.end.by_category.get(&ForecastCategory::Commit),
        Some(&Decimal::from(200))
    );
}

#[test]
fn a_total_beyond_decimal_range_is_an_error_not_a_panic() {
    let huge = |n| SnapshotDeal {
        amount: Decimal::MAX,
        ..open(n, 0, "2027-02-10")
    };
    assert_eq!(
        movement(&quarter(), &[], &[huge(1), huge(2)]),
        Err(Overflow)
    );
}

fn snapshot_deal(n: u128) -> impl Strategy<Value = SnapshotDeal> {
    (
        0_i64..100_000_000, // up to a million, in cents
        // 2026-10-01 and the 270 days after: the quarter before, the quarter, the one after.
        0_u64..270,
        prop_oneof![
            6 => Just(DealStatus::Open),
            1 => Just(DealStatus::Won),
            1 => Just(DealStatus::Lost),
        ],
        prop_oneof![
            Just(ForecastCategory::Pipeline),
            Just(ForecastCategory::BestCase),
            Just(ForecastCategory::Commit),
        ],
    )
        .prop_map(move |(cents, days, status, category)| SnapshotDeal {
            id: id(n),
            amount: Decimal::new(cents, 2),
            category,
            expected_close_date: day("2026-10-01") + chrono::Days::new(days),
            status,
        })
}

/// Twenty deals, each in the snapshot or not.
fn snapshot() -> impl Strategy<Value = Vec<SnapshotDeal>> {
    (0..20_u128)
        .map(|n| proptest::option::of(snapshot_deal(n)))
        .collect::<Vec<_>>()
        .prop_map(|deals| deals.into_iter().flatten().collect())
}

proptest! {
    #[test]
    fn the_start_and_the_changes_add_up_to_the_end(from in snapshot(), to in snapshot()) {
        let movement = movement(&quarter(), &from, &to).unwrap();
        let changes: Decimal = movement.groups.iter().map(|group| group.change).sum();
        prop_assert_eq!(movement.start.total + changes, movement.end.total);
        for group in &movement.groups {
            prop_assert_eq!(group.change, group.deals.iter().map(|deal| deal.change).sum::<Decimal>());
            prop_assert_eq!(group.amount, group.deals.iter().map(|deal| deal.amount).sum::<Decimal>());
            prop_assert!(group.deals.iter().all(|deal| deal.kind == group.kind && deal.amount >= Decimal::ZERO));
        }
    }

    #[test]
    fn every_deal_of_either_pipeline_is_counted_once(from in snapshot(), to in snapshot()) {
        let period = quarter();
        let movement = movement(&period, &from, &to).unwrap();
        let moved: Vec<Uuid> = movement.groups.iter().flat_map(|group| group.deals.iter().map(|deal| deal.id)).collect();
        let mut distinct = moved.clone();
        distinct.sort();
        distinct.dedup();
        prop_assert_eq!(distinct.len(), moved.len());
        let mut in_either: Vec<Uuid> = from.iter().chain(&to)
            .filter(|deal| deal.in_pipeline_of(&period))
            .map(|deal| deal.id)
            .collect();
        in_either.sort();
        in_either.dedup();
        prop_assert_eq!(in_either.len(), moved.len() + movement.unchanged_count);
    }

    #[test]
    fn a_snapshot_against_itself_has_not_moved(snapshot in snapshot()) {
        let movement = movement(&quarter(), &snapshot, &snapshot).unwrap();
        prop_assert!(movement.groups.iter().all(|group| group.deals.is_empty()));
        prop_assert_eq!(movement.unchanged_count, movement.start.deal_count);
        prop_assert_eq!(movement.start, movement.end);
    }

    #[test]
    fn a_win_or_a_loss_is_always_reported_as_such(from in snapshot(), to in snapshot()) {
        let period = quarter();
        let movement = movement(&period, &from, &to).unwrap();
        for deal in movement.groups.iter().flat_map(|group| &group.deals) {
            let outcome = deal.after.as_ref().map(|after| after.status);
            let was_in = deal.before.as_ref().is_some_and(|before| before.in_pipeline_of(&period));
            match outcome {
                Some(DealStatus::Won) if was_in => prop_assert_eq!(deal.kind, MovementKind::Won),
                Some(DealStatus::Lost) if was_in => prop_assert_eq!(deal.kind, MovementKind::Lost),
                _ => prop_assert!(!matches!(deal.kind, MovementKind::Won | MovementKind::Lost)),
            }
        }
    }
}
