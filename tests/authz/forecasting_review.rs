//! The rankings' and review's rows of the matrix (ReviewService, docs/api.md): a leaderboard,
//! a trend and a period review are asked for a scope the caller must reach (PERMISSION_DENIED
//! otherwise) — but a rep reads their own team's leaderboard (the organisation shows reps the
//! team's figures by default, CRM_FORECASTING_LEADERBOARD_VISIBLE_TO_REPS).

use crm_proto::crm::forecasting::v1::{self as pb, review_service_client::ReviewServiceClient};
use crm_test_support::authorized;
use tonic::transport::Channel;

use super::super::{DENIED, Expect, Http, OK, Org, Pool, Refusal, Report, Transport, Who, no_ids};
use super::PERIOD;

use super::{Whose, scope, scope_fields, with};
#[derive(Clone, Debug)]
pub(crate) enum Call {
    Leaderboard(pb::GetLeaderboardRequest),
    Trend(pb::GetAttainmentTrendRequest),
    Review(pb::GetPeriodReviewRequest),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    /// A rep leaderboard of a team (Mine: the caller's team; Company: the company flag).
    Leaderboard(Whose),
    Trend(Whose),
    Review(Whose),
}

#[rustfmt::skip]
const ACTIONS: &[(Action, Expect, Expect, Expect)] = &[
    // action                                          admin  manager    rep
    (Action::Leaderboard(Whose::Mine),                 OK,    OK,        OK),
    // Ravi's own team: his leaderboard, beside his own numbers.
    (Action::Leaderboard(Whose::Team(Pool::East)),     OK,    OK,        OK),
    (Action::Leaderboard(Whose::Team(Pool::West)),     OK,    DENIED,    DENIED),
    (Action::Leaderboard(Whose::Team(Pool::Company)),  OK,    DENIED,    DENIED),
    (Action::Leaderboard(Whose::Company),              OK,    DENIED,    DENIED),
    (Action::Trend(Whose::Mine),                       OK,    OK,        OK),
    (Action::Trend(Whose::Rep(Who::Ravi)),             OK,    OK,        OK),
    (Action::Trend(Whose::Rep(Who::Nora)),             OK,    OK,        DENIED),
    (Action::Trend(Whose::Rep(Who::Wes)),              OK,    DENIED,    DENIED),
    (Action::Trend(Whose::Company),                    OK,    DENIED,    DENIED),
    (Action::Review(Whose::Mine),                      OK,    OK,        OK),
    (Action::Review(Whose::Team(Pool::East)),          OK,    OK,        DENIED),
    (Action::Review(Whose::Rep(Who::Nora)),            OK,    OK,        DENIED),
    (Action::Review(Whose::Rep(Who::Wes)),             OK,    DENIED,    DENIED),
    (Action::Review(Whose::Company),                   OK,    DENIED,    DENIED),
];

fn prepare(org: &Org, action: Action) -> Call {
    match action {
        Action::Leaderboard(whose) => {
            let scope = scope(org, whose).unwrap_or_default();
            Call::Leaderboard(pb::GetLeaderboardRequest {
                team_path: scope.team_path,
                company: scope.company,
                period: PERIOD.into(),
                kind: pb::LeaderboardKind::Rep.into(),
            })
        }
        Action::Trend(whose) => Call::Trend(pb::GetAttainmentTrendRequest {
            scope: scope(org, whose),
            period: PERIOD.into(),
            periods: 3,
        }),
        Action::Review(whose) => Call::Review(pb::GetPeriodReviewRequest {
            scope: scope(org, whose),
            period: PERIOD.into(),
            top: 3,
        }),
    }
}

pub(super) async fn run_actions<T: Transport>(org: &Org, transport: &T, report: &mut Report) {
    super::super::run_table(org, transport, report, ACTIONS, async |action, _| {
        let call = prepare(org, action);
        (
            super::super::Call::Forecasting(super::Call::Review(call)),
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
    let mut client = ReviewServiceClient::new(channel.clone());
    let answered = match call {
        Call::Leaderboard(r) => client
            .get_leaderboard(authorized(r, token))
            .await
            .map(no_ids),
        Call::Trend(r) => client
            .get_attainment_trend(authorized(r, token))
            .await
            .map(no_ids),
        Call::Review(r) => client
            .get_period_review(authorized(r, token))
            .await
            .map(no_ids),
    };
    Ok(answered?)
}

fn flag(set: bool) -> String {
    if set { "true".into() } else { String::new() }
}

/// A call through the gateway's HTTP/JSON front door.
pub(super) async fn http(door: &Http, token: &str, call: Call) -> Result<Vec<String>, Refusal> {
    use http::Method;
    let path = match call {
        Call::Leaderboard(r) => {
            let fields = [
                ("team_path", r.team_path),
                ("company", flag(r.company)),
                ("period", r.period),
                ("kind", "LEADERBOARD_KIND_REP".into()),
            ];
            format!("/v1/forecasting/leaderboard{}", with(&fields))
        }
        Call::Trend(r) => {
            let mut fields = scope_fields(&r.scope);
            fields.push(("period", r.period));
            fields.push(("periods", r.periods.to_string()));
            format!("/v1/forecasting/attainmentTrend{}", with(&fields))
        }
        Call::Review(r) => {
            let mut fields = scope_fields(&r.scope);
            fields.push(("period", r.period));
            fields.push(("top", r.top.to_string()));
            format!("/v1/forecasting/periodReview{}", with(&fields))
        }
    };
    door.send(Method::GET, &path, token, None).await.map(no_ids)
}
