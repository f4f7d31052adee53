//! Activities and tasks, domain → wire: what ActivityService returns and their events carry.

use crm_platform::time::to_timestamp;
use crm_proto::crm::opportunities::v1 as pb;
use uuid::Uuid;

use crate::{
    domain::activity::{Activity, ActivityKind, Regarding, Task},
    service::CalendarEntry,
};

pub(crate) fn kind(kind: ActivityKind) -> pb::ActivityKind {
    match kind {
        ActivityKind::Call => pb::ActivityKind::Call,
        ActivityKind::Meeting => pb::ActivityKind::Meeting,
        ActivityKind::Visit => pb::ActivityKind::Visit,
        ActivityKind::Email => pb::ActivityKind::Email,
        ActivityKind::Note => pb::ActivityKind::Note,
    }
}

fn id(id: Option<Uuid>) -> String {
    id.map(|id| id.to_string()).unwrap_or_default()
}

pub(crate) fn regarding(regarding: &Regarding) -> pb::Regarding {
    pb::Regarding {
        opportunity_id: id(regarding.opportunity_id),
        account_id: id(regarding.account_id),
        contact_id: id(regarding.contact_id),
        lead_id: id(regarding.lead_id),
    }
}

pub(crate) fn activity(activity: &Activity) -> pb::Activity {
    let content = &activity.content;
    pb::Activity {
        id: activity.id.to_string(),
        kind: kind(content.kind).into(),
        subject: content.subject.clone(),
        notes: content.notes.clone(),
        outcome: content.outcome.clone(),
        starts_at: Some(to_timestamp(content.starts_at)),
        ends_at: content.ends_at.map(to_timestamp),
        regarding: Some(regarding(&activity.regarding)),
        owner_id: activity.owner_id.to_string(),
        owner_team_path: activity.owner_team_path.to_string(),
        created_by: activity.created_by.to_string(),
        created_at: Some(to_timestamp(activity.created_at)),
        updated_by: activity.updated_by.to_string(),
        updated_at: Some(to_timestamp(activity.updated_at)),
        version: activity.revision.unsigned_abs(),
    }
}

pub(crate) fn task(task: &Task) -> pb::Task {
    pb::Task {
        id: task.id.to_string(),
        title: task.content.title.clone(),
        notes: task.content.notes.clone(),
        due_at: Some(to_timestamp(task.content.due_at)),
        remind_at: task.content.remind_at.map(to_timestamp),
        reminder_sent_at: task.reminder_sent_at.map(to_timestamp),
        regarding: Some(regarding(&task.regarding)),
        assignee_id: task.owner_id.to_string(),
        assignee_team_path: task.owner_team_path.to_string(),
        completed: task.is_completed(),
        completed_at: task.completed_at.map(to_timestamp),
        completed_by: id(task.completed_by),
        created_by: task.created_by.to_string(),
        created_at: Some(to_timestamp(task.created_at)),
        updated_by: task.updated_by.to_string(),
        updated_at: Some(to_timestamp(task.updated_at)),
        version: task.revision.unsigned_abs(),
    }
}

pub(crate) fn calendar_entry(entry: &CalendarEntry) -> pb::CalendarEntry {
    match entry {
        CalendarEntry::Activity(activity) => pb::CalendarEntry {
            starts_at: Some(to_timestamp(activity.content.starts_at)),
            ends_at: activity.content.ends_at.map(to_timestamp),
            activity: Some(self::activity(activity)),
            task: None,
        },
        CalendarEntry::Task(task) => pb::CalendarEntry {
            starts_at: Some(to_timestamp(task.content.due_at)),
            ends_at: None,
            activity: None,
            task: Some(self::task(task)),
        },
    }
}
