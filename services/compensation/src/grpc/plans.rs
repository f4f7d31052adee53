//! The plans' and assignments' RPCs (`PlanService`, `AssignmentService`).

use crm_platform::{
    error::{
        FieldViolation, Violations, optional_text, reasons::INCONSISTENT_FIELDS, required_text,
    },
    time::to_timestamp,
};
use crm_proto::crm::compensation::v1::{
    self as pb, assignment_service_server::AssignmentService, plan_service_server::PlanService,
};
use tonic::{Request, Response, Status};

use super::authenticated;
use crate::{
    convert,
    error::CompensationError,
    service::{AssignmentInput, Compensation, PlanInput},
    store::plans::{StoredAssignment, StoredPlan},
};

pub(crate) struct PlansApi {
    compensation: Compensation,
}

impl PlansApi {
    pub(crate) fn new(compensation: Compensation) -> Self {
        Self { compensation }
    }
}

fn plan_message(plan: &StoredPlan) -> pb::Plan {
    pb::Plan {
        plan_id: plan.id.to_string(),
        name: plan.name.clone(),
        description: plan.description.clone(),
        currency_code: plan.currency.as_str().to_owned(),
        versions: plan.versions.iter().map(convert::version_to_wire).collect(),
        revision: plan.revision as u64,
        updated_by: plan
            .updated_by
            .map(|user| user.to_string())
            .unwrap_or_default(),
        updated_at: Some(to_timestamp(plan.updated_at)),
    }
}

fn assignment_message(stored: &StoredAssignment) -> pb::Assignment {
    let assignment = &stored.assignment;
    pb::Assignment {
        assignment_id: assignment.id.to_string(),
        user_id: assignment.user_id.to_string(),
        plan_id: assignment.plan_id.to_string(),
        plan_name: stored.plan_name.clone(),
        from: assignment.from.to_string(),
        until: assignment
            .until
            .map(|until| until.to_string())
            .unwrap_or_default(),
        assigned_by: stored
            .assigned_by
            .map(|user| user.to_string())
            .unwrap_or_default(),
        assigned_at: Some(to_timestamp(stored.assigned_at)),
    }
}

#[tonic::async_trait]
impl PlanService for PlansApi {
    async fn save_plan(
        &self,
        request: Request<pb::SavePlanRequest>,
    ) -> Result<Response<pb::SavePlanResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let plan_id = violations.optional_id("plan_id", &request.plan_id);
        if plan_id.is_some() && request.revision == 0 {
            // Which fields go together is more than the schema says: a refusal for the data.
            violations.push(FieldViolation::refusal(
                INCONSISTENT_FIELDS,
                "revision",
                "is required with plan_id: the revision read",
            ));
        }
        let name = required_text(&mut violations, "name", &request.name, 200);
        let description = optional_text(&mut violations, "description", &request.description, 4000);
        let currency = violations.check(
            "currency_code",
            request
                .currency_code
                .trim()
                .parse::<crm_platform::money::CurrencyCode>(),
        );
        if request.versions.is_empty() {
            violations.add("versions", "a plan has at least one version");
        }
        let versions: Vec<_> = currency
            .map(|currency| {
                request
                    .versions
                    .iter()
                    .enumerate()
                    .map(|(index, version)| {
                        convert::version_from_wire(
                            &mut violations,
                            &format!("versions[{index}]"),
                            version,
                            currency,
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        violations.into_result().map_err(CompensationError::from)?;
        let (Some(currency), Some(versions)) =
            (currency, versions.into_iter().collect::<Option<Vec<_>>>())
        else {
            return Err(CompensationError::invalid("versions", "are invalid").into());
        };
        let plan = self
            .compensation
            .save_plan(
                &caller,
                PlanInput {
                    plan_id,
                    revision: request.revision,
                    name,
                    description,
                    currency,
                    versions,
                },
            )
            .await?;
        Ok(Response::new(pb::SavePlanResponse {
            plan: Some(plan_message(&plan)),
        }))
    }

    async fn get_plan(
        &self,
        request: Request<pb::GetPlanRequest>,
    ) -> Result<Response<pb::GetPlanResponse>, Status> {
        let caller = authenticated(&request)?;
        let id = crm_platform::ids::parse_id("plan_id", &request.get_ref().plan_id)
            .map_err(CompensationError::from)?;
        let plan = self.compensation.plan(&caller, id).await?;
        Ok(Response::new(pb::GetPlanResponse {
            plan: Some(plan_message(&plan)),
        }))
    }

    async fn list_plans(
        &self,
        request: Request<pb::ListPlansRequest>,
    ) -> Result<Response<pb::ListPlansResponse>, Status> {
        let caller = authenticated(&request)?;
        let plans = self.compensation.plans(&caller).await?;
        Ok(Response::new(pb::ListPlansResponse {
            plans: plans.iter().map(plan_message).collect(),
        }))
    }
}

#[tonic::async_trait]
impl AssignmentService for PlansApi {
    async fn assign_plan(
        &self,
        request: Request<pb::AssignPlanRequest>,
    ) -> Result<Response<pb::AssignPlanResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let user_id = violations.id("user_id", &request.user_id);
        let plan_id = violations.id("plan_id", &request.plan_id);
        let from = violations.date("from", &request.from);
        let until = violations.optional_date("until", &request.until);
        violations.into_result().map_err(CompensationError::from)?;
        let (Some(user_id), Some(plan_id), Some(from)) = (user_id, plan_id, from) else {
            return Err(CompensationError::invalid("user_id", "is required").into());
        };
        let stored = self
            .compensation
            .assign(
                &caller,
                AssignmentInput {
                    user_id,
                    plan_id,
                    from,
                    until,
                },
            )
            .await?;
        Ok(Response::new(pb::AssignPlanResponse {
            assignment: Some(assignment_message(&stored)),
        }))
    }

    async fn end_assignment(
        &self,
        request: Request<pb::EndAssignmentRequest>,
    ) -> Result<Response<pb::EndAssignmentResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let id = violations.id("assignment_id", &request.assignment_id);
        let until = violations.date("until", &request.until);
        violations.into_result().map_err(CompensationError::from)?;
        let (Some(id), Some(until)) = (id, until) else {
            return Err(CompensationError::invalid("until", "is required").into());
        };
        let stored = self.compensation.end_assignment(&caller, id, until).await?;
        Ok(Response::new(pb::EndAssignmentResponse {
            assignment: Some(assignment_message(&stored)),
        }))
    }

    async fn list_assignments(
        &self,
        request: Request<pb::ListAssignmentsRequest>,
    ) -> Result<Response<pb::ListAssignmentsResponse>, Status> {
        let caller = authenticated(&request)?;
        let mut violations = Violations::new();
        let user_id = violations.optional_id("user_id", &request.get_ref().user_id);
        violations.into_result().map_err(CompensationError::from)?;
        let assignments = self.compensation.assignments(&caller, user_id).await?;
        Ok(Response::new(pb::ListAssignmentsResponse {
            assignments: assignments.iter().map(assignment_message).collect(),
        }))
    }
}
