//! SQL for deal plans: the plan's row, its milestones' and its tasks' rows, read and written
//! whole with the plan; the board's late milestones and the scheduled check's due slips.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::{
    access::{OwnerColumns, push_visibility},
    auth::Caller,
};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{corrupt, stored_team};
use crate::domain::{
    opportunity::OpportunityStatus,
    plan::{DealPlan, LateMilestones, Milestone, PlanTask},
};

/// The deal a plan is shown with: its name and who owns it.
#[derive(Debug, Clone)]
pub(crate) struct PlanDeal {
    pub name: String,
    pub owner_id: Uuid,
    pub owner_team_path: crm_platform::auth::TeamPath,
}

#[derive(sqlx::FromRow)]
struct PlanRow {
    id: Uuid,
    opportunity_id: Uuid,
    objective: String,
    created_by: Uuid,
    created_at: DateTime<Utc>,
    updated_by: Uuid,
    updated_at: DateTime<Utc>,
    revision: i64,
}

#[derive(sqlx::FromRow)]
struct MilestoneRow {
    id: Uuid,
    plan_id: Uuid,
    name: String,
    owner_id: Uuid,
    due_on: NaiveDate,
    position: i32,
    completed_on: Option<NaiveDate>,
    completed_by: Option<Uuid>,
}

#[derive(sqlx::FromRow)]
struct TaskRow {
    id: Uuid,
    plan_id: Uuid,
    milestone_id: Option<Uuid>,
    title: String,
    owner_id: Uuid,
    due_on: NaiveDate,
    done_on: Option<NaiveDate>,
    position: i32,
}

const PLAN_COLUMNS: &str =
    "id, opportunity_id, objective, created_by, created_at, updated_by, updated_at, revision";

fn position(value: i32) -> sqlx::Result<u32> {
    u32::try_from(value).map_err(corrupt)
}

/// The plans of `rows` with their milestones and tasks, in `rows`' order.
async fn assemble(
    connection: &mut PgConnection,
    rows: Vec<PlanRow>,
) -> sqlx::Result<Vec<DealPlan>> {
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let milestones: Vec<MilestoneRow> = sqlx::query_as(
        "SELECT id, plan_id, name, owner_id, due_on, position, completed_on, completed_by \
         FROM plan_milestones WHERE plan_id = ANY($1) ORDER BY plan_id, position",
    )
    .bind(&ids)
    .fetch_all(&mut *connection)
    .await?;
    let tasks: Vec<TaskRow> = sqlx::query_as(
        "SELECT id, plan_id, milestone_id, title, owner_id, due_on, done_on, position \
         FROM plan_tasks WHERE plan_id = ANY($1) ORDER BY plan_id, position",
    )
    .bind(&ids)
    .fetch_all(&mut *connection)
    .await?;
    let mut plans: Vec<DealPlan> = rows
        .into_iter()
        .map(|row| DealPlan {
            id: row.id,
            opportunity_id: row.opportunity_id,
            objective: row.objective,
            milestones: Vec::new(),
            tasks: Vec::new(),
            created_by: row.created_by,
            created_at: row.created_at,
            updated_by: row.updated_by,
            updated_at: row.updated_at,
            revision: row.revision,
        })
        .collect();
    let index: HashMap<Uuid, usize> = plans
        .iter()
        .enumerate()
        .map(|(at, plan)| (plan.id, at))
        .collect();
    for row in milestones {
        let milestone = Milestone {
            id: row.id,
            name: row.name,
            owner_id: row.owner_id,
            due_on: row.due_on,
            position: position(row.position)?,
            completed_on: row.completed_on,
            completed_by: row.completed_by,
        };
        plans[index[&row.plan_id]].milestones.push(milestone);
    }
    for row in tasks {
        let task = PlanTask {
            id: row.id,
            milestone_id: row.milestone_id,
            title: row.title,
            owner_id: row.owner_id,
            due_on: row.due_on,
            done_on: row.done_on,
            position: position(row.position)?,
        };
        plans[index[&row.plan_id]].tasks.push(task);
    }
    Ok(plans)
}

/// The deal's plan, its row locked when `lock` (the plan's writes are serialised by it).
pub(crate) async fn get_plan(
    connection: &mut PgConnection,
    opportunity_id: Uuid,
    lock: bool,
) -> sqlx::Result<Option<DealPlan>> {
    let row: Option<PlanRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PLAN_COLUMNS} FROM deal_plans WHERE opportunity_id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    )))
    .bind(opportunity_id)
    .fetch_optional(&mut *connection)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(assemble(connection, vec![row]).await?.pop())
}

