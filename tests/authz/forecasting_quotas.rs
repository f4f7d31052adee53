//! The quotas' rows of the matrix (QuotaService, docs/api.md): quotas, their consistency
//! report and attainment are read for a scope the caller must reach (PERMISSION_DENIED
//! otherwise); only an admin sets the company's quota, a manager sets quotas strictly below
//! themselves (not their own team's, not their own), a rep sets none. The rows run in order:
//! the admin's quotas above are what the decompositions below split.

use crm_proto::crm::forecasting::v1::{
    self as pb, quota_service_client::QuotaServiceClient, target_value,
};
use crm_test_support::authorized;
use tonic::transport::Channel;

use super::super::{DENIED, Expect, Http, OK, Org, Pool, Refusal, Report, Transport, Who, no_ids};
use super::PERIOD;

use super::{Whose, scope, scope_fields, with};
#[derive(Clone, Debug)]
pub(crate) enum Call {
    Set(pb::SetQuotaRequest),
    Decompose(pb::DecomposeQuotaRequest),
    List(pb::ListQuotasRequest),
    Check(pb::CheckQuotasRequest),
    Attainment(pb::GetAttainmentRequest),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    /// A calls-per-week target (a count: no corporate currency needed).
    Set(Whose),
    /// Split evenly one level down.
    Decompose(Whose),
    List(Whose),
    Check(Whose),
    Attainment(Whose),
}

#[rustfmt::skip]
const ACTIONS: &[(Action, Expect, Expect, Expect)] = &[
    // action                                        admin  manager  rep
    (Action::Set(Whose::Company),                    OK,    DENIED,  DENIED),
    (Action::Set(Whose::Team(Pool::Company)),        OK,    DENIED,  DENIED),
    (Action::Set(Whose::Team(Pool::East)),           OK,    DENIED,  DENIED),
    (Action::Set(Whose::Team(Pool::West)),           OK,    DENIED,  DENIED),
    (Action::Set(Whose::Rep(Who::Mei)),              OK,    DENIED,  DENIED),
    (Action::Set(Whose::Rep(Who::Ravi)),             OK,    OK,      DENIED),
    (Action::Set(Whose::Rep(Who::Nora)),             OK,    OK,      DENIED),
    (Action::Set(Whose::Rep(Who::Wes)),              OK,    DENIED,  DENIED),
    (Action::Decompose(Whose::Company),              OK,    DENIED,  DENIED),
    (Action::Decompose(Whose::Team(Pool::East)),     OK,    OK,      DENIED),
    (Action::Decompose(Whose::Team(Pool::West)),     OK,    DENIED,  DENIED),
    (Action::List(Whose::Mine),                      OK,    OK,      OK),
    (Action::List(Whose::Rep(Who::Ravi)),            OK,    OK,      OK),
    (Action::List(Whose::Rep(Who::Nora)),            OK,    OK,      DENIED),
    (Action::List(Whose::Rep(Who::Wes)),             OK,    DENIED,  DENIED),
    (Action::List(Whose::Team(Pool::East)),          OK,    OK,      DENIED),
    (Action::List(Whose::Company),                   OK,    DENIED,  DENIED),
    (Action::Check(Whose::Mine),                     OK,    OK,      OK),
    (Action::Check(Whose::Team(Pool::West)),         OK,    DENIED,  DENIED),
    (Action::Check(Whose::Company),                  OK,    DENIED,  DENIED),
    (Action::Attainment(Whose::Mine),                OK,    OK,      OK),
    (Action::Attainment(Whose::Rep(Who::Nora)),      OK,    OK,      DENIED),
    (Action::Attainment(Whose::Team(Pool::East)),    OK,    OK,      DENIED),
    (Action::Attainment(Whose::Company),             OK,    DENIED,  DENIED),
];

const KIND: pb::TargetKind = pb::TargetKind::CallsPerWeek;

