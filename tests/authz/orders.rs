//! The orders' rows of the matrix (OrderService, docs/api.md): a deal's orders are read by
//! whoever reads the deal and delivered or cancelled by whoever may change it — own, the manager's subtree,
//! any for an admin; out of reach they do not exist (NOT_FOUND) and are not listed. Run by
//! `opportunities::run_actions` over the same organisation, transports and report.

use crm_proto::crm::{
    common::v1::PageRequest,
    opportunities::v1::{
        self as pb, order_service_client::OrderServiceClient,
        quote_service_client::QuoteServiceClient,
    },
};
use crm_test_support::authorized;
use tonic::transport::Channel;

use super::super::{Expect, Http, NOT_FOUND, OK, Org, Refusal, Report, Transport, Who, no_ids};
use super::{
    quotes::{Stage, quote_of},
    run_table,
};

/// One order call: the request as the RPC takes it.
#[derive(Clone, Debug)]
pub(crate) enum Call {
    Get(pb::GetOrderRequest),
    /// Answers the ids listed.
    List(pb::ListOrdersRequest),
    RecordDelivery(pb::RecordDeliveryRequest),
    Cancel(pb::CancelOrderRequest),
}

/// Each action on the order of a fresh deal of the person named, made by the deal's owner
/// accepting their issued quote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Get(Who),
    List(Who),
    RecordDelivery(Who),
    Cancel(Who),
}

#[rustfmt::skip]
const ACTIONS: &[(Action, Expect, Expect, Expect)] = &[
    // action                          admin  manager    rep
    (Action::Get(Who::Ravi),           OK,    OK,        OK),
    (Action::Get(Who::Nora),           OK,    OK,        NOT_FOUND),
    (Action::Get(Who::Wes),            OK,    NOT_FOUND, NOT_FOUND),
    (Action::List(Who::Ravi),          OK,    OK,        OK),
    (Action::List(Who::Nora),          OK,    OK,        NOT_FOUND),
    (Action::List(Who::Wes),           OK,    NOT_FOUND, NOT_FOUND),
    (Action::RecordDelivery(Who::Ravi), OK,   OK,        OK),
    (Action::RecordDelivery(Who::Nora), OK,   OK,        NOT_FOUND),
    (Action::RecordDelivery(Who::Wes), OK,    NOT_FOUND, NOT_FOUND),
    (Action::Cancel(Who::Ravi),        OK,    OK,        OK),
    (Action::Cancel(Who::Nora),        OK,    OK,        NOT_FOUND),
    (Action::Cancel(Who::Wes),         OK,    NOT_FOUND, NOT_FOUND),
];

/// A fresh deal of `owner`, its quote issued and accepted by `owner`: the order's deal and id.
async fn order_of(org: &Org, owner: Who) -> (String, String) {
    let (deal_id, quote_id) = quote_of(org, owner, "0", Stage::Issued).await;
    let accept = pb::AcceptQuoteRequest {
        quote_id,
        expected_version: 0,
    };
    let mut quotes = QuoteServiceClient::new(org.channel.clone());
    let accepted = quotes
        .accept_quote(authorized(accept, org.token(owner)))
        .await;
    let order = accepted.unwrap().into_inner().order.unwrap();
    (deal_id, order.id)
}

/// The call an action makes, with a target made for this cell, and the order's id.
async fn prepare(org: &Org, action: Action) -> (Call, String) {
    match action {
        Action::Get(owner) => {
            let (_, id) = order_of(org, owner).await;
            let request = pb::GetOrderRequest {
                order_id: id.clone(),
            };
            (Call::Get(request), id)
        }
        Action::List(owner) => {
            let (deal_id, id) = order_of(org, owner).await;
            let request = pb::ListOrdersRequest {
                opportunity_id: deal_id,
                page: Some(PageRequest {
                    page_size: 500,
                    page_token: String::new(),
                }),
                ..Default::default()
            };
            (Call::List(request), id)
        }
        Action::RecordDelivery(owner) => {
            let (_, id) = order_of(org, owner).await;
            let request = pb::RecordDeliveryRequest {
                order_id: id.clone(),
                lines: vec![pb::DeliveredLineInput {
                    line_number: 1,
                    quantity: "1".into(),
                }],
                note: "first pallet".into(),
                ..Default::default()
            };
            (Call::RecordDelivery(request), id)
        }
        Action::Cancel(owner) => {
            let (_, id) = order_of(org, owner).await;
            let request = pb::CancelOrderRequest {
                order_id: id.clone(),
                reason: "the customer withdrew".into(),
                expected_version: 0,
            };
            (Call::Cancel(request), id)
        }
    }
}

pub(super) async fn run_actions<T: Transport>(org: &Org, transport: &T, report: &mut Report) {
    run_table(org, transport, report, ACTIONS, async |action, _| {
        let (call, id) = prepare(org, action).await;
        let listed = matches!(call, Call::List(_)).then_some(id);
        (super::Call::Orders(call), listed)
    })
    .await;
}

/// A call straight to the service's gRPC API.
pub(crate) async fn grpc(
    client: &OrderServiceClient<Channel>,
    token: &str,
    call: Call,
) -> Result<Vec<String>, Refusal> {
    let mut orders = client.clone();
    let answered = match call {
        Call::Get(r) => orders.get_order(authorized(r, token)).await.map(no_ids),
        Call::List(r) => orders.list_orders(authorized(r, token)).await.map(|page| {
            let orders = page.into_inner().orders;
            orders.into_iter().map(|order| order.id).collect()
        }),
        Call::RecordDelivery(r) => orders
            .record_delivery(authorized(r, token))
            .await
            .map(no_ids),
        Call::Cancel(r) => orders.cancel_order(authorized(r, token)).await.map(no_ids),
    };
    Ok(answered?)
}

/// A call through the gateway's HTTP/JSON front door.
pub(crate) async fn http(door: &Http, token: &str, call: Call) -> Result<Vec<String>, Refusal> {
    use http::Method;
    let (method, path, body) = match call {
        Call::Get(r) => (Method::GET, format!("/v1/orders/{}", r.order_id), None),
        Call::List(r) => {
            let path = format!(
                "/v1/orders?opportunity_id={}&page.page_size=500",
                r.opportunity_id
            );
            return door.list(&path, token, "orders").await;
        }
        Call::RecordDelivery(r) => (
            Method::POST,
            format!("/v1/orders/{}:recordDelivery", r.order_id),
            Some(door.json(&r)),
        ),
        Call::Cancel(r) => (
            Method::POST,
            format!("/v1/orders/{}:cancel", r.order_id),
            Some(door.json(&r)),
        ),
    };
    door.send(method, &path, token, body).await.map(no_ids)
}
