use proptest::prelude::*;

use super::*;

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn april(naming: FiscalYearNaming) -> FiscalCalendar {
    FiscalCalendar::new(4, naming).unwrap()
}

#[test]
fn the_default_calendar_is_the_calendar_year() {
    let calendar = FiscalCalendar::default();
    let quarter = calendar
        .period_of(PeriodKind::Quarter, day("2026-08-15"))
        .unwrap();
    assert_eq!(quarter.to_string(), "FY2026-Q3");
    assert_eq!(
        (quarter.start(), quarter.last_day()),
        (day("2026-07-01"), day("2026-09-30"))
    );
    let year = calendar
        .period_of(PeriodKind::Year, day("2026-12-31"))
        .unwrap();
    assert_eq!(year.to_string(), "FY2026");
    assert_eq!(
        (year.start(), year.end()),
        (day("2026-01-01"), day("2027-01-01"))
    );
}

#[test]
fn a_fiscal_year_from_april_is_named_by_its_starting_or_ending_year() {
    // 15 February 2027 lies in April 2026 – March 2027, its fourth quarter (January–March).
    let date = day("2027-02-15");
    let starting = april(FiscalYearNaming::StartingYear);
    let ending = april(FiscalYearNaming::EndingYear);
    let quarter = starting.period_of(PeriodKind::Quarter, date).unwrap();
    assert_eq!(quarter.to_string(), "FY2026-Q4");
    assert_eq!(
        (quarter.start(), quarter.end()),
        (day("2027-01-01"), day("2027-04-01"))
    );
    assert_eq!(
        ending
            .period_of(PeriodKind::Quarter, date)
            .unwrap()
            .to_string(),
        "FY2027-Q4"
    );
    let year = ending.period_of(PeriodKind::Year, date).unwrap();
    assert_eq!(
        (year.start(), year.last_day()),
        (day("2026-04-01"), day("2027-03-31"))
    );
    // The first of the start month opens a year; the day before closes the last.
    assert_eq!(
        starting
            .period_of(PeriodKind::Quarter, day("2026-04-01"))
            .unwrap()
            .to_string(),
        "FY2026-Q1"
    );
    assert_eq!(
        starting
            .period_of(PeriodKind::Quarter, day("2026-03-31"))
            .unwrap()
            .to_string(),
        "FY2025-Q4"
    );
    // A month is its calendar month, numbered within the fiscal year.
    let month = starting.period_of(PeriodKind::Month, date).unwrap();
    assert_eq!((month.to_string(), month.number()), ("2027-02".into(), 11));
}

#[test]
fn labels_name_periods_in_the_calendar() {
    let ending = april(FiscalYearNaming::EndingYear);
    let quarter = ending.parse("FY2027-Q1").unwrap();
    assert_eq!(
        (quarter.start(), quarter.end()),
        (day("2026-04-01"), day("2026-07-01"))
    );
    assert_eq!(ending.parse(" FY2027 ").unwrap().start(), day("2026-04-01"));
    let month = ending.parse("2026-05").unwrap();
    assert_eq!((month.fiscal_year(), month.number()), (2027, 2));
    for bad in [
        "FY27",
        "FY2027-Q5",
        "FY2027-Q0",
        "2026-13",
        "2026-5",
        "Q1",
        "",
        "FY0999",
    ] {
        assert!(ending.parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn periods_step_back_a_year_and_split_into_their_parts() {
    let calendar = april(FiscalYearNaming::StartingYear);
    let q1 = calendar.parse("FY2026-Q1").unwrap();
    assert_eq!(q1.previous().to_string(), "FY2025-Q4");
    assert_eq!(q1.shifted(5).to_string(), "FY2027-Q2");
    assert_eq!(q1.a_year_earlier().to_string(), "FY2025-Q1");
    let year = calendar.parse("FY2026").unwrap();
    let quarters: Vec<String> = year
        .parts(PeriodKind::Quarter)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        quarters,
        ["FY2026-Q1", "FY2026-Q2", "FY2026-Q3", "FY2026-Q4"]
    );
    let months: Vec<String> = calendar
        .parse("FY2026-Q4")
        .unwrap()
        .parts(PeriodKind::Month)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(months, ["2027-01", "2027-02", "2027-03"]);
    assert!(q1.parts(PeriodKind::Year).is_empty());
}

#[test]
fn a_start_month_outside_the_year_is_refused() {
    assert!(FiscalCalendar::new(0, FiscalYearNaming::StartingYear).is_err());
    assert!(FiscalCalendar::new(13, FiscalYearNaming::EndingYear).is_err());
}

fn any_calendar() -> impl Strategy<Value = FiscalCalendar> {
    (1u32..=12, any::<bool>()).prop_map(|(month, ending)| {
        let naming = if ending {
            FiscalYearNaming::EndingYear
        } else {
            FiscalYearNaming::StartingYear
        };
        FiscalCalendar::new(month, naming).unwrap()
    })
}

fn any_date() -> impl Strategy<Value = NaiveDate> {
    (0i64..60_000).prop_map(|days| day("1990-01-01") + chrono::Duration::days(days))
}

fn any_kind() -> impl Strategy<Value = PeriodKind> {
    prop_oneof![
        Just(PeriodKind::Month),
        Just(PeriodKind::Quarter),
        Just(PeriodKind::Year)
    ]
}

proptest! {
    /// Every day lies in its period, which starts on a first of a month, lasts its kind's
    /// months, and is followed at once by the next.
    #[test]
    fn a_day_lies_in_one_period_of_each_kind(
        calendar in any_calendar(),
        date in any_date(),
        kind in any_kind(),
    ) {
        let period = calendar.period_of(kind, date).unwrap();
        prop_assert!(period.contains(date));
        prop_assert_eq!(period.start().day(), 1);
        prop_assert_eq!(months_between(period.start(), period.end()), kind.months());
        let next = period.shifted(1);
        prop_assert_eq!(next.start(), period.end());
        prop_assert!(!next.contains(date) && !period.previous().contains(date));
        prop_assert_eq!(calendar.period_of(kind, period.last_day()), Some(period));
        prop_assert_eq!(calendar.period_of(kind, period.end()), Some(next));
    }

    /// A period's label names it again, and its fiscal year holds it.
    #[test]
    fn labels_round_trip_and_years_hold_their_parts(
        calendar in any_calendar(),
        date in any_date(),
        kind in any_kind(),
    ) {
        let period = calendar.period_of(kind, date).unwrap();
        prop_assert_eq!(calendar.parse(&period.to_string()), Ok(period));
        let year = calendar.period_of(PeriodKind::Year, date).unwrap();
        prop_assert_eq!(year.fiscal_year(), period.fiscal_year());
        prop_assert!(year.parts(kind).contains(&period));
        prop_assert_eq!(year.start().month(), calendar.start_month());
    }

    /// Stepping by n and back by n is where one started; a year earlier is the same number.
    #[test]
    fn shifting_is_reversible(
        calendar in any_calendar(),
        date in any_date(),
        kind in any_kind(),
        by in -200i32..200,
    ) {
        let period = calendar.period_of(kind, date).unwrap();
        let moved = period.shifted(by);
        prop_assert_eq!(moved.shifted(-by), period);
        prop_assert_eq!(calendar.period_of(kind, moved.start()), Some(moved));
        let earlier = period.a_year_earlier();
        prop_assert_eq!(earlier.number(), period.number());
        prop_assert_eq!(earlier.fiscal_year(), period.fiscal_year() - 1);
    }
}
