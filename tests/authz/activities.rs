//! The activities' and tasks' rows of the matrix (ActivityService, docs/api.md): an activity or
//! a task is read and changed by its owner (the rep who did it, the assignee), their managers
//! and admins; out of reach it does not exist (NOT_FOUND) and is not listed. Run by
//! `opportunities::run_actions` over the same organisation, transports and report.

use crm_platform::time::to_timestamp;
use crm_proto::crm::{
    common::v1::PageRequest,
    opportunities::v1::{self as pb, activity_service_client::ActivityServiceClient},
};
use crm_test_support::authorized;
use tonic::transport::Channel;
use uuid::Uuid;

use super::super::{Expect, Http, NOT_FOUND, OK, Org, Refusal, Report, Transport, Who, no_ids};
use super::run_table;

/// One activity or task call: the request as the RPC takes it.
#[derive(Clone, Debug)]
pub(crate) enum Call {
    Log(pb::LogActivityRequest),
    Get(pb::GetActivityRequest),
    Update(pb::UpdateActivityRequest),
    /// Answers the ids listed.
    List(pb::ListActivitiesRequest),
    CreateTask(pb::CreateTaskRequest),
    CompleteTask(pb::CompleteTaskRequest),
    Calendar(pb::GetCalendarRequest),
    IssueFeed,
    RevokeFeed,
}

/// Each action on an activity or task of the person named (logged or created by them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    LogOwn,
    Get(Who),
    Update(Who),
    List(Who),
    CreateOwnTask,
    CompleteTask(Who),
    /// The calendar of the person named (who has an activity, so the service knows them).
    Calendar(Who),
    /// The caller's own feed: no request names anyone else's.
    IssueOwnFeed,
    RevokeOwnFeed,
}

/// Another user's calendar is named by the caller: out of reach it is refused, not hidden.
const DENIED: Expect = Expect::Refused(tonic::Code::PermissionDenied);

#[rustfmt::skip]
const ACTIONS: &[(Action, Expect, Expect, Expect)] = &[
    // action                          admin  manager    rep
    (Action::LogOwn,                   OK,    OK,        OK),
    (Action::Get(Who::Ravi),           OK,    OK,        OK),
    (Action::Get(Who::Nora),           OK,    OK,        NOT_FOUND),
    (Action::Get(Who::Wes),            OK,    NOT_FOUND, NOT_FOUND),
    (Action::Update(Who::Ravi),        OK,    OK,        OK),
    (Action::Update(Who::Nora),        OK,    OK,        NOT_FOUND),
    (Action::Update(Who::Wes),         OK,    NOT_FOUND, NOT_FOUND),
    (Action::List(Who::Ravi),          OK,    OK,        OK),
    (Action::List(Who::Nora),          OK,    OK,        NOT_FOUND),
    (Action::List(Who::Wes),           OK,    NOT_FOUND, NOT_FOUND),
    (Action::CreateOwnTask,            OK,    OK,        OK),
    (Action::CompleteTask(Who::Ravi),  OK,    OK,        OK),
    (Action::CompleteTask(Who::Nora),  OK,    OK,        NOT_FOUND),
    (Action::CompleteTask(Who::Wes),   OK,    NOT_FOUND, NOT_FOUND),
    (Action::Calendar(Who::Ravi),      OK,    OK,        OK),
    (Action::Calendar(Who::Nora),      OK,    OK,        DENIED),
    (Action::Calendar(Who::Wes),       OK,    DENIED,    DENIED),
    (Action::IssueOwnFeed,             OK,    OK,        OK),
    (Action::RevokeOwnFeed,            OK,    OK,        OK),
];

fn content(subject: &str) -> pb::ActivityInput {
    pb::ActivityInput {
        kind: pb::ActivityKind::Call.into(),
        subject: subject.into(),
        starts_at: Some(to_timestamp(crm_platform::time::now())),
        ..Default::default()
    }
}

