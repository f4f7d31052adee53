use proptest::prelude::*;

use super::*;

fn amount(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn amounts(texts: &[&str]) -> Vec<Decimal> {
    texts.iter().map(|text| amount(text)).collect()
}

#[test]
fn a_change_is_absolute_and_a_percentage_of_a_base_that_is_not_zero() {
    let change = |current: &str, base: &str| {
        let change = Change::between(amount(current), amount(base));
        (change.absolute, change.percent)
    };
    assert_eq!(change("150", "100"), (amount("50"), Some(amount("50"))));
    assert_eq!(change("0", "80"), (amount("-80"), Some(amount("-100"))));
    assert_eq!(change("50", "0"), (amount("50"), None));
    assert_eq!(change("0", "0"), (Decimal::ZERO, None));
}

#[test]
fn shares_go_to_the_largest_remainders_and_add_up_to_exactly_100() {
    let shares = |texts: &[&str]| largest_remainder_shares(&amounts(texts), 2);
    assert_eq!(
        shares(&["1", "1", "1"]),
        Some(amounts(&["33.34", "33.33", "33.33"]))
    );
    assert_eq!(shares(&["2", "1"]), Some(amounts(&["66.67", "33.33"])));
    assert_eq!(shares(&["0", "10.5"]), Some(amounts(&["0", "100"])));
    // 1/7 = 14.2857…%, 6/7 = 85.7142…%: 14.28 + 85.71 = 99.99, the larger remainder wins.
    assert_eq!(shares(&["1", "6"]), Some(amounts(&["14.29", "85.71"])));
    assert_eq!(shares(&["0", "0"]), None);
    assert_eq!(shares(&[]), None);
    assert_eq!(shares(&["-1", "2"]), None);
}

#[test]
fn groups_are_ranked_with_their_shares_and_changes_against_last_period_and_last_year() {
    let group = |key: &'static str, current: &str, previous: &str, year_ago: &str| GroupAmounts {
        key,
        current: amount(current),
        previous: amount(previous),
        year_ago: amount(year_ago),
    };
    let analysis = analyse(vec![
        group("D", "0", "200", "0"),
        group("C", "300", "0", "100"),
        group("A", "500", "400", "0"),
        group("B", "300", "300", "600"),
    ]);
    let change = |absolute: &str, percent: Option<&str>| Change {
        absolute: amount(absolute),
        percent: percent.map(amount),
    };
    assert_eq!(
        (
            analysis.total.current,
            analysis.total.previous,
            analysis.total.year_ago
        ),
        (amount("1100"), amount("900"), amount("700"))
    );
    // 200 / 900 = 22.22 %, 400 / 700 = 57.14 %.
    assert_eq!(
        analysis.total_against_previous,
        change("200", Some("22.22"))
    );
    assert_eq!(
        analysis.total_against_year_ago,
        change("400", Some("57.14"))
    );
    let shown: Vec<_> = analysis
        .groups
        .iter()
        .map(|group| {
            (
                group.key,
                group.rank,
                group.share,
                group.against_previous,
                group.against_year_ago,
            )
        })
        .collect();
    // 500 / 1100 = 45.4545…, 300 / 1100 = 27.2727… twice: 45.45 + 27.27 × 2 = 99.99, the
    // missing hundredth to A (remainder 500 of 1100 against 300).
    assert_eq!(
        shown,
        [
            (
                "A",
                1,
                Some(amount("45.46")),
                change("100", Some("25")),
                change("500", None)
            ),
            (
                "B",
                2,
                Some(amount("27.27")),
                change("0", Some("0")),
                change("-300", Some("-50"))
            ),
            (
                "C",
                2,
                Some(amount("27.27")),
                change("300", None),
                change("200", Some("200"))
            ),
            (
                "D",
                4,
                Some(amount("0")),
                change("-200", Some("-100")),
                change("0", None)
            ),
        ]
    );
}

#[test]
fn an_analysis_of_nothing_has_no_shares() {
    let analysis = analyse(vec![GroupAmounts {
        key: 1,
        current: Decimal::ZERO,
        previous: amount("5"),
        year_ago: Decimal::ZERO,
    }]);
    assert_eq!(analysis.groups[0].share, None);
    assert_eq!(analysis.groups[0].rank, 1);
    assert!(analyse(Vec::<GroupAmounts<u8>>::new()).groups.is_empty());
}

fn money() -> impl Strategy<Value = Decimal> {
    // Cents up to ten million, and whole amounts, so scales differ.
    prop_oneof![
        (0i64..1_000_000_000).prop_map(|cents| Decimal::new(cents, 2)),
        (0i64..5).prop_map(|units| Decimal::new(units * 1000, 0)),
    ]
}

proptest! {
    #[test]
    fn shares_add_up_to_exactly_100_and_each_is_within_a_hundredth_of_its_exact_value(
        currents in prop::collection::vec(money(), 1..20)
    ) {
        let total: Decimal = currents.iter().sum();
        let shares = largest_remainder_shares(&currents, 2);
        prop_assume!(total > Decimal::ZERO);
        let shares = shares.unwrap();
        prop_assert_eq!(shares.iter().sum::<Decimal>(), Decimal::ONE_HUNDRED);
        for (share, current) in shares.iter().zip(&currents) {
            let exact = *current * Decimal::ONE_HUNDRED / total;
            prop_assert!((*share - exact).abs() < Decimal::new(1, 2), "{share} for {exact}");
            prop_assert_eq!(share.scale() <= 2, true);
        }
    }

    #[test]
    fn ranks_follow_the_amounts(currents in prop::collection::vec(0i64..6, 0..15)) {
        let groups = currents
            .iter()
            .enumerate()
            .map(|(key, current)| GroupAmounts {
                key,
                current: Decimal::from(*current),
                previous: Decimal::ZERO,
                year_ago: Decimal::ZERO,
            })
            .collect();
        let analysis = analyse(groups);
        for group in &analysis.groups {
            let larger = analysis.groups.iter().filter(|other| other.current > group.current).count();
            prop_assert_eq!(group.rank as usize, larger + 1);
        }
        for pair in analysis.groups.windows(2) {
            prop_assert!(pair[0].current >= pair[1].current);
            prop_assert!(pair[0].rank <= pair[1].rank);
        }
    }
}
