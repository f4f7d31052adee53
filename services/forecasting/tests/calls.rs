//! Forecast calls (F4) over real PostgreSQL and NATS: a rep's calls kept with what the pipeline
//! said, a manager's team call over the current calls below with an adjustment, the roll-up
//! along the team tree, and the refusals — with hand-computed numbers.

mod calls_support;

use calls_support::{
    BEST_CASE, COMMIT, Deal, EAST, EAST_1, EAST_2, Harness, PIPELINE, WEST, amount, cny,
};
use chrono::Datelike;
use crm_platform::{
    auth::Caller,
    fiscal::{FiscalCalendar, PeriodKind},
};
use crm_proto::crm::{
    common::v1::Money,
    forecasting::v1::{self as pb, ForecastScope},
};
use tonic::Code;
use tonic_types::StatusExt;

/// The quarter after the current one: open whenever the test runs.
fn next_quarter() -> String {
    let today = chrono::Utc::now().date_naive();
    FiscalCalendar::default()
        .period_of(PeriodKind::Quarter, today)
        .unwrap()
        .shifted(1)
        .to_string()
}

/// A day in the middle of the next quarter, for the deals' close dates.
fn in_next_quarter(offset_days: u64) -> &'static str {
    let today = chrono::Utc::now().date_naive();
    let quarter = FiscalCalendar::default()
        .period_of(PeriodKind::Quarter, today)
        .unwrap()
        .shifted(1);
    let day = quarter.start() + chrono::Days::new(10 + offset_days);
    assert!(quarter.contains(day) && day.year() > 2000);
    Box::leak(day.to_string().into_boxed_str())
}

fn numbers(commit: &str, best_case: &str, pipeline: &str) -> Option<pb::CallNumbers> {
    Some(pb::CallNumbers {
        commit: cny(commit),
        best_case: cny(best_case),
        pipeline: cny(pipeline),
    })
}

/// A call's numbers as (commit, best case, pipeline).
fn said(numbers: &Option<pb::CallNumbers>) -> (String, String, String) {
    let numbers = numbers.as_ref().expect("numbers");
    (
        amount(&numbers.commit),
        amount(&numbers.best_case),
        amount(&numbers.pipeline),
    )
}

fn triple(commit: &str, best_case: &str, pipeline: &str) -> (String, String, String) {
    (commit.into(), best_case.into(), pipeline.into())
}

async fn submit(
    harness: &Harness,
    caller: &Caller,
    request: pb::SubmitCallRequest,
) -> Result<pb::ForecastCall, tonic::Status> {
    let request = harness.request(caller, request);
    let response = harness.calls.clone().submit_call(request).await?;
    Ok(response.into_inner().call.unwrap())
}

fn rep_call(period: &str, numbers: Option<pb::CallNumbers>) -> pb::SubmitCallRequest {
    pb::SubmitCallRequest {
        period: period.into(),
        numbers,
        ..Default::default()
    }
}

