//! The two years of history ([`super::deal_history`]) as ImportOpportunities takes it, brought
//! in by Ada in batches. The deals' ids are made from their place in the history, and the import
//! skips deals that exist; the history is planned from where the first run's ended — its first
//! deal is created exactly [`deal_history::HISTORY_DAYS`] before — so a run on a later day
//! plans, and skips, the same deals.

use anyhow::Context;
use crm_platform::{host::LocalGrpc, time::to_timestamp};
use crm_proto::crm::{
    common::v1::Money,
    opportunities::v1::{
        DealCompetitor, GetOpportunityRequest, HistoricalOpportunity, HistoricalStay,
        ImportOpportunitiesRequest, OpportunityInput, Pipeline, StageKind,
        opportunity_service_client::OpportunityServiceClient,
    },
};
use tonic::Code;
use uuid::Uuid;

use super::{
    ADA, Api,
    deal_history::{
        self, COMPETITORS, LostReason, Motion, Outcome, PlannedDeal, StageAt, WonReason,
    },
    failed,
    opportunities::{budget, once_known},
};

/// The won and lost reasons the opportunities service seeds.
const WON_PRODUCT_FIT: u128 = 0x0190_0000_0000_7000_8000_0000_0000_0101;
const WON_PRICE: u128 = 0x0190_0000_0000_7000_8000_0000_0000_0102;
const WON_RELATIONSHIP: u128 = 0x0190_0000_0000_7000_8000_0000_0000_0103;
const LOST_PRICE: u128 = 0x0190_0000_0000_7000_8000_0000_0000_0111;
const LOST_TO_COMPETITOR: u128 = 0x0190_0000_0000_7000_8000_0000_0000_0112;
const LOST_NO_DECISION: u128 = 0x0190_0000_0000_7000_8000_0000_0000_0113;
const LOST_NO_BUDGET: u128 = 0x0190_0000_0000_7000_8000_0000_0000_0114;

/// The history's deal ids: this prefix and the deal's place in the history.
const HISTORY_IDS: u128 = 0x0190_0000_0000_7000_8000_00de_a100_0000;
/// Deals of the history per ImportOpportunities call (the call takes up to 1000).
const IMPORT_BATCH: usize = 500;

/// The stage ids of a motion's pipeline: the open stages in the motion's order, won, lost.
struct StageIds {
    pipeline_id: String,
    open: Vec<String>,
    won: String,
    lost: String,
}

impl StageIds {
    fn of(pipeline: &Pipeline, motion: Motion) -> anyhow::Result<Self> {
        let by_kind = |kind: StageKind| {
            pipeline
                .stages
                .iter()
                .find(|stage| stage.kind == kind as i32 && !stage.retired)
                .map(|stage| stage.id.clone())
                .with_context(|| format!("{} has a {kind:?} stage", pipeline.name))
        };
        let open = motion
            .stages()
            .iter()
            .map(|profile| {
                pipeline
                    .stages
                    .iter()
                    .find(|stage| {
                        stage.name == profile.name && stage.kind == StageKind::Open as i32
                    })
                    .map(|stage| stage.id.clone())
                    .with_context(|| format!("{} has a stage {}", pipeline.name, profile.name))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            pipeline_id: pipeline.id.clone(),
            open,
            won: by_kind(StageKind::Won)?,
            lost: by_kind(StageKind::Lost)?,
        })
    }

    fn id(&self, stage: StageAt) -> &str {
        match stage {
            StageAt::Open(index) => &self.open[index],
            StageAt::Won => &self.won,
            StageAt::Lost => &self.lost,
        }
    }
}

/// The history's deal ids.
fn history_id(number: u32) -> Uuid {
    Uuid::from_u128(HISTORY_IDS + u128::from(number))
}

