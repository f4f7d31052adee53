use chrono::{Datelike, NaiveDate};
use proptest::prelude::*;

use super::*;

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

#[test]
fn dates_parse_with_or_without_their_year() {
    let birthday = RecurringDate::parse("--03-14").unwrap();
    assert_eq!((birthday.year, birthday.month, birthday.day), (None, 3, 14));
    let leap = RecurringDate::parse("--02-29").unwrap();
    assert_eq!((leap.month, leap.day), (2, 29));
    assert_eq!(RecurringDate::parse("2019-06-30").unwrap().year, Some(2019));
    for bad in ["--02-30", "--13-01", "2019-02-29", "14.03.", ""] {
        assert_eq!(RecurringDate::parse(bad), None, "{bad}");
    }
}

#[test]
fn the_next_occurrence_is_on_or_after_the_day() {
    let birthday = RecurringDate::parse("--03-14").unwrap();
    assert_eq!(
        birthday.next_on_or_after(date("2026-03-14")),
        date("2026-03-14")
    );
    assert_eq!(
        birthday.next_on_or_after(date("2026-03-15")),
        date("2027-03-14")
    );
    assert_eq!(
        birthday.next_on_or_after(date("2026-01-01")),
        date("2026-03-14")
    );
    let signed = RecurringDate::parse("2019-06-30").unwrap();
    let next = signed.next_on_or_after(date("2026-12-02"));
    assert_eq!(next, date("2027-06-30"));
    assert_eq!(signed.years_at(next), Some(8));
    // Signed in the future: its first occurrence is the day itself.
    let later = RecurringDate::parse("2028-01-10").unwrap();
    assert_eq!(
        later.next_on_or_after(date("2026-12-02")),
        date("2028-01-10")
    );
}

#[test]
fn february_29th_recurs_on_the_28th_without_a_leap_day() {
    let leap = RecurringDate::parse("2024-02-29").unwrap();
    assert_eq!(
        leap.next_on_or_after(date("2026-01-01")),
        date("2026-02-28")
    );
    assert_eq!(
        leap.next_on_or_after(date("2027-03-01")),
        date("2028-02-29")
    );
    assert_eq!(leap.years_at(date("2026-02-28")), Some(2));
}

#[test]
fn unknown_placeholders_are_named_once_and_known_ones_filled() {
    let text = "Dear {contact_name}, {years} years with {account_name}! {nmae} {nmae} {x}";
    assert_eq!(unknown_placeholders(text), ["nmae", "x"]);
    assert!(unknown_placeholders("{date} {owner_name}").is_empty());
    let values = CareValues {
        contact_name: "Li Wei".into(),
        account_name: "Contoso <Ltd>".into(),
        years: "8".into(),
        ..Default::default()
    };
    assert_eq!(
        render(
            "Dear {contact_name}, {years} years with {account_name}",
            &values
        ),
        "Dear Li Wei, 8 years with Contoso <Ltd>"
    );
}

proptest! {
    /// The next occurrence is on or after the day, within a year of it (unless the date
    /// itself is later), on the date's month, and on its day but for February 29th.
    #[test]
    fn next_occurrences_are_the_first_on_or_after(
        month in 1u32..=12, day in 1u32..=31, offset in 0i64..3000,
    ) {
        prop_assume!(NaiveDate::from_ymd_opt(2000, month, day).is_some());
        let recurring = RecurringDate { year: None, month, day };
        let from = date("2024-01-01") + chrono::Duration::days(offset);
        let next = recurring.next_on_or_after(from);
        prop_assert!(next >= from);
        prop_assert!((next - from).num_days() <= 366);
        prop_assert_eq!(next.month(), month);
        if (month, day) != (2, 29) {
            prop_assert_eq!(next.day(), day);
        }
        prop_assert_eq!(recurring.next_on_or_after(next), next);
    }
}
