//! Domain → wire: the messages the API returns and the events carry.

pub(crate) mod account_desk;
pub(crate) mod activities;
pub(crate) mod care;
pub(crate) mod collections;
pub(crate) mod expenses;
pub(crate) mod orders;
pub(crate) mod plans;
pub(crate) mod quotes;
pub(crate) mod work_reports;

use crm_platform::time::to_timestamp;
use crm_proto::crm::opportunities::v1 as pb;

use crate::domain::{
    CorporateAmount,
    opportunity::{CloseOutcome, Opportunity, OpportunityStatus},
    pipeline::{ForecastCategory, Pipeline, Stage, StageKind},
};

pub(crate) fn stage_kind(kind: StageKind) -> pb::StageKind {
    match kind {
        StageKind::Open => pb::StageKind::Open,
        StageKind::Won => pb::StageKind::Won,
        StageKind::Lost => pb::StageKind::Lost,
    }
}

pub(crate) fn forecast_category(category: ForecastCategory) -> pb::ForecastCategory {
    match category {
        ForecastCategory::Pipeline => pb::ForecastCategory::Pipeline,
        ForecastCategory::BestCase => pb::ForecastCategory::BestCase,
        ForecastCategory::Commit => pb::ForecastCategory::Commit,
        ForecastCategory::Closed => pb::ForecastCategory::Closed,
        ForecastCategory::Omitted => pb::ForecastCategory::Omitted,
    }
}

pub(crate) fn status(status: OpportunityStatus) -> pb::OpportunityStatus {
    match status {
        OpportunityStatus::Open => pb::OpportunityStatus::Open,
        OpportunityStatus::Won => pb::OpportunityStatus::Won,
        OpportunityStatus::Lost => pb::OpportunityStatus::Lost,
        OpportunityStatus::Archived => pb::OpportunityStatus::Archived,
    }
}

pub(crate) fn stage(stage: &Stage) -> pb::Stage {
    pb::Stage {
        id: stage.id.to_string(),
        name: stage.name.clone(),
        position: stage.position,
        kind: stage_kind(stage.kind).into(),
        default_probability: u32::from(stage.default_probability),
        forecast_category: forecast_category(stage.forecast_category).into(),
        exit_criteria: stage
            .exit_criteria
            .iter()
            .map(ToString::to_string)
            .collect(),
        guidance: Some(pb::StageGuidance {
            tasks: stage.guidance.tasks.clone(),
            playbook_article_ids: stage
                .guidance
                .playbook_article_ids
                .iter()
                .map(ToString::to_string)
                .collect(),
            notes: stage.guidance.notes.clone(),
        }),
        retired: stage.retired,
    }
}

pub(crate) fn stage_summary(stage: &Stage) -> pb::StageSummary {
    pb::StageSummary {
        stage_id: stage.id.to_string(),
        name: stage.name.clone(),
        position: stage.position,
        kind: stage_kind(stage.kind).into(),
        forecast_category: forecast_category(stage.forecast_category).into(),
        default_probability: u32::from(stage.default_probability),
    }
}

pub(crate) fn pipeline(pipeline: &Pipeline) -> pb::Pipeline {
    pb::Pipeline {
        id: pipeline.id.to_string(),
        name: pipeline.name.clone(),
        description: pipeline.description.clone(),
        product_line: pipeline.product_line.clone(),
        stale_after_days: pipeline.stale_after_days,
        is_default: pipeline.is_default,
        stages: pipeline.stages.iter().map(stage).collect(),
        version: pipeline.version as u64,
        created_at: Some(to_timestamp(pipeline.created_at)),
        updated_at: Some(to_timestamp(pipeline.updated_at)),
    }
}

pub(crate) fn corporate_amount(corporate: &CorporateAmount) -> pb::CorporateAmount {
    pb::CorporateAmount {
        amount: Some(corporate.amount.to_message()),
        rate: corporate.rate.normalize().to_string(),
        rate_date: corporate.rate_date.to_string(),
    }
}