/// The fields a refusal names.
fn violations(status: &tonic::Status) -> Vec<String> {
    status
        .get_error_details()
        .bad_request()
        .map(|bad| {
            bad.field_violations
                .iter()
                .map(|violation| violation.field.clone())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_reps_calls_are_all_kept_with_what_the_pipeline_said() {
    let harness = Harness::start().await;
    let ravi = harness.person("rep", EAST_1).await;
    let period = next_quarter();
    let commit = Deal::open(&ravi, "100000", COMMIT, in_next_quarter(0));
    let best = Deal::open(&ravi, "50000", BEST_CASE, in_next_quarter(5));
    let pipeline = Deal::open(&ravi, "20000", PIPELINE, in_next_quarter(9));
    harness.publish(&[&commit, &best, &pipeline]).await;

    let first = submit(
        &harness,
        &ravi,
        pb::SubmitCallRequest {
            note: "Contoso signs in week 3".into(),
            ..rep_call(&period, numbers("90000", "140000", "170000"))
        },
    )
    .await
    .unwrap();
    assert_eq!(said(&first.numbers), triple("90000", "140000", "170000"));
    assert_eq!(first.submitted_by, ravi.user_id.to_string());
    assert_eq!(first.team_path, EAST_1);
    assert_eq!(first.note, "Contoso signs in week 3");
    assert!(first.rolled_up.is_none() && first.adjustment.is_none());
    let seen = first.pipeline.unwrap();
    assert_eq!(
        (
            amount(&seen.closed),
            amount(&seen.commit),
            amount(&seen.best_case),
            amount(&seen.pipeline),
            amount(&seen.commit_total),
            amount(&seen.best_case_total),
        ),
        (
            "0".into(),
            "100000".into(),
            "50000".into(),
            "20000".into(),
            "100000".into(),
            "150000".into()
        )
    );

    // The pipeline grows; the next call sees it, the first keeps what it saw.
    harness
        .publish(&[&commit.then(|deal| deal.amount = "120000")])
        .await;
    let second = submit(
        &harness,
        &ravi,
        rep_call(&period, numbers("110000", "150000", "190000")),
    )
    .await
    .unwrap();
    assert_eq!(amount(&second.pipeline.unwrap().commit), "120000");

    let listed = harness
        .calls
        .clone()
        .list_calls(harness.request(
            &ravi,
            pb::ListCallsRequest {
                period: period.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .calls;
    let history: Vec<_> = listed
        .iter()
        .map(|call| (call.call_id.clone(), said(&call.numbers)))
        .collect();
    assert_eq!(
        history,
        vec![
            (second.call_id.clone(), triple("110000", "150000", "190000")),
            (first.call_id.clone(), triple("90000", "140000", "170000")),
        ]
    );
    assert_eq!(
        amount(&listed[1].pipeline.as_ref().unwrap().commit),
        "100000"
    );
}

#[tokio::test]
async fn a_call_that_says_nothing_sensible_is_refused() {
    let harness = Harness::start().await;
    let ravi = harness.person("rep", EAST_1).await;
    let period = next_quarter();
    let (harness_ref, ravi_ref) = (&harness, &ravi);
    let refused =
        move |request| async move { submit(harness_ref, ravi_ref, request).await.unwrap_err() };

    let unordered = refused(rep_call(&period, numbers("200000", "150000", "170000"))).await;
    assert_eq!(unordered.code(), Code::FailedPrecondition);
    assert_eq!(violations(&unordered), vec!["numbers.commit"]);

    let negative = refused(rep_call(&period, numbers("-1", "150000", "170000"))).await;
    assert_eq!(negative.code(), Code::InvalidArgument);
    assert_eq!(violations(&negative), vec!["numbers.commit"]);

    let mut dollars = numbers("1", "2", "3");
    dollars.as_mut().unwrap().pipeline = Some(Money {
        currency_code: "USD".into(),
        amount: "3".into(),
    });
    let foreign = refused(rep_call(&period, dollars)).await;
    assert_eq!(foreign.code(), Code::FailedPrecondition);
    assert_eq!(violations(&foreign), vec!["numbers.pipeline.currency_code"]);

    let adjusted = refused(pb::SubmitCallRequest {
        adjustment: numbers("1", "1", "1"),
        ..rep_call(&period, numbers("1", "2", "3"))
    })
    .await;
    assert_eq!(violations(&adjusted), vec!["adjustment"]);

    let missing = refused(rep_call(&period, None)).await;
    assert_eq!(missing.code(), Code::InvalidArgument);

    let today = chrono::Utc::now().date_naive();
    let last_quarter = FiscalCalendar::default()
        .period_of(PeriodKind::Quarter, today)
        .unwrap()
        .previous()
        .to_string();
    let ended = refused(rep_call(&last_quarter, numbers("1", "2", "3"))).await;
    assert_eq!(ended.code(), Code::FailedPrecondition);
    assert_eq!(violations(&ended), vec!["period"]);

    // A rep calls only their own numbers.
    let team_call = refused(pb::SubmitCallRequest {
        team_path: EAST_1.into(),
        period: period.clone(),
        ..Default::default()
    })
    .await;
    assert_eq!(team_call.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn a_manager_calls_the_teams_number_over_the_current_calls_below() {
    let harness = Harness::start().await;
    let ravi = harness.person("rep", EAST_1).await;
    let rita = harness.person("rep", EAST_1).await;
    let sam = harness.person("rep", EAST_2).await;
    let wes = harness.person("rep", WEST).await;
    let ed = harness.person("manager", EAST_1).await;
    let mia = harness.person("manager", EAST).await;
    let period = next_quarter();

    for (rep, call) in [
        (&ravi, numbers("90000", "140000", "170000")),
        (&ravi, numbers("95000", "150000", "170000")),
        (&sam, numbers("40000", "40000", "60000")),
        (&wes, numbers("999000", "999000", "999000")),
    ] {
        submit(&harness, rep, rep_call(&period, call))
            .await
            .unwrap();
    }

    // Ed's team east-1: Ravi's current call, less 5,000 of commit.
    let ed_call = submit(
        &harness,
        &ed,
        pb::SubmitCallRequest {
            period: period.clone(),
            adjustment: numbers("-5000", "0", "0"),
            note: "Ravi's Fabrikam deal slips".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        said(&ed_call.rolled_up),
        triple("95000", "150000", "170000")
    );
    assert_eq!(said(&ed_call.adjustment), triple("-5000", "0", "0"));
    assert_eq!(said(&ed_call.numbers), triple("90000", "150000", "170000"));
    assert_eq!(
        ed_call.scope.unwrap().of,
        Some(pb::resolved_scope::Of::TeamPath(EAST_1.into()))
    );

    let roll_up = |caller: Caller| {
        let harness = &harness;
        let period = period.clone();
        async move {
            harness
                .calls
                .clone()
                .get_call_roll_up(harness.request(
                    &caller,
                    pb::GetCallRollUpRequest {
                        period,
                        ..Default::default()
                    },
                ))
                .await
                .map(|response| response.into_inner().team.unwrap())
        }
    };
    let east = roll_up(mia.clone()).await.unwrap();
    assert_eq!(east.team_path, EAST);
    let paths: Vec<&str> = east
        .sub_teams
        .iter()
        .map(|team| team.team_path.as_str())
        .collect();
    assert_eq!(paths, vec![EAST_1, EAST_2]);
    let east_1 = &east.sub_teams[0];
    assert_eq!(east_1.reps.len(), 2);
    let ravis = east_1
        .reps
        .iter()
        .find(|rep| rep.user_id == ravi.user_id.to_string())
        .unwrap();
    assert_eq!(
        said(&ravis.current_call.as_ref().unwrap().numbers),
        triple("95000", "150000", "170000")
    );
    assert!(
        east_1
            .reps
            .iter()
            .any(|rep| rep.user_id == rita.user_id.to_string() && rep.current_call.is_none())
    );
    assert_eq!(
        east_1.current_call.as_ref().unwrap().call_id,
        ed_call.call_id
    );
    assert_eq!(said(&east_1.below), triple("95000", "150000", "170000"));
    assert_eq!(said(&east_1.number), triple("90000", "150000", "170000"));
    assert_eq!(east_1.reps_without_call, 1);
    assert_eq!(
        said(&east.sub_teams[1].number),
        triple("40000", "40000", "60000")
    );
    // 90,000 + 40,000; 150,000 + 40,000; 170,000 + 60,000 — Wes in the west counts nowhere here.
    assert_eq!(said(&east.below), triple("130000", "190000", "230000"));
    assert_eq!(said(&east.number), triple("130000", "190000", "230000"));
    assert!(east.current_call.is_none());
    assert_eq!(east.reps_without_call, 1);

    // Mia's call of the whole east adds 10,000 of best case.
    let mia_call = submit(
        &harness,
        &mia,
        pb::SubmitCallRequest {
            team_path: EAST.into(),
            period: period.clone(),
            adjustment: numbers("0", "10000", "0"),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        said(&mia_call.numbers),
        triple("130000", "200000", "230000")
    );
    let east = roll_up(mia.clone()).await.unwrap();
    assert_eq!(said(&east.number), triple("130000", "200000", "230000"));
    assert_eq!(east.current_call.unwrap().call_id, mia_call.call_id);

    // Taking more than the calls below hold is refused, and nothing is written.
    let too_much = submit(
        &harness,
        &mia,
        pb::SubmitCallRequest {
            period: period.clone(),
            adjustment: numbers("-130001", "0", "0"),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(too_much.code(), Code::FailedPrecondition);
    assert_eq!(violations(&too_much), vec!["adjustment.commit"]);

    // Mia reads every call of her subtree: Ravi's two, Sam's, Ed's, her own.
    let listed = harness
        .calls
        .clone()
        .list_calls(harness.request(
            &mia,
            pb::ListCallsRequest {
                scope: Some(ForecastScope {
                    team_path: EAST.into(),
                    ..Default::default()
                }),
                period: period.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .calls;
    assert_eq!(listed.len(), 5);
    assert_eq!(listed[0].call_id, mia_call.call_id);
    // Read back as made: the roll-up it was made over and the adjustment.
    assert_eq!(
        said(&listed[0].rolled_up),
        triple("130000", "190000", "230000")
    );
    assert_eq!(said(&listed[0].adjustment), triple("0", "10000", "0"));
    assert_eq!(listed[0].team_path, EAST);

    // Ed reads his team's roll-up, not the east's; a rep reads none.
    let ed_reads_east = harness
        .calls
        .clone()
        .get_call_roll_up(harness.request(
            &ed,
            pb::GetCallRollUpRequest {
                team_path: EAST.into(),
                period: period.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(ed_reads_east.code(), Code::PermissionDenied);
    assert_eq!(roll_up(ed.clone()).await.unwrap().team_path, EAST_1);
    assert_eq!(
        roll_up(ravi.clone()).await.unwrap_err().code(),
        Code::PermissionDenied
    );
}