/// Writes a new plan (without items); `false` when the deal has a plan already.
pub(crate) async fn insert_plan(
    connection: &mut PgConnection,
    plan: &DealPlan,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO deal_plans (id, opportunity_id, objective, created_by, created_at, \
         updated_by, updated_at, revision) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (opportunity_id) DO NOTHING",
    )
    .bind(plan.id)
    .bind(plan.opportunity_id)
    .bind(&plan.objective)
    .bind(plan.created_by)
    .bind(plan.created_at)
    .bind(plan.updated_by)
    .bind(plan.updated_at)
    .bind(plan.revision)
    .execute(connection)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Writes the plan whole: its row, its milestones and tasks (removed ones deleted). A
/// milestone's slip mark stays as the scheduled check wrote it.
pub(crate) async fn save_plan(connection: &mut PgConnection, plan: &DealPlan) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE deal_plans SET objective = $2, updated_by = $3, updated_at = $4, revision = $5 \
         WHERE id = $1",
    )
    .bind(plan.id)
    .bind(&plan.objective)
    .bind(plan.updated_by)
    .bind(plan.updated_at)
    .bind(plan.revision)
    .execute(&mut *connection)
    .await?;
    let task_ids: Vec<Uuid> = plan.tasks.iter().map(|task| task.id).collect();
    sqlx::query("DELETE FROM plan_tasks WHERE plan_id = $1 AND NOT (id = ANY($2))")
        .bind(plan.id)
        .bind(&task_ids)
        .execute(&mut *connection)
        .await?;
    let milestone_ids: Vec<Uuid> = plan.milestones.iter().map(|m| m.id).collect();
    sqlx::query("DELETE FROM plan_milestones WHERE plan_id = $1 AND NOT (id = ANY($2))")
        .bind(plan.id)
        .bind(&milestone_ids)
        .execute(&mut *connection)
        .await?;
    for milestone in &plan.milestones {
        sqlx::query(
            "INSERT INTO plan_milestones (id, plan_id, opportunity_id, name, owner_id, due_on, \
             position, completed_on, completed_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (id) DO UPDATE SET name = $4, owner_id = $5, due_on = $6, \
             position = $7, completed_on = $8, completed_by = $9",
        )
        .bind(milestone.id)
        .bind(plan.id)
        .bind(plan.opportunity_id)
        .bind(&milestone.name)
        .bind(milestone.owner_id)
        .bind(milestone.due_on)
        .bind(milestone.position as i32)
        .bind(milestone.completed_on)
        .bind(milestone.completed_by)
        .execute(&mut *connection)
        .await?;
    }
    for task in &plan.tasks {
        sqlx::query(
            "INSERT INTO plan_tasks (id, plan_id, milestone_id, title, owner_id, due_on, \
             done_on, position) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (id) DO UPDATE SET milestone_id = $3, title = $4, owner_id = $5, \
             due_on = $6, done_on = $7, position = $8",
        )
        .bind(task.id)
        .bind(plan.id)
        .bind(task.milestone_id)
        .bind(&task.title)
        .bind(task.owner_id)
        .bind(task.due_on)
        .bind(task.done_on)
        .bind(task.position as i32)
        .execute(&mut *connection)
        .await?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct ListedRow {
    id: Uuid,
    name: String,
    owner_id: Uuid,
    owner_team_path: String,
}

/// The plans of the deals in `reader`'s reach (archived deals' left out; of one account's
/// deals when `account_id` is given), most slipping on `as_of` first (most late milestones,
/// then most days late), at most `limit`.
pub(crate) async fn list_plans(
    connection: &mut PgConnection,
    reader: &Caller,
    account_id: Option<Uuid>,
    as_of: NaiveDate,
    slipping_only: bool,
    limit: u32,
) -> sqlx::Result<Vec<(DealPlan, PlanDeal)>> {
    let mut query = QueryBuilder::<Postgres>::new(
        "SELECT p.id, o.name, o.owner_id, o.owner_team_path, \
         count(m.id) AS late, coalesce(max(",
    );
    query
        .push_bind(as_of)
        .push(
            " - m.due_on), 0) AS days_late FROM deal_plans p \
              JOIN opportunities o ON o.id = p.opportunity_id \
              LEFT JOIN plan_milestones m ON m.plan_id = p.id AND m.completed_on IS NULL \
              AND m.due_on < ",
        )
        .push_bind(as_of)
        .push(" WHERE o.status <> ")
        .push_bind(OpportunityStatus::Archived as i16);
    if let Some(account_id) = account_id {
        query.push(" AND o.account_id = ").push_bind(account_id);
    }
    let columns = OwnerColumns {
        owner_id: "o.owner_id",
        team_path: "o.owner_team_path",
    };
    push_visibility(&mut query, &reader.visibility(), columns);
    query.push(" GROUP BY p.id, o.name, o.owner_id, o.owner_team_path");
    if slipping_only {
        query.push(" HAVING count(m.id) > 0");
    }
    query
        .push(" ORDER BY late DESC, days_late DESC, p.id LIMIT ")
        .push_bind(i64::from(limit));
    let listed: Vec<ListedRow> = query.build_query_as().fetch_all(&mut *connection).await?;
    let ids: Vec<Uuid> = listed.iter().map(|row| row.id).collect();
    let rows: Vec<PlanRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PLAN_COLUMNS} FROM deal_plans WHERE id = ANY($1) \
         ORDER BY array_position($1, id)"
    )))
    .bind(&ids)
    .fetch_all(&mut *connection)
    .await?;
    let plans = assemble(connection, rows).await?;
    plans
        .into_iter()
        .zip(listed)
        .map(|(plan, row)| {
            let deal = PlanDeal {
                name: row.name,
                owner_id: row.owner_id,
                owner_team_path: stored_team(&row.owner_team_path)?,
            };
            Ok((plan, deal))
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct LateRow {
    opportunity_id: Uuid,
    late: i64,
    days_late: i32,
}

/// The late milestones (past due on `as_of`, not completed) of each of `deals` that has any,
/// in one query over the open milestones' index: what the priority board shows beside a deal.
pub async fn late_milestones(
    connection: &mut PgConnection,
    deals: &[Uuid],
    as_of: NaiveDate,
) -> sqlx::Result<HashMap<Uuid, LateMilestones>> {
    let rows: Vec<LateRow> = sqlx::query_as(
        "SELECT opportunity_id, count(*) AS late, max($2 - due_on) AS days_late \
         FROM plan_milestones WHERE opportunity_id = ANY($1) AND completed_on IS NULL \
         AND due_on < $2 GROUP BY opportunity_id",
    )
    .bind(deals)
    .bind(as_of)
    .fetch_all(connection)
    .await?;
    rows.into_iter()
        .map(|row| {
            let late = LateMilestones {
                count: u32::try_from(row.late).map_err(corrupt)?,
                days_late_max: u32::try_from(row.days_late).map_err(corrupt)?,
            };
            Ok((row.opportunity_id, late))
        })
        .collect()
}

/// A milestone found late by the scheduled check, not yet published as slipped.
#[derive(sqlx::FromRow)]
pub(crate) struct DueSlip {
    pub id: Uuid,
    pub opportunity_id: Uuid,
    pub due_on: NaiveDate,
}

/// Milestones late on `as_of` whose slip for their current due date is unpublished, locked
/// (others' locked rows skipped: another run is publishing them), at most `limit`.
pub(crate) async fn due_slips(
    connection: &mut PgConnection,
    as_of: NaiveDate,
    limit: i64,
) -> sqlx::Result<Vec<DueSlip>> {
    sqlx::query_as(
        "SELECT id, opportunity_id, due_on FROM plan_milestones \
         WHERE completed_on IS NULL AND due_on < $1 \
         AND slipped_due_on IS DISTINCT FROM due_on \
         ORDER BY due_on, id LIMIT $2 FOR UPDATE SKIP LOCKED",
    )
    .bind(as_of)
    .bind(limit)
    .fetch_all(connection)
    .await
}

/// The durable mark: the milestone's slip for `due_on` is published.
pub(crate) async fn mark_slipped(
    connection: &mut PgConnection,
    milestone_id: Uuid,
    due_on: NaiveDate,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE plan_milestones SET slipped_due_on = $2 WHERE id = $1")
        .bind(milestone_id)
        .bind(due_on)
        .execute(connection)
        .await?;
    Ok(())
}
