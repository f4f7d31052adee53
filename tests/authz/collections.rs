//! The collections' rows of the matrix (CollectionService, docs/api.md): a won deal's payment
//! schedule is read by whoever reads the deal; set, paid and refunded by whoever may change it
//! — own, the manager's subtree, any for an admin; out of reach it does not exist
//! (NOT_FOUND). Run by `opportunities::run_actions` over the same organisation, transports and
//! report.

use crm_proto::crm::opportunities::v1::{
    self as pb, collection_service_client::CollectionServiceClient,
};
use crm_test_support::authorized;
use tonic::transport::Channel;
use uuid::Uuid;

use super::super::{Expect, Http, NOT_FOUND, OK, Org, Refusal, Report, Transport, Who, no_ids};
use super::{WON_PRODUCT_FIT, cny, deals_client, open_deal, run_table};

/// One collections call: the request as the RPC takes it.
#[derive(Clone, Debug)]
pub(crate) enum Call {
    Get(pb::GetPaymentScheduleRequest),
    Set(pb::SetPaymentScheduleRequest),
    Pay(pb::RecordPaymentRequest),
    Refund(pb::RecordRefundRequest),
    /// Answers the schedule ids listed.
    Receivables(pb::ListReceivablesRequest),
}

/// Each action on a fresh won deal of the person named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Get(Who),
    Set(Who),
    Pay(Who),
    Refund(Who),
    Receivables(Who),
}

#[rustfmt::skip]
const ACTIONS: &[(Action, Expect, Expect, Expect)] = &[
    // action                 admin  manager    rep
    (Action::Get(Who::Ravi),    OK,  OK,        OK),
    (Action::Get(Who::Nora),    OK,  OK,        NOT_FOUND),
    (Action::Get(Who::Wes),     OK,  NOT_FOUND, NOT_FOUND),
    (Action::Set(Who::Ravi),    OK,  OK,        OK),
    (Action::Set(Who::Nora),    OK,  OK,        NOT_FOUND),
    (Action::Set(Who::Wes),     OK,  NOT_FOUND, NOT_FOUND),
    (Action::Pay(Who::Ravi),    OK,  OK,        OK),
    (Action::Pay(Who::Nora),    OK,  OK,        NOT_FOUND),
    (Action::Pay(Who::Wes),     OK,  NOT_FOUND, NOT_FOUND),
    (Action::Refund(Who::Ravi), OK,  OK,        OK),
    (Action::Refund(Who::Nora), OK,  OK,        NOT_FOUND),
    (Action::Refund(Who::Wes),  OK,  NOT_FOUND, NOT_FOUND),
    (Action::Receivables(Who::Ravi), OK, OK,    OK),
    (Action::Receivables(Who::Nora), OK, OK,    NOT_FOUND),
    (Action::Receivables(Who::Wes),  OK, NOT_FOUND, NOT_FOUND),
];

fn whole() -> Vec<pb::InstalmentInput> {
    vec![pb::InstalmentInput {
        due_date: "2027-01-31".into(),
        percent: "100".into(),
        ..Default::default()
    }]
}

fn collections(org: &Org) -> CollectionServiceClient<Channel> {
    CollectionServiceClient::new(org.channel.clone())
}

/// A fresh deal of `owner`, won by them; with `scheduled`, on a one-instalment schedule.
async fn won_deal(org: &Org, owner: Who, scheduled: bool) -> String {
    let id = open_deal(org, owner).await;
    let win = pb::MarkWonRequest {
        opportunity_id: id.clone(),
        close_reason_id: WON_PRODUCT_FIT.into(),
        ..Default::default()
    };
    let won = deals_client(org)
        .mark_won(authorized(win, org.token(owner)))
        .await;
    won.unwrap_or_else(|status| panic!("{owner:?} wins their deal: {status}"));
    if scheduled {
        let set = set(&id);
        let mut client = collections(org);
        let answer = client
            .set_payment_schedule(authorized(set, org.token(owner)))
            .await;
        answer.unwrap_or_else(|status| panic!("{owner:?} schedules their deal: {status}"));
    }
    id
}

fn set(deal_id: &str) -> pb::SetPaymentScheduleRequest {
    pb::SetPaymentScheduleRequest {
        opportunity_id: deal_id.into(),
        instalments: whole(),
        ..Default::default()
    }
}

