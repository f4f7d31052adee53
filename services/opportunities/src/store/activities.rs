//! SQL for activities and tasks: one row each, what they regard as four nullable ids.

use chrono::{DateTime, Utc};
use crm_platform::{
    access::{OWNER_COLUMNS, push_visibility},
    auth::Caller,
    paging::Page,
};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{corrupt, stored_team};
use crate::domain::activity::{
    Activity, ActivityContent, ActivityKind, Regarding, Task, TaskContent,
};

#[derive(sqlx::FromRow)]
struct ActivityRow {
    id: Uuid,
    kind: String,
    subject: String,
    notes: String,
    outcome: String,
    starts_at: DateTime<Utc>,
    ends_at: Option<DateTime<Utc>>,
    opportunity_id: Option<Uuid>,
    account_id: Option<Uuid>,
    contact_id: Option<Uuid>,
    lead_id: Option<Uuid>,
    owner_id: Uuid,
    owner_team_path: String,
    created_by: Uuid,
    created_at: DateTime<Utc>,
    updated_by: Uuid,
    updated_at: DateTime<Utc>,
    revision: i64,
}

impl TryFrom<ActivityRow> for Activity {
    type Error = sqlx::Error;

    fn try_from(row: ActivityRow) -> sqlx::Result<Self> {
        Ok(Activity {
            id: row.id,
            content: ActivityContent {
                kind: ActivityKind::parse(&row.kind)
                    .ok_or_else(|| corrupt(format!("activity kind {}", row.kind)))?,
                subject: row.subject,
                notes: row.notes,
                outcome: row.outcome,
                starts_at: row.starts_at,
                ends_at: row.ends_at,
            },
            regarding: Regarding {
                opportunity_id: row.opportunity_id,
                account_id: row.account_id,
                contact_id: row.contact_id,
                lead_id: row.lead_id,
            },
            owner_id: row.owner_id,
            owner_team_path: stored_team(&row.owner_team_path)?,
            created_by: row.created_by,
            created_at: row.created_at,
            updated_by: row.updated_by,
            updated_at: row.updated_at,
            revision: row.revision,
        })
    }
}

const ACTIVITY_COLUMNS: &str = "id, kind, subject, notes, outcome, starts_at, ends_at, \
     opportunity_id, account_id, contact_id, lead_id, owner_id, owner_team_path, created_by, \
     created_at, updated_by, updated_at, revision";

/// Inserts an activity; `false` when its id is taken (a retried log, or someone else's).
pub(crate) async fn insert_activity(
    connection: &mut PgConnection,
    activity: &Activity,
) -> sqlx::Result<bool> {
    let content = &activity.content;
    let inserted = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO activities ({ACTIVITY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
         $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) ON CONFLICT (id) DO NOTHING"
    )))
    .bind(activity.id)
    .bind(content.kind.as_str())
    .bind(&content.subject)
    .bind(&content.notes)
    .bind(&content.outcome)
    .bind(content.starts_at)
    .bind(content.ends_at)
    .bind(activity.regarding.opportunity_id)
    .bind(activity.regarding.account_id)
    .bind(activity.regarding.contact_id)
    .bind(activity.regarding.lead_id)
    .bind(activity.owner_id)
    .bind(activity.owner_team_path.as_str())
    .bind(activity.created_by)
    .bind(activity.created_at)
    .bind(activity.updated_by)
    .bind(activity.updated_at)
    .bind(activity.revision)
    .execute(connection)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// One activity; `lock` holds it for the transaction.
pub(crate) async fn get_activity(
    connection: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> sqlx::Result<Option<Activity>> {
    let row: Option<ActivityRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ACTIVITY_COLUMNS} FROM activities WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    )))
    .bind(id)
    .fetch_optional(connection)
    .await?;
    row.map(Activity::try_from).transpose()
}

/// Writes an activity's content (what it regards and who did it never change).
pub(crate) async fn update_activity(
    connection: &mut PgConnection,
    activity: &Activity,
) -> sqlx::Result<()> {
    let content = &activity.content;
    sqlx::query(
        "UPDATE activities SET kind = $2, subject = $3, notes = $4, outcome = $5, \
         starts_at = $6, ends_at = $7, updated_by = $8, updated_at = $9, revision = $10 \
         WHERE id = $1",
    )
    .bind(activity.id)
    .bind(content.kind.as_str())
    .bind(&content.subject)
    .bind(&content.notes)
    .bind(&content.outcome)
    .bind(content.starts_at)
    .bind(content.ends_at)
    .bind(activity.updated_by)
    .bind(activity.updated_at)
    .bind(activity.revision)
    .execute(connection)
    .await
    .map(drop)
}

