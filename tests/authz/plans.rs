//! The deal plans' rows of the matrix (DealPlanService, docs/api.md): a plan goes with its
//! deal — whoever reads the deal reads the plan (and finds it in ListDealPlans), whoever may
//! change the deal (its owner, their managers, admins) writes it; out of reach it does not
//! exist (NOT_FOUND). Run by `opportunities::run_actions` over the same organisation,
//! transports and report.

use crm_proto::crm::opportunities::v1::{
    self as pb, deal_plan_service_client::DealPlanServiceClient,
};
use crm_test_support::authorized;
use tonic::transport::Channel;

use super::super::{Expect, Http, NOT_FOUND, OK, Org, Refusal, Report, Transport, Who, no_ids};
use super::{open_deal, query, run_table};

/// One deal plan call: the request as the RPC takes it.
#[derive(Clone, Debug)]
pub(crate) enum Call {
    Create(pb::CreateDealPlanRequest),
    Get(pb::GetDealPlanRequest),
    /// Answers the plan ids listed.
    List(pb::ListDealPlansRequest),
    AddMilestone(pb::AddMilestoneRequest),
    UpdateMilestone(pb::UpdateMilestoneRequest),
    CompleteMilestone(pb::CompleteMilestoneRequest),
    ReopenMilestone(pb::ReopenMilestoneRequest),
    RemoveMilestone(pb::RemoveMilestoneRequest),
    AddTask(pb::AddPlanTaskRequest),
    UpdateTask(pb::UpdatePlanTaskRequest),
    CompleteTask(pb::CompletePlanTaskRequest),
    RemoveTask(pb::RemovePlanTaskRequest),
}

/// Each RPC on the plan of a fresh open deal of the person named (the plan, its milestone and
/// its task made by them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Create(Who),
    Get(Who),
    List(Who),
    AddMilestone(Who),
    UpdateMilestone(Who),
    CompleteMilestone(Who),
    ReopenMilestone(Who),
    RemoveMilestone(Who),
    AddTask(Who),
    UpdateTask(Who),
    CompleteTask(Who),
    RemoveTask(Who),
}

/// The same reach for every RPC, as the deal's: Ravi's deal is the rep's own and in the
/// manager's subtree, Nora's is the rep's teammate's (in the manager's subtree), Wes's is out
/// of the manager's reach.
#[rustfmt::skip]
const ACTIONS: &[(Action, Expect, Expect, Expect)] = &[
    // action                               admin  manager    rep
    (Action::Create(Who::Ravi),             OK,    OK,        OK),
    (Action::Create(Who::Nora),             OK,    OK,        NOT_FOUND),
    (Action::Create(Who::Wes),              OK,    NOT_FOUND, NOT_FOUND),
    (Action::Get(Who::Ravi),                OK,    OK,        OK),
    (Action::Get(Who::Nora),                OK,    OK,        NOT_FOUND),
    (Action::Get(Who::Wes),                 OK,    NOT_FOUND, NOT_FOUND),
    (Action::List(Who::Ravi),               OK,    OK,        OK),
    (Action::List(Who::Nora),               OK,    OK,        NOT_FOUND),
    (Action::List(Who::Wes),                OK,    NOT_FOUND, NOT_FOUND),
    (Action::AddMilestone(Who::Ravi),       OK,    OK,        OK),
    (Action::AddMilestone(Who::Nora),       OK,    OK,        NOT_FOUND),
    (Action::AddMilestone(Who::Wes),        OK,    NOT_FOUND, NOT_FOUND),
    (Action::UpdateMilestone(Who::Ravi),    OK,    OK,        OK),
    (Action::UpdateMilestone(Who::Nora),    OK,    OK,        NOT_FOUND),
    (Action::UpdateMilestone(Who::Wes),     OK,    NOT_FOUND, NOT_FOUND),
    (Action::CompleteMilestone(Who::Ravi),  OK,    OK,        OK),
    (Action::CompleteMilestone(Who::Nora),  OK,    OK,        NOT_FOUND),
    (Action::CompleteMilestone(Who::Wes),   OK,    NOT_FOUND, NOT_FOUND),
    (Action::ReopenMilestone(Who::Ravi),    OK,    OK,        OK),
    (Action::ReopenMilestone(Who::Nora),    OK,    OK,        NOT_FOUND),
    (Action::ReopenMilestone(Who::Wes),     OK,    NOT_FOUND, NOT_FOUND),
    (Action::RemoveMilestone(Who::Ravi),    OK,    OK,        OK),
    (Action::RemoveMilestone(Who::Nora),    OK,    OK,        NOT_FOUND),
    (Action::RemoveMilestone(Who::Wes),     OK,    NOT_FOUND, NOT_FOUND),
    (Action::AddTask(Who::Ravi),            OK,    OK,        OK),
    (Action::AddTask(Who::Nora),            OK,    OK,        NOT_FOUND),
    (Action::AddTask(Who::Wes),             OK,    NOT_FOUND, NOT_FOUND),
    (Action::UpdateTask(Who::Ravi),         OK,    OK,        OK),
    (Action::UpdateTask(Who::Nora),         OK,    OK,        NOT_FOUND),
    (Action::UpdateTask(Who::Wes),          OK,    NOT_FOUND, NOT_FOUND),
    (Action::CompleteTask(Who::Ravi),       OK,    OK,        OK),
    (Action::CompleteTask(Who::Nora),       OK,    OK,        NOT_FOUND),
    (Action::CompleteTask(Who::Wes),        OK,    NOT_FOUND, NOT_FOUND),
    (Action::RemoveTask(Who::Ravi),         OK,    OK,        OK),
    (Action::RemoveTask(Who::Nora),         OK,    OK,        NOT_FOUND),
    (Action::RemoveTask(Who::Wes),          OK,    NOT_FOUND, NOT_FOUND),
];