fn pay(deal_id: &str) -> pb::RecordPaymentRequest {
    pb::RecordPaymentRequest {
        opportunity_id: deal_id.into(),
        payment_id: Uuid::now_v7().to_string(),
        amount: cny("1000.00"),
        reference: "TT-1".into(),
        ..Default::default()
    }
}

/// The call an action makes, with a target made for this cell, and the schedule's id.
async fn prepare(org: &Org, action: Action) -> (Call, String) {
    if let Action::Receivables(owner) = action {
        let deal_id = won_deal(org, owner, true).await;
        let get = pb::GetPaymentScheduleRequest {
            opportunity_id: deal_id,
        };
        let mut client = collections(org);
        let schedule = client
            .get_payment_schedule(authorized(get, org.token(owner)))
            .await;
        let id = schedule.unwrap().into_inner().schedule.unwrap().id;
        return (Call::Receivables(pb::ListReceivablesRequest::default()), id);
    }
    (prepare_write(org, action).await, String::new())
}

async fn prepare_write(org: &Org, action: Action) -> Call {
    match action {
        Action::Receivables(_) => unreachable!("prepared with its schedule id"),
        Action::Get(owner) => Call::Get(pb::GetPaymentScheduleRequest {
            opportunity_id: won_deal(org, owner, true).await,
        }),
        Action::Set(owner) => Call::Set(set(&won_deal(org, owner, false).await)),
        Action::Pay(owner) => Call::Pay(pay(&won_deal(org, owner, true).await)),
        Action::Refund(owner) => {
            let deal_id = won_deal(org, owner, true).await;
            let payment = pay(&deal_id);
            let payment_id = payment.payment_id.clone();
            let mut client = collections(org);
            let paid = client
                .record_payment(authorized(payment, org.token(owner)))
                .await;
            paid.unwrap_or_else(|status| panic!("{owner:?} records a payment: {status}"));
            Call::Refund(pb::RecordRefundRequest {
                payment_id,
                amount: cny("1.00"),
                reason: "goodwill".into(),
            })
        }
    }
}

pub(super) async fn run_actions<T: Transport>(org: &Org, transport: &T, report: &mut Report) {
    run_table(org, transport, report, ACTIONS, async |action, _| {
        let (call, id) = prepare(org, action).await;
        let listed = matches!(call, Call::Receivables(_)).then_some(id);
        (super::Call::Collections(call), listed)
    })
    .await;
}

/// A call straight to the service's gRPC API.
pub(crate) async fn grpc(
    client: &CollectionServiceClient<Channel>,
    token: &str,
    call: Call,
) -> Result<Vec<String>, Refusal> {
    let mut client = client.clone();
    let answered = match call {
        Call::Get(r) => client
            .get_payment_schedule(authorized(r, token))
            .await
            .map(no_ids),
        Call::Set(r) => client
            .set_payment_schedule(authorized(r, token))
            .await
            .map(no_ids),
        Call::Pay(r) => client
            .record_payment(authorized(r, token))
            .await
            .map(no_ids),
        Call::Refund(r) => client.record_refund(authorized(r, token)).await.map(no_ids),
        Call::Receivables(r) => client
            .list_receivables(authorized(r, token))
            .await
            .map(|listed| {
                let listed = listed.into_inner().receivables;
                listed.into_iter().map(|r| r.schedule_id).collect()
            }),
    };
    Ok(answered?)
}

/// A call through the gateway's HTTP/JSON front door.
pub(crate) async fn http(door: &Http, token: &str, call: Call) -> Result<Vec<String>, Refusal> {
    use http::Method;
    let (method, path, body) = match call {
        Call::Get(r) => (
            Method::GET,
            format!("/v1/opportunities/{}/paymentSchedule", r.opportunity_id),
            None,
        ),
        Call::Set(r) => (
            Method::PUT,
            format!("/v1/opportunities/{}/paymentSchedule", r.opportunity_id),
            Some(door.json(&r)),
        ),
        Call::Pay(r) => (
            Method::POST,
            format!(
                "/v1/opportunities/{}/paymentSchedule:recordPayment",
                r.opportunity_id
            ),
            Some(door.json(&r)),
        ),
        Call::Refund(r) => (
            Method::POST,
            format!("/v1/payments/{}:refund", r.payment_id),
            Some(door.json(&r)),
        ),
        Call::Receivables(_) => {
            let path = "/v1/receivables";
            return door
                .list_by(path, token, "receivables", "schedule_id")
                .await;
        }
    };
    door.send(method, &path, token, body).await.map(no_ids)
}
