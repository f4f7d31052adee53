//! The sales-process RPCs (`PipelineService`): requests to domain inputs, every broken field
//! named at once, as the request spells it (`stages[2].exit_criteria[0]`,
//! `stages.stages[1].kind` in an update).

use crate::domain::stale::MAX_STALE_AFTER_DAYS;
use crm_platform::{
    error::{FieldViolation, Violations, optional_text, required_text},
    ids::{expected_version, parse_id},
};
use crm_proto::crm::opportunities::v1::{self as pb, pipeline_service_server::PipelineService};
use tonic::{Request, Response, Status};

use super::{analytics::board_settings, authenticated};
use crate::{
    convert,
    domain::{
        criteria::ExitCriterion,
        pipeline::{ForecastCategory, StageDraft, StageGuidance, StageKind, validate_stage_list},
        settings::{BoardSettingsChanges, CloseOutcomeKind, CloseReason, Competitor},
    },
    error::OpportunitiesError,
    service::{CompetitorChanges, NewPipeline, Opportunities, PipelineChanges},
};

/// The most stages a pipeline has, criteria a stage has, tasks and playbooks its guidance has.
const MAX_STAGES: usize = 30;
const MAX_EXIT_CRITERIA: usize = 30;
const MAX_TASKS: usize = 50;
const MAX_PLAYBOOKS: usize = 20;

pub(crate) struct PipelinesApi {
    opportunities: Opportunities,
}

impl PipelinesApi {
    pub(crate) fn new(opportunities: Opportunities) -> Self {
        Self { opportunities }
    }
}

fn stage_kind(value: i32) -> Result<StageKind, String> {
    match pb::StageKind::try_from(value) {
        Ok(pb::StageKind::Open) => Ok(StageKind::Open),
        Ok(pb::StageKind::Won) => Ok(StageKind::Won),
        Ok(pb::StageKind::Lost) => Ok(StageKind::Lost),
        Ok(pb::StageKind::Unspecified) => Err("is required (open, won or lost)".to_owned()),
        Err(_) => Err(format!("{value} is not a stage kind")),
    }
}

fn forecast_category(value: i32) -> Result<ForecastCategory, String> {
    match pb::ForecastCategory::try_from(value) {
        Ok(pb::ForecastCategory::Pipeline) => Ok(ForecastCategory::Pipeline),
        Ok(pb::ForecastCategory::BestCase) => Ok(ForecastCategory::BestCase),
        Ok(pb::ForecastCategory::Commit) => Ok(ForecastCategory::Commit),
        Ok(pb::ForecastCategory::Closed) => Ok(ForecastCategory::Closed),
        Ok(pb::ForecastCategory::Omitted) => Ok(ForecastCategory::Omitted),
        Ok(pb::ForecastCategory::Unspecified) => Err("is required".to_owned()),
        Err(_) => Err(format!("{value} is not a forecast category")),
    }
}

fn exit_criteria(violations: &mut Violations, at: &str, texts: &[String]) -> Vec<ExitCriterion> {
    if texts.len() > MAX_EXIT_CRITERIA {
        violations.add(
            format!("{at}.exit_criteria"),
            format!("at most {MAX_EXIT_CRITERIA} criteria"),
        );
    }
    let mut criteria: Vec<ExitCriterion> = Vec::new();
    for (index, text) in texts.iter().enumerate() {
        let field = format!("{at}.exit_criteria[{index}]");
        // The criteria's forms (a field name, `custom_fields.<key>` …) and their repetition
        // are more than the schema states: refusals (422), as the stage list's own rules.
        let refuse = |description: String| {
            crm_platform::error::FieldViolation::refusal(
                crm_platform::error::reasons::INCONSISTENT_FIELDS,
                field.clone(),
                description,
            )
        };
        match ExitCriterion::parse(text) {
            Ok(criterion) if criteria.contains(&criterion) => {
                violations.push(refuse("repeats another criterion of the stage".to_owned()));
            }
            Ok(criterion) => criteria.push(criterion),
            Err(error) => violations.push(refuse(error)),
        }
    }
    criteria
}

