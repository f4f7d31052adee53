use std::str::FromStr;

use proptest::prelude::*;

use super::*;

fn cny(amount: &str) -> Money {
    Money {
        currency: CurrencyCode::CNY,
        amount: Decimal::from_str(amount).unwrap(),
    }
}

fn usd(amount: &str) -> Money {
    Money {
        currency: "USD".parse().unwrap(),
        amount: Decimal::from_str(amount).unwrap(),
    }
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// A at 1,000,000 CNY, B at 250,000 CNY.
fn thresholds() -> TierThresholds {
    TierThresholds::new(cny("1000000"), cny("250000")).unwrap()
}

fn win(amount: Option<Money>, closed_on: Option<&str>) -> Win {
    Win {
        opportunity_id: Uuid::now_v7(),
        corporate_amount: amount,
        closed_on: closed_on.map(day),
    }
}

#[test]
fn a_tier_starts_exactly_at_its_threshold() {
    let thresholds = thresholds();
    for (revenue, tier) in [
        ("0", AccountTier::C),
        ("249999.99", AccountTier::C),
        ("250000", AccountTier::B),
        ("250000.00", AccountTier::B),
        ("999999.99", AccountTier::B),
        ("1000000", AccountTier::A),
        ("7500000", AccountTier::A),
    ] {
        assert_eq!(
            thresholds.tier_for(Decimal::from_str(revenue).unwrap()),
            tier,
            "{revenue}"
        );
    }
}

#[test]
fn equal_thresholds_leave_no_room_for_b() {
    let thresholds = TierThresholds::new(cny("500000"), cny("500000")).unwrap();
    assert_eq!(thresholds.tier_for(Decimal::from(500_000)), AccountTier::A);
    assert_eq!(thresholds.tier_for(Decimal::from(499_999)), AccountTier::C);
}

#[test]
fn thresholds_are_one_currency_not_negative_and_a_not_below_b() {
    let refused = TierThresholds::new(cny("100"), usd("50")).unwrap_err();
    assert_eq!(refused[0].field, "b_threshold.currency_code");
    assert_eq!(refused[0].reason, Some(reasons::INCONSISTENT_FIELDS));

    let refused = TierThresholds::new(cny("100"), cny("250")).unwrap_err();
    assert_eq!(refused[0].field, "a_threshold.amount");
    assert_eq!(refused[0].reason, Some(reasons::INCONSISTENT_FIELDS));
    assert!(refused[0].description.contains("250"), "{:?}", refused[0]);

    let refused = TierThresholds::new(cny("100"), cny("-1")).unwrap_err();
    assert_eq!(refused[0].field, "b_threshold.amount");

    assert!(TierThresholds::new(cny("0"), cny("0")).is_ok());
}

#[test]
fn the_window_is_the_day_and_the_364_before_it() {
    let today = day("2026-12-02");
    assert_eq!(window_start(today), day("2025-12-03"));
    assert!(in_trailing_window(day("2026-12-02"), today));
    assert!(in_trailing_window(day("2025-12-03"), today));
    // 365 days ago: aged out.
    assert!(!in_trailing_window(day("2025-12-02"), today));
    // A close dated after today is not past the window.
    assert!(in_trailing_window(day("2026-12-03"), today));
    // Over a 29 February: 2027-03-03 .. 2028-03-01 is 365 days.
    assert_eq!(window_start(day("2028-03-01")), day("2027-03-03"));
}

#[test]
fn revenue_adds_the_wins_in_the_window_in_the_thresholds_currency() {
    let today = day("2026-12-02");
    let other_currency = win(Some(usd("70000")), Some("2026-11-30"));
    let no_amount = win(None, Some("2026-10-01"));
    let wins = vec![
        win(Some(cny("600000")), Some("2026-06-01")),
        // The window's first day counts.
        win(Some(cny("400000.00")), Some("2025-12-03")),
        // The day before it does not.
        win(Some(cny("50000")), Some("2025-12-02")),
        win(Some(cny("123")), None),
        other_currency.clone(),
        no_amount.clone(),
    ];
    let evaluation = evaluate(&wins, Some(&thresholds()), today);
    // 600,000 + 400,000 = 1,000,000: exactly A.
    assert_eq!(evaluation.trailing_won_revenue, Some(cny("1000000")));
    assert_eq!(evaluation.computed_tier, Some(AccountTier::A));
    assert_eq!(evaluation.window_start, day("2025-12-03"));
    assert_eq!(
        evaluation.uncounted,
        vec![
            (
                other_currency.opportunity_id,
                Uncounted::OtherCurrency("USD".parse().unwrap())
            ),
            (no_amount.opportunity_id, Uncounted::NoCorporateAmount),
        ]
    );

    // A day later the 400,000 has aged out: 600,000 is B.
    let next_day = evaluate(&wins, Some(&thresholds()), day("2026-12-03"));
    assert_eq!(next_day.trailing_won_revenue, Some(cny("600000")));
    assert_eq!(next_day.computed_tier, Some(AccountTier::B));
}

#[test]
fn an_account_without_wins_is_c_and_without_thresholds_nothing() {
    let today = day("2026-12-02");
    let none = evaluate(&[], Some(&thresholds()), today);
    assert_eq!(none.trailing_won_revenue, Some(cny("0")));
    assert_eq!(none.computed_tier, Some(AccountTier::C));

    let unset = evaluate(
        &[win(Some(cny("5000000")), Some("2026-12-01"))],
        None,
        today,
    );
    assert_eq!(unset.trailing_won_revenue, None);
    assert_eq!(unset.computed_tier, None);
}

#[test]
fn the_override_wins_until_cleared() {
    let mut tiering = Tiering {
        computed_tier: Some(AccountTier::C),
        ..Default::default()
    };
    assert_eq!(tiering.effective(), Some(AccountTier::C));
    tiering.tier_override = Some(AccountTier::A);
    assert_eq!(tiering.effective(), Some(AccountTier::A));
    // A new evaluation keeps the override.
    let evaluation = evaluate(&[], Some(&thresholds()), day("2026-12-02"));
    let evaluated = tiering.evaluated(&evaluation, 4);
    assert_eq!(evaluated.effective(), Some(AccountTier::A));
    assert_eq!(evaluated.settings_version, 4);
    assert_eq!(evaluated.window_start, Some(day("2025-12-03")));
    tiering.tier_override = None;
    assert_eq!(tiering.effective(), Some(AccountTier::C));
}

#[test]
fn reasons_name_what_changed() {
    let settings = TierSettings {
        version: 3,
        ..Default::default()
    };
    let current = Tiering {
        settings_version: 3,
        ..Default::default()
    };
    let stale = Tiering {
        settings_version: 2,
        ..Default::default()
    };
    assert_eq!(
        TierChangeReason::for_reevaluation(&current, &settings).as_str(),
        "aged_out"
    );
    assert_eq!(
        TierChangeReason::for_reevaluation(&stale, &settings).as_str(),
        "thresholds_changed"
    );
    assert_eq!(
        TierChangeReason::for_override(Some(AccountTier::B)).as_str(),
        "override_set"
    );
    assert_eq!(
        TierChangeReason::for_override(None).as_str(),
        "override_cleared"
    );
}

#[test]
fn tiers_read_from_their_numbers() {
    assert_eq!(AccountTier::from_number(0), Ok(None));
    assert_eq!(AccountTier::from_number(1), Ok(Some(AccountTier::A)));
    assert_eq!(AccountTier::from_number(3), Ok(Some(AccountTier::C)));
    assert!(AccountTier::from_number(4).is_err());
    assert_eq!(AccountTier::B.number(), 2);
}

fn any_tier() -> impl Strategy<Value = Option<AccountTier>> {
    prop_oneof![
        Just(None),
        Just(Some(AccountTier::A)),
        Just(Some(AccountTier::B)),
        Just(Some(AccountTier::C)),
    ]
}

/// Thresholds in cents: B at `b`, A `gap` above it.
fn any_thresholds() -> impl Strategy<Value = TierThresholds> {
    (0i64..1_000_000_000, 0i64..1_000_000_000).prop_map(|(b, gap)| {
        TierThresholds::new(
            Money {
                currency: CurrencyCode::CNY,
                amount: Decimal::new(b + gap, 2),
            },
            Money {
                currency: CurrencyCode::CNY,
                amount: Decimal::new(b, 2),
            },
        )
        .unwrap()
    })
}

proptest! {
    #[test]
    fn more_revenue_never_means_a_lower_tier(
        thresholds in any_thresholds(),
        low in 0i64..3_000_000_000,
        more in 0i64..3_000_000_000,
    ) {
        let lower = thresholds.tier_for(Decimal::new(low, 2));
        let higher = thresholds.tier_for(Decimal::new(low + more, 2));
        // A < B < C: the richer account's tier is the same or better.
        prop_assert!(higher <= lower);
    }

    #[test]
    fn a_tier_is_its_thresholds_band(thresholds in any_thresholds(), cents in 0i64..3_000_000_000) {
        let revenue = Decimal::new(cents, 2);
        let tier = thresholds.tier_for(revenue);
        prop_assert_eq!(tier == AccountTier::A, revenue >= thresholds.a().amount);
        prop_assert_eq!(tier == AccountTier::C, revenue < thresholds.b().amount);
    }

    #[test]
    fn the_override_wins_over_any_computed_tier(tier_override in any_tier(), computed in any_tier()) {
        let tiering = Tiering { tier_override, computed_tier: computed, ..Default::default() };
        prop_assert_eq!(tiering.effective(), tier_override.or(computed));
        if let Some(tier) = tier_override {
            prop_assert_eq!(tiering.effective(), Some(tier));
        }
    }

    #[test]
    fn another_win_never_lowers_the_tier(
        thresholds in any_thresholds(),
        amounts in proptest::collection::vec(0i64..500_000_000, 0..8),
        extra in 0i64..500_000_000,
        days_ago in 0u64..400,
    ) {
        let today = day("2026-12-02");
        let closed_on = today.checked_sub_days(Days::new(days_ago)).unwrap();
        let mut wins: Vec<Win> = amounts
            .iter()
            .map(|cents| Win {
                opportunity_id: Uuid::now_v7(),
                corporate_amount: Some(Money { currency: CurrencyCode::CNY, amount: Decimal::new(*cents, 2) }),
                closed_on: Some(today),
            })
            .collect();
        let before = evaluate(&wins, Some(&thresholds), today);
        wins.push(Win {
            opportunity_id: Uuid::now_v7(),
            corporate_amount: Some(Money { currency: CurrencyCode::CNY, amount: Decimal::new(extra, 2) }),
            closed_on: Some(closed_on),
        });
        let after = evaluate(&wins, Some(&thresholds), today);
        prop_assert!(after.computed_tier <= before.computed_tier);
        let added = if in_trailing_window(closed_on, today) { Decimal::new(extra, 2) } else { Decimal::ZERO };
        prop_assert_eq!(
            after.trailing_won_revenue.unwrap().amount,
            before.trailing_won_revenue.unwrap().amount + added
        );
    }
}
