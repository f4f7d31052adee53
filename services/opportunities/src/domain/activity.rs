//! Activities and tasks (O7): what a rep did (calls, meetings, visits, emails, notes) and what
//! they are to do, each regarding a deal, an account, a contact or a lead. The cross-field
//! rules (what is regarded, an end not before the start, a reminder not after the due time) are
//! here; the service checks access and writes.

use chrono::{DateTime, Utc};
use crm_platform::{
    auth::TeamPath,
    error::{FieldViolation, reasons::INCONSISTENT_FIELDS},
};
use uuid::Uuid;

/// What was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityKind {
    Call,
    Meeting,
    Visit,
    Email,
    Note,
}

impl ActivityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::Call => "call",
            ActivityKind::Meeting => "meeting",
            ActivityKind::Visit => "visit",
            ActivityKind::Email => "email",
            ActivityKind::Note => "note",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "call" => ActivityKind::Call,
            "meeting" => ActivityKind::Meeting,
            "visit" => ActivityKind::Visit,
            "email" => ActivityKind::Email,
            "note" => ActivityKind::Note,
            _ => return None,
        })
    }

    /// Meetings and visits take time in a calendar, so they need an end.
    pub fn needs_end(self) -> bool {
        matches!(self, ActivityKind::Meeting | ActivityKind::Visit)
    }
}

/// What an activity or task regards: ids only (accounts, contacts and leads belong to other
/// services; a deal is checked by the service).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Regarding {
    pub opportunity_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub lead_id: Option<Uuid>,
}

impl Regarding {
    pub fn count(&self) -> usize {
        [
            self.opportunity_id,
            self.account_id,
            self.contact_id,
            self.lead_id,
        ]
        .iter()
        .filter(|id| id.is_some())
        .count()
    }
}

/// What the rep writes about an activity (new or rewritten).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityContent {
    pub kind: ActivityKind,
    pub subject: String,
    pub notes: String,
    pub outcome: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub id: Uuid,
    pub content: ActivityContent,
    pub regarding: Regarding,
    pub owner_id: Uuid,
    pub owner_team_path: TeamPath,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_by: Uuid,
    pub updated_at: DateTime<Utc>,
    pub revision: i64,
}

fn inconsistent(field: &str, text: &str) -> FieldViolation {
    FieldViolation::refusal(INCONSISTENT_FIELDS, field, text)
}

/// The refusals of an activity's content (`at` prefixes the field names: "activity").
pub fn activity_violations(at: &str, content: &ActivityContent) -> Vec<FieldViolation> {
    let mut violations = Vec::new();
    match content.ends_at {
        None if content.kind.needs_end() => violations.push(inconsistent(
            &format!("{at}.ends_at"),
            "is required for a meeting or a visit",
        )),
        Some(ends_at) if ends_at < content.starts_at => violations.push(inconsistent(
            &format!("{at}.ends_at"),
            "must not be before starts_at",
        )),
        _ => {}
    }
    violations
}

/// The refusals of what an activity (`exactly_one`) or a task (at most one) regards.
pub fn regarding_violations(
    field: &str,
    regarding: &Regarding,
    exactly_one: bool,
) -> Vec<FieldViolation> {
    match regarding.count() {
        0 if exactly_one => vec![inconsistent(
            field,
            "must name one of opportunity_id, account_id, contact_id, lead_id",
        )],
        0 | 1 => Vec::new(),
        _ => vec![inconsistent(
            field,
            "must name only one of opportunity_id, account_id, contact_id, lead_id",
        )],
    }
}

/// What a task says (new or rewritten).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskContent {
    pub title: String,
    pub notes: String,
    pub due_at: DateTime<Utc>,
    pub remind_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub id: Uuid,
    pub content: TaskContent,
    pub regarding: Regarding,
    pub reminder_sent_at: Option<DateTime<Utc>>,
    /// The assignee.
    pub owner_id: Uuid,
    pub owner_team_path: TeamPath,
    pub completed_at: Option<DateTime<Utc>>,
    pub completed_by: Option<Uuid>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_by: Uuid,
    pub updated_at: DateTime<Utc>,
    pub revision: i64,
}

impl Task {
    pub fn is_completed(&self) -> bool {
        self.completed_at.is_some()
    }

    /// The task rewritten: a changed reminder time is a new reminder, so its sent mark goes.
    pub fn rewritten(&self, content: TaskContent, by: Uuid, at: DateTime<Utc>) -> Task {
        let reminder_sent_at = if content.remind_at == self.content.remind_at {
            self.reminder_sent_at
        } else {
            None
        };
        Task {
            content,
            reminder_sent_at,
            updated_by: by,
            updated_at: at,
            revision: self.revision + 1,
            ..self.clone()
        }
    }
}

/// The refusals of a task's content (`at` prefixes the field names: "task").
pub fn task_violations(at: &str, content: &TaskContent) -> Vec<FieldViolation> {
    match content.remind_at {
        Some(remind_at) if remind_at > content.due_at => vec![inconsistent(
            &format!("{at}.remind_at"),
            "must not be after due_at",
        )],
        _ => Vec::new(),
    }
}

#[cfg(test)]
#[path = "activity_tests.rs"]
mod tests;
