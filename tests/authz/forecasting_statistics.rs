//! The statistical forecast's rows of the matrix (StatisticsService, docs/api.md): a scope's
//! statistical forecast and its learned win rates are asked for a scope the caller must reach
//! (PERMISSION_DENIED otherwise) — a rep their own, a manager their subtree's and its reps', an
//! admin every one, the company's included.

use crm_proto::crm::forecasting::v1::{
    self as pb, statistics_service_client::StatisticsServiceClient,
};
use crm_test_support::authorized;
use tonic::transport::Channel;

use super::super::{DENIED, Expect, Http, OK, Org, Pool, Refusal, Report, Who, no_ids};

use super::{Whose, scope, scope_fields, with};
#[derive(Clone, Debug)]
pub(crate) enum Call {
    Forecast(pb::GetStatisticalForecastRequest),
    WinRates(pb::GetWinRatesRequest),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Forecast(Whose),
    WinRates(Whose),
}

/// The day every forecast is made on: the matrix is about who may ask.
const AS_OF: &str = "2026-12-15";

#[rustfmt::skip]
const ACTIONS: &[(Action, Expect, Expect, Expect)] = &[
    // action                                       admin  manager    rep
    (Action::Forecast(Whose::Mine),                 OK,    OK,        OK),
    (Action::Forecast(Whose::Rep(Who::Ravi)),       OK,    OK,        OK),
    (Action::Forecast(Whose::Rep(Who::Nora)),       OK,    OK,        DENIED),
    (Action::Forecast(Whose::Rep(Who::Wes)),        OK,    DENIED,    DENIED),
    (Action::Forecast(Whose::Team(Pool::East)),     OK,    OK,        DENIED),
    (Action::Forecast(Whose::Team(Pool::West)),     OK,    DENIED,    DENIED),
    (Action::Forecast(Whose::Company),              OK,    DENIED,    DENIED),
    (Action::WinRates(Whose::Mine),                 OK,    OK,        OK),
    (Action::WinRates(Whose::Rep(Who::Ravi)),       OK,    OK,        OK),
    (Action::WinRates(Whose::Rep(Who::Nora)),       OK,    OK,        DENIED),
    (Action::WinRates(Whose::Rep(Who::Wes)),        OK,    DENIED,    DENIED),
    (Action::WinRates(Whose::Team(Pool::East)),     OK,    OK,        DENIED),
    (Action::WinRates(Whose::Team(Pool::Company)),  OK,    DENIED,    DENIED),
    (Action::WinRates(Whose::Company),              OK,    DENIED,    DENIED),
];

fn prepare(org: &Org, action: Action) -> Call {
    match action {
        Action::Forecast(whose) => Call::Forecast(pb::GetStatisticalForecastRequest {
            scope: scope(org, whose),
            as_of: AS_OF.into(),
            ..Default::default()
        }),
        Action::WinRates(whose) => Call::WinRates(pb::GetWinRatesRequest {
            scope: scope(org, whose),
            ..Default::default()
        }),
    }
}

pub(super) async fn run_actions<T: super::super::Transport>(
    org: &Org,
    transport: &T,
    report: &mut Report,
) {
    super::super::run_table(org, transport, report, ACTIONS, async |action, _| {
        (
            super::super::Call::Forecasting(super::Call::Statistics(prepare(org, action))),
            None,
        )
    })
    .await;
}

/// A call straight to the service's gRPC API.
pub(super) async fn grpc(
    channel: &Channel,
    token: &str,
    call: Call,
) -> Result<Vec<String>, Refusal> {
    let mut client = StatisticsServiceClient::new(channel.clone());
    let answered = match call {
        Call::Forecast(r) => client
            .get_statistical_forecast(authorized(r, token))
            .await
            .map(no_ids),
        Call::WinRates(r) => client.get_win_rates(authorized(r, token)).await.map(no_ids),
    };
    Ok(answered?)
}

/// A call through the gateway's HTTP/JSON front door.
pub(super) async fn http(door: &Http, token: &str, call: Call) -> Result<Vec<String>, Refusal> {
    let path = match call {
        Call::Forecast(r) => {
            let mut fields = scope_fields(&r.scope);
            fields.push(("as_of", r.as_of));
            format!("/v1/forecasting/statistics:forecast{}", with(&fields))
        }
        Call::WinRates(r) => {
            format!(
                "/v1/forecasting/statistics:winRates{}",
                with(&scope_fields(&r.scope))
            )
        }
    };
    door.send(http::Method::GET, &path, token, None)
        .await
        .map(no_ids)
}
