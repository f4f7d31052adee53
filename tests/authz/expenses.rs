//! The expenses' rows of the matrix (ExpenseService, docs/api.md): an expense is read by its
//! owner, their managers and admins (out of reach it does not exist: NOT_FOUND); only its owner
//! submits it; only a manager above the owner or an admin approves or rejects it, never the
//! owner (PERMISSION_DENIED). Run by `opportunities::run_actions` over the same organisation,
//! transports and report.

use crm_proto::crm::opportunities::v1::{self as pb, expense_service_client::ExpenseServiceClient};
use crm_test_support::authorized;
use tonic::transport::Channel;

use super::super::{
    DENIED, Expect, Http, NOT_FOUND, OK, Org, Refusal, Report, Transport, Who, no_ids,
};
use super::{cny, open_deal, run_table};

/// One expenses call: the request as the RPC takes it.
#[derive(Clone, Debug)]
pub(crate) enum Call {
    Get(pb::GetExpenseRequest),
    Submit(pb::SubmitExpenseRequest),
    Approve(pb::ApproveExpenseRequest),
    Reject(pb::RejectExpenseRequest),
    Summary(pb::GetExpenseSummaryRequest),
    /// Answers the expense ids listed.
    List(pb::ListExpensesRequest),
}

/// Each action on a fresh expense of the person named (on a fresh deal of theirs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Get(Who),
    Submit(Who),
    Approve(Who),
    Reject(Who),
    Summary(Who),
    List(Who),
}

#[rustfmt::skip]
const ACTIONS: &[(Action, Expect, Expect, Expect)] = &[
    // action                  admin   manager    rep
    (Action::Get(Who::Ravi),     OK,     OK,        OK),
    (Action::Get(Who::Nora),     OK,     OK,        NOT_FOUND),
    (Action::Get(Who::Wes),      OK,     NOT_FOUND, NOT_FOUND),
    (Action::Submit(Who::Ravi),  DENIED, DENIED,    OK),
    (Action::Submit(Who::Nora),  DENIED, DENIED,    NOT_FOUND),
    (Action::Approve(Who::Ravi), OK,     OK,        DENIED),
    (Action::Approve(Who::Nora), OK,     OK,        NOT_FOUND),
    (Action::Approve(Who::Wes),  OK,     NOT_FOUND, NOT_FOUND),
    (Action::Reject(Who::Ravi),  OK,     OK,        DENIED),
    (Action::Reject(Who::Nora),  OK,     OK,        NOT_FOUND),
    (Action::Reject(Who::Wes),   OK,     NOT_FOUND, NOT_FOUND),
    (Action::Summary(Who::Ravi), OK,     OK,        OK),
    (Action::Summary(Who::Wes),  OK,     NOT_FOUND, NOT_FOUND),
    (Action::List(Who::Ravi),    OK,     OK,        OK),
    (Action::List(Who::Nora),    OK,     OK,        NOT_FOUND),
    (Action::List(Who::Wes),     OK,     NOT_FOUND, NOT_FOUND),
];

fn expenses(org: &Org) -> ExpenseServiceClient<Channel> {
    ExpenseServiceClient::new(org.channel.clone())
}