pub(crate) fn close_outcome(outcome: &CloseOutcome) -> pb::CloseOutcome {
    pb::CloseOutcome {
        close_reason_id: outcome.close_reason_id.to_string(),
        close_reason_label: outcome.close_reason_label.clone(),
        note: outcome.note.clone(),
        lost_to_competitor_id: outcome
            .lost_to_competitor_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        closed_on: outcome.closed_on.to_string(),
        closed_at: Some(to_timestamp(outcome.closed_at)),
        closed_by: outcome
            .closed_by
            .map(|id| id.to_string())
            .unwrap_or_default(),
    }
}

fn optional_id(id: Option<uuid::Uuid>) -> String {
    id.map(|id| id.to_string()).unwrap_or_default()
}

pub(crate) fn splits(splits: &[crate::domain::opportunity::RevenueSplit]) -> Vec<pb::RevenueSplit> {
    splits
        .iter()
        .map(|split| pb::RevenueSplit {
            user_id: split.user_id.to_string(),
            percent: split.percent.normalize().to_string(),
        })
        .collect()
}

/// The deal's full state, as the API returns it and every event carries it; `pipeline` is
/// the deal's own (its name and the stage's details come from it).
pub(crate) fn opportunity(deal: &Opportunity, pipeline: &Pipeline) -> pb::Opportunity {
    pb::Opportunity {
        id: deal.id.to_string(),
        name: deal.name.clone(),
        account_id: deal.account_id.to_string(),
        owner_id: deal.owner_id.to_string(),
        owner_team_path: deal.owner_team_path.to_string(),
        pipeline_id: deal.pipeline_id.to_string(),
        pipeline_name: pipeline.name.clone(),
        stage: pipeline.stage(deal.stage_id).map(stage_summary),
        effective_probability: u32::from(deal.effective_probability),
        probability_override: deal.probability_override.map(u32::from),
        amount: Some(deal.amount.to_message()),
        corporate_amount: deal.corporate.as_ref().map(corporate_amount),
        expected_close_date: deal.expected_close_date.to_string(),
        next_step: deal.next_step.clone(),
        source_lead_id: optional_id(deal.source_lead_id),
        campaign_id: optional_id(deal.campaign_id),
        custom_fields: deal
            .custom_fields
            .iter()
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect(),
        line_items: deal
            .line_items
            .iter()
            .map(|item| pb::LineItem {
                product_code: item.product_code.clone(),
                product_name: item.product_name.clone(),
                quantity: item.quantity.normalize().to_string(),
                unit_price: Some(item.unit_price.to_message()),
                discount_percent: item.discount_percent.normalize().to_string(),
                total: Some(item.total().to_message()),
            })
            .collect(),
        team: deal
            .team
            .iter()
            .map(|member| pb::DealTeamMember {
                user_id: member.user_id.to_string(),
                role: member.role.into(),
            })
            .collect(),
        splits: splits(&deal.splits),
        competitors: deal
            .competitors
            .iter()
            .map(|competitor| pb::DealCompetitor {
                competitor_id: competitor.competitor_id.to_string(),
                competitor_name: competitor.competitor_name.clone(),
                strengths: competitor.strengths.clone(),
                weaknesses: competitor.weaknesses.clone(),
                status: competitor.status.into(),
            })
            .collect(),
        buying_committee: deal
            .committee
            .iter()
            .map(|member| pb::CommitteeMember {
                contact_id: member.contact_id.to_string(),
                role: member.role.into(),
                attitude: member.attitude.into(),
                influences: member.influences.iter().map(ToString::to_string).collect(),
                note: member.note.clone(),
                contact_name: member.contact_name.clone(),
            })
            .collect(),
        status: status(deal.status).into(),
        outcome: deal.outcome.as_ref().map(close_outcome),
        stage_entered_at: Some(to_timestamp(deal.stage_entered_at)),
        version: deal.version as u64,
        created_at: Some(to_timestamp(deal.created_at)),
        updated_at: Some(to_timestamp(deal.updated_at)),
    }
}
