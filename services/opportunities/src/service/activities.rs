//! Activities' and tasks' use cases (O7): logging and rewriting activities, creating, rewriting,
//! completing and reopening tasks, reading and listing both.
//!
//! Who reads an activity or a task is decided by its owner (the rep who did it, the assignee)
//! and their team, as for every owned record: the owner, their managers, admins. Anyone else
//! gets NOT_FOUND. A deal it regards must be one the caller reads; an activity regarding a deal
//! advances the deal's last activity in the same transaction (what stale-deal detection reads).

use crm_platform::{
    auth::Caller,
    error::{CommonError, FieldViolation, check_version},
    paging::{Listing, Page, SortKey},
    time::to_timestamp,
};
use crm_proto::crm::opportunities::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Opportunities, Result, quotes::refused, visible};
use crate::{
    convert,
    domain::activity::{self, Activity, ActivityContent, Regarding, Task, TaskContent},
    error::OpportunitiesError,
    store::{
        self,
        activities::{self as store_activities, ActivityFilter, TaskFilter},
    },
};

/// A task as its creator gives it: what it says, what it regards, who does it.
#[derive(Debug, Clone)]
pub struct NewTask {
    pub content: TaskContent,
    pub regarding: Regarding,
    /// `None`: the caller.
    pub assignee_id: Option<Uuid>,
}

fn refuse_if_any(violations: Vec<FieldViolation>) -> Result<()> {
    if violations.is_empty() {
        Ok(())
    } else {
        Err(refused(violations))
    }
}

fn activity_key(activity: &Activity) -> (SortKey, Uuid) {
    (SortKey::Time(activity.content.starts_at), activity.id)
}

fn task_key(task: &Task) -> (SortKey, Uuid) {
    (SortKey::Time(task.content.due_at), task.id)
}

