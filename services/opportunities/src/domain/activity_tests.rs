use chrono::TimeZone;
use proptest::prelude::*;

use super::*;

fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 2, hour, 0, 0).unwrap()
}

fn content(kind: ActivityKind, starts: u32, ends: Option<u32>) -> ActivityContent {
    ActivityContent {
        kind,
        subject: "Line 3 review".into(),
        notes: String::new(),
        outcome: String::new(),
        starts_at: at(starts),
        ends_at: ends.map(at),
    }
}

fn fields(violations: &[FieldViolation]) -> Vec<&str> {
    violations.iter().map(|v| v.field.as_str()).collect()
}

#[test]
fn a_meeting_or_visit_needs_an_end_and_a_call_or_note_does_not() {
    for kind in [ActivityKind::Meeting, ActivityKind::Visit] {
        let violations = activity_violations("activity", &content(kind, 9, None));
        assert_eq!(fields(&violations), ["activity.ends_at"]);
    }
    for kind in [ActivityKind::Call, ActivityKind::Email, ActivityKind::Note] {
        assert!(activity_violations("activity", &content(kind, 9, None)).is_empty());
    }
    assert!(
        activity_violations("activity", &content(ActivityKind::Meeting, 9, Some(10))).is_empty()
    );
}

#[test]
fn an_end_before_the_start_is_refused() {
    let violations = activity_violations("activity", &content(ActivityKind::Call, 10, Some(9)));
    assert_eq!(fields(&violations), ["activity.ends_at"]);
    assert_eq!(violations[0].reason, Some(INCONSISTENT_FIELDS));
}

#[test]
fn an_activity_regards_exactly_one_thing_and_a_task_at_most_one() {
    let none = Regarding::default();
    let one = Regarding {
        lead_id: Some(Uuid::nil()),
        ..none
    };
    let two = Regarding {
        account_id: Some(Uuid::nil()),
        ..one
    };
    assert_eq!(regarding_violations("regarding", &none, true).len(), 1);
    assert!(regarding_violations("regarding", &one, true).is_empty());
    assert_eq!(regarding_violations("regarding", &two, true).len(), 1);
    assert!(regarding_violations("regarding", &none, false).is_empty());
    assert_eq!(regarding_violations("regarding", &two, false).len(), 1);
}

fn task(remind: Option<u32>) -> Task {
    Task {
        id: Uuid::nil(),
        content: TaskContent {
            title: "Send the pilot plan".into(),
            notes: String::new(),
            due_at: at(17),
            remind_at: remind.map(at),
        },
        regarding: Regarding::default(),
        reminder_sent_at: Some(at(9)),
        owner_id: Uuid::nil(),
        owner_team_path: TeamPath::parse("/northwind/").unwrap(),
        completed_at: None,
        completed_by: None,
        created_by: Uuid::nil(),
        created_at: at(8),
        updated_by: Uuid::nil(),
        updated_at: at(8),
        revision: 1,
    }
}

#[test]
fn a_reminder_after_the_due_time_is_refused() {
    assert!(task_violations("task", &task(Some(17)).content).is_empty());
    assert_eq!(
        fields(&task_violations("task", &task(Some(18)).content)),
        ["task.remind_at"]
    );
}

#[test]
fn a_new_reminder_time_is_reminded_again_and_an_unchanged_one_is_not() {
    let sent = task(Some(9));
    let same = sent.rewritten(sent.content.clone(), Uuid::nil(), at(10));
    assert_eq!((same.reminder_sent_at, same.revision), (Some(at(9)), 2));
    let moved = TaskContent {
        remind_at: Some(at(12)),
        ..sent.content.clone()
    };
    assert_eq!(
        sent.rewritten(moved, Uuid::nil(), at(10)).reminder_sent_at,
        None
    );
}

proptest! {
    /// An activity may name exactly one regarded record, a task at most one, whichever they are.
    #[test]
    fn regarding_rules_count_the_ids(mask in 0u8..16) {
        let pick = |bit: u8| (mask & bit != 0).then(Uuid::now_v7);
        let regarding = Regarding {
            opportunity_id: pick(1),
            account_id: pick(2),
            contact_id: pick(4),
            lead_id: pick(8),
        };
        let named = mask.count_ones() as usize;
        prop_assert_eq!(regarding.count(), named);
        prop_assert_eq!(regarding_violations("r", &regarding, true).is_empty(), named == 1);
        prop_assert_eq!(regarding_violations("r", &regarding, false).is_empty(), named <= 1);
    }
}