fn prepare(org: &Org, action: Action) -> Call {
    match action {
        Action::Set(whose) => Call::Set(pb::SetQuotaRequest {
            holder: scope(org, whose),
            kind: KIND as i32,
            period: PERIOD.into(),
            target: Some(pb::TargetValue {
                of: Some(target_value::Of::Value("12".into())),
            }),
        }),
        Action::Decompose(whose) => Call::Decompose(pb::DecomposeQuotaRequest {
            parent: scope(org, whose),
            kind: KIND as i32,
            period: PERIOD.into(),
            basis: pb::DecompositionBasis::Evenly as i32,
            ..Default::default()
        }),
        Action::List(whose) => Call::List(pb::ListQuotasRequest {
            scope: scope(org, whose),
            period: PERIOD.into(),
            kind: 0,
        }),
        Action::Check(whose) => Call::Check(pb::CheckQuotasRequest {
            scope: scope(org, whose),
            period: PERIOD.into(),
            kind: KIND as i32,
        }),
        Action::Attainment(whose) => Call::Attainment(pb::GetAttainmentRequest {
            scope: scope(org, whose),
            period: PERIOD.into(),
        }),
    }
}

pub(super) async fn run_actions<T: Transport>(org: &Org, transport: &T, report: &mut Report) {
    super::super::run_table(org, transport, report, ACTIONS, async |action, _| {
        (
            super::super::Call::Forecasting(super::Call::Quotas(prepare(org, action))),
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
    let mut client = QuotaServiceClient::new(channel.clone());
    let answered = match call {
        Call::Set(r) => client.set_quota(authorized(r, token)).await.map(no_ids),
        Call::Decompose(r) => client
            .decompose_quota(authorized(r, token))
            .await
            .map(no_ids),
        Call::List(r) => client.list_quotas(authorized(r, token)).await.map(no_ids),
        Call::Check(r) => client.check_quotas(authorized(r, token)).await.map(no_ids),
        Call::Attainment(r) => client
            .get_attainment(authorized(r, token))
            .await
            .map(no_ids),
    };
    Ok(answered?)
}

fn scope_json(scope: &Option<pb::ForecastScope>) -> serde_json::Value {
    let scope = scope.clone().unwrap_or_default();
    let mut json = serde_json::Map::new();
    if !scope.user_id.is_empty() {
        json.insert("user_id".into(), scope.user_id.into());
    }
    if !scope.team_path.is_empty() {
        json.insert("team_path".into(), scope.team_path.into());
    }
    if scope.company {
        json.insert("company".into(), true.into());
    }
    json.into()
}

/// A call through the gateway's HTTP/JSON front door.
pub(super) async fn http(door: &Http, token: &str, call: Call) -> Result<Vec<String>, Refusal> {
    use http::Method;
    let post = async |path: &str, body: serde_json::Value| {
        door.send(
            Method::POST,
            path,
            token,
            Some(body.to_string().into_bytes()),
        )
        .await
        .map(no_ids)
    };
    match call {
        Call::Set(r) => {
            let body = serde_json::json!({
                "holder": scope_json(&r.holder),
                "kind": "TARGET_KIND_CALLS_PER_WEEK",
                "period": r.period,
                "target": {"value": "12"},
            });
            post("/v1/forecasting/quotas", body).await
        }
        Call::Decompose(r) => {
            let body = serde_json::json!({
                "parent": scope_json(&r.parent),
                "kind": "TARGET_KIND_CALLS_PER_WEEK",
                "period": r.period,
                "basis": "DECOMPOSITION_BASIS_EVENLY",
            });
            post("/v1/forecasting/quotas:decompose", body).await
        }
        Call::List(r) => {
            let mut fields = scope_fields(&r.scope).to_vec();
            fields.push(("period", r.period));
            let path = format!("/v1/forecasting/quotas{}", with(&fields));
            door.send(Method::GET, &path, token, None).await.map(no_ids)
        }
        Call::Check(r) => {
            let mut fields = scope_fields(&r.scope).to_vec();
            fields.push(("period", r.period));
            fields.push(("kind", "TARGET_KIND_CALLS_PER_WEEK".into()));
            let path = format!("/v1/forecasting/quotas:check{}", with(&fields));
            door.send(Method::GET, &path, token, None).await.map(no_ids)
        }
        Call::Attainment(r) => {
            let mut fields = scope_fields(&r.scope).to_vec();
            fields.push(("period", r.period));
            let path = format!("/v1/forecasting/attainment{}", with(&fields));
            door.send(Method::GET, &path, token, None).await.map(no_ids)
        }
    }
}