fn plans(org: &Org) -> DealPlanServiceClient<Channel> {
    DealPlanServiceClient::new(org.channel.clone())
}

/// Due long ago: the listed plans slip, so `slipping_only` keeps the listing short.
const LATE: &str = "2026-01-15";
const AHEAD: &str = "2027-06-30";

fn milestone(due_on: &str) -> Option<pb::MilestoneInput> {
    Some(pb::MilestoneInput {
        name: "Technical win".into(),
        due_on: due_on.into(),
        ..Default::default()
    })
}

fn task(title: &str) -> Option<pb::PlanTaskInput> {
    Some(pb::PlanTaskInput {
        title: title.into(),
        due_on: AHEAD.into(),
        ..Default::default()
    })
}

/// What the owner puts in the plan of their fresh deal before the cell acts on it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Items {
    None,
    Milestone {
        due_on: &'static str,
        completed: bool,
    },
    Task,
}

/// A fresh open deal of `owner` with a plan holding `items`: the deal's id, the plan's, and
/// the item's (empty without one).
async fn plan_of(org: &Org, owner: Who, items: Items) -> (String, String, String) {
    let deal_id = open_deal(org, owner).await;
    let token = org.token(owner);
    let mut client = plans(org);
    let create = pb::CreateDealPlanRequest {
        opportunity_id: deal_id.clone(),
        objective: "Signed by the board before year end".into(),
    };
    let created = client.create_deal_plan(authorized(create, token)).await;
    let created = created.unwrap_or_else(|status| panic!("{owner:?} plans their deal: {status}"));
    let plan_id = created.into_inner().plan.unwrap().id;
    let item_id = match items {
        Items::None => String::new(),
        Items::Milestone { due_on, completed } => {
            let add = pb::AddMilestoneRequest {
                opportunity_id: deal_id.clone(),
                milestone: milestone(due_on),
                expected_version: 0,
            };
            let added = client.add_milestone(authorized(add, token)).await;
            let id = added.unwrap().into_inner().milestone_id;
            if completed {
                let complete = complete_milestone(&deal_id, &id);
                let answer = client.complete_milestone(authorized(complete, token)).await;
                answer.unwrap_or_else(|status| panic!("{owner:?} completes it: {status}"));
            }
            id
        }
        Items::Task => {
            let add = pb::AddPlanTaskRequest {
                opportunity_id: deal_id.clone(),
                task: task("Book the pilot"),
                expected_version: 0,
            };
            let added = client.add_plan_task(authorized(add, token)).await;
            added.unwrap().into_inner().task_id
        }
    };
    (deal_id, plan_id, item_id)
}

fn complete_milestone(deal_id: &str, milestone_id: &str) -> pb::CompleteMilestoneRequest {
    pb::CompleteMilestoneRequest {
        opportunity_id: deal_id.into(),
        milestone_id: milestone_id.into(),
        ..Default::default()
    }
}

