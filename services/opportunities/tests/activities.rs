//! Activities and tasks (`ActivityService`): Ravi logs calls and meetings on his Contoso deal
//! and on a lead, rewrites one at its version, his manager reads and logs for him while another
//! rep sees nothing; tasks with reminders are created, completed, reopened and listed as open,
//! completed and overdue — over a real tonic client against real PostgreSQL and NATS.

mod support;

use chrono::{Duration, Utc};
use crm_platform::time::to_timestamp;
use crm_proto::crm::{common::v1::PageRequest, opportunities::v1 as pb};
use crm_test_support::user;
use prost::Message;
use support::{log::*, *};
use tonic::{Code, Status};
use uuid::Uuid;

/// Ravi logs two calls and a meeting on his deal and a call on a lead: the deal's listing is
/// newest first and pages by keyset, the deal's last activity follows the latest one (never
/// back), a retried log returns the same activity, a rewrite at a stale version is ABORTED and
/// the event carries the full state at its version.
#[tokio::test]
async fn a_rep_logs_calls_and_meetings_lists_them_newest_first_and_rewrites_one_at_its_version() {
    let log = Log::open().await;
    let ravi = log.ravi.clone();
    let created_at = log.last_activity_at().await;
    let first = log.log_call(&ravi, "Discovery call", at(2, 9)).await;
    let second = log.log_call(&ravi, "Pricing call", at(4, 9)).await;
    assert_eq!(log.last_activity_at().await, created_at.max(at(4, 9)));
    let meeting = pb::LogActivityRequest {
        activity: Some(pb::ActivityInput {
            kind: pb::ActivityKind::Meeting.into(),
            subject: "Site review".into(),
            ends_at: Some(to_timestamp(at(3, 11))),
            ..call("Site review", at(3, 10))
        }),
        regarding: on_deal(&log.deal_id),
        activity_id: Uuid::now_v7().to_string(),
        ..Default::default()
    };
    let logged = log.log(&ravi, meeting.clone()).await.unwrap();
    assert_eq!(log.log(&ravi, meeting).await.unwrap(), logged);
    let lead_id = Uuid::now_v7().to_string();
    let on_lead = pb::LogActivityRequest {
        activity: Some(call("Lead intro", at(1, 8))),
        regarding: Some(pb::Regarding {
            lead_id: lead_id.clone(),
            ..Default::default()
        }),
        ..Default::default()
    };
    log.log(&ravi, on_lead).await.unwrap();

    let of_deal = pb::ListActivitiesRequest {
        regarding: on_deal(&log.deal_id),
        ..Default::default()
    };
    assert_eq!(
        log.list(&ravi, of_deal.clone()).await,
        ["Pricing call", "Site review", "Discovery call"]
    );
    let first_page = pb::ListActivitiesRequest {
        page: Some(PageRequest {
            page_size: 2,
            page_token: String::new(),
        }),
        ..of_deal.clone()
    };
    let request = log.harness.request(&ravi, first_page.clone());
    let page = log
        .harness
        .activities
        .clone()
        .list_activities(request)
        .await;
    let token = page.unwrap().into_inner().page.unwrap().next_page_token;
    let rest = pb::ListActivitiesRequest {
        page: Some(PageRequest {
            page_size: 2,
            page_token: token,
        }),
        ..of_deal
    };
    assert_eq!(log.list(&ravi, rest).await, ["Discovery call"]);
    let meetings = pb::ListActivitiesRequest {
        kind: pb::ActivityKind::Meeting.into(),
        ..Default::default()
    };
    assert_eq!(log.list(&ravi, meetings).await, ["Site review"]);
    let in_range = pb::ListActivitiesRequest {
        starts_from: Some(to_timestamp(at(1, 0))),
        starts_before: Some(to_timestamp(at(3, 0))),
        ..Default::default()
    };
    assert_eq!(
        log.list(&ravi, in_range).await,
        ["Discovery call", "Lead intro"]
    );

    let rewrite = |version: u64| pb::UpdateActivityRequest {
        activity_id: first.id.clone(),
        activity: Some(call("Discovery call (notes fixed)", at(2, 9))),
        expected_version: version,
    };
    let request = log.harness.request(&ravi, rewrite(1));
    let updated = log
        .harness
        .activities
        .clone()
        .update_activity(request)
        .await;
    let updated = updated.unwrap().into_inner().activity.unwrap();
    assert_eq!(
        (updated.version, updated.subject.as_str()),
        (2, "Discovery call (notes fixed)")
    );
    let request = log.harness.request(&ravi, rewrite(1));
    let stale = log
        .harness
        .activities
        .clone()
        .update_activity(request)
        .await;
    assert_eq!(stale.unwrap_err().code(), Code::Aborted);
    // Backdated activities never move the deal's last activity back.
    assert_eq!(log.last_activity_at().await, created_at.max(at(4, 9)));

    let payloads: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT payload FROM outbox WHERE aggregate_type = 'activity' AND aggregate_id = $1 \
         AND event_type = 'crm.opportunities.v1.ActivityLogged' ORDER BY aggregate_version",
    )
    .bind(&first.id)
    .fetch_all(log.harness.app.pool("opportunities"))
    .await
    .unwrap();
    let events: Vec<pb::ActivityLogged> = payloads
        .iter()
        .map(|payload| pb::ActivityLogged::decode(payload.as_slice()).unwrap())
        .collect();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].activity.as_ref(), Some(&first));
    assert_eq!(events[1].activity.as_ref(), Some(&updated));
    assert_ne!(second.id, first.id);
}

