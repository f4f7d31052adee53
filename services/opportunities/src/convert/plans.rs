//! Deal plans, domain → wire: what DealPlanService returns and the plan events carry, as of a
//! day.

use chrono::NaiveDate;
use crm_platform::time::to_timestamp;
use crm_proto::crm::opportunities::v1 as pb;

use crate::{
    domain::plan::{DealPlan, Milestone, PlanStatus},
    store::plans::PlanDeal,
};

fn optional<T: ToString>(value: Option<T>) -> String {
    value.map(|value| value.to_string()).unwrap_or_default()
}

fn status(status: PlanStatus) -> pb::PlanStatus {
    match status {
        PlanStatus::OnTrack => pb::PlanStatus::OnTrack,
        PlanStatus::AtRisk => pb::PlanStatus::AtRisk,
        PlanStatus::Slipping => pb::PlanStatus::Slipping,
    }
}

pub(crate) fn milestone(milestone: &Milestone, as_of: NaiveDate) -> pb::Milestone {
    pb::Milestone {
        id: milestone.id.to_string(),
        name: milestone.name.clone(),
        owner_id: milestone.owner_id.to_string(),
        due_on: milestone.due_on.to_string(),
        position: milestone.position,
        completed_on: optional(milestone.completed_on),
        completed_by: optional(milestone.completed_by),
        days_late: milestone.days_late(as_of),
    }
}

pub(crate) fn plan(plan: &DealPlan, deal: &PlanDeal, as_of: NaiveDate) -> pb::DealPlan {
    let progress = plan.progress();
    let slippage = plan.slippage(as_of);
    pb::DealPlan {
        id: plan.id.to_string(),
        opportunity_id: plan.opportunity_id.to_string(),
        opportunity_name: deal.name.clone(),
        owner_id: deal.owner_id.to_string(),
        owner_team_path: deal.owner_team_path.to_string(),
        objective: plan.objective.clone(),
        milestones: plan
            .milestones
            .iter()
            .map(|m| milestone(m, as_of))
            .collect(),
        tasks: plan
            .tasks
            .iter()
            .map(|task| pb::PlanTask {
                id: task.id.to_string(),
                milestone_id: optional(task.milestone_id),
                title: task.title.clone(),
                owner_id: task.owner_id.to_string(),
                due_on: task.due_on.to_string(),
                done_on: optional(task.done_on),
                position: task.position,
                overdue: task.overdue(as_of),
            })
            .collect(),
        as_of: as_of.to_string(),
        progress: Some(pb::PlanProgress {
            completed_items: progress.completed_items,
            items: progress.items,
            percent: progress.percent,
        }),
        slippage: Some(pb::PlanSlippage {
            late_milestones: slippage.late_milestones,
            max_days_late: slippage.max_days_late,
            overdue_tasks: slippage.overdue_tasks,
        }),
        status: status(plan.status(as_of)).into(),
        created_by: plan.created_by.to_string(),
        created_at: Some(to_timestamp(plan.created_at)),
        updated_by: plan.updated_by.to_string(),
        updated_at: Some(to_timestamp(plan.updated_at)),
        version: u64::try_from(plan.revision).unwrap_or_default(),
    }
}
