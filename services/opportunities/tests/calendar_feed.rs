//! The calendar feed (`ActivityService.IssueCalendarFeed`/`RevokeCalendarFeed`,
//! `CalendarFeedService`): Ravi issues his feed, a calendar client reads it without a user
//! token and a maintained RFC 5545 parser (the `icalendar` crate) reads his meetings, calls and
//! open tasks from it; rotating and revoking end the old URL — over a real tonic client
//! against real PostgreSQL and NATS.

mod support;

use chrono::{Duration, DurationRound, Utc};
use crm_platform::{auth::Caller, time::to_timestamp};
use crm_proto::crm::opportunities::v1::{
    self as pb, calendar_feed_service_client::CalendarFeedServiceClient,
};
use icalendar::{CalendarDateTime, Component, DatePerhapsTime};
use support::log::*;
use tonic::Code;

async fn issue(log: &Log, caller: &Caller) -> pb::IssueCalendarFeedResponse {
    let request = log.harness.request(caller, pb::IssueCalendarFeedRequest {});
    let mut client = log.harness.activities.clone();
    let response = client.issue_calendar_feed(request).await;
    response.unwrap().into_inner()
}

/// What a calendar client gets for a token: no Authorization header.
async fn feed(log: &Log, token: &str) -> Result<(String, String), tonic::Status> {
    let mut client = CalendarFeedServiceClient::new(log.harness.app.channel().await);
    let request = pb::GetCalendarFeedRequest {
        token: token.into(),
    };
    let body = client.get_calendar_feed(request).await?.into_inner();
    Ok((body.content_type, String::from_utf8(body.data).unwrap()))
}

fn utc(time: &DatePerhapsTime) -> chrono::DateTime<Utc> {
    match time {
        DatePerhapsTime::DateTime(CalendarDateTime::Utc(time)) => *time,
        other => panic!("not a UTC date-time: {other:?}"),
    }
}