/// What the schema cannot say is a 422 refusal naming the field: a meeting without an end, an
/// end before the start, two regarded records, none; the schema's own rules are INVALID_ARGUMENT.
#[tokio::test]
async fn an_activity_regards_one_record_and_a_meeting_has_an_end_after_its_start() {
    let log = Log::open().await;
    let ravi = log.ravi.clone();
    let refused = |status: Status, field: &str| {
        assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
        assert_eq!(fields(&status), [field]);
    };
    let meeting = pb::ActivityInput {
        kind: pb::ActivityKind::Meeting.into(),
        ..call("Site review", at(3, 10))
    };
    let request = pb::LogActivityRequest {
        activity: Some(meeting.clone()),
        regarding: on_deal(&log.deal_id),
        ..Default::default()
    };
    refused(
        log.log(&ravi, request.clone()).await.unwrap_err(),
        "activity.ends_at",
    );
    let backwards = pb::ActivityInput {
        ends_at: Some(to_timestamp(at(3, 9))),
        ..meeting
    };
    let request = pb::LogActivityRequest {
        activity: Some(backwards),
        ..request
    };
    refused(
        log.log(&ravi, request).await.unwrap_err(),
        "activity.ends_at",
    );
    let two = pb::LogActivityRequest {
        activity: Some(call("Call", at(3, 9))),
        regarding: Some(pb::Regarding {
            opportunity_id: log.deal_id.clone(),
            lead_id: Uuid::now_v7().to_string(),
            ..Default::default()
        }),
        ..Default::default()
    };
    refused(log.log(&ravi, two).await.unwrap_err(), "regarding");
    let none = pb::LogActivityRequest {
        activity: Some(call("Call", at(3, 9))),
        regarding: Some(pb::Regarding::default()),
        ..Default::default()
    };
    refused(log.log(&ravi, none).await.unwrap_err(), "regarding");
    let unspecified = pb::LogActivityRequest {
        activity: Some(pb::ActivityInput {
            kind: 0,
            subject: String::new(),
            ..call("Call", at(3, 9))
        }),
        regarding: on_deal(&log.deal_id),
        ..Default::default()
    };
    let status = log.log(&ravi, unspecified).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(fields(&status), ["activity.kind", "activity.subject"]);
}

/// Ravi's activities are read by him and his manager Mei (who logs one for him), by no other
/// rep: NOT_FOUND, an empty listing, and a deal they cannot see is refused as a reference.
/// Ravi cannot log for Mei.
#[tokio::test]
async fn a_reps_activities_are_read_by_the_rep_and_their_manager_and_by_no_other_rep() {
    let log = Log::open().await;
    let (ravi, mei) = (log.ravi.clone(), log.mei.clone());
    let chen = user("rep", EAST_1);
    let call = log.log_call(&ravi, "Discovery call", at(2, 9)).await;
    assert_eq!(log.get(&mei, &call.id).await.unwrap(), call);
    assert_eq!(
        log.get(&chen, &call.id).await.unwrap_err().code(),
        Code::NotFound
    );
    assert!(log.list(&chen, Default::default()).await.is_empty());
    let for_ravi = pb::LogActivityRequest {
        activity: Some(super_call("Coaching note")),
        regarding: on_deal(&log.deal_id),
        owner_id: ravi.user_id.to_string(),
        ..Default::default()
    };
    let logged = log.log(&mei, for_ravi).await.unwrap();
    assert_eq!(logged.owner_id, ravi.user_id.to_string());
    assert_eq!(logged.created_by, mei.user_id.to_string());
    assert_eq!(
        log.list(&ravi, Default::default()).await,
        ["Coaching note", "Discovery call"]
    );
    let on_ravis_deal = pb::LogActivityRequest {
        activity: Some(super_call("Sneaky call")),
        regarding: on_deal(&log.deal_id),
        ..Default::default()
    };
    let status = log.log(&chen, on_ravis_deal).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(fields(&status), ["regarding.opportunity_id"]);
    let for_mei = pb::LogActivityRequest {
        activity: Some(super_call("Call")),
        regarding: on_deal(&log.deal_id),
        owner_id: mei.user_id.to_string(),
        ..Default::default()
    };
    let status = log.log(&ravi, for_mei).await.unwrap_err();
    assert_ne!(status.code(), Code::Ok);
    let update = pb::UpdateActivityRequest {
        activity_id: call.id.clone(),
        activity: Some(super_call("Rewritten")),
        expected_version: 0,
    };
    let request = log.harness.request(&chen, update);
    let status = log
        .harness
        .activities
        .clone()
        .update_activity(request)
        .await;
    assert_eq!(status.unwrap_err().code(), Code::NotFound);
}

