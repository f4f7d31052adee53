//! The forecasting service's rows of the matrix, run by the parent file's tests over the same
//! organisation, transports and report. Every forecasting family asks for a scope — a rep, a
//! team subtree, the company — and a scope beyond the caller's reach is PERMISSION_DENIED: a
//! rep reads their own numbers, a manager their subtree's and its reps', an admin every one.
//! A deal's own forecast settings (its category override) go with the deal: out of reach it
//! does not exist (NOT_FOUND). Each family's table is in its own file beside this one.
//!
//! The forecasting service keeps its own read model of the deals from the opportunities
//! service's events, so the organisation waits until every person's deal is in it.

use std::time::Duration;

use crm_test_support::eventually;
use uuid::Uuid;

use crm_proto::crm::forecasting::v1 as pb;

use super::{Http, Kind, Org, Pool, Refusal, Report, Transport, Who, opportunities::query};

#[path = "forecasting_analysis.rs"]
mod analysis;
#[path = "forecasting_calls.rs"]
mod calls;
#[path = "forecasting_pipeline.rs"]
mod pipeline;
#[path = "forecasting_quotas.rs"]
mod quotas;
#[path = "forecasting_review.rs"]
mod review;
#[path = "forecasting_statistics.rs"]
mod statistics;

/// One forecasting call, by family.
#[derive(Clone, Debug)]
pub(crate) enum Call {
    Pipeline(pipeline::Call),
    Review(review::Call),
    Analysis(analysis::Call),
    Quotas(quotas::Call),
    Statistics(statistics::Call),
    Calls(calls::Call),
}

/// Whose numbers a cell asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Whose {
    /// No scope: the caller's own.
    Mine,
    Rep(Who),
    Team(Pool),
    Company,
}

/// The request's scope for `whose`; `None` for the caller's own.
fn scope(org: &Org, whose: Whose) -> Option<pb::ForecastScope> {
    let mut scope = pb::ForecastScope::default();
    match whose {
        Whose::Mine => return None,
        Whose::Rep(who) => scope.user_id = org.people[&who].id.clone(),
        Whose::Team(pool) => scope.team_path = org.pool_team(pool).path.clone(),
        Whose::Company => scope.company = true,
    }
    Some(scope)
}

/// A scope as the front door's query parameters (the empty ones are left out by [`with`]).
fn scope_fields(scope: &Option<pb::ForecastScope>) -> Vec<(&'static str, String)> {
    let scope = scope.clone().unwrap_or_default();
    let company = if scope.company { "true" } else { "" };
    vec![
        ("scope.user_id", scope.user_id),
        ("scope.team_path", scope.team_path),
        ("scope.company", company.to_owned()),
    ]
}

/// `?name=value&…` of the non-empty fields.
fn with(fields: &[(&'static str, String)]) -> String {
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    query(&fields)
}

/// The period every cell asks for: the matrix is about who may ask, not what the numbers are.
const PERIOD: &str = "2026-12";

/// The month every person's deal is expected to close in (`opportunities::new_deal`).
const DEAL_PERIOD: &str = "2027-03";

/// This person's deal (`opportunities::set_up`).
fn deal_of(org: &Org, who: Who) -> &str {
    &org.records[&(Kind::Opportunity, who)]
}

/// Waits until the forecasting service's read model holds every deal of the organisation.
async fn await_read_model(org: &Org) {
    let pool = org.app.pool("forecasting");
    let deals: Vec<Uuid> = Who::ALL
        .into_iter()
        .map(|who| deal_of(org, who).parse().unwrap())
        .collect();
    eventually(
        Duration::from_secs(20),
        "every deal in the forecasting read model",
        || {
            let deals = deals.clone();
            async move {
                let held: i64 = sqlx::query_scalar("SELECT count(*) FROM deals WHERE id = ANY($1)")
                    .bind(&deals)
                    .fetch_one(pool)
                    .await
                    .unwrap();
                held == deals.len() as i64
            }
        },
    )
    .await;
}

pub(super) async fn run_actions<T: Transport>(org: &Org, transport: &T, report: &mut Report) {
    await_read_model(org).await;
    pipeline::run_actions(org, transport, report).await;
    review::run_actions(org, transport, report).await;
    analysis::run_actions(org, transport, report).await;
    quotas::run_actions(org, transport, report).await;
    statistics::run_actions(org, transport, report).await;
    calls::run_actions(org, transport, report).await;
}

/// A call straight to the service's gRPC API.
pub(super) async fn grpc(
    channel: &tonic::transport::Channel,
    token: &str,
    call: Call,
) -> Result<Vec<String>, Refusal> {
    match call {
        Call::Pipeline(call) => pipeline::grpc(channel, token, call).await,
        Call::Review(call) => review::grpc(channel, token, call).await,
        Call::Analysis(call) => analysis::grpc(channel, token, call).await,
        Call::Quotas(call) => quotas::grpc(channel, token, call).await,
        Call::Statistics(call) => statistics::grpc(channel, token, call).await,
        Call::Calls(call) => calls::grpc(channel, token, call).await,
    }
}

/// A call through the gateway's HTTP/JSON front door.
pub(super) async fn http(door: &Http, token: &str, call: Call) -> Result<Vec<String>, Refusal> {
    match call {
        Call::Pipeline(call) => pipeline::http(door, token, call).await,
        Call::Review(call) => review::http(door, token, call).await,
        Call::Analysis(call) => analysis::http(door, token, call).await,
        Call::Quotas(call) => quotas::http(door, token, call).await,
        Call::Statistics(call) => statistics::http(door, token, call).await,
        Call::Calls(call) => calls::http(door, token, call).await,
    }
}