/// A fresh expense of `owner` on a fresh deal of theirs, submitted when `submitted`: its id
/// and the deal's.
pub(super) async fn expense(org: &Org, owner: Who, submitted: bool) -> (String, String) {
    let deal_id = open_deal(org, owner).await;
    let create = pb::CreateExpenseRequest {
        opportunity_id: deal_id.clone(),
        expense: Some(pb::ExpenseInput {
            incurred_on: "2026-01-15".into(),
            category: pb::ExpenseCategory::Meals.into(),
            amount: cny("120.00"),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut client = expenses(org);
    let created = client
        .create_expense(authorized(create, org.token(owner)))
        .await;
    let created = created.unwrap_or_else(|status| panic!("{owner:?} records an expense: {status}"));
    let id = created.into_inner().expense.unwrap().id;
    if submitted {
        let submit = pb::SubmitExpenseRequest {
            expense_id: id.clone(),
            expected_version: 0,
        };
        let answer = client
            .submit_expense(authorized(submit, org.token(owner)))
            .await;
        answer.unwrap_or_else(|status| panic!("{owner:?} submits their expense: {status}"));
    }
    (id, deal_id)
}

/// The call an action makes, with a target made for this cell, and the expense's id.
async fn prepare(org: &Org, action: Action) -> (Call, String) {
    let call = match action {
        Action::Get(owner) => {
            let (id, _) = expense(org, owner, false).await;
            Call::Get(pb::GetExpenseRequest { expense_id: id })
        }
        Action::Submit(owner) => {
            let (id, _) = expense(org, owner, false).await;
            Call::Submit(pb::SubmitExpenseRequest {
                expense_id: id,
                expected_version: 0,
            })
        }
        Action::Approve(owner) => {
            let (id, _) = expense(org, owner, true).await;
            Call::Approve(pb::ApproveExpenseRequest {
                expense_id: id,
                ..Default::default()
            })
        }
        Action::Reject(owner) => {
            let (id, _) = expense(org, owner, true).await;
            Call::Reject(pb::RejectExpenseRequest {
                expense_id: id,
                reason: "no receipt".into(),
                expected_version: 0,
            })
        }
        Action::Summary(owner) => {
            let (_, deal_id) = expense(org, owner, true).await;
            Call::Summary(pb::GetExpenseSummaryRequest {
                opportunity_id: deal_id,
                ..Default::default()
            })
        }
        Action::List(owner) => {
            let (id, deal_id) = expense(org, owner, false).await;
            let list = pb::ListExpensesRequest {
                opportunity_id: deal_id,
                ..Default::default()
            };
            return (Call::List(list), id);
        }
    };
    (call, String::new())
}

pub(super) async fn run_actions<T: Transport>(org: &Org, transport: &T, report: &mut Report) {
    run_table(org, transport, report, ACTIONS, async |action, _| {
        let (call, id) = prepare(org, action).await;
        let listed = matches!(call, Call::List(_)).then_some(id);
        (super::Call::Expenses(call), listed)
    })
    .await;
}

/// A call straight to the service's gRPC API.
pub(crate) async fn grpc(
    client: &ExpenseServiceClient<Channel>,
    token: &str,
    call: Call,
) -> Result<Vec<String>, Refusal> {
    let mut client = client.clone();
    let answered = match call {
        Call::Get(r) => client.get_expense(authorized(r, token)).await.map(no_ids),
        Call::Submit(r) => client
            .submit_expense(authorized(r, token))
            .await
            .map(no_ids),
        Call::Approve(r) => client
            .approve_expense(authorized(r, token))
            .await
            .map(no_ids),
        Call::Reject(r) => client
            .reject_expense(authorized(r, token))
            .await
            .map(no_ids),
        Call::Summary(r) => client
            .get_expense_summary(authorized(r, token))
            .await
            .map(no_ids),
        Call::List(r) => client
            .list_expenses(authorized(r, token))
            .await
            .map(|listed| {
                let listed = listed.into_inner().expenses;
                listed.into_iter().map(|expense| expense.id).collect()
            }),
    };
    Ok(answered?)
}

/// A call through the gateway's HTTP/JSON front door.
pub(crate) async fn http(door: &Http, token: &str, call: Call) -> Result<Vec<String>, Refusal> {
    use http::Method;
    let (method, path, body) = match call {
        Call::Get(r) => (Method::GET, format!("/v1/expenses/{}", r.expense_id), None),
        Call::Submit(r) => (
            Method::POST,
            format!("/v1/expenses/{}:submit", r.expense_id),
            Some(door.json(&r)),
        ),
        Call::Approve(r) => (
            Method::POST,
            format!("/v1/expenses/{}:approve", r.expense_id),
            Some(door.json(&r)),
        ),
        Call::Reject(r) => (
            Method::POST,
            format!("/v1/expenses/{}:reject", r.expense_id),
            Some(door.json(&r)),
        ),
        Call::Summary(r) => (
            Method::GET,
            format!("/v1/expenseSummary?opportunity_id={}", r.opportunity_id),
            None,
        ),
        Call::List(r) => {
            let path = format!("/v1/expenses?opportunity_id={}", r.opportunity_id);
            return door.list(&path, token, "expenses").await;
        }
    };
    door.send(method, &path, token, body).await.map(no_ids)
}