fn super_call(subject: &str) -> pb::ActivityInput {
    call(subject, at(5, 9))
}

/// Tasks: a reminder after the due time is refused; created for Ravi by Mei, listed open and
/// overdue, completed (once: event task_completed), listed completed, reopened; a retried create
/// returns the same task; another rep sees none of it.
#[tokio::test]
async fn tasks_are_created_completed_reopened_and_listed_open_completed_and_overdue() {
    let log = Log::open().await;
    let (ravi, mei) = (log.ravi.clone(), log.mei.clone());
    let chen = user("rep", EAST_1);
    let now = Utc::now();
    let late = pb::CreateTaskRequest {
        task: Some(task_input(
            "Send the pilot plan",
            now,
            Some(now + Duration::hours(1)),
        )),
        ..Default::default()
    };
    let status = log.create_task(&ravi, late).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(fields(&status), ["task.remind_at"]);

    let overdue = pb::CreateTaskRequest {
        task: Some(task_input(
            "Chase the signature",
            now - Duration::days(1),
            None,
        )),
        regarding: on_deal(&log.deal_id),
        task_id: Uuid::now_v7().to_string(),
        ..Default::default()
    };
    let chase = log.create_task(&ravi, overdue.clone()).await.unwrap();
    assert_eq!(log.create_task(&ravi, overdue).await.unwrap(), chase);
    let plan = pb::CreateTaskRequest {
        task: Some(task_input(
            "Send the pilot plan",
            now + Duration::days(2),
            Some(now + Duration::days(1)),
        )),
        assignee_id: ravi.user_id.to_string(),
        ..Default::default()
    };
    let plan = log.create_task(&mei, plan).await.unwrap();
    assert_eq!(plan.assignee_id, ravi.user_id.to_string());
    assert_eq!(
        log.tasks(&ravi, pb::TaskState::Open).await,
        ["Chase the signature", "Send the pilot plan"]
    );
    assert_eq!(
        log.tasks(&ravi, pb::TaskState::Overdue).await,
        ["Chase the signature"]
    );
    assert!(
        log.tasks(&chen, pb::TaskState::Unspecified)
            .await
            .is_empty()
    );

    let complete = pb::CompleteTaskRequest {
        task_id: chase.id.clone(),
        expected_version: 1,
    };
    let request = log.harness.request(&ravi, complete.clone());
    let done = log.harness.activities.clone().complete_task(request).await;
    let done = done.unwrap().into_inner().task.unwrap();
    assert!(done.completed);
    assert_eq!(
        (done.version, done.completed_by.as_str()),
        (2, ravi.user_id.to_string().as_str())
    );
    let again = pb::CompleteTaskRequest {
        expected_version: 0,
        ..complete
    };
    let request = log.harness.request(&ravi, again);
    let same = log.harness.activities.clone().complete_task(request).await;
    assert_eq!(same.unwrap().into_inner().task.unwrap(), done);
    assert_eq!(
        log.tasks(&ravi, pb::TaskState::Completed).await,
        ["Chase the signature"]
    );
    assert!(log.tasks(&ravi, pb::TaskState::Overdue).await.is_empty());
    let completions: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE aggregate_type = 'task' AND aggregate_id = $1 \
         AND event_type = 'crm.opportunities.v1.TaskCompleted'",
    )
    .bind(&chase.id)
    .fetch_one(log.harness.app.pool("opportunities"))
    .await
    .unwrap();
    assert_eq!(completions, 1);

    let reopen = pb::ReopenTaskRequest {
        task_id: chase.id.clone(),
        expected_version: 2,
    };
    let request = log.harness.request(&mei, reopen);
    let reopened = log.harness.activities.clone().reopen_task(request).await;
    let reopened = reopened.unwrap().into_inner().task.unwrap();
    assert!(!reopened.completed);
    assert_eq!(reopened.version, 3);
    let get = pb::GetTaskRequest {
        task_id: chase.id.clone(),
    };
    let request = log.harness.request(&chen, get);
    let hidden = log.harness.activities.clone().get_task(request).await;
    assert_eq!(hidden.unwrap_err().code(), Code::NotFound);

    let update = pb::UpdateTaskRequest {
        task_id: plan.id.clone(),
        task: Some(task_input(
            "Send the pilot plan v2",
            now + Duration::days(3),
            None,
        )),
        expected_version: 1,
    };
    let request = log.harness.request(&ravi, update);
    let updated = log.harness.activities.clone().update_task(request).await;
    let updated = updated.unwrap().into_inner().task.unwrap();
    assert_eq!(
        (updated.title.as_str(), updated.version),
        ("Send the pilot plan v2", 2)
    );
    assert_eq!(updated.remind_at, None);
}
