//! The quotes' rows of the matrix (QuoteService, docs/api.md): a deal's quotes are read by
//! whoever reads the deal and written by whoever may change it — own, the manager's subtree,
//! any for an admin; out of reach they do not exist (NOT_FOUND). A discount above the threshold
//! is decided by a manager above the owner or an admin, never the owner (PERMISSION_DENIED).
//! Every role reads the quote settings; admins change them. Run by
//! `opportunities::run_actions` over the same organisation, transports and report.

use crm_proto::crm::{
    common::v1::Money,
    opportunities::v1::{self as pb, quote_service_client::QuoteServiceClient},
};
use crm_test_support::authorized;
use tonic::transport::Channel;

use super::super::{
    DENIED, Expect, Http, NOT_FOUND, OK, Org, Refusal, Report, Transport, Who, no_ids,
};
use super::{open_deal, run_table};

/// One quote call: the request as the RPC takes it.
#[derive(Clone, Debug)]
pub(crate) enum Call {
    Create(pb::CreateQuoteRequest),
    Get(pb::GetQuoteRequest),
    List(pb::ListQuotesRequest),
    Update(pb::UpdateQuoteRequest),
    Submit(pb::SubmitQuoteRequest),
    Approve(pb::ApproveQuoteDiscountRequest),
    Reject(pb::RejectQuoteDiscountRequest),
    Issue(pb::IssueQuoteRequest),
    Accept(pb::AcceptQuoteRequest),
    Decline(pb::DeclineQuoteRequest),
    Revise(pb::ReviseQuoteRequest),
    Render(pb::RenderQuoteRequest),
    GetSettings,
    UpdateSettings(pb::UpdateQuoteSettingsRequest),
}

/// Each action on a fresh deal of the person named, its quote brought to the state the action
/// needs by the deal's owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Create(Who),
    Get(Who),
    List(Who),
    Update(Who),
    Submit(Who),
    Approve(Who),
    Reject(Who),
    Issue(Who),
    Accept(Who),
    Decline(Who),
    Revise(Who),
    Render(Who),
    GetSettings,
    UpdateSettings,
}

#[rustfmt::skip]
const ACTIONS: &[(Action, Expect, Expect, Expect)] = &[
    // action                          admin  manager    rep
    (Action::Create(Who::Ravi),        OK,    OK,        OK),
    (Action::Create(Who::Nora),        OK,    OK,        NOT_FOUND),
    (Action::Create(Who::Wes),         OK,    NOT_FOUND, NOT_FOUND),
    (Action::Get(Who::Ravi),           OK,    OK,        OK),
    (Action::Get(Who::Nora),           OK,    OK,        NOT_FOUND),
    (Action::Get(Who::Wes),            OK,    NOT_FOUND, NOT_FOUND),
    (Action::List(Who::Ravi),          OK,    OK,        OK),
    (Action::List(Who::Nora),          OK,    OK,        NOT_FOUND),
    (Action::List(Who::Wes),           OK,    NOT_FOUND, NOT_FOUND),
    (Action::Update(Who::Ravi),        OK,    OK,        OK),
    (Action::Update(Who::Nora),        OK,    OK,        NOT_FOUND),
    (Action::Update(Who::Wes),         OK,    NOT_FOUND, NOT_FOUND),
    (Action::Submit(Who::Ravi),        OK,    OK,        OK),
    (Action::Submit(Who::Nora),        OK,    OK,        NOT_FOUND),
    (Action::Submit(Who::Wes),         OK,    NOT_FOUND, NOT_FOUND),
    // A discount above the threshold: a manager above the owner or an admin, never the owner.
    (Action::Approve(Who::Ravi),       OK,    OK,        DENIED),
    (Action::Approve(Who::Mei),        OK,    DENIED,    NOT_FOUND),
    (Action::Approve(Who::Nora),       OK,    OK,        NOT_FOUND),
    (Action::Approve(Who::Wes),        OK,    NOT_FOUND, NOT_FOUND),
    (Action::Reject(Who::Ravi),        OK,    OK,        DENIED),
    (Action::Reject(Who::Mei),         OK,    DENIED,    NOT_FOUND),
    (Action::Reject(Who::Nora),        OK,    OK,        NOT_FOUND),
    (Action::Reject(Who::Wes),         OK,    NOT_FOUND, NOT_FOUND),
    (Action::Issue(Who::Ravi),         OK,    OK,        OK),
    (Action::Issue(Who::Nora),         OK,    OK,        NOT_FOUND),
    (Action::Issue(Who::Wes),          OK,    NOT_FOUND, NOT_FOUND),
    (Action::Accept(Who::Ravi),        OK,    OK,        OK),
    (Action::Accept(Who::Nora),        OK,    OK,        NOT_FOUND),
    (Action::Accept(Who::Wes),         OK,    NOT_FOUND, NOT_FOUND),
    (Action::Decline(Who::Ravi),       OK,    OK,        OK),
    (Action::Decline(Who::Nora),       OK,    OK,        NOT_FOUND),
    (Action::Decline(Who::Wes),        OK,    NOT_FOUND, NOT_FOUND),
    (Action::Revise(Who::Ravi),        OK,    OK,        OK),
    (Action::Revise(Who::Nora),        OK,    OK,        NOT_FOUND),
    (Action::Revise(Who::Wes),         OK,    NOT_FOUND, NOT_FOUND),
    (Action::Render(Who::Ravi),        OK,    OK,        OK),
    (Action::Render(Who::Nora),        OK,    OK,        NOT_FOUND),
    (Action::Render(Who::Wes),         OK,    NOT_FOUND, NOT_FOUND),
    (Action::GetSettings,              OK,    OK,        OK),
    (Action::UpdateSettings,           OK,    DENIED,    DENIED),
];

