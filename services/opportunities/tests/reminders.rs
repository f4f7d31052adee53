//! The activities' scheduled jobs, run with a chosen clock as the timers run them: task
//! reminders announced once each even when two runs race, again after the reminder time moves;
//! a deal that goes stale announced once per stale episode, the episode ended by an activity —
//! over real PostgreSQL and the outbox.

mod support;

use chrono::{Duration, Utc};
use crm_platform::time::to_timestamp;
use crm_proto::crm::opportunities::v1 as pb;
use crm_proto::crm::opportunities::v1::pipeline_service_client::PipelineServiceClient;
use prost::Message;
use support::{log::*, *};

async fn events<E: Message + Default>(log: &Log, event_type: &str) -> Vec<E> {
    let payloads: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT payload FROM outbox WHERE event_type = $1 ORDER BY aggregate_version, id",
    )
    .bind(event_type)
    .fetch_all(log.harness.app.pool("opportunities"))
    .await
    .unwrap();
    payloads
        .iter()
        .map(|payload| E::decode(payload.as_slice()).unwrap())
        .collect()
}

/// Two due reminders, one not yet due and one of a completed task: two racing runs send the two
/// once between them, a later run none; moving a reminder's time sends it again.
#[tokio::test]
async fn each_due_reminder_is_announced_once_even_when_two_runs_race() {
    let log = Log::open().await;
    let ravi = log.ravi.clone();
    let now = Utc::now();
    let create = |title: &str, remind: Duration| pb::CreateTaskRequest {
        task: Some(task_input(
            title,
            now + Duration::days(1),
            Some(now + remind),
        )),
        regarding: on_deal(&log.deal_id),
        ..Default::default()
    };
    let chase = log
        .create_task(&ravi, create("Chase the signature", -Duration::hours(1)))
        .await
        .unwrap();
    log.create_task(&ravi, create("Send the pilot plan", -Duration::minutes(5)))
        .await
        .unwrap();
    log.create_task(&ravi, create("Book the site visit", Duration::hours(2)))
        .await
        .unwrap();
    let done = log
        .create_task(&ravi, create("Old follow-up", -Duration::hours(3)))
        .await
        .unwrap();
    let complete = pb::CompleteTaskRequest {
        task_id: done.id.clone(),
        expected_version: 0,
    };
    let request = log.harness.request(&ravi, complete);
    log.harness
        .activities
        .clone()
        .complete_task(request)
        .await
        .unwrap();

    let context = log.harness.app.services.context("opportunities").unwrap();
    let (first, second) = tokio::join!(
        crm_opportunities::run_job(context, crm_opportunities::TASK_REMINDERS, now),
        crm_opportunities::run_job(context, crm_opportunities::TASK_REMINDERS, now),
    );
    assert_eq!(first.unwrap() + second.unwrap(), 2);
    assert_eq!(
        crm_opportunities::run_job(context, crm_opportunities::TASK_REMINDERS, now)
            .await
            .unwrap(),
        0
    );
    let sent: Vec<pb::TaskReminderDue> = events(&log, "crm.opportunities.v1.TaskReminderDue").await;
    let mut titles: Vec<String> = sent
        .iter()
        .map(|event| event.task.clone().unwrap().title)
        .collect();
    titles.sort();
    assert_eq!(titles, ["Chase the signature", "Send the pilot plan"]);
    let task = sent[0].task.clone().unwrap();
    assert_eq!(task.assignee_id, ravi.user_id.to_string());
    assert_eq!(task.regarding.unwrap().opportunity_id, log.deal_id);
    assert!(task.reminder_sent_at.is_some() && task.due_at.is_some());

    let moved = pb::UpdateTaskRequest {
        task_id: chase.id.clone(),
        task: Some(task_input(
            "Chase the signature",
            now + Duration::days(1),
            Some(now - Duration::minutes(1)),
        )),
        expected_version: 0,
    };
    let request = log.harness.request(&ravi, moved);
    let moved = log.harness.activities.clone().update_task(request).await;
    assert_eq!(
        moved.unwrap().into_inner().task.unwrap().reminder_sent_at,
        None
    );
    assert_eq!(
        crm_opportunities::run_job(context, crm_opportunities::TASK_REMINDERS, now)
            .await
            .unwrap(),
        1
    );
}

