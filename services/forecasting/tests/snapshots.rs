//! Weekly snapshots and what they show (F5) over real PostgreSQL and NATS: one snapshot per
//! ISO week however many replicas run the job, the movement of a period's pipeline between two
//! of them, and the accuracy of a period's calls once it has ended — hand-computed numbers.

mod calls_support;

use calls_support::{
    BEST_CASE, COMMIT, Deal, EAST, EAST_1, EAST_2, Harness, PIPELINE, WEST, amount,
};
use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::fiscal::{FiscalCalendar, PeriodKind};
use crm_proto::crm::forecasting::v1::{self as pb, ForecastScope, MovementKind};
use rust_decimal::Decimal;
use tonic::Code;
use uuid::Uuid;

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

async fn snapshot(harness: &Harness, now: &str) -> u64 {
    let context = harness.app.services.context("forecasting").unwrap();
    crm_forecasting::run_job(context, crm_forecasting::WEEKLY_SNAPSHOT, at(now))
        .await
        .unwrap()
}

async fn weeks(harness: &Harness) -> Vec<(NaiveDate, i64)> {
    sqlx::query_as("SELECT week_start, deal_count FROM snapshot_weeks ORDER BY week_start")
        .fetch_all(harness.app.pool("forecasting"))
        .await
        .unwrap()
}

#[tokio::test]
async fn one_snapshot_is_taken_per_week_however_many_replicas_run_the_job() {
    let harness = Harness::start().await;
    let ravi = harness.person("rep", EAST_1).await;
    let open = Deal::open(&ravi, "100000", COMMIT, "2027-02-10");
    let other = Deal::open(&ravi, "30000", PIPELINE, "2027-08-01");
    let long_won = Deal {
        won_on: Some("2025-06-01"),
        ..Deal::open(&ravi, "5000", COMMIT, "2025-06-01")
    };
    let won = Deal {
        won_on: Some("2026-11-20"),
        ..Deal::open(&ravi, "7000", COMMIT, "2026-11-20")
    };
    harness.publish(&[&open, &other, &long_won, &won]).await;

    // Three replicas tick at once on Monday, another on Friday of the same ISO week.
    let context = harness.app.services.context("forecasting").unwrap();
    let monday = at("2026-12-07T01:00:00Z");
    let (first, second, third) = tokio::join!(
        crm_forecasting::run_job(context, crm_forecasting::WEEKLY_SNAPSHOT, monday),
        crm_forecasting::run_job(context, crm_forecasting::WEEKLY_SNAPSHOT, monday),
        crm_forecasting::run_job(context, crm_forecasting::WEEKLY_SNAPSHOT, monday),
    );
    // The open deals and the one won within the year; the 2025 win is too old to matter.
    assert_eq!(first.unwrap() + second.unwrap() + third.unwrap(), 3);
    assert_eq!(snapshot(&harness, "2026-12-11T17:00:00Z").await, 0);
    let first_week = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
    assert_eq!(weeks(&harness).await, vec![(first_week, 3)]);

    // Sunday is the same ISO week; Monday after is the next.
    assert_eq!(snapshot(&harness, "2026-12-13T23:59:00Z").await, 0);
    assert_eq!(snapshot(&harness, "2026-12-14T00:00:01Z").await, 3);
    let listed = harness
        .snapshots
        .clone()
        .list_snapshots(harness.request(&ravi, pb::ListSnapshotsRequest::default()))
        .await
        .unwrap()
        .into_inner()
        .snapshots;
    let labels: Vec<(String, String)> = listed
        .iter()
        .map(|week| (week.week_start.clone(), week.week_label.clone()))
        .collect();
    assert_eq!(
        labels,
        vec![
            ("2026-12-14".to_owned(), "2026-W51".to_owned()),
            ("2026-12-07".to_owned(), "2026-W50".to_owned()),
        ]
    );
}

fn movement_request(scope: Option<ForecastScope>, from: &str, to: &str) -> pb::GetMovementRequest {
    pb::GetMovementRequest {
        scope,
        period: "FY2027-Q1".into(),
        from_week: from.into(),
        to_week: to.into(),
    }
}

