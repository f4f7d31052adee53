//! Calendar feeds (O7): a rep's calendar as iCalendar text for calendar clients that subscribe
//! by URL. The URL's token is the only credential: it is drawn from the operating system's
//! randomness (32 bytes), returned once, and only its SHA-256 is kept. Issuing again rotates
//! it; revoking ends it. An unknown, rotated or revoked token reads as NOT_FOUND, the same for
//! each, so the answer tells nothing about which tokens existed.

use chrono::{DateTime, Duration, Utc};
use crm_platform::auth::Caller;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{CalendarEntry, Opportunities, Result};
use crate::{
    domain::{
        activity::{ActivityKind, Task},
        calendar::CalendarRange,
        ical::{self, Calendar, Event},
    },
    error::OpportunitiesError,
    store::calendar_feeds,
};

/// How far back and ahead a feed reaches.
const FEED_DAYS_BACK: i64 = 30;
const FEED_DAYS_AHEAD: i64 = 180;
/// How many activities, and how many tasks, a feed holds at most.
const MAX_FEED_ENTRIES: i64 = 5000;
/// What an activity without an end lasts in a feed, and what a task's slot lasts.
const ACTIVITY_WITHOUT_END: Duration = Duration::minutes(30);
const TASK_SLOT: Duration = Duration::minutes(15);

/// The path a feed is read at, through the front door.
pub fn feed_path(token: &str) -> String {
    format!("/v1/calendarFeeds/{token}")
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.trim().as_bytes()).to_vec()
}

/// A new feed token: 32 bytes of the operating system's randomness, as 64 hex digits. `Err`
/// when the system has no randomness to give (nothing is issued then).
pub fn new_feed_token() -> std::result::Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

fn kind_name(kind: ActivityKind) -> &'static str {
    match kind {
        ActivityKind::Call => "Call",
        ActivityKind::Meeting => "Meeting",
        ActivityKind::Visit => "Visit",
        ActivityKind::Email => "Email",
        ActivityKind::Note => "Note",
    }
}

fn task_event(task: &Task) -> Event {
    Event {
        uid: format!("{}@crm", task.id),
        starts_at: task.content.due_at,
        ends_at: task.content.due_at + TASK_SLOT,
        summary: format!("[Task] {}", task.content.title),
        description: task.content.notes.clone(),
        categories: vec!["Task".into()],
        sequence: task.revision - 1,
        last_modified: task.updated_at,
    }
}

/// A calendar entry as an event: an activity over its time (half an hour without an end), a
/// task as a quarter of an hour at its due time.
pub(crate) fn event(entry: &CalendarEntry) -> Event {
    let activity = match entry {
        CalendarEntry::Task(task) => return task_event(task),
        CalendarEntry::Activity(activity) => activity,
    };
    let content = &activity.content;
    let kind = kind_name(content.kind);
    let description = match (content.notes.is_empty(), content.outcome.is_empty()) {
        (_, true) => content.notes.clone(),
        (true, false) => format!("Outcome: {}", content.outcome),
        (false, false) => format!("{}\n\nOutcome: {}", content.notes, content.outcome),
    };
    Event {
        uid: format!("{}@crm", activity.id),
        starts_at: content.starts_at,
        ends_at: content
            .ends_at
            .filter(|end| *end > content.starts_at)
            .unwrap_or(content.starts_at + ACTIVITY_WITHOUT_END),
        summary: format!("[{kind}] {}", content.subject),
        description,
        categories: vec![kind.into()],
        sequence: activity.revision - 1,
        last_modified: activity.updated_at,
    }
}

impl Opportunities {
    /// Issues (or rotates) the caller's feed under a new token ([`new_feed_token`]), which the
    /// caller is shown this once; returns when.
    pub async fn issue_calendar_feed(&self, caller: &Caller, token: &str) -> Result<DateTime<Utc>> {
        let now = crm_platform::time::now();
        let mut connection = self.pool.acquire().await?;
        calendar_feeds::put_feed(&mut connection, caller.user_id, &token_hash(token), now).await?;
        Ok(now)
    }

    /// Ends the caller's feed; whether there was one.
    pub async fn revoke_calendar_feed(&self, caller: &Caller) -> Result<bool> {
        let mut connection = self.pool.acquire().await?;
        Ok(calendar_feeds::delete_feed(&mut connection, caller.user_id).await?)
    }

    /// The feed a token names, as iCalendar text at `now`: activities starting from 30 days
    /// back to 180 days ahead and open tasks due then.
    pub async fn calendar_feed(&self, token: &str, now: DateTime<Utc>) -> Result<String> {
        let user_id = {
            let mut connection = self.pool.acquire().await?;
            calendar_feeds::feed_owner(&mut connection, &token_hash(token)).await?
        };
        // One answer for every token that names no feed.
        let Some(user_id) = user_id else {
            return Err(OpportunitiesError::not_found("calendar feed", Uuid::nil()));
        };
        let (start, end) = (
            now - Duration::days(FEED_DAYS_BACK),
            now + Duration::days(FEED_DAYS_AHEAD),
        );
        let range = CalendarRange {
            first_day: start.date_naive(),
            last_day: end.date_naive(),
            start,
            end,
        };
        let entries = self
            .calendar_entries(user_id, &range, true, MAX_FEED_ENTRIES)
            .await?;
        Ok(ical::write(&Calendar {
            name: "CRM calendar".into(),
            stamp: now,
            events: entries.iter().map(event).collect(),
        }))
    }
}
