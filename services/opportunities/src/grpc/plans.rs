//! Deal plans' RPCs (`DealPlanService`): requests to domain inputs, every broken field named at
//! once as the request spells it; what only the plan can say (a task's milestone of another
//! plan, completing a completed milestone) is the service's refusal.

use crm_platform::{
    error::{Violations, required_text},
    paging,
};
use crm_proto::crm::opportunities::v1::{self as pb, deal_plan_service_server::DealPlanService};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    authenticated,
    deal_input::{id, version},
};
use crate::{
    error::OpportunitiesError,
    service::{MilestoneDraft, Opportunities, PlanChange, PlanView, TaskDraft},
};

const MAX_OBJECTIVE: usize = 2000;
const MAX_NAME: usize = 200;
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;
const MAX_POSITION: u32 = 1000;

pub(crate) struct PlansApi {
    opportunities: Opportunities,
}

impl PlansApi {
    pub(crate) fn new(opportunities: Opportunities) -> Self {
        Self { opportunities }
    }

    async fn change(
        &self,
        caller: &crm_platform::auth::Caller,
        opportunity_id: Uuid,
        change: PlanChange,
        expected_version: u64,
    ) -> Result<(pb::DealPlan, Option<Uuid>), Status> {
        let expected = version(expected_version)?;
        let (view, added) = self
            .opportunities
            .change_deal_plan(caller, opportunity_id, change, expected)
            .await?;
        Ok((view.message(), added))
    }
}

fn milestone_draft(input: Option<&pb::MilestoneInput>) -> Result<MilestoneDraft, Status> {
    let mut violations = Violations::new();
    let Some(input) = input else {
        violations.add("milestone", "must be given");
        return Err(OpportunitiesError::from(violations.into_result().unwrap_err()).into());
    };
    let name = required_text(&mut violations, "milestone.name", &input.name, MAX_NAME);
    let owner_id = violations.optional_id("milestone.owner_id", &input.owner_id);
    let due_on = violations.date("milestone.due_on", &input.due_on);
    if input.position > MAX_POSITION {
        violations.add(
            "milestone.position",
            format!("must be at most {MAX_POSITION}"),
        );
    }
    violations.into_result().map_err(OpportunitiesError::from)?;
    Ok(MilestoneDraft {
        name,
        owner_id,
        due_on: due_on.unwrap_or_default(),
        position: input.position,
    })
}

fn task_draft(input: Option<&pb::PlanTaskInput>) -> Result<TaskDraft, Status> {
    let mut violations = Violations::new();
    let Some(input) = input else {
        violations.add("task", "must be given");
        return Err(OpportunitiesError::from(violations.into_result().unwrap_err()).into());
    };
    let title = required_text(&mut violations, "task.title", &input.title, MAX_NAME);
    let owner_id = violations.optional_id("task.owner_id", &input.owner_id);
    let due_on = violations.date("task.due_on", &input.due_on);
    let milestone_id = violations.optional_id("task.milestone_id", &input.milestone_id);
    violations.into_result().map_err(OpportunitiesError::from)?;
    Ok(TaskDraft {
        title,
        owner_id,
        due_on: due_on.unwrap_or_default(),
        milestone_id,
    })
}

fn one_date(field: &str, value: &str) -> Result<Option<chrono::NaiveDate>, Status> {
    let mut violations = Violations::new();
    let day = violations.optional_date(field, value);
    violations.into_result().map_err(OpportunitiesError::from)?;
    Ok(day)
}

fn plan(view: &PlanView) -> Option<pb::DealPlan> {
    Some(view.message())
}