/// The deal had an activity at `at`: its last activity advances (never back) and its stale
/// episode ends. The deal's version does not change: this is no change of the deal's state.
pub(crate) async fn touch_deal(
    connection: &mut PgConnection,
    opportunity_id: Uuid,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE opportunities SET last_activity_at = GREATEST(last_activity_at, $2), \
         stale_flagged_at = NULL WHERE id = $1",
    )
    .bind(opportunity_id)
    .bind(at)
    .execute(connection)
    .await
    .map(drop)
}

/// ` AND` a column per id given.
fn push_regarding(query: &mut QueryBuilder<Postgres>, regarding: &Regarding) {
    for (column, id) in [
        ("opportunity_id", regarding.opportunity_id),
        ("account_id", regarding.account_id),
        ("contact_id", regarding.contact_id),
        ("lead_id", regarding.lead_id),
    ] {
        if let Some(id) = id {
            query.push(format!(" AND {column} = ")).push_bind(id);
        }
    }
}

/// What ListActivities (and the calendar, and later work reports) filter on.
#[derive(Debug, Clone, Default)]
pub(crate) struct ActivityFilter {
    pub regarding: Regarding,
    pub owner_id: Option<Uuid>,
    pub kinds: Vec<ActivityKind>,
    pub starts_from: Option<DateTime<Utc>>,
    pub starts_before: Option<DateTime<Utc>>,
    /// Only activities regarding this account, one of its deals or one of its contacts (the
    /// account's deal desk).
    pub customer: Option<Uuid>,
}

/// One page of the activities `reader` may read (owner, team subtree, admin), in the page's
/// order (newest first for listings).
pub(crate) async fn list_activities(
    connection: &mut PgConnection,
    reader: &Caller,
    filter: &ActivityFilter,
    page: &Page,
) -> sqlx::Result<Vec<Activity>> {
    let mut query = QueryBuilder::<Postgres>::new(format!(
        "SELECT {ACTIVITY_COLUMNS} FROM activities WHERE true"
    ));
    push_visibility(&mut query, &reader.visibility(), OWNER_COLUMNS);
    push_regarding(&mut query, &filter.regarding);
    if let Some(account_id) = filter.customer {
        // Deals of every status and contacts as the replicas last placed them: an activity is
        // about the customer whatever became of the deal since.
        query
            .push(" AND (account_id = ")
            .push_bind(account_id)
            .push(" OR opportunity_id IN (SELECT id FROM opportunities WHERE account_id = ")
            .push_bind(account_id)
            .push(") OR contact_id IN (SELECT id FROM contact_replicas WHERE account_id = ")
            .push_bind(account_id)
            .push("))");
    }
    if let Some(owner_id) = filter.owner_id {
        query.push(" AND owner_id = ").push_bind(owner_id);
    }
    if !filter.kinds.is_empty() {
        let kinds: Vec<&str> = filter.kinds.iter().map(|kind| kind.as_str()).collect();
        query.push(" AND kind = ANY(").push_bind(kinds).push(")");
    }
    if let Some(from) = filter.starts_from {
        query.push(" AND starts_at >= ").push_bind(from);
    }
    if let Some(before) = filter.starts_before {
        query.push(" AND starts_at < ").push_bind(before);
    }
    page.push_keyset(&mut query);
    let rows: Vec<ActivityRow> = query.build_query_as().fetch_all(connection).await?;
    rows.into_iter().map(Activity::try_from).collect()
}

#[derive(sqlx::FromRow)]
struct TaskRow {
    id: Uuid,
    title: String,
    notes: String,
    due_at: DateTime<Utc>,
    remind_at: Option<DateTime<Utc>>,
    reminder_sent_at: Option<DateTime<Utc>>,
    opportunity_id: Option<Uuid>,
    account_id: Option<Uuid>,
    contact_id: Option<Uuid>,
    lead_id: Option<Uuid>,
    owner_id: Uuid,
    owner_team_path: String,
    completed_at: Option<DateTime<Utc>>,
    completed_by: Option<Uuid>,
    created_by: Uuid,
    created_at: DateTime<Utc>,
    updated_by: Uuid,
    updated_at: DateTime<Utc>,
    revision: i64,
}