fn guidance(
    violations: &mut Violations,
    at: &str,
    input: Option<&pb::StageGuidance>,
) -> StageGuidance {
    let Some(input) = input else {
        return StageGuidance::default();
    };
    let at = format!("{at}.guidance");
    if input.tasks.len() > MAX_TASKS {
        violations.add(format!("{at}.tasks"), format!("at most {MAX_TASKS} tasks"));
    }
    if input.playbook_article_ids.len() > MAX_PLAYBOOKS {
        violations.add(
            format!("{at}.playbook_article_ids"),
            format!("at most {MAX_PLAYBOOKS} articles"),
        );
    }
    StageGuidance {
        tasks: input
            .tasks
            .iter()
            .enumerate()
            .map(|(index, task)| {
                required_text(violations, &format!("{at}.tasks[{index}]"), task, 300)
            })
            .collect(),
        playbook_article_ids: input
            .playbook_article_ids
            .iter()
            .enumerate()
            .filter_map(|(index, id)| {
                violations.take(parse_id(&format!("{at}.playbook_article_ids[{index}]"), id))
            })
            .collect(),
        notes: optional_text(violations, &format!("{at}.notes"), &input.notes, 4000),
    }
}

/// A whole ordered stage list (`field`: how the request names it), each stage's fields and then
/// the list's rules. The list's rules are checked once every stage has a kind and a category
/// (they depend on them).
fn stage_list(
    field: &str,
    inputs: &[pb::StageInput],
) -> Result<Vec<StageDraft>, Vec<FieldViolation>> {
    let mut violations = Violations::new();
    if inputs.len() > MAX_STAGES {
        violations.add(field, format!("at most {MAX_STAGES} stages"));
    }
    let mut drafts = Vec::with_capacity(inputs.len());
    let mut every_kind_known = true;
    for (index, input) in inputs.iter().enumerate() {
        let at = format!("{field}[{index}]");
        let id = violations.optional_id(&format!("{at}.id"), &input.id);
        let name = required_text(&mut violations, &format!("{at}.name"), &input.name, 100);
        let kind = violations.check(&format!("{at}.kind"), stage_kind(input.kind));
        let default_probability = match u8::try_from(input.default_probability) {
            Ok(probability) if probability <= 100 => probability,
            _ => {
                violations.add(format!("{at}.default_probability"), "must be 0 to 100");
                100
            }
        };
        let category = violations.check(
            &format!("{at}.forecast_category"),
            forecast_category(input.forecast_category),
        );
        let exit_criteria = exit_criteria(&mut violations, &at, &input.exit_criteria);
        let guidance = guidance(&mut violations, &at, input.guidance.as_ref());
        let (Some(kind), Some(forecast_category)) = (kind, category) else {
            every_kind_known = false;
            continue;
        };
        drafts.push(StageDraft {
            id,
            name,
            kind,
            default_probability,
            forecast_category,
            exit_criteria,
            guidance,
            retired: input.retired,
        });
    }
    if every_kind_known && let Err(list) = validate_stage_list(field, &drafts) {
        list.into_iter()
            .for_each(|violation| violations.push(violation));
    }
    violations.into_result()?;
    Ok(drafts)
}

fn close_outcome(field: &str, value: i32) -> Result<Option<CloseOutcomeKind>, FieldViolation> {
    match pb::CloseOutcomeKind::try_from(value) {
        Ok(pb::CloseOutcomeKind::Won) => Ok(Some(CloseOutcomeKind::Won)),
        Ok(pb::CloseOutcomeKind::Lost) => Ok(Some(CloseOutcomeKind::Lost)),
        Ok(pb::CloseOutcomeKind::Unspecified) => Ok(None),
        Err(_) => Err(FieldViolation::new(
            field,
            format!("{value} is not a close outcome"),
        )),
    }
}

fn close_reason_message(reason: &CloseReason) -> pb::CloseReason {
    pb::CloseReason {
        id: reason.id.to_string(),
        outcome: match reason.outcome {
            CloseOutcomeKind::Won => pb::CloseOutcomeKind::Won,
            CloseOutcomeKind::Lost => pb::CloseOutcomeKind::Lost,
        }
        .into(),
        label: reason.label.clone(),
        retired: reason.retired,
    }
}

fn competitor_message(competitor: &Competitor) -> pb::Competitor {
    pb::Competitor {
        id: competitor.id.to_string(),
        name: competitor.name.clone(),
        website: competitor.website.clone(),
        description: competitor.description.clone(),
        retired: competitor.retired,
    }
}

/// A pipeline's stale threshold as given: at most [`MAX_STALE_AFTER_DAYS`] (the schema's
/// maximum, so INVALID_ARGUMENT).
fn stale_after_days(violations: &mut Violations, value: Option<u32>) -> Option<u32> {
    let days = value?;
    if days > MAX_STALE_AFTER_DAYS {
        violations.add(
            "stale_after_days",
            format!("must be at most {MAX_STALE_AFTER_DAYS}"),
        );
    }
    Some(days)
}