const OPEN_MILESTONE: Items = Items::Milestone {
    due_on: AHEAD,
    completed: false,
};

/// The call an action makes, with a target made for this cell, and for a listing the plan's
/// id.
async fn prepare(org: &Org, action: Action) -> (Call, Option<String>) {
    let call = match action {
        Action::Create(owner) => Call::Create(pb::CreateDealPlanRequest {
            opportunity_id: open_deal(org, owner).await,
            objective: "Live in all plants by March".into(),
        }),
        Action::Get(owner) => {
            let (opportunity_id, _, _) = plan_of(org, owner, Items::None).await;
            Call::Get(pb::GetDealPlanRequest {
                opportunity_id,
                as_of: String::new(),
            })
        }
        Action::List(owner) => {
            let late = Items::Milestone {
                due_on: LATE,
                completed: false,
            };
            let (_, plan_id, _) = plan_of(org, owner, late).await;
            let list = pb::ListDealPlansRequest {
                slipping_only: true,
                limit: 200,
                ..Default::default()
            };
            return (Call::List(list), Some(plan_id));
        }
        Action::AddMilestone(owner) => {
            let (opportunity_id, _, _) = plan_of(org, owner, Items::None).await;
            Call::AddMilestone(pb::AddMilestoneRequest {
                opportunity_id,
                milestone: milestone(AHEAD),
                expected_version: 0,
            })
        }
        Action::UpdateMilestone(owner) => {
            let (opportunity_id, _, milestone_id) = plan_of(org, owner, OPEN_MILESTONE).await;
            Call::UpdateMilestone(pb::UpdateMilestoneRequest {
                opportunity_id,
                milestone_id,
                milestone: milestone("2027-07-31"),
                expected_version: 0,
            })
        }
        Action::CompleteMilestone(owner) => {
            let (deal_id, _, milestone_id) = plan_of(org, owner, OPEN_MILESTONE).await;
            Call::CompleteMilestone(complete_milestone(&deal_id, &milestone_id))
        }
        Action::ReopenMilestone(owner) => {
            let reached = Items::Milestone {
                due_on: AHEAD,
                completed: true,
            };
            let (opportunity_id, _, milestone_id) = plan_of(org, owner, reached).await;
            Call::ReopenMilestone(pb::ReopenMilestoneRequest {
                opportunity_id,
                milestone_id,
                expected_version: 0,
            })
        }
        Action::RemoveMilestone(owner) => {
            let (opportunity_id, _, milestone_id) = plan_of(org, owner, OPEN_MILESTONE).await;
            Call::RemoveMilestone(pb::RemoveMilestoneRequest {
                opportunity_id,
                milestone_id,
                expected_version: 0,
            })
        }
        Action::AddTask(owner) => {
            let (opportunity_id, _, _) = plan_of(org, owner, Items::None).await;
            Call::AddTask(pb::AddPlanTaskRequest {
                opportunity_id,
                task: task("Send the reference list"),
                expected_version: 0,
            })
        }
        Action::UpdateTask(owner) => {
            let (opportunity_id, _, task_id) = plan_of(org, owner, Items::Task).await;
            Call::UpdateTask(pb::UpdatePlanTaskRequest {
                opportunity_id,
                task_id,
                task: task("Book the pilot for two plants"),
                expected_version: 0,
            })
        }
        Action::CompleteTask(owner) => {
            let (opportunity_id, _, task_id) = plan_of(org, owner, Items::Task).await;
            Call::CompleteTask(pb::CompletePlanTaskRequest {
                opportunity_id,
                task_id,
                done: true,
                ..Default::default()
            })
        }
        Action::RemoveTask(owner) => {
            let (opportunity_id, _, task_id) = plan_of(org, owner, Items::Task).await;
            Call::RemoveTask(pb::RemovePlanTaskRequest {
                opportunity_id,
                task_id,
                expected_version: 0,
            })
        }
    };
    (call, None)
}

pub(super) async fn run_actions<T: Transport>(org: &Org, transport: &T, report: &mut Report) {
    run_table(org, transport, report, ACTIONS, async |action, _| {
        let (call, listed) = prepare(org, action).await;
        (super::Call::Plans(call), listed)
    })
    .await;
}

