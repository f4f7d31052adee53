//! Deal plans' use cases (O12): a plan per deal with milestones and tasks, read by whoever
//! reads the deal (`visible`), written by whoever may change it (`changeable`: in reach, the
//! deal open), each write at the plan's expected version with event deal_plan_changed carrying
//! the whole plan as of the day of the change; and the scheduled milestone check publishing
//! milestone_slipped once per milestone and due date.

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::{
    auth::Caller,
    error::{CommonError, FieldViolation, check_version, reasons::INCONSISTENT_FIELDS},
    org::OrgDirectory,
    schedule,
    time::to_timestamp,
};
use crm_proto::crm::opportunities::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Opportunities, Result, changeable, quotes::refused, visible};
use crate::{
    convert,
    domain::{
        opportunity::{Opportunity, OpportunityStatus},
        plan::{DealPlan, Milestone, PlanTask},
    },
    error::OpportunitiesError,
    store::{
        self,
        plans::{self as store_plans, PlanDeal},
    },
};

/// The scheduled check's job name (its advisory lock) and most milestones per run.
pub const MILESTONE_CHECK: &str = "milestone-check";
const SLIPS_PER_RUN: i64 = 500;

/// A plan with its deal, as of the day its figures are for.
#[derive(Debug, Clone)]
pub struct PlanView {
    pub plan: DealPlan,
    pub deal: PlanDeal,
    pub as_of: NaiveDate,
}

impl PlanView {
    pub fn message(&self) -> pb::DealPlan {
        convert::plans::plan(&self.plan, &self.deal, self.as_of)
    }
}

/// A milestone as the editor writes it.
#[derive(Debug, Clone)]
pub struct MilestoneDraft {
    pub name: String,
    /// `None`: the caller.
    pub owner_id: Option<Uuid>,
    pub due_on: NaiveDate,
    /// 1-based; 0: last (add) or unchanged (update).
    pub position: u32,
}

/// A task as the editor writes it.
#[derive(Debug, Clone)]
pub struct TaskDraft {
    pub title: String,
    /// `None`: the caller.
    pub owner_id: Option<Uuid>,
    pub due_on: NaiveDate,
    pub milestone_id: Option<Uuid>,
}

/// One write of a plan's items.
#[derive(Debug, Clone)]
pub enum PlanChange {
    AddMilestone(MilestoneDraft),
    UpdateMilestone(Uuid, MilestoneDraft),
    CompleteMilestone(Uuid, Option<NaiveDate>),
    ReopenMilestone(Uuid),
    RemoveMilestone(Uuid),
    AddTask(TaskDraft),
    UpdateTask(Uuid, TaskDraft),
    /// Done (on the day, `None`: today) or, `false`, open again.
    CompleteTask(Uuid, bool, Option<NaiveDate>),
    RemoveTask(Uuid),
}

fn plan_deal(deal: &Opportunity) -> PlanDeal {
    PlanDeal {
        name: deal.name.clone(),
        owner_id: deal.owner_id,
        owner_team_path: deal.owner_team_path.clone(),
    }
}

fn refusal(field: &str, text: &str) -> OpportunitiesError {
    refused(vec![FieldViolation::refusal(
        INCONSISTENT_FIELDS,
        field,
        text,
    )])
}

/// The user given as an owner, known to the directory (`None`: the caller).
async fn owner(
    connection: &mut PgConnection,
    caller: &Caller,
    requested: Option<Uuid>,
    field: &str,
) -> Result<Uuid> {
    let Some(owner_id) = requested.filter(|owner| *owner != caller.user_id) else {
        return Ok(caller.user_id);
    };
    match OrgDirectory::team_of(connection, owner_id).await? {
        Some(_) => Ok(owner_id),
        None => Err(
            CommonError::unusable_reference(field, "is not a user known to this service").into(),
        ),
    }
}

fn milestone_of(plan: &mut DealPlan, id: Uuid) -> Result<&mut Milestone> {
    plan.milestone_mut(id)
        .ok_or_else(|| OpportunitiesError::not_found("milestone", id))
}

fn task_of(plan: &mut DealPlan, id: Uuid) -> Result<&mut PlanTask> {
    plan.task_mut(id)
        .ok_or_else(|| OpportunitiesError::not_found("plan task", id))
}

impl Opportunities {
    /// The deal if the caller reads it, and its plan (NOT_FOUND without one).
    async fn readable_plan(
        &self,
        connection: &mut PgConnection,
        caller: &Caller,
        opportunity_id: Uuid,
    ) -> Result<(DealPlan, Opportunity)> {
        let deal = store::deals::get_deal(connection, opportunity_id, false)
            .await?
            .map(|(deal, _)| deal);
        let deal = visible(caller, opportunity_id, deal)?;
        let plan = store_plans::get_plan(connection, opportunity_id, false)
            .await?
            .ok_or_else(|| OpportunitiesError::not_found("deal plan", opportunity_id))?;
        Ok((plan, deal))
    }