/// Ravi's deal (default pipeline: stale after 14 days) is announced stale once after 15 days
/// without activity; a call on day 16 ends the episode, so day 20 announces nothing and day 31
/// (15 days after the call) starts a second episode.
#[tokio::test]
async fn a_deal_without_activity_is_announced_stale_once_per_episode() {
    let log = Log::open().await;
    let ravi = log.ravi.clone();
    let created = log.last_activity_at().await;
    let context = log.harness.app.services.context("opportunities").unwrap();
    let day = |days: i64| created + Duration::days(days);
    assert_eq!(
        crm_opportunities::run_job(context, crm_opportunities::STALE_DEALS, day(13))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        crm_opportunities::run_job(context, crm_opportunities::STALE_DEALS, day(15))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        crm_opportunities::run_job(context, crm_opportunities::STALE_DEALS, day(16))
            .await
            .unwrap(),
        0
    );
    let stale: Vec<pb::OpportunityWentStale> =
        events(&log, "crm.opportunities.v1.OpportunityWentStale").await;
    assert_eq!(stale.len(), 1);
    assert_eq!(stale[0].opportunity_id, log.deal_id);
    assert_eq!(stale[0].owner_id, ravi.user_id.to_string());
    assert_eq!(stale[0].owner_team_path, EAST_1);
    assert_eq!(
        (stale[0].days_without_activity, stale[0].stale_after_days),
        (15, 14)
    );
    assert_eq!(stale[0].last_activity_at, Some(to_timestamp(created)));

    log.log_call(&ravi, "Follow-up call", day(16)).await;
    assert_eq!(log.last_activity_at().await, day(16));
    assert_eq!(
        crm_opportunities::run_job(context, crm_opportunities::STALE_DEALS, day(20))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        crm_opportunities::run_job(context, crm_opportunities::STALE_DEALS, day(31))
            .await
            .unwrap(),
        1
    );
    let stale: Vec<pb::OpportunityWentStale> =
        events(&log, "crm.opportunities.v1.OpportunityWentStale").await;
    assert_eq!(stale.len(), 2);
    assert_eq!(stale[1].days_without_activity, 15);
}

fn stage(name: &str, kind: pb::StageKind, probability: u32) -> pb::StageInput {
    let category = match kind {
        pb::StageKind::Won => pb::ForecastCategory::Closed,
        pb::StageKind::Lost => pb::ForecastCategory::Omitted,
        _ => pb::ForecastCategory::Pipeline,
    };
    pb::StageInput {
        name: name.into(),
        kind: kind.into(),
        default_probability: probability,
        forecast_category: category.into(),
        ..Default::default()
    }
}

/// A pipeline's threshold: 14 days unless set, 0 never stale, above 365 refused; a deal of a
/// never-stale pipeline is announced once the pipeline is given a threshold.
#[tokio::test]
async fn a_pipeline_sets_when_its_deals_go_stale_and_zero_means_never() {
    let log = Log::open().await;
    let (ravi, admin) = (log.ravi.clone(), log.harness.admin.clone());
    let mut pipelines = PipelineServiceClient::new(log.harness.app.channel().await);
    let create = |days: Option<u32>| pb::CreatePipelineRequest {
        name: format!("Service contracts {days:?}"),
        stages: vec![
            stage("Qualify", pb::StageKind::Open, 10),
            stage("Won", pb::StageKind::Won, 100),
            stage("Lost", pb::StageKind::Lost, 0),
        ],
        stale_after_days: days,
        ..Default::default()
    };
    let request = log.harness.request(&admin, create(Some(366)));
    let status = pipelines.create_pipeline(request).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert_eq!(fields(&status), ["stale_after_days"]);
    let request = log.harness.request(&admin, create(None));
    let default = pipelines.create_pipeline(request).await.unwrap();
    assert_eq!(default.into_inner().pipeline.unwrap().stale_after_days, 14);
    let request = log.harness.request(&admin, create(Some(0)));
    let never = pipelines.create_pipeline(request).await.unwrap();
    let never = never.into_inner().pipeline.unwrap();
    assert_eq!(never.stale_after_days, 0);

    let account_id = log.harness.publish_account(&ravi).await;
    let deal = pb::CreateOpportunityRequest {
        opportunity: Some(pb::OpportunityInput {
            name: "Service contract".into(),
            account_id,
            pipeline_id: never.id.clone(),
            amount: money("CNY", "50000"),
            expected_close_date: day(60),
            ..Default::default()
        }),
        opportunity_id: String::new(),
    };
    let request = log.harness.request(&ravi, deal);
    let deal = log.harness.deals.clone().create_opportunity(request).await;
    let deal_id = deal.unwrap().into_inner().opportunity.unwrap().id;
    let context = log.harness.app.services.context("opportunities").unwrap();
    let later = Utc::now() + Duration::days(400);
    // Only the default pipeline's deal.
    assert_eq!(
        crm_opportunities::run_job(context, crm_opportunities::STALE_DEALS, later)
            .await
            .unwrap(),
        1
    );
    let update = pb::UpdatePipelineRequest {
        pipeline_id: never.id.clone(),
        stale_after_days: Some(3),
        ..Default::default()
    };
    let request = log.harness.request(&admin, update);
    let updated = pipelines.update_pipeline(request).await.unwrap();
    assert_eq!(updated.into_inner().pipeline.unwrap().stale_after_days, 3);
    assert_eq!(
        crm_opportunities::run_job(context, crm_opportunities::STALE_DEALS, later)
            .await
            .unwrap(),
        1
    );
    let stale: Vec<pb::OpportunityWentStale> =
        events(&log, "crm.opportunities.v1.OpportunityWentStale").await;
    assert_eq!(stale.len(), 2);
    assert!(
        stale
            .iter()
            .any(|event| event.opportunity_id == deal_id && event.stale_after_days == 3)
    );
}