/// A call straight to the service's gRPC API.
pub(crate) async fn grpc(
    client: &DealPlanServiceClient<Channel>,
    token: &str,
    call: Call,
) -> Result<Vec<String>, Refusal> {
    let mut client = client.clone();
    let answered = match call {
        Call::Create(r) => client
            .create_deal_plan(authorized(r, token))
            .await
            .map(no_ids),
        Call::Get(r) => client.get_deal_plan(authorized(r, token)).await.map(no_ids),
        Call::List(r) => client
            .list_deal_plans(authorized(r, token))
            .await
            .map(|listed| {
                let listed = listed.into_inner().plans;
                listed.into_iter().map(|plan| plan.id).collect()
            }),
        Call::AddMilestone(r) => client.add_milestone(authorized(r, token)).await.map(no_ids),
        Call::UpdateMilestone(r) => client
            .update_milestone(authorized(r, token))
            .await
            .map(no_ids),
        Call::CompleteMilestone(r) => client
            .complete_milestone(authorized(r, token))
            .await
            .map(no_ids),
        Call::ReopenMilestone(r) => client
            .reopen_milestone(authorized(r, token))
            .await
            .map(no_ids),
        Call::RemoveMilestone(r) => client
            .remove_milestone(authorized(r, token))
            .await
            .map(no_ids),
        Call::AddTask(r) => client.add_plan_task(authorized(r, token)).await.map(no_ids),
        Call::UpdateTask(r) => client
            .update_plan_task(authorized(r, token))
            .await
            .map(no_ids),
        Call::CompleteTask(r) => client
            .complete_plan_task(authorized(r, token))
            .await
            .map(no_ids),
        Call::RemoveTask(r) => client
            .remove_plan_task(authorized(r, token))
            .await
            .map(no_ids),
    };
    Ok(answered?)
}

/// A call through the gateway's HTTP/JSON front door.
pub(crate) async fn http(door: &Http, token: &str, call: Call) -> Result<Vec<String>, Refusal> {
    use http::Method;
    let plan = |deal_id: &str, rest: &str| format!("/v1/opportunities/{deal_id}/plan{rest}");
    let milestone =
        |deal_id: &str, id: &str, verb: &str| plan(deal_id, &format!("/milestones/{id}{verb}"));
    let task = |deal_id: &str, id: &str, verb: &str| plan(deal_id, &format!("/tasks/{id}{verb}"));
    let (method, path, body) = match call {
        Call::Create(r) => (
            Method::POST,
            plan(&r.opportunity_id, ""),
            Some(door.json(&r)),
        ),
        Call::Get(r) => (Method::GET, plan(&r.opportunity_id, ""), None),
        Call::List(r) => {
            let limit = r.limit.to_string();
            let fields = [
                ("slipping_only", if r.slipping_only { "true" } else { "" }),
                ("limit", limit.as_str()),
            ];
            let path = format!("/v1/dealPlans{}", query(&fields));
            return door.list(&path, token, "plans").await;
        }
        Call::AddMilestone(r) => (
            Method::POST,
            plan(&r.opportunity_id, "/milestones"),
            Some(door.json(&r)),
        ),
        Call::UpdateMilestone(r) => (
            Method::PATCH,
            milestone(&r.opportunity_id, &r.milestone_id, ""),
            Some(door.json(&r)),
        ),
        Call::CompleteMilestone(r) => (
            Method::POST,
            milestone(&r.opportunity_id, &r.milestone_id, ":complete"),
            Some(door.json(&r)),
        ),
        Call::ReopenMilestone(r) => (
            Method::POST,
            milestone(&r.opportunity_id, &r.milestone_id, ":reopen"),
            Some(door.json(&r)),
        ),
        Call::RemoveMilestone(r) => (
            Method::POST,
            milestone(&r.opportunity_id, &r.milestone_id, ":remove"),
            Some(door.json(&r)),
        ),
        Call::AddTask(r) => (
            Method::POST,
            plan(&r.opportunity_id, "/tasks"),
            Some(door.json(&r)),
        ),
        Call::UpdateTask(r) => (
            Method::PATCH,
            task(&r.opportunity_id, &r.task_id, ""),
            Some(door.json(&r)),
        ),
        Call::CompleteTask(r) => (
            Method::POST,
            task(&r.opportunity_id, &r.task_id, ":complete"),
            Some(door.json(&r)),
        ),
        Call::RemoveTask(r) => (
            Method::POST,
            task(&r.opportunity_id, &r.task_id, ":remove"),
            Some(door.json(&r)),
        ),
    };
    door.send(method, &path, token, body).await.map(no_ids)
}
