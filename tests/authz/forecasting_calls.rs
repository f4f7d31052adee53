//! The forecast calls' and snapshots' rows of the matrix (ForecastCallService, SnapshotService,
//! docs/api.md): a rep makes and reads their own calls, a manager their team subtree's, an
//! admin any; a team's roll-up, a movement and an accuracy are asked for a scope the caller
//! must reach (PERMISSION_DENIED otherwise). The snapshot list is weeks, no numbers: anyone.

use crm_platform::{
    money::CurrencyCode,
    org::{OrgDirectory, OrgSettings},
};
use crm_proto::crm::{
    common::v1::Money,
    forecasting::v1::{
        self as pb, forecast_call_service_client::ForecastCallServiceClient,
        snapshot_service_client::SnapshotServiceClient,
    },
};
use crm_test_support::authorized;
use tonic::transport::Channel;

use super::super::{
    DENIED, Expect, Http, OK, Org, Pool, Refusal, Report, Role, Transport, Who, no_ids, page,
};

use super::{Whose, scope, scope_fields, with};
#[derive(Clone, Debug)]
pub(crate) enum Call {
    Submit(Box<pb::SubmitCallRequest>),
    List(pb::ListCallsRequest),
    RollUp(pb::GetCallRollUpRequest),
    Snapshots(pb::ListSnapshotsRequest),
    Movement(pb::GetMovementRequest),
    Accuracy(pb::GetAccuracyRequest),
}

/// An open period for the calls (the API refuses calls for an ended one).
const OPEN_PERIOD: &str = "2030-01";
/// A period that has ended, for the accuracy.
const ENDED_PERIOD: &str = "2025-12";
/// The period of the reads.
const PERIOD: &str = super::PERIOD;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    /// The caller's own call: a rep's numbers, a manager's or admin's team call.
    SubmitOwn,
    /// A team's call.
    SubmitTeam(Pool),
    List(Whose),
    /// The roll-up of a team; `None`: the caller's team.
    RollUp(Option<Pool>),
    Snapshots,
    Movement(Whose),
    Accuracy(Whose),
}

#[rustfmt::skip]
const ACTIONS: &[(Action, Expect, Expect, Expect)] = &[
    // action                                      admin  manager  rep
    (Action::SubmitOwn,                            OK,    OK,      OK),
    (Action::SubmitTeam(Pool::East),               OK,    OK,      DENIED),
    (Action::SubmitTeam(Pool::Company),            OK,    DENIED,  DENIED),
    (Action::SubmitTeam(Pool::West),               OK,    DENIED,  DENIED),
    (Action::List(Whose::Mine),                    OK,    OK,      OK),
    (Action::List(Whose::Rep(Who::Ravi)),          OK,    OK,      OK),
    (Action::List(Whose::Rep(Who::Nora)),          OK,    OK,      DENIED),
    (Action::List(Whose::Rep(Who::Wes)),           OK,    DENIED,  DENIED),
    (Action::List(Whose::Team(Pool::East)),        OK,    OK,      DENIED),
    (Action::List(Whose::Company),                 OK,    DENIED,  DENIED),
    (Action::RollUp(None),                         OK,    OK,      DENIED),
    (Action::RollUp(Some(Pool::East)),             OK,    OK,      DENIED),
    (Action::RollUp(Some(Pool::Company)),          OK,    DENIED,  DENIED),
    (Action::RollUp(Some(Pool::West)),             OK,    DENIED,  DENIED),
    (Action::Snapshots,                            OK,    OK,      OK),
    (Action::Movement(Whose::Rep(Who::Ravi)),      OK,    OK,      OK),
    (Action::Movement(Whose::Rep(Who::Wes)),       OK,    DENIED,  DENIED),
    (Action::Movement(Whose::Team(Pool::East)),    OK,    OK,      DENIED),
    (Action::Movement(Whose::Company),             OK,    DENIED,  DENIED),
    (Action::Accuracy(Whose::Mine),                OK,    OK,      OK),
    (Action::Accuracy(Whose::Rep(Who::Nora)),      OK,    OK,      DENIED),
    (Action::Accuracy(Whose::Company),             OK,    DENIED,  DENIED),
];

fn cny(amount: &str) -> Option<Money> {
    Some(Money {
        currency_code: "CNY".into(),
        amount: amount.into(),
    })
}

fn numbers(commit: &str, best_case: &str, pipeline: &str) -> Option<pb::CallNumbers> {
    Some(pb::CallNumbers {
        commit: cny(commit),
        best_case: cny(best_case),
        pipeline: cny(pipeline),
    })
}

/// Today's ISO week: the week the table's snapshot is taken in.
fn this_week() -> String {
    chrono::Utc::now().date_naive().to_string()
}

fn prepare(org: &Org, action: Action, role: Role) -> Call {
    let team_call = |team_path: String| {
        Call::Submit(Box::new(pb::SubmitCallRequest {
            team_path,
            period: OPEN_PERIOD.into(),
            adjustment: numbers("0", "5000", "5000"),
            note: "A pilot order is likely".into(),
            ..Default::default()
        }))
    };
    match action {
        Action::SubmitOwn => match role {
            Role::Rep => Call::Submit(Box::new(pb::SubmitCallRequest {
                period: OPEN_PERIOD.into(),
                numbers: numbers("10000", "20000", "30000"),
                ..Default::default()
            })),
            Role::Admin | Role::Manager => team_call(String::new()),
        },
        Action::SubmitTeam(pool) => team_call(org.pool_team(pool).path.clone()),
        Action::List(whose) => Call::List(pb::ListCallsRequest {
            scope: scope(org, whose),
            period: OPEN_PERIOD.into(),
            page: page(),
        }),
        Action::RollUp(pool) => Call::RollUp(pb::GetCallRollUpRequest {
            team_path: pool
                .map(|pool| org.pool_team(pool).path.clone())
                .unwrap_or_default(),
            period: OPEN_PERIOD.into(),
        }),
        Action::Snapshots => Call::Snapshots(pb::ListSnapshotsRequest { page: page() }),
        Action::Movement(whose) => Call::Movement(pb::GetMovementRequest {
            scope: scope(org, whose),
            period: PERIOD.into(),
            from_week: this_week(),
            to_week: this_week(),
        }),
        Action::Accuracy(whose) => Call::Accuracy(pb::GetAccuracyRequest {
            scope: scope(org, whose),
            period: ENDED_PERIOD.into(),
        }),
    }
}

