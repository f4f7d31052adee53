//! How Northwind sells, set up by Ada: Direct's Qualify stage asks for the budget and the
//! decision maker, a "Service contracts" pipeline for maintenance and parts, and the competitors
//! deals meet. Each is looked up first (Direct by its seeded id, the others by name) and written
//! only when missing, so a second run changes nothing.

use anyhow::Context;
use crm_platform::host::LocalGrpc;
use crm_proto::crm::opportunities::v1::{
    CreateCompetitorRequest, CreatePipelineRequest, ForecastCategory, ListCompetitorsRequest,
    Pipeline, StageGuidance, StageInput, StageKind, StageList, UpdatePipelineRequest,
    pipeline_service_client::PipelineServiceClient,
};
use uuid::Uuid;

use super::{
    ADA, Api,
    deal_history::{self, COMPETITORS},
    failed,
};

/// What a deal needs before it leaves Qualify (scenario step 4).
const QUALIFY_EXIT_CRITERIA: &[&str] = &["custom_fields.budget", "buying_committee.decision_maker"];

const SERVICE_PIPELINE: u128 = 0x0190_0000_0000_7000_8000_0000_5e7c_0001;
pub(super) const SERVICE_PIPELINE_NAME: &str = "Service contracts";

/// Direct's Qualify stage with the scenario's exit criteria, added unless it has them.
pub(super) async fn qualify_exit_criteria(
    api: &Api,
    pipelines: &mut PipelineServiceClient<LocalGrpc>,
    direct: &Pipeline,
) -> anyhow::Result<Pipeline> {
    let qualify = direct
        .stages
        .iter()
        .find(|stage| stage.name == deal_history::DIRECT_STAGES[0].name)
        .context("Direct has a Qualify stage")?;
    let missing: Vec<String> = QUALIFY_EXIT_CRITERIA
        .iter()
        .filter(|criterion| {
            !qualify
                .exit_criteria
                .iter()
                .any(|known| known == *criterion)
        })
        .map(|criterion| (*criterion).to_owned())
        .collect();
    if missing.is_empty() {
        return Ok(direct.clone());
    }
    // The whole stage list, each stage kept as it is (by id), Qualify with more criteria.
    let stages = direct
        .stages
        .iter()
        .map(|stage| StageInput {
            id: stage.id.clone(),
            name: stage.name.clone(),
            kind: stage.kind,
            default_probability: stage.default_probability,
            forecast_category: stage.forecast_category,
            exit_criteria: if stage.id == qualify.id {
                stage
                    .exit_criteria
                    .iter()
                    .cloned()
                    .chain(missing.clone())
                    .collect()
            } else {
                stage.exit_criteria.clone()
            },
            guidance: stage.guidance.clone(),
            retired: stage.retired,
        })
        .collect();
    pipelines
        .update_pipeline(api.as_member(
            &ADA,
            UpdatePipelineRequest {
                pipeline_id: direct.id.clone(),
                stages: Some(StageList { stages }),
                expected_version: direct.version,
                ..Default::default()
            },
        ))
        .await
        .map_err(failed("Direct's exit criteria"))?
        .into_inner()
        .pipeline
        .context("UpdatePipeline answers the pipeline")
}

/// The service-contract pipeline, created unless a pipeline has its name.
pub(super) async fn service_pipeline(
    api: &Api,
    pipelines: &mut PipelineServiceClient<LocalGrpc>,
    known: &[Pipeline],
) -> anyhow::Result<Pipeline> {
    if let Some(existing) = known
        .iter()
        .find(|pipeline| pipeline.name == SERVICE_PIPELINE_NAME)
    {
        return Ok(existing.clone());
    }
    let open = |profile: &deal_history::StageProfile, probability, category: ForecastCategory| {
        StageInput {
            name: profile.name.into(),
            kind: StageKind::Open as i32,
            default_probability: probability,
            forecast_category: category as i32,
            guidance: Some(StageGuidance {
                tasks: vec![profile.next_step.into()],
                ..Default::default()
            }),
            ..Default::default()
        }
    };
    let closing =
        |name: &str, kind: StageKind, probability, category: ForecastCategory| StageInput {
            name: name.into(),
            kind: kind as i32,
            default_probability: probability,
            forecast_category: category as i32,
            ..Default::default()
        };
    let [scope, quote] = deal_history::SERVICE_STAGES else {
        unreachable!("the service motion has two open stages")
    };
    let stages = vec![
        StageInput {
            exit_criteria: vec!["amount".into()],
            ..open(scope, 30, ForecastCategory::Pipeline)
        },
        open(quote, 70, ForecastCategory::BestCase),
        closing("Signed", StageKind::Won, 100, ForecastCategory::Closed),
        closing("Declined", StageKind::Lost, 0, ForecastCategory::Omitted),
    ];
    pipelines
        .create_pipeline(api.as_member(
            &ADA,
            CreatePipelineRequest {
                name: SERVICE_PIPELINE_NAME.into(),
                description:
                    "Maintenance, spare parts and remote monitoring of installed lines.".into(),
                product_line: "Services".into(),
                stages,
                is_default: false,
                pipeline_id: Uuid::from_u128(SERVICE_PIPELINE).to_string(),
                stale_after_days: None,
            },
        ))
        .await
        .map_err(failed("the service pipeline"))?
        .into_inner()
        .pipeline
        .context("CreatePipeline answers the pipeline")
}

/// The catalogue's id of each demo competitor (in [`COMPETITORS`]' order), adding the ones
/// no competitor's name matches.
pub(super) async fn competitors(
    api: &Api,
    pipelines: &mut PipelineServiceClient<LocalGrpc>,
) -> anyhow::Result<Vec<String>> {
    let catalogue = pipelines
        .list_competitors(api.as_member(
            &ADA,
            ListCompetitorsRequest {
                include_retired: true,
            },
        ))
        .await
        .map_err(failed("competitors"))?
        .into_inner()
        .competitors;
    let mut ids = Vec::new();
    for demo in COMPETITORS {
        if let Some(known) = catalogue.iter().find(|known| known.name == demo.name) {
            ids.push(known.id.clone());
            continue;
        }
        let created = pipelines
            .create_competitor(api.as_member(
                &ADA,
                CreateCompetitorRequest {
                    name: demo.name.into(),
                    website: demo.website.into(),
                    description: demo.description.into(),
                },
            ))
            .await
            .map_err(failed(format!("competitor {}", demo.name)))?
            .into_inner()
            .competitor
            .context("CreateCompetitor answers the competitor")?;
        ids.push(created.id);
    }
    Ok(ids)
}