#[tonic::async_trait]
impl DealPlanService for PlansApi {
    async fn create_deal_plan(
        &self,
        request: Request<pb::CreateDealPlanRequest>,
    ) -> Result<Response<pb::CreateDealPlanResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let opportunity_id = violations.take(crm_platform::ids::parse_id(
            "opportunity_id",
            &request.opportunity_id,
        ));
        let objective = required_text(
            &mut violations,
            "objective",
            &request.objective,
            MAX_OBJECTIVE,
        );
        violations.into_result().map_err(OpportunitiesError::from)?;
        let view = self
            .opportunities
            .create_deal_plan(&caller, opportunity_id.unwrap_or_default(), objective)
            .await?;
        Ok(Response::new(pb::CreateDealPlanResponse {
            plan: plan(&view),
        }))
    }

    async fn get_deal_plan(
        &self,
        request: Request<pb::GetDealPlanRequest>,
    ) -> Result<Response<pb::GetDealPlanResponse>, Status> {
        let caller = authenticated(&request)?;
        let opportunity_id = id("opportunity_id", &request.get_ref().opportunity_id)?;
        let as_of = one_date("as_of", &request.get_ref().as_of)?;
        let view = self
            .opportunities
            .get_deal_plan(&caller, opportunity_id, as_of)
            .await?;
        Ok(Response::new(pb::GetDealPlanResponse { plan: plan(&view) }))
    }

    async fn list_deal_plans(
        &self,
        request: Request<pb::ListDealPlansRequest>,
    ) -> Result<Response<pb::ListDealPlansResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let as_of = one_date("as_of", &request.as_of)?;
        let mut violations = Violations::new();
        let limit = paging::limit(&mut violations, request.limit, DEFAULT_LIMIT, MAX_LIMIT);
        violations.into_result().map_err(OpportunitiesError::from)?;
        let views = self
            .opportunities
            .list_deal_plans(&caller, as_of, request.slipping_only, limit)
            .await?;
        Ok(Response::new(pb::ListDealPlansResponse {
            plans: views.iter().map(PlanView::message).collect(),
        }))
    }

    async fn add_milestone(
        &self,
        request: Request<pb::AddMilestoneRequest>,
    ) -> Result<Response<pb::AddMilestoneResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let opportunity_id = id("opportunity_id", &request.opportunity_id)?;
        let draft = milestone_draft(request.milestone.as_ref())?;
        let change = PlanChange::AddMilestone(draft);
        let (plan, added) = self
            .change(&caller, opportunity_id, change, request.expected_version)
            .await?;
        Ok(Response::new(pb::AddMilestoneResponse {
            plan: Some(plan),
            milestone_id: added.map(|id| id.to_string()).unwrap_or_default(),
        }))
    }

    async fn update_milestone(
        &self,
        request: Request<pb::UpdateMilestoneRequest>,
    ) -> Result<Response<pb::UpdateMilestoneResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let opportunity_id = id("opportunity_id", &request.opportunity_id)?;
        let milestone_id = id("milestone_id", &request.milestone_id)?;
        let draft = milestone_draft(request.milestone.as_ref())?;
        let change = PlanChange::UpdateMilestone(milestone_id, draft);
        let (plan, _) = self
            .change(&caller, opportunity_id, change, request.expected_version)
            .await?;
        Ok(Response::new(pb::UpdateMilestoneResponse {
            plan: Some(plan),
        }))
    }

    async fn complete_milestone(
        &self,
        request: Request<pb::CompleteMilestoneRequest>,
    ) -> Result<Response<pb::CompleteMilestoneResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let opportunity_id = id("opportunity_id", &request.opportunity_id)?;
        let milestone_id = id("milestone_id", &request.milestone_id)?;
        let on = one_date("completed_on", &request.completed_on)?;
        let change = PlanChange::CompleteMilestone(milestone_id, on);
        let (plan, _) = self
            .change(&caller, opportunity_id, change, request.expected_version)
            .await?;
        Ok(Response::new(pb::CompleteMilestoneResponse {
            plan: Some(plan),
        }))
    }

    async fn reopen_milestone(
        &self,
        request: Request<pb::ReopenMilestoneRequest>,
    ) -> Result<Response<pb::ReopenMilestoneResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let opportunity_id = id("opportunity_id", &request.opportunity_id)?;
        let milestone_id = id("milestone_id", &request.milestone_id)?;
        let change = PlanChange::ReopenMilestone(milestone_id);
        let (plan, _) = self
            .change(&caller, opportunity_id, change, request.expected_version)
            .await?;
        Ok(Response::new(pb::ReopenMilestoneResponse {
            plan: Some(plan),
        }))
    }

    async fn remove_milestone(
        &self,
        request: Request<pb::RemoveMilestoneRequest>,
    ) -> Result<Response<pb::RemoveMilestoneResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let opportunity_id = id("opportunity_id", &request.opportunity_id)?;
        let milestone_id = id("milestone_id", &request.milestone_id)?;
        let change = PlanChange::RemoveMilestone(milestone_id);
        let (plan, _) = self
            .change(&caller, opportunity_id, change, request.expected_version)
            .await?;
        Ok(Response::new(pb::RemoveMilestoneResponse {
            plan: Some(plan),
        }))
    }

    async fn add_plan_task(
        &self,
        request: Request<pb::AddPlanTaskRequest>,
    ) -> Result<Response<pb::AddPlanTaskResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let opportunity_id = id("opportunity_id", &request.opportunity_id)?;
        let draft = task_draft(request.task.as_ref())?;
        let change = PlanChange::AddTask(draft);
        let (plan, added) = self
            .change(&caller, opportunity_id, change, request.expected_version)
            .await?;
        Ok(Response::new(pb::AddPlanTaskResponse {
            plan: Some(plan),
            task_id: added.map(|id| id.to_string()).unwrap_or_default(),
        }))
    }

    async fn update_plan_task(
        &self,
        request: Request<pb::UpdatePlanTaskRequest>,
    ) -> Result<Response<pb::UpdatePlanTaskResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let opportunity_id = id("opportunity_id", &request.opportunity_id)?;
        let task_id = id("task_id", &request.task_id)?;
        let draft = task_draft(request.task.as_ref())?;
        let change = PlanChange::UpdateTask(task_id, draft);
        let (plan, _) = self
            .change(&caller, opportunity_id, change, request.expected_version)
            .await?;
        Ok(Response::new(pb::UpdatePlanTaskResponse {
            plan: Some(plan),
        }))
    }

    async fn complete_plan_task(
        &self,
        request: Request<pb::CompletePlanTaskRequest>,
    ) -> Result<Response<pb::CompletePlanTaskResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let opportunity_id = id("opportunity_id", &request.opportunity_id)?;
        let task_id = id("task_id", &request.task_id)?;
        let on = one_date("done_on", &request.done_on)?;
        let change = PlanChange::CompleteTask(task_id, request.done, on);
        let (plan, _) = self
            .change(&caller, opportunity_id, change, request.expected_version)
            .await?;
        Ok(Response::new(pb::CompletePlanTaskResponse {
            plan: Some(plan),
        }))
    }

    async fn remove_plan_task(
        &self,
        request: Request<pb::RemovePlanTaskRequest>,
    ) -> Result<Response<pb::RemovePlanTaskResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let opportunity_id = id("opportunity_id", &request.opportunity_id)?;
        let task_id = id("task_id", &request.task_id)?;
        let change = PlanChange::RemoveTask(task_id);
        let (plan, _) = self
            .change(&caller, opportunity_id, change, request.expected_version)
            .await?;
        Ok(Response::new(pb::RemovePlanTaskResponse {
            plan: Some(plan),
        }))
    }
}