fn log_request(lead_id: &str) -> pb::LogActivityRequest {
    pb::LogActivityRequest {
        activity: Some(content("Intro call")),
        regarding: Some(pb::Regarding {
            lead_id: lead_id.into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn task_request() -> pb::CreateTaskRequest {
    // Due in two days.
    let mut due = to_timestamp(crm_platform::time::now());
    due.seconds += 2 * 86_400;
    pb::CreateTaskRequest {
        task: Some(pb::TaskInput {
            title: "Send the pilot plan".into(),
            due_at: Some(due),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// An activity `owner` logs on a fresh lead: the lead's and the activity's ids.
async fn activity_of(org: &Org, owner: Who) -> (String, String) {
    let lead_id = Uuid::now_v7().to_string();
    let mut activities = ActivityServiceClient::new(org.channel.clone());
    let logged = activities
        .log_activity(authorized(log_request(&lead_id), org.token(owner)))
        .await;
    (lead_id, logged.unwrap().into_inner().activity.unwrap().id)
}

async fn task_of(org: &Org, owner: Who) -> String {
    let mut activities = ActivityServiceClient::new(org.channel.clone());
    let created = activities
        .create_task(authorized(task_request(), org.token(owner)))
        .await;
    created.unwrap().into_inner().task.unwrap().id
}

/// The call an action makes, with a target made for this cell, and the record's id.
async fn prepare(org: &Org, action: Action) -> (Call, String) {
    match action {
        Action::LogOwn => (
            Call::Log(log_request(&Uuid::now_v7().to_string())),
            String::new(),
        ),
        Action::Get(owner) => {
            let (_, id) = activity_of(org, owner).await;
            let request = pb::GetActivityRequest {
                activity_id: id.clone(),
            };
            (Call::Get(request), id)
        }
        Action::Update(owner) => {
            let (_, id) = activity_of(org, owner).await;
            let request = pb::UpdateActivityRequest {
                activity_id: id.clone(),
                activity: Some(content("Intro call (notes added)")),
                expected_version: 1,
            };
            (Call::Update(request), id)
        }
        Action::List(owner) => {
            let (lead_id, id) = activity_of(org, owner).await;
            let request = pb::ListActivitiesRequest {
                regarding: Some(pb::Regarding {
                    lead_id,
                    ..Default::default()
                }),
                page: Some(PageRequest {
                    page_size: 500,
                    page_token: String::new(),
                }),
                ..Default::default()
            };
            (Call::List(request), id)
        }
        Action::CreateOwnTask => (Call::CreateTask(task_request()), String::new()),
        Action::CompleteTask(owner) => {
            let id = task_of(org, owner).await;
            let request = pb::CompleteTaskRequest {
                task_id: id.clone(),
                expected_version: 1,
            };
            (Call::CompleteTask(request), id)
        }
        Action::Calendar(owner) => {
            activity_of(org, owner).await;
            let request = pb::GetCalendarRequest {
                user_id: org.people[&owner].id.clone(),
                view: pb::CalendarView::Week.into(),
                ..Default::default()
            };
            (Call::Calendar(request), String::new())
        }
        Action::IssueOwnFeed => (Call::IssueFeed, String::new()),
        Action::RevokeOwnFeed => (Call::RevokeFeed, String::new()),
    }
}

pub(super) async fn run_actions<T: Transport>(org: &Org, transport: &T, report: &mut Report) {
    run_table(org, transport, report, ACTIONS, async |action, _| {
        let (call, id) = prepare(org, action).await;
        let listed = matches!(call, Call::List(_)).then_some(id);
        (super::Call::Activities(call), listed)
    })
    .await;
}

/// A call straight to the service's gRPC API.
pub(crate) async fn grpc(
    client: &ActivityServiceClient<Channel>,
    token: &str,
    call: Call,
) -> Result<Vec<String>, Refusal> {
    let mut activities = client.clone();
    let answered = match call {
        Call::Log(r) => activities
            .log_activity(authorized(r, token))
            .await
            .map(no_ids),
        Call::Get(r) => activities
            .get_activity(authorized(r, token))
            .await
            .map(no_ids),
        Call::Update(r) => activities
            .update_activity(authorized(r, token))
            .await
            .map(no_ids),
        Call::List(r) => activities
            .list_activities(authorized(r, token))
            .await
            .map(|page| {
                let listed = page.into_inner().activities;
                listed.into_iter().map(|activity| activity.id).collect()
            }),
        Call::CreateTask(r) => activities
            .create_task(authorized(r, token))
            .await
            .map(no_ids),
        Call::CompleteTask(r) => activities
            .complete_task(authorized(r, token))
            .await
            .map(no_ids),
        Call::Calendar(r) => activities
            .get_calendar(authorized(r, token))
            .await
            .map(no_ids),
        Call::IssueFeed => activities
            .issue_calendar_feed(authorized(pb::IssueCalendarFeedRequest {}, token))
            .await
            .map(no_ids),
        Call::RevokeFeed => activities
            .revoke_calendar_feed(authorized(pb::RevokeCalendarFeedRequest {}, token))
            .await
            .map(no_ids),
    };
    Ok(answered?)
}

/// A call through the gateway's HTTP/JSON front door.
pub(crate) async fn http(door: &Http, token: &str, call: Call) -> Result<Vec<String>, Refusal> {
    use http::Method;
    let (method, path, body) = match call {
        Call::Log(r) => (
            Method::POST,
            "/v1/activities".to_owned(),
            Some(door.json(&r)),
        ),
        Call::Get(r) => (
            Method::GET,
            format!("/v1/activities/{}", r.activity_id),
            None,
        ),
        Call::Update(r) => (
            Method::PATCH,
            format!("/v1/activities/{}", r.activity_id),
            Some(door.json(&r)),
        ),
        Call::List(r) => {
            let lead_id = r
                .regarding
                .map(|regarding| regarding.lead_id)
                .unwrap_or_default();
            let path = format!("/v1/activities?regarding.lead_id={lead_id}&page.page_size=500");
            return door.list(&path, token, "activities").await;
        }
        Call::CreateTask(r) => (Method::POST, "/v1/tasks".to_owned(), Some(door.json(&r))),
        Call::CompleteTask(r) => (
            Method::POST,
            format!("/v1/tasks/{}:complete", r.task_id),
            Some(door.json(&r)),
        ),
        Call::Calendar(r) => (
            Method::GET,
            format!("/v1/calendar?user_id={}&view=CALENDAR_VIEW_WEEK", r.user_id),
            None,
        ),
        Call::IssueFeed => (
            Method::POST,
            "/v1/calendarFeed:issue".to_owned(),
            Some(door.json(&pb::IssueCalendarFeedRequest {})),
        ),
        Call::RevokeFeed => (
            Method::POST,
            "/v1/calendarFeed:revoke".to_owned(),
            Some(door.json(&pb::RevokeCalendarFeedRequest {})),
        ),
    };
    door.send(method, &path, token, body).await.map(no_ids)
}
