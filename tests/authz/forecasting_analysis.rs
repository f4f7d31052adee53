//! The sales analysis' rows of the matrix (SalesAnalysisService, docs/api.md): an analysis is
//! asked for a scope the caller must reach (PERMISSION_DENIED otherwise) — a rep their own
//! deals, a manager their subtree's and its reps', an admin every one.

use crm_proto::crm::forecasting::v1::{
    self as pb, AnalysisDimension, AnalysisMeasure,
    sales_analysis_service_client::SalesAnalysisServiceClient,
};
use crm_test_support::authorized;
use tonic::transport::Channel;

use super::super::{DENIED, Expect, Http, OK, Org, Pool, Refusal, Report, Transport, Who, no_ids};
use super::PERIOD;

use super::{Whose, scope, scope_fields, with};
#[derive(Clone, Debug)]
pub(crate) enum Call {
    Analyze(pb::AnalyzeSalesRequest),
}

#[rustfmt::skip]
const ACTIONS: &[(Whose, Expect, Expect, Expect)] = &[
    // whose                      admin  manager    rep
    (Whose::Mine,                 OK,    OK,        OK),
    (Whose::Rep(Who::Ravi),       OK,    OK,        OK),
    (Whose::Rep(Who::Nora),       OK,    OK,        DENIED),
    (Whose::Rep(Who::Wes),        OK,    DENIED,    DENIED),
    (Whose::Team(Pool::East),     OK,    OK,        DENIED),
    (Whose::Team(Pool::West),     OK,    DENIED,    DENIED),
    (Whose::Company,              OK,    DENIED,    DENIED),
];

pub(super) async fn run_actions<T: Transport>(org: &Org, transport: &T, report: &mut Report) {
    super::super::run_table(org, transport, report, ACTIONS, async |whose, _| {
        let call = Call::Analyze(pb::AnalyzeSalesRequest {
            scope: scope(org, whose),
            period: PERIOD.into(),
            dimension: AnalysisDimension::Customer.into(),
            measure: AnalysisMeasure::Bookings.into(),
        });
        (
            super::super::Call::Forecasting(super::Call::Analysis(call)),
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
    let mut client = SalesAnalysisServiceClient::new(channel.clone());
    let Call::Analyze(r) = call;
    Ok(client
        .analyze_sales(authorized(r, token))
        .await
        .map(no_ids)?)
}

/// A call through the gateway's HTTP/JSON front door.
pub(super) async fn http(door: &Http, token: &str, call: Call) -> Result<Vec<String>, Refusal> {
    let Call::Analyze(r) = call;
    let mut fields = scope_fields(&r.scope);
    fields.push(("period", r.period));
    fields.push(("dimension", "ANALYSIS_DIMENSION_CUSTOMER".into()));
    fields.push(("measure", "ANALYSIS_MEASURE_BOOKINGS".into()));
    let path = format!("/v1/forecasting/salesAnalysis{}", with(&fields));
    door.send(http::Method::GET, &path, token, None)
        .await
        .map(no_ids)
}