#[tokio::test]
async fn the_movement_between_two_snapshots_explains_the_whole_difference() {
    let harness = Harness::start().await;
    let ravi = harness.person("rep", EAST_1).await;
    let wes = harness.person("rep", WEST).await;
    let mia = harness.person("manager", EAST).await;
    let admin = harness.person("admin", "/northwind/").await;
    // FY2027-Q1 is January to March 2027 (the calendar year).
    let grows = Deal::open(&ravi, "100000", COMMIT, "2027-02-10");
    let slips = Deal::open(&ravi, "50000", BEST_CASE, "2027-03-01");
    let pulled = Deal::open(&ravi, "30000", PIPELINE, "2027-04-15");
    let wins = Deal::open(&ravi, "20000", PIPELINE, "2027-01-20");
    let west = Deal::open(&wes, "10000", COMMIT, "2027-02-01");
    harness
        .publish(&[&grows, &slips, &pulled, &wins, &west])
        .await;
    snapshot(&harness, "2026-12-07T06:00:00Z").await;

    let new = Deal::open(&ravi, "60000", COMMIT, "2027-03-15");
    harness
        .publish(&[
            &grows.then(|deal| deal.amount = "120000"),
            &slips.then(|deal| deal.close = "2027-05-01"),
            &pulled.then(|deal| deal.close = "2027-02-01"),
            &wins.then(|deal| deal.won_on = Some("2026-12-10")),
            &new,
        ])
        .await;
    snapshot(&harness, "2026-12-16T06:00:00Z").await;

    let ravis = Some(ForecastScope {
        user_id: ravi.user_id.to_string(),
        ..Default::default()
    });
    // Any day of each week names its snapshot.
    let movement = harness
        .snapshots
        .clone()
        .get_movement(harness.request(
            &mia,
            movement_request(ravis.clone(), "2026-12-09", "2026-12-14"),
        ))
        .await
        .unwrap()
        .into_inner();
    let start = movement.start.unwrap();
    let end = movement.end.unwrap();
    // 100,000 + 50,000 + 20,000, and 120,000 + 30,000 + 60,000.
    assert_eq!(
        (amount(&start.total), start.deal_count),
        ("170000".into(), 3)
    );
    assert_eq!((amount(&end.total), end.deal_count), ("210000".into(), 3));
    assert_eq!(start.snapshot.unwrap().week_start, "2026-12-07");
    let groups: Vec<(i32, Vec<String>, String, String)> = movement
        .groups
        .iter()
        .map(|group| {
            (
                group.kind,
                group
                    .deals
                    .iter()
                    .map(|deal| deal.opportunity_id.clone())
                    .collect(),
                amount(&group.amount),
                amount(&group.change),
            )
        })
        .collect();
    let id = |deal: &Deal| vec![deal.id.to_string()];
    assert_eq!(
        groups,
        vec![
            (
                MovementKind::In as i32,
                id(&new),
                "60000".into(),
                "60000".into()
            ),
            (MovementKind::Out as i32, vec![], "0".into(), "0".into()),
            (
                MovementKind::Up as i32,
                id(&grows),
                "20000".into(),
                "20000".into()
            ),
            (MovementKind::Down as i32, vec![], "0".into(), "0".into()),
            (
                MovementKind::PulledIn as i32,
                id(&pulled),
                "30000".into(),
                "30000".into()
            ),
            (
                MovementKind::PushedOut as i32,
                id(&slips),
                "50000".into(),
                "-50000".into()
            ),
            (
                MovementKind::Won as i32,
                id(&wins),
                "20000".into(),
                "-20000".into()
            ),
            (MovementKind::Lost as i32, vec![], "0".into(), "0".into()),
        ]
    );
    // 170,000 + 60,000 + 20,000 + 30,000 − 50,000 − 20,000 = 210,000.
    let changes: Decimal = movement
        .groups
        .iter()
        .map(|group| amount(&group.change).parse::<Decimal>().unwrap())
        .sum();
    assert_eq!(changes, Decimal::from(40_000));
    let pushed = &movement.groups[5].deals[0];
    assert_eq!(
        pushed.after.as_ref().unwrap().expected_close_date,
        "2027-05-01"
    );
    assert_eq!(pushed.name, "Deal of 50000");

    // The company's pipeline holds the west's deal too, at both weeks.
    let company = harness
        .snapshots
        .clone()
        .get_movement(harness.request(
            &admin,
            movement_request(
                Some(ForecastScope {
                    company: true,
                    ..Default::default()
                }),
                "2026-12-07",
                "2026-12-16",
            ),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(amount(&company.start.unwrap().total), "180000");
    assert_eq!(company.unchanged_count, 1);

    // Out of reach, a week without a snapshot, weeks the wrong way round.
    let refused = |caller, request| {
        let harness = &harness;
        async move {
            harness
                .snapshots
                .clone()
                .get_movement(harness.request(caller, request))
                .await
                .unwrap_err()
                .code()
        }
    };
    let wes_reads = refused(
        &wes,
        movement_request(ravis.clone(), "2026-12-07", "2026-12-14"),
    );
    assert_eq!(wes_reads.await, Code::PermissionDenied);
    let no_week = refused(
        &mia,
        movement_request(ravis.clone(), "2026-11-30", "2026-12-14"),
    );
    assert_eq!(no_week.await, Code::FailedPrecondition);
    let backwards = refused(&mia, movement_request(ravis, "2026-12-14", "2026-12-07"));
    assert_eq!(backwards.await, Code::FailedPrecondition);
}

/// The accuracy of `period`'s calls as `caller` reads it.
async fn accuracy_of(
    harness: &Harness,
    caller: &crm_platform::auth::Caller,
    period: String,
) -> Result<pb::GetAccuracyResponse, tonic::Status> {
    let request = pb::GetAccuracyRequest {
        period,
        ..Default::default()
    };
    harness
        .snapshots
        .clone()
        .get_accuracy(harness.request(caller, request))
        .await
        .map(tonic::Response::into_inner)
}

/// Files a call made while `period` was open (the API refuses calls for an ended period).
#[allow(clippy::too_many_arguments)]
async fn past_call(
    harness: &Harness,
    period: &crm_platform::fiscal::FiscalPeriod,
    kind: &str,
    user_id: Option<Uuid>,
    team_path: &str,
    submitted_at: &str,
    (commit, best_case, pipeline): (i64, i64, i64),
) {
    let team = kind == "team";
    let rolled = team.then_some(Decimal::ZERO);
    sqlx::query(
        "INSERT INTO forecast_calls (id, kind, user_id, team_path, period_kind, period_start, \
         period_end, period_label, submitted_by, submitted_at, currency, commit_amount, \
         best_case_amount, pipeline_amount, rolled_up_commit, rolled_up_best_case, \
         rolled_up_pipeline, adjustment_commit, adjustment_best_case, adjustment_pipeline, \
         pipeline_closed, pipeline_commit, pipeline_best_case, pipeline_pipeline, \
         pipeline_omitted) VALUES ($1, $2, $3, $4, 'quarter', $5, $6, $7, $8, $9, 'CNY', $10, \
         $11, $12, $13, $13, $13, $13, $13, $13, 0, 0, 0, 0, 0)",
    )
    .bind(Uuid::now_v7())
    .bind(kind)
    .bind(user_id)
    .bind(team_path)
    .bind(period.start())
    .bind(period.end())
    .bind(period.to_string())
    .bind(user_id.unwrap_or_else(Uuid::now_v7))
    .bind(at(submitted_at))
    .bind(Decimal::from(commit))
    .bind(Decimal::from(best_case))
    .bind(Decimal::from(pipeline))
    .bind(rolled)
    .execute(harness.app.pool("forecasting"))
    .await
    .unwrap();
}

#[tokio::test]
async fn at_period_end_each_call_and_each_level_is_judged_against_what_it_booked() {
    let harness = Harness::start().await;
    let ravi = harness.person("rep", EAST_1).await;
    let rita = harness.person("rep", EAST_1).await;
    let sam = harness.person("rep", EAST_2).await;
    let mia = harness.person("manager", EAST).await;
    let today = Utc::now().date_naive();
    let calendar = FiscalCalendar::default();
    let ended = calendar
        .period_of(PeriodKind::Quarter, today)
        .unwrap()
        .previous();
    let day = |offset: u64| -> &'static str {
        Box::leak(
            (ended.start() + chrono::Days::new(offset))
                .to_string()
                .into_boxed_str(),
        )
    };
    let won = |owner, amount, offset| Deal {
        won_on: Some(day(offset)),
        ..Deal::open(owner, amount, COMMIT, day(offset))
    };
    harness
        .publish(&[
            &won(&ravi, "100000", 70),
            &won(&rita, "20000", 40),
            &won(&sam, "50000", 20),
        ])
        .await;
    let month = |offset: u64| format!("{}T09:00:00Z", day(offset));
    past_call(
        &harness,
        &ended,
        "rep",
        Some(ravi.user_id),
        EAST_1,
        &month(30),
        (80_000, 120_000, 150_000),
    )
    .await;
    past_call(
        &harness,
        &ended,
        "rep",
        Some(ravi.user_id),
        EAST_1,
        &month(60),
        (110_000, 130_000, 150_000),
    )
    .await;
    past_call(
        &harness,
        &ended,
        "team",
        None,
        EAST_1,
        &month(61),
        (100_000, 140_000, 160_000),
    )
    .await;

    let accuracy = accuracy_of(&harness, &mia, ended.to_string())
        .await
        .unwrap();
    let levels: Vec<(Option<pb::resolved_scope::Of>, String, u32)> = accuracy
        .levels
        .iter()
        .map(|level| {
            (
                level.scope.clone().unwrap().of,
                amount(&level.booked),
                level.summary.as_ref().unwrap().count,
            )
        })
        .collect();
    use pb::resolved_scope::Of;
    assert_eq!(
        levels,
        vec![
            // The east booked 100,000 + 20,000 + 50,000 and made no call of its own.
            (Some(Of::TeamPath(EAST.into())), "170000".into(), 0),
            (Some(Of::TeamPath(EAST_1.into())), "120000".into(), 1),
            (
                Some(Of::UserId(ravi.user_id.to_string())),
                "100000".into(),
                2
            ),
        ]
    );
    // East-1 called 100,000 and booked 120,000: 20,000 short, 16.67 %.
    let east_1 = &accuracy.levels[1];
    let final_call = east_1.final_call.as_ref().unwrap().commit.as_ref().unwrap();
    assert_eq!(
        (
            amount(&final_call.error),
            final_call.absolute_percentage_error.as_str()
        ),
        ("-20000".into(), "16.67")
    );
    // Ravi: 110,000 (last) and 80,000 against 100,000 — errors +10,000 and −20,000, APEs 10 %
    // and 20 %: a bias of −5,000 and a MAPE of 15 %.
    let ravis = &accuracy.levels[2];
    let judged: Vec<(String, String)> = ravis
        .calls
        .iter()
        .map(|call| {
            let commit = call.commit.as_ref().unwrap();
            (
                amount(&commit.error),
                commit.absolute_percentage_error.clone(),
            )
        })
        .collect();
    assert_eq!(
        judged,
        vec![
            ("10000".into(), "10.00".into()),
            ("-20000".into(), "20.00".into())
        ]
    );
    let best_case = ravis
        .final_call
        .as_ref()
        .unwrap()
        .best_case
        .as_ref()
        .unwrap();
    assert_eq!(amount(&best_case.error), "30000");
    let summary = ravis.summary.as_ref().unwrap();
    assert_eq!(
        (
            amount(&summary.mean_error),
            summary.mean_absolute_percentage_error.as_str()
        ),
        ("-5000".into(), "15.00")
    );

    // Ravi reads his own level only; an open period is not judged yet.
    let own = accuracy_of(&harness, &ravi, ended.to_string())
        .await
        .unwrap();
    assert_eq!(own.levels.len(), 1);
    assert_eq!(own.levels[0].calls.len(), 2);
    let open = accuracy_of(&harness, &mia, ended.shifted(1).to_string())
        .await
        .unwrap_err();
    assert_eq!(open.code(), Code::FailedPrecondition);
}

#[tokio::test]
async fn at_period_end_each_statistical_method_is_judged_beside_the_calls() {
    let harness = Harness::start().await;
    let ravi = harness.person("rep", EAST_1).await;
    let today = Utc::now().date_naive();
    let ended = FiscalCalendar::default()
        .period_of(PeriodKind::Quarter, today)
        .unwrap()
        .previous();
    let day_of = |quarters_back: i32| -> &'static str {
        let start = ended.shifted(-quarters_back).start();
        Box::leak((start + chrono::Days::new(10)).to_string().into_boxed_str())
    };
    let won = |amount, quarters_back| Deal {
        won_on: Some(day_of(quarters_back)),
        ..Deal::open(&ravi, amount, COMMIT, day_of(quarters_back))
    };
    // Three quarters on a line before the ended one (40,000, 60,000, 80,000), and 90,000 in it.
    harness
        .publish(&[
            &won("40000", 3),
            &won("60000", 2),
            &won("80000", 1),
            &won("90000", 0),
        ])
        .await;
    past_call(
        &harness,
        &ended,
        "rep",
        Some(ravi.user_id),
        EAST_1,
        &format!("{}T09:00:00Z", day_of(0)),
        (85_000, 95_000, 120_000),
    )
    .await;

    let accuracy = accuracy_of(&harness, &ravi, ended.to_string())
        .await
        .unwrap();
    // The call: 85,000 against 90,000 — 5,000 short, 5.56 %.
    let call = accuracy.levels[0].final_call.as_ref().unwrap();
    let commit = call.commit.as_ref().unwrap();
    assert_eq!(
        (
            amount(&commit.error),
            commit.absolute_percentage_error.as_str()
        ),
        ("-5000".into(), "5.56")
    );
    // Three quarters of history, too few for a season: Holt and the line. Both extend a
    // straight series exactly — 40,000 + 20,000 × 3 = 100,000 — 10,000 over, 11.11 %.
    let methods: Vec<(i32, String, String, String, u32)> = accuracy
        .methods
        .iter()
        .map(|judged| {
            let forecast = judged.forecast.as_ref().unwrap();
            (
                judged.method,
                amount(&forecast.forecast),
                amount(&forecast.error),
                forecast.absolute_percentage_error.clone(),
                judged.history_periods,
            )
        })
        .collect();
    let judged = |method: pb::StatisticalMethod| {
        (
            method as i32,
            "100000".to_owned(),
            "10000".to_owned(),
            "11.11".to_owned(),
            3,
        )
    };
    assert_eq!(
        methods,
        vec![
            judged(pb::StatisticalMethod::HoltLinear),
            judged(pb::StatisticalMethod::LinearRegression),
        ]
    );
}