    pub async fn get_deal_plan(
        &self,
        caller: &Caller,
        opportunity_id: Uuid,
        as_of: Option<NaiveDate>,
    ) -> Result<PlanView> {
        let mut connection = self.pool.acquire().await?;
        let (plan, deal) = self
            .readable_plan(&mut connection, caller, opportunity_id)
            .await?;
        Ok(PlanView {
            plan,
            deal: plan_deal(&deal),
            as_of: as_of.unwrap_or_else(today),
        })
    }

    /// The plans of the deals in the caller's reach, most slipping first.
    pub async fn list_deal_plans(
        &self,
        caller: &Caller,
        as_of: Option<NaiveDate>,
        slipping_only: bool,
        limit: u32,
    ) -> Result<Vec<PlanView>> {
        let as_of = as_of.unwrap_or_else(today);
        let mut connection = self.pool.acquire().await?;
        let plans =
            store_plans::list_plans(&mut connection, caller, None, as_of, slipping_only, limit)
                .await?;
        Ok(plans
            .into_iter()
            .map(|(plan, deal)| PlanView { plan, deal, as_of })
            .collect())
    }

    /// Writes the deal's plan (ALREADY_EXISTS when it has one), event deal_plan_changed.
    pub async fn create_deal_plan(
        &self,
        caller: &Caller,
        opportunity_id: Uuid,
        objective: String,
    ) -> Result<PlanView> {
        let mut transaction = self.pool.begin().await?;
        let deal = store::deals::get_deal(&mut transaction, opportunity_id, true)
            .await?
            .map(|(deal, _)| deal);
        let deal = changeable(
            caller,
            opportunity_id,
            deal,
            None,
            &[OpportunityStatus::Open],
            "planned",
        )?;
        let now = crm_platform::time::now();
        let plan = DealPlan {
            id: Uuid::now_v7(),
            opportunity_id,
            objective,
            milestones: Vec::new(),
            tasks: Vec::new(),
            created_by: caller.user_id,
            created_at: now,
            updated_by: caller.user_id,
            updated_at: now,
            revision: 1,
        };
        if !store_plans::insert_plan(&mut transaction, &plan).await? {
            return Err(OpportunitiesError::IdTaken {
                kind: "deal plan of opportunity",
                id: opportunity_id,
            });
        }
        let view = PlanView {
            plan,
            deal: plan_deal(&deal),
            as_of: now.date_naive(),
        };
        self.publish_plan(&mut transaction, &view, now).await?;
        self.outbox.commit(transaction).await?;
        Ok(view)
    }

    /// One write of the plan's items: the deal locked and changeable, the plan locked at the
    /// expected version; the plan's version goes up by one. Answers the plan and the id of an
    /// added milestone or task.
    pub async fn change_deal_plan(
        &self,
        caller: &Caller,
        opportunity_id: Uuid,
        change: PlanChange,
        expected_version: Option<i64>,
    ) -> Result<(PlanView, Option<Uuid>)> {
        let mut transaction = self.pool.begin().await?;
        self.remember(&mut transaction, caller).await?;
        let deal = store::deals::get_deal(&mut transaction, opportunity_id, true)
            .await?
            .map(|(deal, _)| deal);
        let deal = changeable(
            caller,
            opportunity_id,
            deal,
            None,
            &[OpportunityStatus::Open],
            "planned",
        )?;
        let mut plan = store_plans::get_plan(&mut transaction, opportunity_id, true)
            .await?
            .ok_or_else(|| OpportunitiesError::not_found("deal plan", opportunity_id))?;
        check_version("deal plan", plan.id, expected_version, plan.revision)?;
        let now = crm_platform::time::now();
        let added = apply(&mut transaction, caller, &mut plan, change, now).await?;
        plan.revision += 1;
        plan.updated_by = caller.user_id;
        plan.updated_at = now;
        store_plans::save_plan(&mut transaction, &plan).await?;
        let view = PlanView {
            plan,
            deal: plan_deal(&deal),
            as_of: now.date_naive(),
        };
        self.publish_plan(&mut transaction, &view, now).await?;
        self.outbox.commit(transaction).await?;
        Ok((view, added))
    }

    async fn publish_plan(
        &self,
        connection: &mut PgConnection,
        view: &PlanView,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let message = pb::DealPlanChanged {
            plan: Some(view.message()),
            change: Some(pb::ChangeContext {
                changed_by: view.plan.updated_by.to_string(),
                occurred_at: Some(to_timestamp(now)),
            }),
        };
        self.outbox
            .enqueue_for(
                connection,
                "deal_plan",
                view.plan.id,
                view.plan.revision,
                &message,
            )
            .await?;
        Ok(())
    }

