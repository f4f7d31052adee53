//! The stages a deal event shows: the visit it records (the deal was in that stage at that
//! version — a fact whatever order the events arrive in) and the stage as the event describes
//! it (name, order, kind, default probability), shown beside the rates learned for it.

use chrono::{DateTime, Utc};
use crm_proto::crm::opportunities::v1::{Opportunity, StageKind as WireStageKind};
use uuid::Uuid;

use crate::domain::deal::PipelineDeal;

/// Where a stage stands in the sales process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StageKind {
    Open = 1,
    Won = 2,
    Lost = 3,
}

impl StageKind {
    pub fn from_stored(value: i16) -> Option<Self> {
        match value {
            1 => Some(StageKind::Open),
            2 => Some(StageKind::Won),
            3 => Some(StageKind::Lost),
            _ => None,
        }
    }
}

/// A pipeline's stage as a deal event described it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PipelineStage {
    pub stage_id: Uuid,
    pub pipeline_id: Uuid,
    pub name: String,
    pub position: u32,
    pub kind: StageKind,
    /// 0 … 100.
    pub default_probability: u8,
}

/// What one deal event says about stages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageVisit {
    pub deal_id: Uuid,
    pub stage_id: Uuid,
    pub version: i64,
    /// The stage as described, with when the deal last changed (the newest description
    /// wins); `None` when the event's summary lacks a kind or a probability this service
    /// reads — the visit counts all the same, and the deal's own state is unaffected.
    pub described: Option<(PipelineStage, DateTime<Utc>)>,
}

impl StageVisit {
    /// The visit of `deal`, read from the event's `opportunity`.
    pub fn of(deal: &PipelineDeal, opportunity: &Opportunity) -> StageVisit {
        let described = opportunity.stage.as_ref().and_then(|stage| {
            let kind = match WireStageKind::try_from(stage.kind).ok()? {
                WireStageKind::Open => StageKind::Open,
                WireStageKind::Won => StageKind::Won,
                WireStageKind::Lost => StageKind::Lost,
                WireStageKind::Unspecified => return None,
            };
            let default_probability = u8::try_from(stage.default_probability)
                .ok()
                .filter(|probability| *probability <= 100)?;
            let described_at = opportunity
                .updated_at
                .as_ref()
                .and_then(crm_platform::time::from_timestamp)
                .unwrap_or(DateTime::UNIX_EPOCH);
            Some((
                PipelineStage {
                    stage_id: deal.stage_id,
                    pipeline_id: deal.pipeline_id,
                    name: deal.stage_name.clone(),
                    position: stage.position,
                    kind,
                    default_probability,
                },
                described_at,
            ))
        });
        StageVisit {
            deal_id: deal.id,
            stage_id: deal.stage_id,
            version: deal.version,
            described,
        }
    }
}