/// Ravi's feed holds his meeting (with its end), his call (half an hour), his open task (a
/// quarter of an hour, `[Task]`) and not his completed one nor last year's call; the text
/// parses as iCalendar with escaped, folded lines read back whole.
#[tokio::test]
async fn a_reps_feed_is_icalendar_a_client_reads_without_a_user_token() {
    let log = Log::open().await;
    let ravi = log.ravi.clone();
    let soon = Utc::now().duration_trunc(Duration::hours(1)).unwrap() + Duration::days(2);
    let long_notes = format!(
        "Agenda; pricing, terms\nand the pilot's scope: {}",
        "数据".repeat(40)
    );
    let meeting = pb::LogActivityRequest {
        activity: Some(pb::ActivityInput {
            kind: pb::ActivityKind::Meeting.into(),
            notes: long_notes.clone(),
            outcome: String::new(),
            ends_at: Some(to_timestamp(soon + Duration::hours(1))),
            ..call("Kick-off, Contoso", soon)
        }),
        regarding: on_deal(&log.deal_id),
        ..Default::default()
    };
    let meeting = log.log(&ravi, meeting).await.unwrap();
    let call = log
        .log_call(&ravi, "Pricing call", soon - Duration::days(5))
        .await;
    log.log_call(&ravi, "Last year's call", soon - Duration::days(400))
        .await;
    let task = |title: &str| pb::CreateTaskRequest {
        task: Some(task_input(title, soon + Duration::days(1), None)),
        ..Default::default()
    };
    let open = log
        .create_task(&ravi, task("Send the price"))
        .await
        .unwrap();
    let done = log.create_task(&ravi, task("Book the room")).await.unwrap();
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

    let issued = issue(&log, &ravi).await;
    assert_eq!(issued.token.len(), 64);
    assert_eq!(issued.path, format!("/v1/calendarFeeds/{}", issued.token));
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT token_sha256 FROM calendar_feeds WHERE user_id = $1")
            .bind(ravi.user_id)
            .fetch_one(log.harness.app.pool("opportunities"))
            .await
            .unwrap();
    assert_eq!(stored.len(), 32);
    assert!(!String::from_utf8_lossy(&stored).contains(&issued.token));

    let (content_type, text) = feed(&log, &issued.token).await.unwrap();
    assert_eq!(content_type, "text/calendar; charset=utf-8");
    assert!(text.starts_with("BEGIN:VCALENDAR\r\n"));
    assert!(text.lines().all(|line| line.len() <= 75));
    assert!(text.split("\r\n").all(|line| !line.contains('\n')));
    let calendar: icalendar::Calendar = text.parse().unwrap();
    assert_eq!(calendar.property_value("VERSION"), Some("2.0"));
    assert_eq!(calendar.property_value("CALSCALE"), Some("GREGORIAN"));
    assert!(calendar.property_value("PRODID").is_some());
    assert!(calendar.property_value("X-WR-CALNAME").is_some());
    let events: Vec<_> = calendar.events().collect();
    let summaries: Vec<_> = events.iter().filter_map(|e| e.get_summary()).collect();
    assert_eq!(
        summaries,
        [
            "[Call] Pricing call",
            "[Meeting] Kick-off, Contoso",
            "[Task] Send the price"
        ]
    );
    let kick_off = events[1];
    assert_eq!(
        kick_off.get_uid(),
        Some(format!("{}@crm", meeting.id).as_str())
    );
    assert_eq!(utc(&kick_off.get_start().unwrap()), soon);
    assert_eq!(utc(&kick_off.get_end().unwrap()), soon + Duration::hours(1));
    assert_eq!(kick_off.get_sequence(), Some(0));
    // The parser unfolds and unescapes: the notes come back as written.
    assert_eq!(kick_off.get_description(), Some(long_notes.as_str()));
    let pricing = events[0];
    assert_eq!(pricing.get_uid(), Some(format!("{}@crm", call.id).as_str()));
    assert_eq!(
        utc(&pricing.get_end().unwrap()) - utc(&pricing.get_start().unwrap()),
        Duration::minutes(30)
    );
    let send = events[2];
    assert_eq!(send.get_uid(), Some(format!("{}@crm", open.id).as_str()));
    assert_eq!(
        utc(&send.get_end().unwrap()) - utc(&send.get_start().unwrap()),
        Duration::minutes(15)
    );
}

/// Issuing again rotates the token (the old one is NOT_FOUND), revoking ends the feed, and a
/// token never issued reads the same as a revoked one.
#[tokio::test]
async fn rotating_and_revoking_end_the_old_url() {
    let log = Log::open().await;
    let ravi = log.ravi.clone();
    let first = issue(&log, &ravi).await;
    assert!(feed(&log, &first.token).await.is_ok());
    let second = issue(&log, &ravi).await;
    assert_ne!(first.token, second.token);
    let old = feed(&log, &first.token).await.unwrap_err();
    assert_eq!(old.code(), Code::NotFound);
    assert!(feed(&log, &second.token).await.is_ok());
    let revoke = |caller: &Caller| {
        let request = log
            .harness
            .request(caller, pb::RevokeCalendarFeedRequest {});
        let mut client = log.harness.activities.clone();
        async move {
            client
                .revoke_calendar_feed(request)
                .await
                .unwrap()
                .into_inner()
        }
    };
    assert!(revoke(&ravi).await.revoked);
    assert!(!revoke(&ravi).await.revoked);
    let revoked = feed(&log, &second.token).await.unwrap_err();
    assert_eq!(revoked.code(), Code::NotFound);
    let never = feed(&log, "not-a-token").await.unwrap_err();
    assert_eq!(never.code(), Code::NotFound);
    assert_eq!(never.message(), revoked.message());
    // Mei's feed is her own: issuing hers leaves Ravi's ended.
    let mei = issue(&log, &log.mei).await;
    assert!(feed(&log, &mei.token).await.is_ok());
    assert_eq!(
        feed(&log, &second.token).await.unwrap_err().code(),
        Code::NotFound
    );
}