/// The organisation's corporate currency as the forecasting service knows it (calls are made in
/// it), and this week's snapshot (a movement needs one).
async fn set_up(org: &Org) {
    let context = org
        .app
        .services
        .context("forecasting")
        .expect("forecasting hosted");
    let mut connection = context.pool.acquire().await.unwrap();
    let known = OrgDirectory::settings(&mut *connection).await.unwrap();
    if known.corporate_currency.is_none() {
        let settings = OrgSettings {
            corporate_currency: Some("CNY".parse::<CurrencyCode>().unwrap()),
            version: known.version + 1,
            ..known
        };
        OrgDirectory::record_settings(&mut connection, &settings)
            .await
            .unwrap();
    }
    crm_forecasting::run_job(
        context,
        crm_forecasting::WEEKLY_SNAPSHOT,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
}

pub(super) async fn run_actions<T: Transport>(org: &Org, transport: &T, report: &mut Report) {
    set_up(org).await;
    super::super::run_table(org, transport, report, ACTIONS, async |action, role| {
        (
            super::super::Call::Forecasting(super::Call::Calls(prepare(org, action, role))),
            None,
        )
    })
    .await;
}

/// A call straight to the services' gRPC API.
pub(super) async fn grpc(
    channel: &Channel,
    token: &str,
    call: Call,
) -> Result<Vec<String>, Refusal> {
    let mut calls = ForecastCallServiceClient::new(channel.clone());
    let mut snapshots = SnapshotServiceClient::new(channel.clone());
    let answered = match call {
        Call::Submit(r) => calls.submit_call(authorized(*r, token)).await.map(no_ids),
        Call::List(r) => calls.list_calls(authorized(r, token)).await.map(no_ids),
        Call::RollUp(r) => calls
            .get_call_roll_up(authorized(r, token))
            .await
            .map(no_ids),
        Call::Snapshots(r) => snapshots
            .list_snapshots(authorized(r, token))
            .await
            .map(no_ids),
        Call::Movement(r) => snapshots
            .get_movement(authorized(r, token))
            .await
            .map(no_ids),
        Call::Accuracy(r) => snapshots
            .get_accuracy(authorized(r, token))
            .await
            .map(no_ids),
    };
    Ok(answered?)
}

fn numbers_json(numbers: &Option<pb::CallNumbers>) -> serde_json::Value {
    let money = |money: &Option<Money>| {
        money.as_ref().map(|money| {
            serde_json::json!({"currency_code": money.currency_code, "amount": money.amount})
        })
    };
    match numbers {
        Some(numbers) => serde_json::json!({
            "commit": money(&numbers.commit),
            "best_case": money(&numbers.best_case),
            "pipeline": money(&numbers.pipeline),
        }),
        None => serde_json::Value::Null,
    }
}

/// A call through the gateway's HTTP/JSON front door.
pub(super) async fn http(door: &Http, token: &str, call: Call) -> Result<Vec<String>, Refusal> {
    use http::Method;
    let get = |path: String| async move { door.send(Method::GET, &path, token, None).await };
    match call {
        Call::Submit(r) => {
            let r = *r;
            let mut body = serde_json::json!({"period": r.period, "note": r.note});
            if !r.team_path.is_empty() {
                body["team_path"] = r.team_path.into();
            }
            if r.numbers.is_some() {
                body["numbers"] = numbers_json(&r.numbers);
            }
            if r.adjustment.is_some() {
                body["adjustment"] = numbers_json(&r.adjustment);
            }
            door.send(
                Method::POST,
                "/v1/forecasting/calls",
                token,
                Some(body.to_string().into_bytes()),
            )
            .await
            .map(no_ids)
        }
        Call::List(r) => {
            let mut fields = scope_fields(&r.scope);
            fields.push(("period", r.period));
            fields.push(("page.page_size", "500".into()));
            get(format!("/v1/forecasting/calls{}", with(&fields)))
                .await
                .map(no_ids)
        }
        Call::RollUp(r) => {
            let fields = [("team_path", r.team_path), ("period", r.period)];
            get(format!("/v1/forecasting/calls:rollUp{}", with(&fields)))
                .await
                .map(no_ids)
        }
        Call::Snapshots(_) => get(format!(
            "/v1/forecasting/snapshots{}",
            with(&[("page.page_size", "500".into())])
        ))
        .await
        .map(no_ids),
        Call::Movement(r) => {
            let mut fields = scope_fields(&r.scope);
            fields.push(("period", r.period));
            fields.push(("from_week", r.from_week));
            fields.push(("to_week", r.to_week));
            get(format!(
                "/v1/forecasting/snapshots:movement{}",
                with(&fields)
            ))
            .await
            .map(no_ids)
        }
        Call::Accuracy(r) => {
            let mut fields = scope_fields(&r.scope);
            fields.push(("period", r.period));
            get(format!(
                "/v1/forecasting/snapshots:accuracy{}",
                with(&fields)
            ))
            .await
            .map(no_ids)
        }
    }
}