fn quotes(org: &Org) -> QuoteServiceClient<Channel> {
    QuoteServiceClient::new(org.channel.clone())
}

/// A quote of one unlisted item at its own price (the matrix needs no price book), `discount`
/// off: 20 is above the seeded 15% threshold.
fn new_quote(deal_id: &str, discount: &str) -> pb::CreateQuoteRequest {
    pb::CreateQuoteRequest {
        opportunity_id: deal_id.into(),
        lines: vec![pb::QuoteLineInput {
            product_code: "MATRIX-KIT".into(),
            product_name: "Matrix kit".into(),
            quantity: "2".into(),
            unit_price: Some(Money {
                currency_code: "CNY".into(),
                amount: "1000.00".into(),
            }),
            ..Default::default()
        }],
        discount_percent: discount.into(),
        ..Default::default()
    }
}

/// How far `owner` brings their quote before the cell acts on it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Stage {
    Draft,
    Submitted,
    Issued,
}

/// A fresh deal of `owner` and its quote at `stage` (`discount` off), both made by `owner`
/// (the approvals of a pending quote by Ada); the deal's and the quote's ids.
pub(super) async fn quote_of(
    org: &Org,
    owner: Who,
    discount: &str,
    stage: Stage,
) -> (String, String) {
    let deal_id = open_deal(org, owner).await;
    let token = org.token(owner);
    let mut client = quotes(org);
    let request = authorized(new_quote(&deal_id, discount), token);
    let quote = client.create_quote(request).await;
    let id = quote.unwrap().into_inner().quote.unwrap().id;
    if stage >= Stage::Submitted {
        let submit = pb::SubmitQuoteRequest {
            quote_id: id.clone(),
            expected_version: 0,
        };
        client
            .submit_quote(authorized(submit, token))
            .await
            .unwrap();
    }
    if stage >= Stage::Issued {
        let issue = pb::IssueQuoteRequest {
            quote_id: id.clone(),
            expected_version: 0,
        };
        client.issue_quote(authorized(issue, token)).await.unwrap();
    }
    (deal_id, id)
}

/// The call an action makes, with a target made for this cell.
async fn prepare(org: &Org, action: Action) -> Call {
    let draft = |owner| quote_of(org, owner, "0", Stage::Draft);
    match action {
        Action::Create(owner) => Call::Create(new_quote(&open_deal(org, owner).await, "5")),
        Action::Get(owner) => Call::Get(pb::GetQuoteRequest {
            quote_id: draft(owner).await.1,
        }),
        Action::List(owner) => Call::List(pb::ListQuotesRequest {
            opportunity_id: draft(owner).await.0,
        }),
        Action::Update(owner) => Call::Update(pb::UpdateQuoteRequest {
            quote_id: draft(owner).await.1,
            notes: Some("Delivery in two weeks".into()),
            ..Default::default()
        }),
        Action::Submit(owner) => Call::Submit(pb::SubmitQuoteRequest {
            quote_id: draft(owner).await.1,
            expected_version: 0,
        }),
        Action::Approve(owner) => Call::Approve(pb::ApproveQuoteDiscountRequest {
            quote_id: quote_of(org, owner, "20", Stage::Submitted).await.1,
            note: "within the quarter's room".into(),
            expected_version: 0,
        }),
        Action::Reject(owner) => Call::Reject(pb::RejectQuoteDiscountRequest {
            quote_id: quote_of(org, owner, "20", Stage::Submitted).await.1,
            reason: "too deep".into(),
            expected_version: 0,
        }),
        Action::Issue(owner) => Call::Issue(pb::IssueQuoteRequest {
            quote_id: quote_of(org, owner, "0", Stage::Submitted).await.1,
            expected_version: 0,
        }),
        Action::Accept(owner) => Call::Accept(pb::AcceptQuoteRequest {
            quote_id: quote_of(org, owner, "0", Stage::Issued).await.1,
            expected_version: 0,
        }),
        Action::Decline(owner) => Call::Decline(pb::DeclineQuoteRequest {
            quote_id: quote_of(org, owner, "0", Stage::Issued).await.1,
            reason: String::new(),
            expected_version: 0,
        }),
        Action::Revise(owner) => Call::Revise(pb::ReviseQuoteRequest {
            quote_id: draft(owner).await.1,
            ..Default::default()
        }),
        Action::Render(owner) => Call::Render(pb::RenderQuoteRequest {
            quote_id: draft(owner).await.1,
        }),
        Action::GetSettings => Call::GetSettings,
        // The company's name only: the threshold other cells submit under stays.
        Action::UpdateSettings => Call::UpdateSettings(pb::UpdateQuoteSettingsRequest {
            company_name: Some("Acme".into()),
            ..Default::default()
        }),
    }
}

