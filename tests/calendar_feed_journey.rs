//! A rep's calendar in a calendar client, through the gateway's HTTP front door with the whole
//! suite in one process: Ravi logs a meeting, issues his feed, and a client that has no user
//! token GETs the feed URL and reads `text/calendar` that a maintained RFC 5545 parser (the
//! `icalendar` crate) reads back; a token never issued is 404, and the token-free route is
//! limited per client as every token-free route is.

use chrono::{Duration, DurationRound, Utc};
use crm_test_support::{HttpClient, TestApp, user};
use icalendar::Component;
use serde_json::json;
use suite::ok;

#[path = "support/suite.rs"]
mod suite;

const EAST_1: &str = "/northwind/east/east-1/";

#[tokio::test]
async fn a_calendar_client_reads_a_reps_feed_without_a_user_token() {
    // A small per-client limit, so the token-free route's limit shows in a few calls.
    let app = TestApp::spawn_with(
        &crm::all_modules(),
        &crm_test_support::nats_url(),
        &[
            ("CRM_GATEWAY_RATE_LIMIT_PER_SECOND", "1"),
            ("CRM_GATEWAY_RATE_LIMIT_BURST", "4"),
        ],
    )
    .await;
    let http = HttpClient::new(app.http_url());
    let ravi = user("rep", EAST_1);
    let token = app.token(&ravi);
    let starts = Utc::now().duration_trunc(Duration::hours(1)).unwrap() + Duration::days(1);
    let meeting = json!({
        "activity": {
            "kind": "ACTIVITY_KIND_MEETING",
            "subject": "Line 3 review; Contoso",
            "starts_at": starts.to_rfc3339(),
            "ends_at": (starts + Duration::hours(1)).to_rfc3339(),
        },
        "regarding": {"lead_id": uuid::Uuid::now_v7().to_string()},
    });
    let logged = ok(http
        .post_json("/v1/activities", Some(&token), &meeting)
        .await);
    let issued = ok(http
        .post_json("/v1/calendarFeed:issue", Some(&token), &json!({}))
        .await);
    let path = issued["path"].as_str().unwrap().to_owned();
    assert_eq!(
        path,
        format!("/v1/calendarFeeds/{}", issued["token"].as_str().unwrap())
    );

    let reply = http.get(&path, None).await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(
        reply.headers["content-type"].to_str().unwrap(),
        "text/calendar; charset=utf-8"
    );
    let text = String::from_utf8(reply.body.to_vec()).unwrap();
    assert!(text.starts_with("BEGIN:VCALENDAR\r\n"), "{text}");
    let calendar: icalendar::Calendar = text.parse().unwrap();
    assert_eq!(calendar.property_value("VERSION"), Some("2.0"));
    let events: Vec<_> = calendar.events().collect();
    assert_eq!(events.len(), 1, "{text}");
    assert_eq!(
        events[0].get_summary(),
        Some("[Meeting] Line 3 review; Contoso")
    );
    let uid = format!("{}@crm", logged["activity"]["id"].as_str().unwrap());
    assert_eq!(events[0].get_uid(), Some(uid.as_str()));

    let never = http.get("/v1/calendarFeeds/0123456789abcdef", None).await;
    assert_eq!(
        never.status,
        404,
        "{}",
        String::from_utf8_lossy(&never.body)
    );

    // The feed is a token-free route: its calls count against the client, which is limited.
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(http.get(&path, None).await.status);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(
        statuses.iter().all(|status| [200, 429].contains(status)),
        "{statuses:?}"
    );
}
