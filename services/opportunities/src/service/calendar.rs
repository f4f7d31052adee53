//! A rep's calendar (O7): their activities and tasks in a day or week of their time zone.
//!
//! Whose calendar a caller reads is decided by the user's team as the directory knows it: the
//! user themself, their managers, admins. Anyone else's is PERMISSION_DENIED (the caller names
//! the user, so there is nothing to hide about them existing); a user this service never heard
//! of is NOT_FOUND.

use chrono::{DateTime, Utc};
use crm_platform::{auth::Caller, org::OrgDirectory};
use uuid::Uuid;

use super::{Opportunities, Result};
use crate::{
    domain::{
        activity::{Activity, Task},
        calendar::CalendarRange,
    },
    error::OpportunitiesError,
    store::activities as store_activities,
};

/// How many activities, and how many tasks, a calendar shows at most.
const MAX_ENTRIES: i64 = 1000;

/// One thing in a calendar.
#[derive(Debug, Clone)]
pub enum CalendarEntry {
    Activity(Activity),
    Task(Task),
}

impl CalendarEntry {
    /// An activity's start, a task's due time.
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            CalendarEntry::Activity(activity) => activity.content.starts_at,
            CalendarEntry::Task(task) => task.content.due_at,
        }
    }

    fn sort_key(&self) -> (DateTime<Utc>, u8, Uuid) {
        match self {
            CalendarEntry::Activity(activity) => (self.at(), 0, activity.id),
            CalendarEntry::Task(task) => (self.at(), 1, task.id),
        }
    }
}

impl Opportunities {
    /// The user whose calendar the caller reads: the caller when `None`, else a user in their
    /// reach.
    pub(crate) async fn calendar_owner(
        &self,
        caller: &Caller,
        user_id: Option<Uuid>,
    ) -> Result<Uuid> {
        let user_id = match user_id {
            None => return Ok(caller.user_id),
            Some(user_id) if user_id == caller.user_id => return Ok(user_id),
            Some(user_id) => user_id,
        };
        let mut connection = self.pool.acquire().await?;
        let Some(team) = OrgDirectory::team_of(&mut connection, user_id).await? else {
            return Err(OpportunitiesError::not_found("user", user_id));
        };
        if !caller.can_access(user_id, &team) {
            return Err(OpportunitiesError::permission_denied(format!(
                "the calendar of {user_id} is outside what you may see"
            )));
        }
        Ok(user_id)
    }

    /// A user's activities starting in the range and tasks due in it (open and completed, or
    /// open only), by time.
    pub(crate) async fn calendar_entries(
        &self,
        user_id: Uuid,
        range: &CalendarRange,
        open_tasks_only: bool,
        limit: i64,
    ) -> Result<Vec<CalendarEntry>> {
        let mut connection = self.pool.acquire().await?;
        let activities = store_activities::calendar_activities(
            &mut connection,
            user_id,
            range.start,
            range.end,
            limit,
        )
        .await?;
        let tasks = store_activities::calendar_tasks(
            &mut connection,
            user_id,
            range.start,
            range.end,
            open_tasks_only,
            limit,
        )
        .await?;
        let mut entries: Vec<CalendarEntry> = activities
            .into_iter()
            .map(CalendarEntry::Activity)
            .chain(tasks.into_iter().map(CalendarEntry::Task))
            .collect();
        entries.sort_by_key(CalendarEntry::sort_key);
        Ok(entries)
    }

    /// A user's calendar for the range, as the caller may read it.
    pub async fn get_calendar(
        &self,
        caller: &Caller,
        user_id: Option<Uuid>,
        range: &CalendarRange,
    ) -> Result<(Uuid, Vec<CalendarEntry>)> {
        let user_id = self.calendar_owner(caller, user_id).await?;
        let entries = self
            .calendar_entries(user_id, range, false, MAX_ENTRIES)
            .await?;
        Ok((user_id, entries))
    }
}