fn readable<T>(caller: &Caller, kind: &'static str, id: Uuid, record: Option<T>) -> Result<T>
where
    T: Owned,
{
    match record {
        Some(record) if record.readable_by(caller) => Ok(record),
        _ => Err(OpportunitiesError::not_found(kind, id)),
    }
}

/// A record owned as every owned record is (owner id and team path).
trait Owned {
    fn readable_by(&self, caller: &Caller) -> bool;
}

impl Owned for Activity {
    fn readable_by(&self, caller: &Caller) -> bool {
        caller.can_access(self.owner_id, &self.owner_team_path)
    }
}

impl Owned for Task {
    fn readable_by(&self, caller: &Caller) -> bool {
        caller.can_access(self.owner_id, &self.owner_team_path)
    }
}

fn change(by: Uuid, at: chrono::DateTime<chrono::Utc>) -> Option<pb::ChangeContext> {
    Some(pb::ChangeContext {
        changed_by: by.to_string(),
        occurred_at: Some(to_timestamp(at)),
    })
}

impl Opportunities {
    /// A deal the activity or task regards must be one the caller reads (a refusal naming the
    /// field otherwise, as for an unknown deal).
    async fn usable_regarding(
        &self,
        connection: &mut PgConnection,
        caller: &Caller,
        regarding: &Regarding,
    ) -> Result<()> {
        let Some(deal_id) = regarding.opportunity_id else {
            return Ok(());
        };
        let deal = store::deals::get_deal(connection, deal_id, false)
            .await?
            .map(|(deal, _)| deal);
        visible(caller, deal_id, deal).map_err(|_| {
            OpportunitiesError::from(CommonError::unusable_reference(
                "regarding.opportunity_id",
                "is not a deal you can see",
            ))
        })?;
        Ok(())
    }

    /// Logs an activity (event activity_logged); one regarding a deal advances the deal's last
    /// activity. A retry with the same id by its author returns what was logged.
    pub async fn log_activity(
        &self,
        caller: &Caller,
        content: ActivityContent,
        regarding: Regarding,
        owner_id: Option<Uuid>,
        requested_id: Option<Uuid>,
    ) -> Result<Activity> {
        let mut violations = activity::activity_violations("activity", &content);
        violations.extend(activity::regarding_violations(
            "regarding",
            &regarding,
            true,
        ));
        refuse_if_any(violations)?;
        let mut transaction = self.pool.begin().await?;
        self.remember(&mut transaction, caller).await?;
        let (owner_id, owner_team_path) = self
            .resolve_owner(&mut transaction, caller, owner_id, "owner_id")
            .await?;
        self.usable_regarding(&mut transaction, caller, &regarding)
            .await?;
        let now = crm_platform::time::now();
        let activity = Activity {
            id: requested_id.unwrap_or_else(Uuid::now_v7),
            content,
            regarding,
            owner_id,
            owner_team_path,
            created_by: caller.user_id,
            created_at: now,
            updated_by: caller.user_id,
            updated_at: now,
            revision: 1,
        };
        if !store_activities::insert_activity(&mut transaction, &activity).await? {
            let existing =
                store_activities::get_activity(&mut transaction, activity.id, false).await?;
            return match existing {
                Some(existing) if existing.created_by == caller.user_id => Ok(existing),
                _ => Err(OpportunitiesError::IdTaken {
                    kind: "activity",
                    id: activity.id,
                }),
            };
        }
        self.record_activity(&mut transaction, &activity).await?;
        self.outbox.commit(transaction).await?;
        Ok(activity)
    }

    /// The deal's last activity and event activity_logged of an activity just written.
    async fn record_activity(
        &self,
        connection: &mut PgConnection,
        activity: &Activity,
    ) -> Result<()> {
        if let Some(deal_id) = activity.regarding.opportunity_id {
            store_activities::touch_deal(connection, deal_id, activity.content.starts_at).await?;
        }
        let message = pb::ActivityLogged {
            activity: Some(convert::activities::activity(activity)),
            change: change(activity.updated_by, activity.updated_at),
        };
        self.outbox
            .enqueue_for(
                connection,
                "activity",
                activity.id,
                activity.revision,
                &message,
            )
            .await?;
        Ok(())
    }

    pub async fn get_activity(&self, caller: &Caller, id: Uuid) -> Result<Activity> {
        let mut connection = self.pool.acquire().await?;
        let activity = store_activities::get_activity(&mut connection, id, false).await?;
        readable(caller, "activity", id, activity)
    }

    /// Rewrites an activity's content at the expected version (event activity_logged).
    pub async fn update_activity(
        &self,
        caller: &Caller,
        id: Uuid,
        content: ActivityContent,
        expected_version: Option<i64>,
    ) -> Result<Activity> {
        refuse_if_any(activity::activity_violations("activity", &content))?;
        let mut transaction = self.pool.begin().await?;
        let current = store_activities::get_activity(&mut transaction, id, true).await?;
        let current = readable(caller, "activity", id, current)?;
        check_version("activity", id, expected_version, current.revision)?;
        let next = Activity {
            content,
            updated_by: caller.user_id,
            updated_at: crm_platform::time::now(),
            revision: current.revision + 1,
            ..current
        };
        store_activities::update_activity(&mut transaction, &next).await?;
        self.record_activity(&mut transaction, &next).await?;
        self.outbox.commit(transaction).await?;
        Ok(next)
    }

    /// A page of the activities the caller may read, newest first.
    pub async fn list_activities(
        &self,
        caller: &Caller,
        filter: &ActivityFilter,
        page: &Page,
    ) -> Result<Listing<Activity>> {
        let mut connection = self.pool.acquire().await?;
        let rows = store_activities::list_activities(&mut connection, caller, filter, page).await?;
        Ok(Listing::from_rows(rows, page, activity_key))
    }

    /// Creates a task (no event: a task's announcements are its reminder and its completion).
    /// A retry with the same id by its creator returns what was created.
    pub async fn create_task(
        &self,
        caller: &Caller,
        new: NewTask,
        requested_id: Option<Uuid>,
    ) -> Result<Task> {
        let mut transaction = self.pool.begin().await?;
        let task = self
            .create_task_in(&mut transaction, caller, new, requested_id)
            .await?;
        self.outbox.commit(transaction).await?;
        Ok(task)
    }

    /// [`Self::create_task`] inside the caller's transaction: for use cases that create tasks
    /// as part of their own write (customer-care reminders).
    pub(crate) async fn create_task_in(
        &self,
        connection: &mut PgConnection,
        caller: &Caller,
        new: NewTask,
        requested_id: Option<Uuid>,
    ) -> Result<Task> {
        let mut violations = activity::task_violations("task", &new.content);
        violations.extend(activity::regarding_violations(
            "regarding",
            &new.regarding,
            false,
        ));
        refuse_if_any(violations)?;
        self.remember(connection, caller).await?;
        let (owner_id, owner_team_path) = self
            .resolve_owner(connection, caller, new.assignee_id, "assignee_id")
            .await?;
        self.usable_regarding(connection, caller, &new.regarding)
            .await?;
        let now = crm_platform::time::now();
        let task = Task {
            id: requested_id.unwrap_or_else(Uuid::now_v7),
            content: new.content,
            regarding: new.regarding,
            reminder_sent_at: None,
            owner_id,
            owner_team_path,
            completed_at: None,
            completed_by: None,
            created_by: caller.user_id,
            created_at: now,
            updated_by: caller.user_id,
            updated_at: now,
            revision: 1,
        };
        if !store_activities::insert_task(connection, &task).await? {
            let existing = store_activities::get_task(connection, task.id, false).await?;
            return match existing {
                Some(existing) if existing.created_by == caller.user_id => Ok(existing),
                _ => Err(OpportunitiesError::IdTaken {
                    kind: "task",
                    id: task.id,
                }),
            };
        }
        Ok(task)
    }

    pub async fn get_task(&self, caller: &Caller, id: Uuid) -> Result<Task> {
        let mut connection = self.pool.acquire().await?;
        let task = store_activities::get_task(&mut connection, id, false).await?;
        readable(caller, "task", id, task)
    }

    /// A task the caller reads, locked at the expected version.
    async fn writable_task(
        &self,
        connection: &mut PgConnection,
        caller: &Caller,
        id: Uuid,
        expected_version: Option<i64>,
    ) -> Result<Task> {
        let task = store_activities::get_task(connection, id, true).await?;
        let task = readable(caller, "task", id, task)?;
        check_version("task", id, expected_version, task.revision)?;
        Ok(task)
    }

    /// Rewrites a task's content at the expected version.
    pub async fn update_task(
        &self,
        caller: &Caller,
        id: Uuid,
        content: TaskContent,
        expected_version: Option<i64>,
    ) -> Result<Task> {
        refuse_if_any(activity::task_violations("task", &content))?;
        let mut transaction = self.pool.begin().await?;
        let current = self
            .writable_task(&mut transaction, caller, id, expected_version)
            .await?;
        let next = current.rewritten(content, caller.user_id, crm_platform::time::now());
        store_activities::update_task(&mut transaction, &next).await?;
        self.outbox.commit(transaction).await?;
        Ok(next)
    }

    /// Completes a task (event task_completed); completing a completed task changes nothing.
    pub async fn complete_task(
        &self,
        caller: &Caller,
        id: Uuid,
        expected_version: Option<i64>,
    ) -> Result<Task> {
        let mut transaction = self.pool.begin().await?;
        let current = self
            .writable_task(&mut transaction, caller, id, expected_version)
            .await?;
        if current.is_completed() {
            return Ok(current);
        }
        let now = crm_platform::time::now();
        let next = Task {
            completed_at: Some(now),
            completed_by: Some(caller.user_id),
            updated_by: caller.user_id,
            updated_at: now,
            revision: current.revision + 1,
            ..current
        };
        store_activities::update_task(&mut transaction, &next).await?;
        let message = pb::TaskCompleted {
            task: Some(convert::activities::task(&next)),
            change: change(caller.user_id, now),
        };
        self.outbox
            .enqueue_for(&mut transaction, "task", next.id, next.revision, &message)
            .await?;
        self.outbox.commit(transaction).await?;
        Ok(next)
    }

    /// Opens a completed task again; reopening an open task changes nothing.
    pub async fn reopen_task(
        &self,
        caller: &Caller,
        id: Uuid,
        expected_version: Option<i64>,
    ) -> Result<Task> {
        let mut transaction = self.pool.begin().await?;
        let current = self
            .writable_task(&mut transaction, caller, id, expected_version)
            .await?;
        if !current.is_completed() {
            return Ok(current);
        }
        let next = Task {
            completed_at: None,
            completed_by: None,
            updated_by: caller.user_id,
            updated_at: crm_platform::time::now(),
            revision: current.revision + 1,
            ..current
        };
        store_activities::update_task(&mut transaction, &next).await?;
        self.outbox.commit(transaction).await?;
        Ok(next)
    }

    /// A page of the tasks the caller may read, soonest due first.
    pub async fn list_tasks(
        &self,
        caller: &Caller,
        filter: &TaskFilter,
        page: &Page,
    ) -> Result<Listing<Task>> {
        let mut connection = self.pool.acquire().await?;
        let rows = store_activities::list_tasks(&mut connection, caller, filter, page).await?;
        Ok(Listing::from_rows(rows, page, task_key))
    }
}
