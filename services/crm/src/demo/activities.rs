//! Activities and tasks of the demo (O7): the calls, visits and meetings the reps logged this
//! week on their live deals, and the tasks they have open — so the deal pages' timelines and the
//! task lists show something on the first day.
//!
//! Every activity and task has a fixed id (a retried log or create by the same rep returns the
//! first result), so a second run writes nothing. Times fall in the current week (Monday first,
//! UTC), as of the first run.

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use crm_platform::time::to_timestamp;
use crm_proto::crm::opportunities::v1::{
    ActivityInput, ActivityKind, CreateTaskRequest, LogActivityRequest, Regarding, TaskInput,
    activity_service_client::ActivityServiceClient,
};
use uuid::Uuid;

use super::{Api, Member, NORA, RAVI, WES, failed};

/// The live deals' ids (`super::opportunities`): Contoso (Ravi), A. Datum (Nora), Relecloud
/// (Wes).
const CONTOSO_LINE_3: u128 = 0x0190_0000_0000_7000_8000_00de_a200_0001;
const ADATUM_SMT: u128 = 0x0190_0000_0000_7000_8000_00de_a200_0002;
const RELECLOUD_PAINT: u128 = 0x0190_0000_0000_7000_8000_00de_a200_0003;

/// An activity a rep logged: (id, rep, deal, kind, subject, day of the week from 0 = Monday,
/// hour UTC, minutes long, outcome).
type DemoActivity = (
    u128,
    Member,
    u128,
    ActivityKind,
    &'static str,
    i64,
    i64,
    i64,
    &'static str,
);

#[rustfmt::skip]
const ACTIVITIES: &[DemoActivity] = &[
    (0x0190_0000_0000_7000_8000_00ac_7100_0001, RAVI, CONTOSO_LINE_3, ActivityKind::Call,
     "Call with Li Wei about the sign-off", 0, 2, 20, "Zhang Min signs off above 1M"),
    (0x0190_0000_0000_7000_8000_00ac_7100_0002, RAVI, CONTOSO_LINE_3, ActivityKind::Visit,
     "Line 3 site visit", 2, 1, 180, "Measured the cell; two robots fit"),
    (0x0190_0000_0000_7000_8000_00ac_7100_0003, RAVI, CONTOSO_LINE_3, ActivityKind::Meeting,
     "Pilot scope review with Zhang Min", 4, 6, 60, ""),
    (0x0190_0000_0000_7000_8000_00ac_7100_0004, NORA, ADATUM_SMT, ActivityKind::Meeting,
     "Plant visit planning with Klaus Becker", 1, 8, 45, "Visit agreed for next week"),
    (0x0190_0000_0000_7000_8000_00ac_7100_0005, WES, RELECLOUD_PAINT, ActivityKind::Email,
     "Reference list for paint shops", 3, 3, 0, "Sent three references"),
];

/// A task a rep has open: (id, rep, deal, title, due day of the week, hour UTC, reminder hours
/// before).
type DemoTask = (u128, Member, u128, &'static str, i64, i64, i64);

#[rustfmt::skip]
const TASKS: &[DemoTask] = &[
    (0x0190_0000_0000_7000_8000_00ac_7200_0001, RAVI, CONTOSO_LINE_3,
     "Send the pilot plan to Zhang Min", 4, 9, 2),
    (0x0190_0000_0000_7000_8000_00ac_7200_0002, NORA, ADATUM_SMT,
     "Book the plant visit travel", 3, 9, 24),
    (0x0190_0000_0000_7000_8000_00ac_7200_0003, WES, RELECLOUD_PAINT,
     "Follow up on the references", 5, 2, 1),
];

/// Midnight UTC of this week's Monday.
fn week_start(now: DateTime<Utc>) -> DateTime<Utc> {
    let monday = now.date_naive() - Duration::days(i64::from(now.weekday().num_days_from_monday()));
    Utc.from_utc_datetime(&monday.and_hms_opt(0, 0, 0).expect("midnight exists"))
}

fn on_deal(deal: u128) -> Option<Regarding> {
    Some(Regarding {
        opportunity_id: Uuid::from_u128(deal).to_string(),
        ..Default::default()
    })
}

pub(super) async fn load(api: &Api) -> anyhow::Result<()> {
    let mut activities = ActivityServiceClient::new(api.channel());
    let monday = week_start(Utc::now());
    for &(id, rep, deal, kind, subject, day, hour, minutes, outcome) in ACTIVITIES {
        let starts = monday + Duration::days(day) + Duration::hours(hour);
        let request = LogActivityRequest {
            activity: Some(ActivityInput {
                kind: kind.into(),
                subject: subject.into(),
                notes: String::new(),
                outcome: outcome.into(),
                starts_at: Some(to_timestamp(starts)),
                ends_at: (minutes > 0).then(|| to_timestamp(starts + Duration::minutes(minutes))),
            }),
            regarding: on_deal(deal),
            owner_id: String::new(),
            activity_id: Uuid::from_u128(id).to_string(),
        };
        activities
            .log_activity(api.as_member(&rep, request))
            .await
            .map_err(failed(format!("activity {subject:?}")))?;
    }
    for &(id, rep, deal, title, day, hour, remind_before) in TASKS {
        let due = monday + Duration::days(day) + Duration::hours(hour);
        let request = CreateTaskRequest {
            task: Some(TaskInput {
                title: title.into(),
                notes: String::new(),
                due_at: Some(to_timestamp(due)),
                remind_at: Some(to_timestamp(due - Duration::hours(remind_before))),
            }),
            regarding: on_deal(deal),
            assignee_id: String::new(),
            task_id: Uuid::from_u128(id).to_string(),
        };
        activities
            .create_task(api.as_member(&rep, request))
            .await
            .map_err(failed(format!("task {title:?}")))?;
    }
    Ok(())
}
