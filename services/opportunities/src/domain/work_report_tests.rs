use chrono::{NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

use super::*;

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn cny() -> CurrencyCode {
    "CNY".parse::<CurrencyCode>().unwrap()
}

#[test]
fn a_week_runs_monday_to_sunday_and_a_month_first_to_last() {
    // 2026-12-02 is a Wednesday.
    let week = ReportPeriod::containing(PeriodKind::Week, day("2026-12-02"));
    assert_eq!(
        (week.first_day, week.last_day),
        (day("2026-11-30"), day("2026-12-06"))
    );
    let month = ReportPeriod::containing(PeriodKind::Month, day("2028-02-10"));
    assert_eq!(
        (month.first_day, month.last_day),
        (day("2028-02-01"), day("2028-02-29"))
    );
    assert_eq!(
        ReportPeriod::last_completed(PeriodKind::Week, day("2026-11-30")).first_day,
        day("2026-11-23"),
        "on a Monday the week before is the last completed one"
    );
    assert_eq!(
        ReportPeriod::last_completed(PeriodKind::Month, day("2027-01-01")),
        ReportPeriod::containing(PeriodKind::Month, day("2026-12-31"))
    );
}

#[test]
fn a_period_is_measured_in_its_time_zone() {
    let shanghai: Tz = "Asia/Shanghai".parse().unwrap();
    let week = ReportPeriod::containing(PeriodKind::Week, day("2026-12-02"));
    let (from, to) = week.bounds(shanghai);
    // Midnight in Shanghai is 16:00 UTC the day before.
    assert_eq!(from, Utc.with_ymd_and_hms(2026, 11, 29, 16, 0, 0).unwrap());
    assert_eq!(to, Utc.with_ymd_and_hms(2026, 12, 6, 16, 0, 0).unwrap());
}

#[test]
fn a_day_whose_midnight_is_skipped_starts_at_the_first_local_time() {
    // Chile moved its clocks from 00:00 to 01:00 on 2026-09-06 (America/Santiago, UTC-4 → UTC-3).
    let santiago: Tz = "America/Santiago".parse().unwrap();
    let start = start_of_day(day("2026-09-06"), santiago);
    assert_eq!(start, Utc.with_ymd_and_hms(2026, 9, 6, 4, 0, 0).unwrap());
}

#[test]
fn reps_figures_add_up_to_the_team_and_won_amounts_sum() {
    let (ravi, nora) = (Uuid::from_u128(1), Uuid::from_u128(2));
    let counts = [
        RepCount {
            user_id: nora,
            team_path: "/n/east/".into(),
            metric: Metric::Calls,
            count: 2,
        },
        RepCount {
            user_id: ravi,
            team_path: "/n/east/e1/".into(),
            metric: Metric::Calls,
            count: 3,
        },
        RepCount {
            user_id: ravi,
            team_path: "/n/east/e1/".into(),
            metric: Metric::Visits,
            count: 1,
        },
        RepCount {
            user_id: ravi,
            team_path: "/n/east/e1/".into(),
            metric: Metric::DealsWon,
            count: 2,
        },
    ];
    let won = [
        RepWonAmount {
            user_id: ravi,
            currency: cny(),
            amount: "984000.00".parse().unwrap(),
        },
        RepWonAmount {
            user_id: ravi,
            currency: cny(),
            amount: "16000.50".parse().unwrap(),
        },
    ];
    let reps = rep_work(&counts, &won);
    assert_eq!(
        reps.iter().map(|rep| rep.user_id).collect::<Vec<_>>(),
        [ravi, nora]
    );
    assert_eq!(
        (
            reps[0].summary.calls,
            reps[0].summary.visits,
            reps[0].summary.deals_won
        ),
        (3, 1, 2)
    );
    assert_eq!(
        reps[0].summary.won_amount,
        Some((cny(), "1000000.50".parse().unwrap()))
    );
    assert_eq!(reps[0].team_path, "/n/east/e1/");
    assert_eq!(reps[1].summary.won_amount, None);
    let team = team_summary(&reps, Some(cny()));
    assert_eq!((team.calls, team.visits, team.deals_won), (5, 1, 2));
    assert_eq!(
        team.won_amount,
        Some((cny(), "1000000.50".parse().unwrap()))
    );
    assert_eq!(
        team_summary(&reps[1..], Some(cny())).won_amount,
        Some((cny(), Decimal::ZERO)),
        "a team that won nothing won zero, in the corporate currency"
    );
    assert_eq!(team_summary(&reps[1..], None).won_amount, None);
}

proptest! {
    #[test]
    fn every_day_lies_in_exactly_the_period_containing_it(ordinal in 0i64..3000, weekly: bool) {
        let kind = if weekly { PeriodKind::Week } else { PeriodKind::Month };
        let today = day("2025-01-01") + chrono::Duration::days(ordinal);
        let period = ReportPeriod::containing(kind, today);
        prop_assert!(period.first_day <= today && today <= period.last_day);
        let previous = period.previous();
        prop_assert_eq!(previous.last_day.succ_opt().unwrap(), period.first_day);
        prop_assert_eq!(ReportPeriod::containing(kind, period.last_day), period);
        if weekly {
            prop_assert_eq!((period.last_day - period.first_day).num_days(), 6);
        }
    }

    #[test]
    fn a_team_counts_what_its_reps_count(
        counts in proptest::collection::vec((0u128..5, 0usize..12, 0u32..1000), 0..40)
    ) {
        let counts: Vec<RepCount> = counts
            .into_iter()
            .map(|(user, metric, count)| RepCount {
                user_id: Uuid::from_u128(user),
                team_path: "/t/".into(),
                metric: ALL_METRICS[metric],
                count,
            })
            .collect();
        let team = team_summary(&rep_work(&counts, &[]), None);
        for metric in ALL_METRICS {
            let expected: u32 = counts.iter().filter(|count| count.metric == metric).map(|count| count.count).sum();
            prop_assert_eq!(team.count(metric), expected);
        }
    }
}