    /// The scheduled milestone check: every milestone late on `now`'s day whose slip for its
    /// due date is unpublished gets event milestone_slipped and its durable mark, in one
    /// transaction under the job's lock (a second replica's run skips; rows another run holds
    /// are skipped too). Returns how many slipped.
    pub async fn run_milestone_check(&self, now: DateTime<Utc>) -> Result<u64> {
        let as_of = now.date_naive();
        let mut transaction = self.pool.begin().await?;
        if !schedule::try_lock(&mut transaction, MILESTONE_CHECK).await? {
            return Ok(0);
        }
        let slips = store_plans::due_slips(&mut transaction, as_of, SLIPS_PER_RUN).await?;
        let mut published = 0;
        for slip in slips {
            let Some(plan) =
                store_plans::get_plan(&mut transaction, slip.opportunity_id, false).await?
            else {
                continue;
            };
            let Some((deal, _)) =
                store::deals::get_deal(&mut transaction, slip.opportunity_id, false).await?
            else {
                continue;
            };
            let Some(milestone) = plan.milestones.iter().find(|m| m.id == slip.id) else {
                continue;
            };
            let message = pb::MilestoneSlipped {
                plan_id: plan.id.to_string(),
                opportunity_id: deal.id.to_string(),
                opportunity_name: deal.name.clone(),
                owner_id: deal.owner_id.to_string(),
                owner_team_path: deal.owner_team_path.to_string(),
                milestone: Some(convert::plans::milestone(milestone, as_of)),
                as_of: as_of.to_string(),
                plan_version: u64::try_from(plan.revision).unwrap_or_default(),
            };
            self.outbox
                .enqueue_for(
                    &mut transaction,
                    "deal_plan",
                    plan.id,
                    plan.revision,
                    &message,
                )
                .await?;
            store_plans::mark_slipped(&mut transaction, slip.id, slip.due_on).await?;
            published += 1;
        }
        self.outbox.commit(transaction).await?;
        Ok(published)
    }
}

fn today() -> NaiveDate {
    crm_platform::time::now().date_naive()
}

/// Applies one change to the plan in memory; the id of what it added.
async fn apply(
    connection: &mut PgConnection,
    caller: &Caller,
    plan: &mut DealPlan,
    change: PlanChange,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>> {
    match change {
        PlanChange::AddMilestone(draft) => {
            let owner_id = owner(connection, caller, draft.owner_id, "milestone.owner_id").await?;
            let id = Uuid::now_v7();
            plan.milestones.push(Milestone {
                id,
                name: draft.name,
                owner_id,
                due_on: draft.due_on,
                position: 0,
                completed_on: None,
                completed_by: None,
            });
            plan.place_milestone(id, draft.position);
            return Ok(Some(id));
        }
        PlanChange::UpdateMilestone(id, draft) => {
            let owner_id = owner(connection, caller, draft.owner_id, "milestone.owner_id").await?;
            let milestone = milestone_of(plan, id)?;
            milestone.name = draft.name;
            milestone.owner_id = owner_id;
            milestone.due_on = draft.due_on;
            if draft.position > 0 {
                plan.place_milestone(id, draft.position);
            }
        }
        PlanChange::CompleteMilestone(id, on) => {
            let milestone = milestone_of(plan, id)?;
            if milestone.completed_on.is_some() {
                return Err(refusal("milestone_id", "is completed already"));
            }
            milestone.completed_on = Some(on.unwrap_or_else(|| now.date_naive()));
            milestone.completed_by = Some(caller.user_id);
        }
        PlanChange::ReopenMilestone(id) => {
            let milestone = milestone_of(plan, id)?;
            if milestone.completed_on.is_none() {
                return Err(refusal("milestone_id", "is open"));
            }
            milestone.completed_on = None;
            milestone.completed_by = None;
        }
        PlanChange::RemoveMilestone(id) => {
            if !plan.remove_milestone(id) {
                return Err(OpportunitiesError::not_found("milestone", id));
            }
        }
        PlanChange::AddTask(draft) => {
            let owner_id = owner(connection, caller, draft.owner_id, "task.owner_id").await?;
            check_milestone(plan, draft.milestone_id)?;
            let id = Uuid::now_v7();
            let position = u32::try_from(plan.tasks.len() + 1).unwrap_or(u32::MAX);
            plan.tasks.push(PlanTask {
                id,
                milestone_id: draft.milestone_id,
                title: draft.title,
                owner_id,
                due_on: draft.due_on,
                done_on: None,
                position,
            });
            return Ok(Some(id));
        }
        PlanChange::UpdateTask(id, draft) => {
            let owner_id = owner(connection, caller, draft.owner_id, "task.owner_id").await?;
            check_milestone(plan, draft.milestone_id)?;
            let task = task_of(plan, id)?;
            task.title = draft.title;
            task.owner_id = owner_id;
            task.due_on = draft.due_on;
            task.milestone_id = draft.milestone_id;
        }
        PlanChange::CompleteTask(id, done, on) => {
            let task = task_of(plan, id)?;
            task.done_on = done.then(|| on.unwrap_or_else(|| now.date_naive()));
        }
        PlanChange::RemoveTask(id) => {
            if !plan.remove_task(id) {
                return Err(OpportunitiesError::not_found("plan task", id));
            }
        }
    }
    Ok(None)
}

/// A task's milestone is one of the plan's.
fn check_milestone(plan: &DealPlan, milestone_id: Option<Uuid>) -> Result<()> {
    match milestone_id {
        Some(id) if !plan.milestones.iter().any(|m| m.id == id) => Err(refusal(
            "task.milestone_id",
            "is not a milestone of this plan",
        )),
        _ => Ok(()),
    }
}