#[tonic::async_trait]
impl PipelineService for PipelinesApi {
    async fn create_pipeline(
        &self,
        request: Request<pb::CreatePipelineRequest>,
    ) -> Result<Response<pb::CreatePipelineResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let id = violations.optional_id("pipeline_id", &request.pipeline_id);
        let name = required_text(&mut violations, "name", &request.name, 100);
        let description = optional_text(&mut violations, "description", &request.description, 2000);
        let product_line =
            optional_text(&mut violations, "product_line", &request.product_line, 100);
        let stale_after_days = stale_after_days(&mut violations, request.stale_after_days);
        let stages = match stage_list("stages", &request.stages) {
            Ok(stages) => stages,
            Err(list) => {
                list.into_iter()
                    .for_each(|violation| violations.push(violation));
                Vec::new()
            }
        };
        violations.into_result().map_err(OpportunitiesError::from)?;
        let pipeline = self
            .opportunities
            .create_pipeline(
                &caller,
                NewPipeline {
                    id,
                    name,
                    description,
                    product_line,
                    is_default: request.is_default,
                    stale_after_days,
                    stages,
                },
            )
            .await?;
        Ok(Response::new(pb::CreatePipelineResponse {
            pipeline: Some(convert::pipeline(&pipeline)),
        }))
    }

    async fn get_pipeline(
        &self,
        request: Request<pb::GetPipelineRequest>,
    ) -> Result<Response<pb::GetPipelineResponse>, Status> {
        let caller = authenticated(&request)?;
        let id = parse_id("pipeline_id", &request.get_ref().pipeline_id)?;
        let pipeline = self.opportunities.get_pipeline(&caller, id).await?;
        Ok(Response::new(pb::GetPipelineResponse {
            pipeline: Some(convert::pipeline(&pipeline)),
        }))
    }

    async fn list_pipelines(
        &self,
        request: Request<pb::ListPipelinesRequest>,
    ) -> Result<Response<pb::ListPipelinesResponse>, Status> {
        let caller = authenticated(&request)?;
        let pipelines = self.opportunities.list_pipelines(&caller).await?;
        Ok(Response::new(pb::ListPipelinesResponse {
            pipelines: pipelines.iter().map(convert::pipeline).collect(),
        }))
    }

    async fn update_pipeline(
        &self,
        request: Request<pb::UpdatePipelineRequest>,
    ) -> Result<Response<pb::UpdatePipelineResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let id = parse_id("pipeline_id", &request.pipeline_id)?;
        let mut violations = Violations::new();
        let changes = PipelineChanges {
            name: request
                .name
                .map(|name| required_text(&mut violations, "name", &name, 100)),
            description: request
                .description
                .map(|text| optional_text(&mut violations, "description", &text, 2000)),
            product_line: request
                .product_line
                .map(|text| optional_text(&mut violations, "product_line", &text, 100)),
            stale_after_days: stale_after_days(&mut violations, request.stale_after_days),
            stages: request.stages.and_then(|list| {
                match stage_list("stages.stages", &list.stages) {
                    Ok(stages) => Some(stages),
                    Err(list) => {
                        list.into_iter()
                            .for_each(|violation| violations.push(violation));
                        None
                    }
                }
            }),
            make_default: request.make_default,
        };
        violations.into_result().map_err(OpportunitiesError::from)?;
        let pipeline = self
            .opportunities
            .update_pipeline(
                &caller,
                id,
                changes,
                expected_version("expected_version", request.expected_version)?,
            )
            .await?;
        Ok(Response::new(pb::UpdatePipelineResponse {
            pipeline: Some(convert::pipeline(&pipeline)),
        }))
    }

    async fn create_close_reason(
        &self,
        request: Request<pb::CreateCloseReasonRequest>,
    ) -> Result<Response<pb::CreateCloseReasonResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let outcome = match close_outcome("outcome", request.outcome) {
            Ok(Some(outcome)) => Some(outcome),
            Ok(None) => {
                violations.add("outcome", "is required (won or lost)");
                None
            }
            Err(violation) => {
                violations.push(violation);
                None
            }
        };
        let label = required_text(&mut violations, "label", &request.label, 100);
        violations.into_result().map_err(OpportunitiesError::from)?;
        let Some(outcome) = outcome else {
            return Err(OpportunitiesError::invalid("outcome", "is required (won or lost)").into());
        };
        let reason = self
            .opportunities
            .create_close_reason(&caller, outcome, label)
            .await?;
        Ok(Response::new(pb::CreateCloseReasonResponse {
            close_reason: Some(close_reason_message(&reason)),
        }))
    }

    async fn list_close_reasons(
        &self,
        request: Request<pb::ListCloseReasonsRequest>,
    ) -> Result<Response<pb::ListCloseReasonsResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let outcome = close_outcome("outcome", request.outcome)?;
        let reasons = self
            .opportunities
            .list_close_reasons(&caller, outcome, request.include_retired)
            .await?;
        Ok(Response::new(pb::ListCloseReasonsResponse {
            close_reasons: reasons.iter().map(close_reason_message).collect(),
        }))
    }

    async fn update_close_reason(
        &self,
        request: Request<pb::UpdateCloseReasonRequest>,
    ) -> Result<Response<pb::UpdateCloseReasonResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let id = parse_id("close_reason_id", &request.close_reason_id)?;
        let mut violations = Violations::new();
        let label = request
            .label
            .map(|label| required_text(&mut violations, "label", &label, 100));
        violations.into_result().map_err(OpportunitiesError::from)?;
        let reason = self
            .opportunities
            .update_close_reason(&caller, id, label, request.retired)
            .await?;
        Ok(Response::new(pb::UpdateCloseReasonResponse {
            close_reason: Some(close_reason_message(&reason)),
        }))
    }

    async fn create_competitor(
        &self,
        request: Request<pb::CreateCompetitorRequest>,
    ) -> Result<Response<pb::CreateCompetitorResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let name = required_text(&mut violations, "name", &request.name, 200);
        // The front door checks the website's form; the service keeps the text.
        let website = optional_text(&mut violations, "website", &request.website, 2048);
        let description = optional_text(&mut violations, "description", &request.description, 4000);
        violations.into_result().map_err(OpportunitiesError::from)?;
        let competitor = self
            .opportunities
            .create_competitor(&caller, name, website, description)
            .await?;
        Ok(Response::new(pb::CreateCompetitorResponse {
            competitor: Some(competitor_message(&competitor)),
        }))
    }

    async fn list_competitors(
        &self,
        request: Request<pb::ListCompetitorsRequest>,
    ) -> Result<Response<pb::ListCompetitorsResponse>, Status> {
        let caller = authenticated(&request)?;
        let competitors = self
            .opportunities
            .list_competitors(&caller, request.get_ref().include_retired)
            .await?;
        Ok(Response::new(pb::ListCompetitorsResponse {
            competitors: competitors.iter().map(competitor_message).collect(),
        }))
    }

    async fn update_competitor(
        &self,
        request: Request<pb::UpdateCompetitorRequest>,
    ) -> Result<Response<pb::UpdateCompetitorResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let id = parse_id("competitor_id", &request.competitor_id)?;
        let mut violations = Violations::new();
        let changes = CompetitorChanges {
            name: request
                .name
                .map(|name| required_text(&mut violations, "name", &name, 200)),
            website: request
                .website
                .map(|text| optional_text(&mut violations, "website", &text, 2048)),
            description: request
                .description
                .map(|text| optional_text(&mut violations, "description", &text, 4000)),
            retired: request.retired,
        };
        violations.into_result().map_err(OpportunitiesError::from)?;
        let competitor = self
            .opportunities
            .update_competitor(&caller, id, changes)
            .await?;
        Ok(Response::new(pb::UpdateCompetitorResponse {
            competitor: Some(competitor_message(&competitor)),
        }))
    }

    async fn get_priority_board_settings(
        &self,
        request: Request<pb::GetPriorityBoardSettingsRequest>,
    ) -> Result<Response<pb::GetPriorityBoardSettingsResponse>, Status> {
        let caller = authenticated(&request)?;
        let settings = self.opportunities.board_settings(&caller).await?;
        Ok(Response::new(pb::GetPriorityBoardSettingsResponse {
            settings: Some(board_settings(&settings)),
        }))
    }

    async fn update_priority_board_settings(
        &self,
        request: Request<pb::UpdatePriorityBoardSettingsRequest>,
    ) -> Result<Response<pb::UpdatePriorityBoardSettingsResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let changes = BoardSettingsChanges {
            probability_weight: request.probability_weight,
            amount_weight: request.amount_weight,
            closeness_weight: request.closeness_weight,
            staleness_weight: request.staleness_weight,
            amount_scale: request.amount_scale,
            close_horizon_days: request.close_horizon_days,
        };
        let settings = self
            .opportunities
            .update_board_settings(
                &caller,
                changes,
                expected_version("expected_version", request.expected_version)?,
            )
            .await?;
        Ok(Response::new(pb::UpdatePriorityBoardSettingsResponse {
            settings: Some(board_settings(&settings)),
        }))
    }
}
