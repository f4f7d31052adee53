//! The stages a deal event shows: the visit it records (the deal was in that stage at that
//! version — a fact whatever order the events arrive in) and the stage as the event describes
//! it (name, order, kind, default probability), shown beside the rates learned for it.

use std::collections::BTreeMap;

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

/// What recording many visits at once writes: each (deal, stage) once, at the earliest version
/// seen, and each stage's description once, the newest (the first of equally new ones, as
/// recording them one after another keeps) — one statement writes a row at most once.
#[derive(Debug, PartialEq, Eq)]
pub struct VisitsToRecord<'a> {
    /// (deal, stage, earliest version), ordered by deal and stage.
    pub visits: Vec<(Uuid, Uuid, i64)>,
    /// Ordered by stage.
    pub stages: Vec<(&'a PipelineStage, DateTime<Utc>)>,
}

impl<'a> VisitsToRecord<'a> {
    pub fn of(visits: &'a [StageVisit]) -> Self {
        let mut earliest: BTreeMap<(Uuid, Uuid), i64> = BTreeMap::new();
        let mut newest: BTreeMap<Uuid, (&'a PipelineStage, DateTime<Utc>)> = BTreeMap::new();
        for visit in visits {
            earliest
                .entry((visit.deal_id, visit.stage_id))
                .and_modify(|version| *version = (*version).min(visit.version))
                .or_insert(visit.version);
            if let Some((stage, described_at)) = &visit.described {
                newest
                    .entry(stage.stage_id)
                    .and_modify(|held| {
                        if held.1 < *described_at {
                            *held = (stage, *described_at);
                        }
                    })
                    .or_insert((stage, *described_at));
            }
        }
        VisitsToRecord {
            visits: earliest
                .into_iter()
                .map(|((deal, stage), version)| (deal, stage, version))
                .collect(),
            stages: newest.into_values().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn stage(n: u128, name: &str) -> PipelineStage {
        PipelineStage {
            stage_id: Uuid::from_u128(n),
            pipeline_id: Uuid::from_u128(100),
            name: name.to_owned(),
            position: 1,
            kind: StageKind::Open,
            default_probability: 20,
        }
    }

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 1, 4, hour, 0, 0).unwrap()
    }

    fn visit(
        deal: u128,
        stage_n: u128,
        version: i64,
        described: Option<(&str, u32)>,
    ) -> StageVisit {
        StageVisit {
            deal_id: Uuid::from_u128(deal),
            stage_id: Uuid::from_u128(stage_n),
            version,
            described: described.map(|(name, hour)| (stage(stage_n, name), at(hour))),
        }
    }

    #[test]
    fn many_visits_record_each_deal_stage_once_and_each_stage_newest_description() {
        let visits = [
            visit(1, 10, 5, Some(("Qualify", 9))),
            visit(1, 10, 3, Some(("Qualify (renamed)", 11))),
            visit(2, 10, 2, Some(("Qualify again", 11))),
            visit(2, 20, 4, None),
        ];
        let recorded = VisitsToRecord::of(&visits);
        assert_eq!(
            recorded.visits,
            vec![
                (Uuid::from_u128(1), Uuid::from_u128(10), 3),
                (Uuid::from_u128(2), Uuid::from_u128(10), 2),
                (Uuid::from_u128(2), Uuid::from_u128(20), 4),
            ]
        );
        // 11:00 twice: the first of them holds, as one-by-one recording keeps it.
        assert_eq!(recorded.stages.len(), 1);
        assert_eq!(recorded.stages[0].0.name, "Qualify (renamed)");
        assert_eq!(recorded.stages[0].1, at(11));
    }
}