impl TryFrom<TaskRow> for Task {
    type Error = sqlx::Error;

    fn try_from(row: TaskRow) -> sqlx::Result<Self> {
        Ok(Task {
            id: row.id,
            content: TaskContent {
                title: row.title,
                notes: row.notes,
                due_at: row.due_at,
                remind_at: row.remind_at,
            },
            regarding: Regarding {
                opportunity_id: row.opportunity_id,
                account_id: row.account_id,
                contact_id: row.contact_id,
                lead_id: row.lead_id,
            },
            reminder_sent_at: row.reminder_sent_at,
            owner_id: row.owner_id,
            owner_team_path: stored_team(&row.owner_team_path)?,
            completed_at: row.completed_at,
            completed_by: row.completed_by,
            created_by: row.created_by,
            created_at: row.created_at,
            updated_by: row.updated_by,
            updated_at: row.updated_at,
            revision: row.revision,
        })
    }
}

const TASK_COLUMNS: &str = "id, title, notes, due_at, remind_at, reminder_sent_at, \
     opportunity_id, account_id, contact_id, lead_id, owner_id, owner_team_path, completed_at, \
     completed_by, created_by, created_at, updated_by, updated_at, revision";

/// Inserts a task in the caller's transaction; `false` when its id is taken. Other use cases
/// (customer-care reminders) create tasks with it inside their own transactions.
pub(crate) async fn insert_task(connection: &mut PgConnection, task: &Task) -> sqlx::Result<bool> {
    let inserted = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO tasks ({TASK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
         $11, $12, $13, $14, $15, $16, $17, $18, $19) ON CONFLICT (id) DO NOTHING"
    )))
    .bind(task.id)
    .bind(&task.content.title)
    .bind(&task.content.notes)
    .bind(task.content.due_at)
    .bind(task.content.remind_at)
    .bind(task.reminder_sent_at)
    .bind(task.regarding.opportunity_id)
    .bind(task.regarding.account_id)
    .bind(task.regarding.contact_id)
    .bind(task.regarding.lead_id)
    .bind(task.owner_id)
    .bind(task.owner_team_path.as_str())
    .bind(task.completed_at)
    .bind(task.completed_by)
    .bind(task.created_by)
    .bind(task.created_at)
    .bind(task.updated_by)
    .bind(task.updated_at)
    .bind(task.revision)
    .execute(connection)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// One task; `lock` holds it for the transaction.
pub(crate) async fn get_task(
    connection: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> sqlx::Result<Option<Task>> {
    let row: Option<TaskRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    )))
    .bind(id)
    .fetch_optional(connection)
    .await?;
    row.map(Task::try_from).transpose()
}

/// Writes a task's state (what it regards, its assignee and creation never change).
pub(crate) async fn update_task(connection: &mut PgConnection, task: &Task) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE tasks SET title = $2, notes = $3, due_at = $4, remind_at = $5, \
         reminder_sent_at = $6, completed_at = $7, completed_by = $8, updated_by = $9, \
         updated_at = $10, revision = $11 WHERE id = $1",
    )
    .bind(task.id)
    .bind(&task.content.title)
    .bind(&task.content.notes)
    .bind(task.content.due_at)
    .bind(task.content.remind_at)
    .bind(task.reminder_sent_at)
    .bind(task.completed_at)
    .bind(task.completed_by)
    .bind(task.updated_by)
    .bind(task.updated_at)
    .bind(task.revision)
    .execute(connection)
    .await
    .map(drop)
}

/// Which tasks a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum TaskState {
    #[default]
    Any,
    Open,
    Completed,
    /// Open and due before this time.
    OverdueAt(DateTime<Utc>),
}

#[derive(Debug, Clone, Default)]
pub(crate) struct TaskFilter {
    pub state: TaskState,
    pub assignee_id: Option<Uuid>,
    pub regarding: Regarding,
    pub due_from: Option<DateTime<Utc>>,
    pub due_before: Option<DateTime<Utc>>,
}