pub(super) async fn run_actions<T: Transport>(org: &Org, transport: &T, report: &mut Report) {
    run_table(org, transport, report, ACTIONS, async |action, _| {
        (super::Call::Quotes(prepare(org, action).await), None)
    })
    .await;
}

/// A call straight to the service's gRPC API.
pub(crate) async fn grpc(
    client: &QuoteServiceClient<Channel>,
    token: &str,
    call: Call,
) -> Result<Vec<String>, Refusal> {
    let mut quotes = client.clone();
    let answered = match call {
        Call::Create(r) => quotes.create_quote(authorized(r, token)).await.map(no_ids),
        Call::Get(r) => quotes.get_quote(authorized(r, token)).await.map(no_ids),
        Call::List(r) => quotes.list_quotes(authorized(r, token)).await.map(no_ids),
        Call::Update(r) => quotes.update_quote(authorized(r, token)).await.map(no_ids),
        Call::Submit(r) => quotes.submit_quote(authorized(r, token)).await.map(no_ids),
        Call::Approve(r) => quotes
            .approve_quote_discount(authorized(r, token))
            .await
            .map(no_ids),
        Call::Reject(r) => quotes
            .reject_quote_discount(authorized(r, token))
            .await
            .map(no_ids),
        Call::Issue(r) => quotes.issue_quote(authorized(r, token)).await.map(no_ids),
        Call::Accept(r) => quotes.accept_quote(authorized(r, token)).await.map(no_ids),
        Call::Decline(r) => quotes.decline_quote(authorized(r, token)).await.map(no_ids),
        Call::Revise(r) => quotes.revise_quote(authorized(r, token)).await.map(no_ids),
        Call::Render(r) => quotes.render_quote(authorized(r, token)).await.map(no_ids),
        Call::GetSettings => quotes
            .get_quote_settings(authorized(pb::GetQuoteSettingsRequest {}, token))
            .await
            .map(no_ids),
        Call::UpdateSettings(r) => quotes
            .update_quote_settings(authorized(r, token))
            .await
            .map(no_ids),
    };
    Ok(answered?)
}

/// A call through the gateway's HTTP/JSON front door.
pub(crate) async fn http(door: &Http, token: &str, call: Call) -> Result<Vec<String>, Refusal> {
    use http::Method;
    let action = |id: &str, verb: &str| format!("/v1/quotes/{id}:{verb}");
    let (method, path, body) = match call {
        Call::Create(r) => (
            Method::POST,
            format!("/v1/opportunities/{}/quotes", r.opportunity_id),
            Some(door.json(&r)),
        ),
        Call::Get(r) => (Method::GET, format!("/v1/quotes/{}", r.quote_id), None),
        Call::List(r) => (
            Method::GET,
            format!("/v1/opportunities/{}/quotes", r.opportunity_id),
            None,
        ),
        Call::Update(r) => (
            Method::PATCH,
            format!("/v1/quotes/{}", r.quote_id),
            Some(door.json(&r)),
        ),
        Call::Submit(r) => (
            Method::POST,
            action(&r.quote_id, "submit"),
            Some(door.json(&r)),
        ),
        Call::Approve(r) => (
            Method::POST,
            action(&r.quote_id, "approveDiscount"),
            Some(door.json(&r)),
        ),
        Call::Reject(r) => (
            Method::POST,
            action(&r.quote_id, "rejectDiscount"),
            Some(door.json(&r)),
        ),
        Call::Issue(r) => (
            Method::POST,
            action(&r.quote_id, "issue"),
            Some(door.json(&r)),
        ),
        Call::Accept(r) => (
            Method::POST,
            action(&r.quote_id, "accept"),
            Some(door.json(&r)),
        ),
        Call::Decline(r) => (
            Method::POST,
            action(&r.quote_id, "decline"),
            Some(door.json(&r)),
        ),
        Call::Revise(r) => (
            Method::POST,
            action(&r.quote_id, "revise"),
            Some(door.json(&r)),
        ),
        Call::Render(r) => (Method::GET, action(&r.quote_id, "render"), None),
        Call::GetSettings => (Method::GET, "/v1/quoteSettings".into(), None),
        Call::UpdateSettings(r) => (
            Method::PATCH,
            "/v1/quoteSettings".into(),
            Some(door.json(&r)),
        ),
    };
    door.send(method, &path, token, body).await.map(no_ids)
}
