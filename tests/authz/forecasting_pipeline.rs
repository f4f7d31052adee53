//! The pipeline forecast's rows of the matrix (ForecastService, docs/api.md): the forecast, its
//! roll-up and its deals are asked for a scope the caller must reach (PERMISSION_DENIED
//! otherwise); a deal's category override is set by whoever reaches the deal — its owner, a
//! manager above them, an admin — and a deal out of reach does not exist (NOT_FOUND).

use crm_proto::crm::{
    forecasting::v1::{self as pb, forecast_service_client::ForecastServiceClient},
    opportunities::v1::ForecastCategory,
};
use crm_test_support::authorized;
use tonic::transport::Channel;

use super::super::{
    DENIED, Expect, Http, NOT_FOUND, OK, Org, Pool, Refusal, Report, Transport, Who, no_ids, page,
};
use super::{DEAL_PERIOD, PERIOD, deal_of};

use super::{Whose, scope, scope_fields, with};
#[derive(Clone, Debug)]
pub(crate) enum Call {
    Forecast(pb::GetPipelineForecastRequest),
    RollUp(pb::GetPipelineRollUpRequest),
    /// Answers the deal ids listed.
    Deals(pb::ListForecastDealsRequest),
    SetCategory(pb::SetDealCategoryRequest),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Forecast(Whose),
    /// The roll-up of a team; `None`: the caller's team.
    RollUp(Option<Pool>),
    /// The deals of a scope; for a rep's, their deal is listed exactly when readable.
    Deals(Whose),
    /// Commit this person's deal.
    SetCategory(Who),
}

#[rustfmt::skip]
const ACTIONS: &[(Action, Expect, Expect, Expect)] = &[
    // action                                       admin  manager    rep
    (Action::Forecast(Whose::Mine),                 OK,    OK,        OK),
    (Action::Forecast(Whose::Rep(Who::Ravi)),       OK,    OK,        OK),
    (Action::Forecast(Whose::Rep(Who::Nora)),       OK,    OK,        DENIED),
    (Action::Forecast(Whose::Rep(Who::Wes)),        OK,    DENIED,    DENIED),
    (Action::Forecast(Whose::Team(Pool::East)),     OK,    OK,        DENIED),
    (Action::Forecast(Whose::Team(Pool::Company)),  OK,    DENIED,    DENIED),
    (Action::Forecast(Whose::Team(Pool::West)),     OK,    DENIED,    DENIED),
    (Action::Forecast(Whose::Company),              OK,    DENIED,    DENIED),
    (Action::RollUp(None),                          OK,    OK,        DENIED),
    (Action::RollUp(Some(Pool::East)),              OK,    OK,        DENIED),
    (Action::RollUp(Some(Pool::Company)),           OK,    DENIED,    DENIED),
    (Action::RollUp(Some(Pool::West)),              OK,    DENIED,    DENIED),
    (Action::Deals(Whose::Rep(Who::Ravi)),          OK,    OK,        OK),
    (Action::Deals(Whose::Rep(Who::Nora)),          OK,    OK,        DENIED),
    (Action::Deals(Whose::Rep(Who::Wes)),           OK,    DENIED,    DENIED),
    (Action::Deals(Whose::Company),                 OK,    DENIED,    DENIED),
    (Action::SetCategory(Who::Ravi),                OK,    OK,        OK),
    (Action::SetCategory(Who::Nora),                OK,    OK,        NOT_FOUND),
    (Action::SetCategory(Who::Wes),                 OK,    NOT_FOUND, NOT_FOUND),
];

fn prepare(org: &Org, action: Action) -> (Call, Option<String>) {
    match action {
        Action::Forecast(whose) => (
            Call::Forecast(pb::GetPipelineForecastRequest {
                scope: scope(org, whose),
                period: PERIOD.into(),
            }),
            None,
        ),
        Action::RollUp(pool) => (
            Call::RollUp(pb::GetPipelineRollUpRequest {
                team_path: pool
                    .map(|pool| org.pool_team(pool).path.clone())
                    .unwrap_or_default(),
                period: PERIOD.into(),
            }),
            None,
        ),
        Action::Deals(whose) => {
            // Listed exactly when readable: checked where every role reads the scope.
            let listed = match whose {
                Whose::Rep(Who::Ravi) => Some(deal_of(org, Who::Ravi).to_owned()),
                _ => None,
            };
            let call = Call::Deals(pb::ListForecastDealsRequest {
                scope: scope(org, whose),
                period: DEAL_PERIOD.into(),
                page: page(),
                ..Default::default()
            });
            (call, listed)
        }
        Action::SetCategory(who) => (
            Call::SetCategory(pb::SetDealCategoryRequest {
                opportunity_id: deal_of(org, who).to_owned(),
                category: ForecastCategory::Commit.into(),
                note: "Signed PO expected this week".into(),
            }),
            None,
        ),
    }
}

pub(super) async fn run_actions<T: Transport>(org: &Org, transport: &T, report: &mut Report) {
    super::super::run_table(org, transport, report, ACTIONS, async |action, _| {
        let (call, listed) = prepare(org, action);
        (
            super::super::Call::Forecasting(super::Call::Pipeline(call)),
            listed,
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
    let mut client = ForecastServiceClient::new(channel.clone());
    let answered = match call {
        Call::Forecast(r) => client
            .get_pipeline_forecast(authorized(r, token))
            .await
            .map(no_ids),
        Call::RollUp(r) => client
            .get_pipeline_roll_up(authorized(r, token))
            .await
            .map(no_ids),
        Call::Deals(r) => client
            .list_forecast_deals(authorized(r, token))
            .await
            .map(|listed| {
                let deals = listed.into_inner().deals;
                deals.into_iter().map(|deal| deal.opportunity_id).collect()
            }),
        Call::SetCategory(r) => client
            .set_deal_category(authorized(r, token))
            .await
            .map(no_ids),
    };
    Ok(answered?)
}

/// A call through the gateway's HTTP/JSON front door.
pub(super) async fn http(door: &Http, token: &str, call: Call) -> Result<Vec<String>, Refusal> {
    use http::Method;
    match call {
        Call::Forecast(r) => {
            let mut fields = scope_fields(&r.scope).to_vec();
            fields.push(("period", r.period));
            let path = format!("/v1/forecasting/pipeline{}", with(&fields));
            door.send(Method::GET, &path, token, None).await.map(no_ids)
        }
        Call::RollUp(r) => {
            let fields = [("team_path", r.team_path), ("period", r.period)];
            let path = format!("/v1/forecasting/pipeline:rollUp{}", with(&fields));
            door.send(Method::GET, &path, token, None).await.map(no_ids)
        }
        Call::Deals(r) => {
            let mut fields = scope_fields(&r.scope).to_vec();
            fields.push(("period", r.period));
            fields.push(("page.page_size", "500".into()));
            let path = format!("/v1/forecasting/deals{}", with(&fields));
            door.list_by(&path, token, "deals", "opportunity_id").await
        }
        Call::SetCategory(r) => {
            let path = format!("/v1/forecasting/deals/{}:setCategory", r.opportunity_id);
            let body = serde_json::json!({
                "category": "FORECAST_CATEGORY_COMMIT",
                "note": r.note,
            });
            door.send(
                Method::POST,
                &path,
                token,
                Some(body.to_string().into_bytes()),
            )
            .await
            .map(no_ids)
        }
    }
}