/// One page of the tasks `reader` may read (assignee, team subtree, admin), soonest due first.
pub(crate) async fn list_tasks(
    connection: &mut PgConnection,
    reader: &Caller,
    filter: &TaskFilter,
    page: &Page,
) -> sqlx::Result<Vec<Task>> {
    let mut query =
        QueryBuilder::<Postgres>::new(format!("SELECT {TASK_COLUMNS} FROM tasks WHERE true"));
    push_visibility(&mut query, &reader.visibility(), OWNER_COLUMNS);
    push_regarding(&mut query, &filter.regarding);
    if let Some(assignee_id) = filter.assignee_id {
        query.push(" AND owner_id = ").push_bind(assignee_id);
    }
    match filter.state {
        TaskState::Any => {}
        TaskState::Open => {
            query.push(" AND completed_at IS NULL");
        }
        TaskState::Completed => {
            query.push(" AND completed_at IS NOT NULL");
        }
        TaskState::OverdueAt(now) => {
            query
                .push(" AND completed_at IS NULL AND due_at < ")
                .push_bind(now);
        }
    }
    if let Some(from) = filter.due_from {
        query.push(" AND due_at >= ").push_bind(from);
    }
    if let Some(before) = filter.due_before {
        query.push(" AND due_at < ").push_bind(before);
    }
    page.push_keyset(&mut query);
    let rows: Vec<TaskRow> = query.build_query_as().fetch_all(connection).await?;
    rows.into_iter().map(Task::try_from).collect()
}

/// Claims up to `limit` open tasks whose reminder time has come and whose reminder is not yet
/// sent, skipping rows another transaction holds; the caller marks them in its transaction.
pub(crate) async fn due_reminders(
    connection: &mut PgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<Task>> {
    let rows: Vec<TaskRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {TASK_COLUMNS} FROM tasks WHERE completed_at IS NULL \
         AND reminder_sent_at IS NULL AND remind_at <= $1 ORDER BY remind_at, id LIMIT $2 \
         FOR UPDATE SKIP LOCKED"
    )))
    .bind(now)
    .bind(limit)
    .fetch_all(connection)
    .await?;
    rows.into_iter().map(Task::try_from).collect()
}

/// Marks reminders sent: the durable claim beside their events.
pub(crate) async fn mark_reminded(
    connection: &mut PgConnection,
    ids: &[Uuid],
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE tasks SET reminder_sent_at = $2 WHERE id = ANY($1)")
        .bind(ids)
        .bind(at)
        .execute(connection)
        .await
        .map(drop)
}

/// Up to `limit` of a user's activities starting in `[from, before)`, soonest first: a
/// calendar's (access is the caller's check on the user).
pub(crate) async fn calendar_activities(
    connection: &mut PgConnection,
    owner_id: Uuid,
    from: DateTime<Utc>,
    before: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<Activity>> {
    let rows: Vec<ActivityRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ACTIVITY_COLUMNS} FROM activities WHERE owner_id = $1 AND starts_at >= $2 \
         AND starts_at < $3 ORDER BY starts_at, id LIMIT $4"
    )))
    .bind(owner_id)
    .bind(from)
    .bind(before)
    .bind(limit)
    .fetch_all(connection)
    .await?;
    rows.into_iter().map(Activity::try_from).collect()
}

/// Up to `limit` of a user's tasks due in `[from, before)`, soonest first; `open_only` leaves
/// completed ones out (the feed's).
pub(crate) async fn calendar_tasks(
    connection: &mut PgConnection,
    owner_id: Uuid,
    from: DateTime<Utc>,
    before: DateTime<Utc>,
    open_only: bool,
    limit: i64,
) -> sqlx::Result<Vec<Task>> {
    let rows: Vec<TaskRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {TASK_COLUMNS} FROM tasks WHERE owner_id = $1 AND due_at >= $2 AND due_at < $3\
         {} ORDER BY due_at, id LIMIT $4",
        if open_only {
            " AND completed_at IS NULL"
        } else {
            ""
        }
    )))
    .bind(owner_id)
    .bind(from)
    .bind(before)
    .bind(limit)
    .fetch_all(connection)
    .await?;
    rows.into_iter().map(Task::try_from).collect()
}
