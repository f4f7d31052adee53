use chrono::TimeZone;
use crm_platform::fiscal::FiscalCalendar;
use proptest::prelude::*;

use super::*;

fn numbers(commit: i64, best_case: i64, pipeline: i64) -> CallNumbers {
    CallNumbers {
        commit: Decimal::from(commit),
        best_case: Decimal::from(best_case),
        pipeline: Decimal::from(pipeline),
    }
}

fn team(path: &str) -> TeamPath {
    TeamPath::parse(path).unwrap()
}

fn user(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// A call made `minute` minutes after 2027-01-04 09:00 UTC.
fn call(scope: CallScope, minute: i64, said: CallNumbers) -> ForecastCall {
    ForecastCall {
        id: Uuid::from_u128(1_000 + minute as u128),
        scope,
        period: FiscalCalendar::default().parse("FY2027-Q1").unwrap(),
        submitted_by: user(99),
        submitted_at: Utc.with_ymd_and_hms(2027, 1, 4, 9, 0, 0).unwrap()
            + chrono::Duration::minutes(minute),
        numbers: said,
        team: None,
        note: String::new(),
        pipeline: BTreeMap::new(),
    }
}

fn fields(violations: &[FieldViolation]) -> Vec<(&str, bool)> {
    violations
        .iter()
        .map(|violation| (violation.field.as_str(), violation.reason.is_some()))
        .collect()
}

#[test]
fn numbers_must_be_non_negative_and_in_order() {
    let d = Decimal::from;
    assert_eq!(
        CallNumbers::new("numbers", d(100), d(150), d(300)),
        Ok(numbers(100, 150, 300))
    );
    let negative = CallNumbers::new("numbers", d(-1), d(150), d(-300)).unwrap_err();
    assert_eq!(
        fields(&negative),
        vec![("numbers.commit", false), ("numbers.pipeline", false)]
    );
    let unordered = CallNumbers::new("numbers", d(200), d(150), d(100)).unwrap_err();
    assert_eq!(
        fields(&unordered),
        vec![("numbers.commit", true), ("numbers.best_case", true)]
    );
    assert!(CallNumbers::new("numbers", d(0), d(0), d(0)).is_ok());
}

#[test]
fn a_team_call_is_the_roll_up_with_the_managers_adjustment() {
    let rolled_up = numbers(100, 150, 300);
    let adjustment = CallAdjustment {
        commit: Decimal::from(-20),
        best_case: Decimal::from(10),
        pipeline: Decimal::ZERO,
    };
    assert_eq!(
        team_call("adjustment", &rolled_up, &adjustment),
        Ok(numbers(80, 160, 300))
    );

    let too_much = CallAdjustment {
        commit: Decimal::from(-101),
        ..adjustment
    };
    let refused = team_call("adjustment", &rolled_up, &too_much).unwrap_err();
    assert_eq!(fields(&refused), vec![("adjustment.commit", true)]);

    let past_best_case = CallAdjustment {
        commit: Decimal::from(60),
        ..CallAdjustment::default()
    };
    let refused = team_call("adjustment", &rolled_up, &past_best_case).unwrap_err();
    assert_eq!(fields(&refused), vec![("adjustment.commit", true)]);
    assert!(
        refused[0]
            .description
            .contains("once added to the calls below")
    );
}

#[test]
fn the_current_call_of_each_scope_is_its_latest() {
    let rep = CallScope::Rep(user(1));
    let mut tie = call(rep.clone(), 30, numbers(7, 7, 7));
    tie.id = Uuid::from_u128(5_000);
    let calls = vec![
        call(rep.clone(), 10, numbers(1, 1, 1)),
        call(rep.clone(), 30, numbers(3, 3, 3)),
        tie,
        call(rep.clone(), 20, numbers(2, 2, 2)),
        call(CallScope::Team(team("/n/")), 5, numbers(9, 9, 9)),
    ];
    let current = current_calls(&calls);
    assert_eq!(current.len(), 2);
    // Two at the same minute: the later id.
    assert_eq!(current[&rep].numbers, numbers(7, 7, 7));
    assert_eq!(
        current[&CallScope::Team(team("/n/"))].numbers,
        numbers(9, 9, 9)
    );
}

#[test]
fn a_roll_up_shows_every_level_of_the_subtree_and_its_sum() {
    let reps = vec![
        (user(1), team("/n/east/e1/")),
        (user(2), team("/n/east/e1/")),
        (user(3), team("/n/east/e2/")),
        (user(4), team("/n/east/")),
        (user(5), team("/n/west/")),
        (user(6), team("/n/east/e3/x/")),
    ];
    let calls = vec![
        call(CallScope::Rep(user(1)), 1, numbers(90, 90, 90)),
        call(CallScope::Rep(user(1)), 2, numbers(100, 200, 300)),
        call(CallScope::Rep(user(3)), 3, numbers(50, 60, 70)),
        call(
            CallScope::Team(team("/n/east/e2/")),
            4,
            numbers(80, 100, 120),
        ),
        call(CallScope::Rep(user(4)), 5, numbers(10, 10, 10)),
        // Outside the subtree, and someone no longer a rep here: neither counts.
        call(CallScope::Rep(user(5)), 6, numbers(1000, 1000, 1000)),
        call(CallScope::Rep(user(7)), 7, numbers(1000, 1000, 1000)),
        call(CallScope::Rep(user(6)), 8, numbers(5, 6, 7)),
    ];
    let east = roll_up(&team("/n/east/"), &reps, &calls).unwrap();

    let paths: Vec<&str> = east
        .sub_teams
        .iter()
        .map(|level| level.team_path.as_str())
        .collect();
    assert_eq!(paths, vec!["/n/east/e1/", "/n/east/e2/", "/n/east/e3/"]);
    let e1 = &east.sub_teams[0];
    assert_eq!(e1.reps.len(), 2);
    assert_eq!(e1.reps[1].call, None);
    assert_eq!(
        (e1.below, e1.number),
        (numbers(100, 200, 300), numbers(100, 200, 300))
    );
    assert_eq!(e1.reps_without_call, 1);
    // e2's manager said more than its rep: the manager's call is what goes up.
    let e2 = &east.sub_teams[1];
    assert_eq!(
        (e2.below, e2.number),
        (numbers(50, 60, 70), numbers(80, 100, 120))
    );
    // e3 has no reps of its own, only its sub-team x.
    let e3 = &east.sub_teams[2];
    assert_eq!(e3.sub_teams[0].team_path.as_str(), "/n/east/e3/x/");
    assert_eq!(e3.number, numbers(5, 6, 7));
    // 10 (rep 4) + 100/200/300 (e1) + 80/100/120 (e2) + 5/6/7 (e3)
    assert_eq!(east.below, numbers(195, 316, 437));
    assert_eq!(east.number, east.below);
    assert_eq!(east.call, None);
    assert_eq!(east.reps_without_call, 1);
}

#[test]
fn a_call_is_judged_against_what_was_booked() {
    let mut first = call(CallScope::Rep(user(1)), 1, numbers(90, 120, 200));
    let judged = call_accuracy(&first, Decimal::from(100)).unwrap();
    assert_eq!(judged.commit.error, Decimal::from(-10));
    assert_eq!(
        judged.commit.absolute_percentage_error,
        Some(Decimal::from(10))
    );
    assert_eq!(judged.best_case.error, Decimal::from(20));
    assert_eq!(
        judged.best_case.absolute_percentage_error,
        Some(Decimal::from(20))
    );

    let second = call(CallScope::Rep(user(1)), 2, numbers(120, 150, 200));
    let level = level_accuracy([&first, &second], Decimal::from(100)).unwrap();
    // Errors −10 and +20: a bias of +5; APEs 10 % and 20 %: MAPE 15 %.
    assert_eq!(level.count, 2);
    assert_eq!(level.mean_error, Some(Decimal::from(5)));
    assert_eq!(
        level.mean_absolute_percentage_error,
        Some(Decimal::from(15))
    );

    // Nothing booked: the error stands, a percentage of nothing does not.
    first.numbers = numbers(30, 30, 30);
    let judged = call_accuracy(&first, Decimal::ZERO).unwrap();
    assert_eq!(judged.commit.error, Decimal::from(30));
    assert_eq!(judged.commit.absolute_percentage_error, None);
}

#[test]
fn accuracy_shows_the_scope_first_then_teams_then_reps_each_with_its_bookings() {
    let (ravi, sam) = (user(1), user(2));
    let levels = accuracy_levels(
        AccuracyLevel::Team("/n/east/".into()),
        [
            (AccuracyLevel::Rep(ravi), "ravi, first"),
            (AccuracyLevel::Team("/n/east/e1/".into()), "e1"),
            (AccuracyLevel::Rep(ravi), "ravi, second"),
            (AccuracyLevel::Rep(sam), "sam"),
        ],
    );
    assert_eq!(
        levels,
        vec![
            (AccuracyLevel::Team("/n/east/".into()), vec![]),
            (AccuracyLevel::Team("/n/east/e1/".into()), vec!["e1"]),
            (
                AccuracyLevel::Rep(ravi),
                vec!["ravi, first", "ravi, second"]
            ),
            (AccuracyLevel::Rep(sam), vec!["sam"]),
        ]
    );

    let won = [
        (ravi, "/n/east/e1/", Decimal::from(100)),
        (ravi, "/n/east/e2/", Decimal::from(30)),
        (sam, "/n/east/e2/", Decimal::from(50)),
        (user(3), "/n/west/", Decimal::from(7)),
    ];
    let booked = |level: AccuracyLevel| level.booked(&won).unwrap();
    assert_eq!(booked(AccuracyLevel::Rep(ravi)), Decimal::from(130));
    assert_eq!(
        booked(AccuracyLevel::Team("/n/east/e2/".into())),
        Decimal::from(80)
    );
    assert_eq!(
        booked(AccuracyLevel::Team("/n/east/".into())),
        Decimal::from(180)
    );
    assert_eq!(booked(AccuracyLevel::Company), Decimal::from(187));
}

const TEAMS: [&str; 5] = ["/n/", "/n/a/", "/n/a/x/", "/n/b/", "/n/b/y/z/"];

fn a_call() -> impl Strategy<Value = CallNumbers> {
    (0_i64..1_000_000, 0_i64..1_000_000, 0_i64..1_000_000).prop_map(|(a, b, c)| {
        let commit = Decimal::new(a, 2);
        let best_case = commit + Decimal::new(b, 2);
        CallNumbers {
            commit,
            best_case,
            pipeline: best_case + Decimal::new(c, 2),
        }
    })
}

/// Ten reps in random teams, each with up to three calls.
fn reps_and_calls() -> impl Strategy<Value = (Vec<(Uuid, TeamPath)>, Vec<ForecastCall>)> {
    proptest::collection::vec(
        (
            0..TEAMS.len(),
            proptest::collection::vec((0_i64..100, a_call()), 0..3),
        ),
        10,
    )
    .prop_map(|reps| {
        let mut people = Vec::new();
        let mut calls = Vec::new();
        for (n, (team_index, said)) in reps.into_iter().enumerate() {
            let id = user(n as u128 + 1);
            people.push((id, team(TEAMS[team_index])));
            for (minute, numbers) in said {
                let mut made = call(CallScope::Rep(id), minute, numbers);
                made.id = Uuid::from_u128(((minute as u128) << 32) + n as u128);
                calls.push(made);
            }
        }
        (people, calls)
    })
}

proptest! {
    #[test]
    fn without_team_calls_the_company_says_the_sum_of_its_reps_current_calls(
        (reps, calls) in reps_and_calls()
    ) {
        let company = roll_up(&team("/n/"), &reps, &calls).unwrap();
        let current = current_calls(&calls);
        let mut sum = CallNumbers::ZERO;
        let mut silent = 0;
        for (id, _) in &reps {
            match current.get(&CallScope::Rep(*id)) {
                Some(call) => sum = sum.checked_add(&call.numbers).unwrap(),
                None => silent += 1,
            }
        }
        prop_assert_eq!(company.number, sum);
        prop_assert_eq!(company.reps_without_call, silent);
        // Sums of ordered numbers stay ordered.
        prop_assert!(sum.commit <= sum.best_case && sum.best_case <= sum.pipeline);
    }

    #[test]
    fn a_team_call_replaces_its_subtree_in_the_sum_above(
        (reps, mut calls) in reps_and_calls(),
        said in a_call(),
    ) {
        let before = roll_up(&team("/n/"), &reps, &calls).unwrap().number;
        let a_before = roll_up(&team("/n/"), &reps, &calls).unwrap().sub_teams.iter().find(|level| level.team_path == team("/n/a/")).map_or(CallNumbers::ZERO, |level| level.number);
        calls.push(call(CallScope::Team(team("/n/a/")), 200, said));
        let after = roll_up(&team("/n/"), &reps, &calls).unwrap();
        let expected = CallNumbers {
            commit: before.commit - a_before.commit + said.commit,
            best_case: before.best_case - a_before.best_case + said.best_case,
            pipeline: before.pipeline - a_before.pipeline + said.pipeline,
        };
        prop_assert_eq!(after.number, expected);
    }
}
