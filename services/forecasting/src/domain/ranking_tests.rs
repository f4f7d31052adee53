use proptest::prelude::*;

use uuid::Uuid;

use super::*;

fn amount(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn contender(n: u128, target: Option<&str>, result: &str) -> Contender<Uuid> {
    Contender {
        id: id(n),
        target: target.map(amount),
        result: amount(result),
    }
}

#[test]
fn percentages_round_half_away_from_zero_and_need_a_base() {
    assert_eq!(percent_of(amount("1"), amount("3")), Some(amount("33.33")));
    assert_eq!(percent_of(amount("2"), amount("3")), Some(amount("66.67")));
    assert_eq!(percent_of(amount("1"), amount("800")), Some(amount("0.13")));
    assert_eq!(
        percent_of(amount("-50"), amount("200")),
        Some(amount("-25"))
    );
    // Against a negative base, the sign still says which way the part goes.
    assert_eq!(percent_of(amount("50"), amount("-200")), Some(amount("25")));
    assert_eq!(percent_of(amount("1"), Decimal::ZERO), None);
}

#[test]
fn equal_neighbours_share_a_rank_and_the_next_one_skips() {
    let ranks = competition_ranks(&[9, 7, 7, 5, 5, 5, 1], |a, b| a == b);
    assert_eq!(ranks, [1, 2, 2, 4, 4, 4, 7]);
    assert!(competition_ranks(&[] as &[u8], |a, b| a == b).is_empty());
}

#[test]
fn the_leaderboard_ranks_by_attainment_then_result_and_shares_ranks_of_equals() {
    let standings = leaderboard(vec![
        contender(3, Some("100000"), "75000"), // 75 %, the smallest result of the 75s
        contender(7, None, "0"),               // no target, nothing booked
        contender(2, Some("200000"), "150000"), // 75 %
        contender(1, Some("100000"), "120000"), // 120 %
        contender(6, None, "500000"),          // no target: after every one with a target
        contender(5, Some("200000"), "150000"), // 75 % and 150000, like 2: the same rank
        contender(4, Some("400000"), "300000"), // 75 %, the largest result of the 75s
    ]);
    let shown: Vec<_> = standings
        .iter()
        .map(|standing| {
            (
                standing.rank,
                standing.id.as_u128(),
                standing.attainment.map(|a| a.to_string()),
            )
        })
        .collect();
    let percent = |text: &str| Some(text.to_owned());
    assert_eq!(
        shown,
        [
            (1, 1, percent("120")),
            (2, 4, percent("75")),
            (3, 2, percent("75")),
            (3, 5, percent("75")),
            (5, 3, percent("75")),
            (6, 6, None),
            (7, 7, None),
        ]
    );
}

#[test]
fn attainment_is_compared_exactly_not_as_rounded() {
    // 200000 of 300000 is 66.666…%, shown 66.67; 66670 of 100000 is 66.67% exactly, ahead.
    let standings = leaderboard(vec![
        contender(1, Some("300000"), "200000"),
        contender(2, Some("100000"), "66670"),
    ]);
    let shown: Vec<_> = standings
        .iter()
        .map(|standing| (standing.rank, standing.id.as_u128(), standing.attainment))
        .collect();
    assert_eq!(
        shown,
        [(1, 2, Some(amount("66.67"))), (2, 1, Some(amount("66.67")))]
    );
}

#[test]
fn without_targets_the_leaderboard_ranks_by_result() {
    let standings = leaderboard(vec![
        contender(1, None, "100"),
        contender(2, Some("0"), "300"), // a zero target is no target
        contender(3, None, "300"),
    ]);
    let shown: Vec<_> = standings
        .iter()
        .map(|standing| (standing.rank, standing.id.as_u128(), standing.attainment))
        .collect();
    assert_eq!(shown, [(1, 2, None), (1, 3, None), (3, 1, None)]);
}

#[test]
fn the_trend_shows_each_periods_attainment_against_the_one_before() {
    let figures = |period: &'static str, target: Option<&str>, result: &str| PeriodFigures {
        period,
        target: target.map(amount),
        result: amount(result),
    };
    let trend = attainment_trend(&[
        figures("FY2026-Q1", Some("100"), "80"),
        figures("FY2026-Q2", Some("100"), "110"),
        figures("FY2026-Q3", None, "50"),
        figures("FY2026-Q4", Some("300"), "100"),
        figures("FY2027-Q1", Some("300"), "200"),
    ]);
    let shown: Vec<_> = trend
        .iter()
        .map(|point| {
            (
                point.period,
                point.attainment,
                point.attainment_change,
                point.result_change,
            )
        })
        .collect();
    let some = |text: &str| Some(amount(text));
    assert_eq!(
        shown,
        [
            ("FY2026-Q1", some("80"), None, None),
            ("FY2026-Q2", some("110"), some("30"), some("30")),
            ("FY2026-Q3", None, None, some("-60")),
            ("FY2026-Q4", some("33.33"), None, some("50")),
            // 66.67 − 33.33 as shown, not 33.33 (the exact difference, rounded).
            ("FY2027-Q1", some("66.67"), some("33.34"), some("100")),
        ]
    );
}

fn contenders() -> impl Strategy<Value = Vec<Contender<Uuid>>> {
    // Few distinct figures so that ties are common.
    let target = prop_oneof![
        Just(None),
        (0i64..4).prop_map(|t| Some(Decimal::new(t * 50_000, 0)))
    ];
    prop::collection::vec((target, 0i64..6), 0..12).prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(n, (target, result))| Contender {
                id: id(n as u128 + 1),
                target,
                result: Decimal::new(result * 25_000, 0),
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn a_rank_is_one_more_than_the_contenders_strictly_ahead(entries in contenders()) {
        let standings = leaderboard(entries.clone());
        prop_assert_eq!(standings.len(), entries.len());
        for standing in &standings {
            let me = entries.iter().find(|entry| entry.id == standing.id).unwrap();
            let ahead = entries
                .iter()
                .filter(|other| other.standing(me) == Ordering::Greater)
                .count();
            prop_assert_eq!(standing.rank as usize, ahead + 1);
        }
        for pair in standings.windows(2) {
            prop_assert!(pair[0].rank <= pair[1].rank);
        }
    }
}
