//! A rep's calendar (O7): which instants a local day or ISO week in a time zone covers, and the
//! order its entries are shown in. No I/O.

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// How much of a calendar to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarView {
    Day,
    /// The ISO week (Monday to Sunday).
    Week,
}

/// The local days a calendar shows and the instants they span: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CalendarRange {
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// The first instant of a local day in `zone`. A day whose midnight a daylight-saving change
/// skips starts at its first local time that exists; a midnight that happens twice starts at
/// the earlier one.
pub fn start_of_day(zone: Tz, day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_time(NaiveTime::MIN);
    // Gaps are whole minutes in every zone of the database, and never a day long.
    (0..24 * 60)
        .find_map(|minute| {
            let local = midnight + chrono::Duration::minutes(minute);
            zone.from_local_datetime(&local).earliest()
        })
        .map(|time| time.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&midnight))
}

/// The range of the day or ISO week holding `date` in `zone`. `None` at the calendar's ends.
pub fn range(view: CalendarView, date: NaiveDate, zone: Tz) -> Option<CalendarRange> {
    let (first_day, days) = match view {
        CalendarView::Day => (date, 1),
        CalendarView::Week => {
            let back = u64::from(date.weekday().num_days_from_monday());
            (date.checked_sub_days(Days::new(back))?, 7)
        }
    };
    let after = first_day.checked_add_days(Days::new(days))?;
    Some(CalendarRange {
        first_day,
        last_day: after.pred_opt()?,
        start: start_of_day(zone, first_day),
        end: start_of_day(zone, after),
    })
}

/// Today in `zone` at `now`.
pub fn today(zone: Tz, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&zone).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn instant(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn a_day_in_shanghai_starts_at_sixteen_utc_the_day_before() {
        let range = range(
            CalendarView::Day,
            day("2026-11-23"),
            chrono_tz::Asia::Shanghai,
        )
        .unwrap();
        assert_eq!(range.start, instant("2026-11-22T16:00:00Z"));
        assert_eq!(range.end, instant("2026-11-23T16:00:00Z"));
        assert_eq!(
            (range.first_day, range.last_day),
            (day("2026-11-23"), day("2026-11-23"))
        );
    }

    #[test]
    fn a_week_runs_monday_to_sunday() {
        // 2026-11-26 is a Thursday.
        let range = range(CalendarView::Week, day("2026-11-26"), Tz::UTC).unwrap();
        assert_eq!(
            (range.first_day, range.last_day),
            (day("2026-11-23"), day("2026-11-29"))
        );
        assert_eq!(range.start, instant("2026-11-23T00:00:00Z"));
        assert_eq!(range.end, instant("2026-11-30T00:00:00Z"));
        let sunday = super::range(CalendarView::Week, day("2026-11-29"), Tz::UTC).unwrap();
        assert_eq!(sunday, range);
    }

    #[test]
    fn a_day_whose_midnight_is_skipped_starts_at_its_first_local_time() {
        // Chile's clocks go from 00:00 to 01:00 on 2026-09-06 (UTC-4 to UTC-3).
        let santiago = chrono_tz::America::Santiago;
        assert_eq!(
            start_of_day(santiago, day("2026-09-06")),
            instant("2026-09-06T04:00:00Z")
        );
        // It runs from 01:00 to midnight: 23 hours. The day before ends where it starts.
        let skipped = range(CalendarView::Day, day("2026-09-06"), santiago).unwrap();
        assert_eq!(skipped.end - skipped.start, chrono::Duration::hours(23));
        let before = range(CalendarView::Day, day("2026-09-05"), santiago).unwrap();
        assert_eq!(before.end, skipped.start);
    }

    #[test]
    fn a_day_whose_clock_goes_back_is_twenty_five_hours_long() {
        // Berlin's clocks go from 03:00 back to 02:00 on 2026-10-25.
        let range = range(
            CalendarView::Day,
            day("2026-10-25"),
            chrono_tz::Europe::Berlin,
        );
        let range = range.unwrap();
        assert_eq!(range.start, instant("2026-10-24T22:00:00Z"));
        assert_eq!(range.end - range.start, chrono::Duration::hours(25));
    }

    #[test]
    fn today_is_the_local_date() {
        let now = instant("2026-11-22T17:00:00Z");
        assert_eq!(today(chrono_tz::Asia::Shanghai, now), day("2026-11-23"));
        assert_eq!(today(Tz::UTC, now), day("2026-11-22"));
    }
}
