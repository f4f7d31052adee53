//! A rep's calendar (`ActivityService.GetCalendar`): Ravi's meetings, calls and tasks by day
//! and ISO week in Shanghai and in UTC, read by him and his manager Mei, by no other rep —
//! over a real tonic client against real PostgreSQL and NATS.

mod support;

use chrono::{DateTime, TimeZone, Utc};
use crm_platform::{auth::Caller, time::to_timestamp};
use crm_proto::crm::opportunities::v1 as pb;
use crm_test_support::user;
use support::{log::*, *};
use tonic::{Code, Status};
use uuid::Uuid;

fn utc(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
}

async fn calendar(
    log: &Log,
    caller: &Caller,
    request: pb::GetCalendarRequest,
) -> Result<pb::GetCalendarResponse, Status> {
    let request = log.harness.request(caller, request);
    let response = log.harness.activities.clone().get_calendar(request).await?;
    Ok(response.into_inner())
}

fn week(date: &str, zone: &str) -> pb::GetCalendarRequest {
    pb::GetCalendarRequest {
        view: pb::CalendarView::Week.into(),
        date: date.into(),
        time_zone: zone.into(),
        ..Default::default()
    }
}

fn titles(response: &pb::GetCalendarResponse) -> Vec<String> {
    response
        .entries
        .iter()
        .map(|entry| match (&entry.activity, &entry.task) {
            (Some(activity), None) => activity.subject.clone(),
            (None, Some(task)) => format!("task: {}", task.title),
            _ => panic!("an entry is an activity or a task: {entry:?}"),
        })
        .collect()
}

/// Ravi's Monday-morning meeting in Shanghai (Sunday 17:00 UTC) is in next week there and in
/// this week in UTC; tasks due in the range are shown open and completed, by time; the day
/// view is one local day.
#[tokio::test]
async fn a_reps_calendar_shows_the_local_week_and_day_with_tasks_due() {
    let log = Log::open().await;
    let ravi = log.ravi.clone();
    log.log_call(&ravi, "Friday call", utc(20, 10)).await;
    let meeting = pb::LogActivityRequest {
        activity: Some(pb::ActivityInput {
            kind: pb::ActivityKind::Meeting.into(),
            ends_at: Some(to_timestamp(utc(22, 18))),
            ..call("Monday kick-off", utc(22, 17))
        }),
        regarding: on_deal(&log.deal_id),
        ..Default::default()
    };
    let meeting = log.log(&ravi, meeting).await.unwrap();
    let task = |title: &str, due| pb::CreateTaskRequest {
        task: Some(task_input(title, due, None)),
        regarding: on_deal(&log.deal_id),
        ..Default::default()
    };
    log.create_task(&ravi, task("Send the pilot's price", utc(24, 2)))
        .await
        .unwrap();
    let done = log
        .create_task(&ravi, task("Book the site visit", utc(23, 1)))
        .await
        .unwrap();
    let request = log.harness.request(
        &ravi,
        pb::CompleteTaskRequest {
            task_id: done.id.clone(),
            expected_version: 0,
        },
    );
    log.harness
        .activities
        .clone()
        .complete_task(request)
        .await
        .unwrap();

    let shanghai = calendar(&log, &ravi, week("2026-11-25", "Asia/Shanghai"))
        .await
        .unwrap();
    assert_eq!(
        titles(&shanghai),
        [
            "Monday kick-off",
            "task: Book the site visit",
            "task: Send the pilot's price"
        ]
    );
    assert_eq!(
        (shanghai.first_day.as_str(), shanghai.last_day.as_str()),
        ("2026-11-23", "2026-11-29")
    );
    assert_eq!(shanghai.range_start, Some(to_timestamp(utc(22, 16))));
    assert_eq!(shanghai.range_end, Some(to_timestamp(utc(29, 16))));
    assert_eq!(shanghai.user_id, ravi.user_id.to_string());
    let first = &shanghai.entries[0];
    assert_eq!(first.starts_at, Some(to_timestamp(utc(22, 17))));
    assert_eq!(first.ends_at, Some(to_timestamp(utc(22, 18))));
    assert_eq!(first.activity.as_ref(), Some(&meeting));
    let booked = shanghai.entries[1].task.as_ref().unwrap();
    assert!(booked.completed);
    assert_eq!(
        booked.regarding.as_ref().unwrap().opportunity_id,
        log.deal_id
    );

    let in_utc = calendar(&log, &ravi, week("2026-11-22", "")).await.unwrap();
    assert_eq!(titles(&in_utc), ["Friday call", "Monday kick-off"]);
    assert_eq!(
        (in_utc.first_day.as_str(), in_utc.time_zone.as_str()),
        ("2026-11-16", "UTC")
    );

    let monday = pb::GetCalendarRequest {
        view: pb::CalendarView::Day.into(),
        date: "2026-11-23".into(),
        time_zone: "Asia/Shanghai".into(),
        ..Default::default()
    };
    let monday = calendar(&log, &ravi, monday).await.unwrap();
    assert_eq!(
        titles(&monday),
        ["Monday kick-off", "task: Book the site visit"]
    );
    let sunday_in_utc = pb::GetCalendarRequest {
        date: "2026-11-22".into(),
        ..Default::default()
    };
    let sunday_in_utc = calendar(&log, &ravi, sunday_in_utc).await.unwrap();
    assert_eq!(titles(&sunday_in_utc), ["Monday kick-off"]);
}

/// Mei reads her rep's calendar; Chen, another rep, is PERMISSION_DENIED; a user nobody knows
/// is NOT_FOUND; an unknown zone is a refusal naming the field.
#[tokio::test]
async fn a_manager_reads_her_reps_calendar_and_another_rep_does_not() {
    let log = Log::open().await;
    let (ravi, mei) = (log.ravi.clone(), log.mei.clone());
    let chen = user("rep", EAST_1);
    log.log_call(&ravi, "Discovery call", utc(24, 9)).await;
    let of_ravi = pb::GetCalendarRequest {
        user_id: ravi.user_id.to_string(),
        ..week("2026-11-24", "Europe/Berlin")
    };
    let read = calendar(&log, &mei, of_ravi.clone()).await.unwrap();
    assert_eq!(titles(&read), ["Discovery call"]);
    assert_eq!(read.user_id, ravi.user_id.to_string());
    let status = calendar(&log, &chen, of_ravi).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let mine = calendar(&log, &chen, week("2026-11-24", "")).await.unwrap();
    assert!(mine.entries.is_empty());
    let nobody = pb::GetCalendarRequest {
        user_id: Uuid::now_v7().to_string(),
        ..Default::default()
    };
    let status = calendar(&log, &mei, nobody).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let status = calendar(&log, &ravi, week("2026-11-24", "Mars/Olympus"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert_eq!(fields(&status), ["time_zone"]);
    assert_eq!(reason(&status), "INCONSISTENT_FIELDS");
    let status = calendar(&log, &ravi, week("2026-13-01", ""))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(fields(&status), ["date"]);
}
