use proptest::prelude::*;

use super::*;

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn shown(value: Option<Decimal>) -> Option<String> {
    value.map(|value| value.to_string())
}

#[test]
fn revenue_attainment_is_closed_won_over_the_quota() {
    let counted = Counted {
        won_amount: dec("75000.00"),
        ..Counted::default()
    };
    assert_eq!(
        shown(actual(TargetKind::Revenue, &counted, 2)),
        Some("75000.00".into())
    );
    assert_eq!(
        shown(attainment(TargetKind::Revenue, dec("100000"), &counted)),
        Some("75.00".into())
    );
    // 75,000 of 90,000 = 83.333…
    assert_eq!(
        shown(attainment(TargetKind::Revenue, dec("90000"), &counted)),
        Some("83.33".into())
    );
    assert_eq!(
        attainment(TargetKind::Revenue, Decimal::ZERO, &counted),
        None
    );
}

#[test]
fn activity_targets_are_rates_per_week_over_the_days_counted() {
    // 10 calls in 31 days: 70 / 31 = 2.258… a week; against 3 a week, 75.268…%.
    let counted = Counted {
        calls: 10,
        meetings: 4,
        visits: 0,
        days_counted: 31,
        ..Counted::default()
    };
    assert_eq!(
        shown(actual(TargetKind::CallsPerWeek, &counted, 2)),
        Some("2.26".into())
    );
    assert_eq!(
        shown(attainment(TargetKind::CallsPerWeek, dec("3"), &counted)),
        Some("75.27".into())
    );
    // 4 meetings in 31 days = 0.903… a week.
    assert_eq!(
        shown(actual(TargetKind::MeetingsPerWeek, &counted, 2)),
        Some("0.90".into())
    );
    assert_eq!(
        shown(attainment(TargetKind::VisitsPerWeek, dec("2"), &counted)),
        Some("0".into())
    );
    let no_day = Counted {
        calls: 3,
        ..Counted::default()
    };
    assert_eq!(actual(TargetKind::CallsPerWeek, &no_day, 2), None);
    assert_eq!(
        attainment(TargetKind::CallsPerWeek, dec("3"), &no_day),
        None
    );
}

#[test]
fn average_deal_size_is_won_amount_over_won_deals() {
    let counted = Counted {
        won_amount: dec("100000.00"),
        won_deals: 3,
        ..Counted::default()
    };
    assert_eq!(
        shown(actual(TargetKind::AverageDealSize, &counted, 2)),
        Some("33333.33".into())
    );
    // 33,333.33… of 40,000 = 83.333…%
    assert_eq!(
        shown(attainment(
            TargetKind::AverageDealSize,
            dec("40000"),
            &counted
        )),
        Some("83.33".into())
    );
    assert_eq!(
        actual(TargetKind::AverageDealSize, &Counted::default(), 2),
        None
    );
}

#[test]
fn growth_is_percent_over_the_same_period_last_year() {
    let grew = Counted {
        won_amount: dec("120000"),
        won_amount_a_year_earlier: dec("100000"),
        ..Counted::default()
    };
    assert_eq!(
        shown(actual(TargetKind::Growth, &grew, 2)),
        Some("20.00".into())
    );
    // 20 % growth against a 10 % target: twice the target.
    assert_eq!(
        shown(attainment(TargetKind::Growth, dec("10"), &grew)),
        Some("200.00".into())
    );
    let growth = |this: &str, earlier: &str| {
        let counted = Counted {
            won_amount: dec(this),
            won_amount_a_year_earlier: dec(earlier),
            ..Counted::default()
        };
        shown(actual(TargetKind::Growth, &counted, 2))
    };
    assert_eq!(growth("80", "100"), Some("-20.00".into()));
    // 1 / 3 growth: 33.333…%.
    assert_eq!(growth("4", "3"), Some("33.33".into()));
    let first_year = Counted {
        won_amount: dec("120000"),
        ..Counted::default()
    };
    assert_eq!(actual(TargetKind::Growth, &first_year, 2), None);
    assert_eq!(attainment(TargetKind::Growth, dec("10"), &first_year), None);
}

#[test]
fn new_accounts_count_whole_accounts() {
    let counted = Counted {
        new_accounts: 3,
        ..Counted::default()
    };
    assert_eq!(
        shown(actual(TargetKind::NewAccounts, &counted, 2)),
        Some("3".into())
    );
    assert_eq!(
        shown(attainment(TargetKind::NewAccounts, dec("4"), &counted)),
        Some("75.00".into())
    );
}

#[test]
fn kinds_read_back_from_their_names_and_know_whether_they_add_up() {
    for kind in TargetKind::ALL {
        assert_eq!(TargetKind::parse(kind.as_str()), Some(kind));
    }
    assert_eq!(TargetKind::parse("bookings"), None);
    assert!(TargetKind::Revenue.is_additive());
    assert!(TargetKind::VisitsPerWeek.is_additive());
    assert!(!TargetKind::Growth.is_additive());
    assert!(!TargetKind::AverageDealSize.is_additive());
    assert_eq!(TargetKind::Revenue.places(0), 0);
    assert_eq!(TargetKind::NewAccounts.places(2), 0);
    assert_eq!(TargetKind::CallsPerWeek.places(0), 2);
}

proptest! {
    #[test]
    fn meeting_a_target_exactly_is_full_attainment(cents in 1i64..=i64::MAX / 1000) {
        let amount = Decimal::new(cents, 2);
        let counted = Counted { won_amount: amount, ..Counted::default() };
        prop_assert_eq!(attainment(TargetKind::Revenue, amount, &counted), Some(Decimal::ONE_HUNDRED));
    }

    #[test]
    fn percents_never_panic(part in any::<i64>(), whole in any::<i64>(), scale in 0u32..=10) {
        let result = percent(Decimal::new(part, scale), Decimal::new(whole, 0));
        prop_assert!(whole != 0 || result.is_none());
        if let Some(value) = result {
            prop_assert!(value.scale() <= 2);
        }
    }
}