/// Imports the two years of history, in batches; deals that exist are skipped.
pub(super) async fn history(
    api: &Api,
    deals: &OpportunityServiceClient<LocalGrpc>,
    direct: &Pipeline,
    service: &Pipeline,
    competitor_ids: &[String],
) -> anyhow::Result<()> {
    // Where a history loaded before ended: its first deal says (see deal_history).
    let first = deals
        .clone()
        .get_opportunity(api.as_member(
            &ADA,
            GetOpportunityRequest {
                opportunity_id: history_id(0).to_string(),
            },
        ))
        .await;
    let anchor = match first {
        Ok(response) => {
            let created_at = response
                .into_inner()
                .opportunity
                .and_then(|deal| deal.created_at)
                .and_then(|created_at| crm_platform::time::from_timestamp(&created_at))
                .context("a deal has a creation time")?;
            deal_history::anchor_of_first_deal(created_at)
        }
        Err(status) if status.code() == Code::NotFound => crm_platform::time::now(),
        Err(status) => return Err(failed("the history's first deal")(status)),
    };
    let direct = StageIds::of(direct, Motion::Direct)?;
    let service = StageIds::of(service, Motion::Service)?;
    let planned = deal_history::generate(anchor);
    for batch in planned.chunks(IMPORT_BATCH) {
        let opportunities: Vec<HistoricalOpportunity> = batch
            .iter()
            .map(|deal| {
                let stages = match deal.motion {
                    Motion::Direct => &direct,
                    Motion::Service => &service,
                };
                historical(deal, stages, competitor_ids)
            })
            .collect();
        once_known("the deal history", || {
            let mut deals = deals.clone();
            let request = api.as_member(
                &ADA,
                ImportOpportunitiesRequest {
                    opportunities: opportunities.clone(),
                },
            );
            async move { deals.import_opportunities(request).await }
        })
        .await?;
    }
    Ok(())
}

/// A planned deal as ImportOpportunities takes it.
fn historical(
    deal: &PlannedDeal,
    stages: &StageIds,
    competitor_ids: &[String],
) -> HistoricalOpportunity {
    let amount = deal.amount_text();
    let next_step = match (deal.outcome, deal.stays.last().map(|stay| stay.stage)) {
        (None, Some(StageAt::Open(stage))) => deal.motion.stages()[stage].next_step,
        _ => "",
    };
    let reason = deal.outcome.map(|outcome| match outcome {
        Outcome::Won(WonReason::ProductFit) => WON_PRODUCT_FIT,
        Outcome::Won(WonReason::Price) => WON_PRICE,
        Outcome::Won(WonReason::Relationship) => WON_RELATIONSHIP,
        Outcome::Lost(LostReason::Price, _) => LOST_PRICE,
        Outcome::Lost(LostReason::Competitor, _) => LOST_TO_COMPETITOR,
        Outcome::Lost(LostReason::NoDecision, _) => LOST_NO_DECISION,
        Outcome::Lost(LostReason::NoBudget, _) => LOST_NO_BUDGET,
    });
    let lost_to = match deal.outcome {
        Some(Outcome::Lost(_, Some(competitor))) => competitor_ids[competitor].clone(),
        _ => String::new(),
    };
    HistoricalOpportunity {
        opportunity_id: history_id(deal.number).to_string(),
        opportunity: Some(OpportunityInput {
            name: deal.name.clone(),
            account_id: deal.account.account_id().to_string(),
            owner_id: deal.owner.user_id().to_string(),
            pipeline_id: stages.pipeline_id.clone(),
            amount: Some(Money {
                currency_code: deal.currency.into(),
                amount: amount.clone(),
            }),
            expected_close_date: deal.expected_close.to_string(),
            next_step: next_step.into(),
            custom_fields: budget(deal.currency, &amount),
            ..Default::default()
        }),
        created_at: Some(to_timestamp(deal.created_at)),
        stays: deal
            .stays
            .iter()
            .map(|stay| HistoricalStay {
                stage_id: stages.id(stay.stage).to_owned(),
                entered_at: Some(to_timestamp(stay.entered_at)),
                entered_by: String::new(),
            })
            .collect(),
        close_reason_id: reason
            .map(|id| Uuid::from_u128(id).to_string())
            .unwrap_or_default(),
        close_note: deal.close_note.clone(),
        lost_to_competitor_id: lost_to,
        competitors: deal
            .competitors
            .iter()
            .map(|competitor| DealCompetitor {
                competitor_id: competitor_ids[*competitor].clone(),
                strengths: COMPETITORS[*competitor].strengths.into(),
                weaknesses: COMPETITORS[*competitor].weaknesses.into(),
                ..Default::default()
            })
            .collect(),
    }
}
