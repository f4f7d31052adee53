//! Pipelines and their stages (O1): the ordered stages a deal works through, each with its
//! default probability, forecast category, exit criteria and guidance; and the rules a list of
//! stages must keep.

use std::collections::HashSet;
use std::fmt;

use chrono::{DateTime, Utc};
use crm_platform::error::{FieldViolation, Violations};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::criteria::ExitCriterion;

/// Where a stage stands in the sales process (the wire's `StageKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StageKind {
    Open = 1,
    Won = 2,
    Lost = 3,
}

impl TryFrom<i16> for StageKind {
    type Error = String;
    fn try_from(value: i16) -> Result<Self, String> {
        match value {
            1 => Ok(StageKind::Open),
            2 => Ok(StageKind::Won),
            3 => Ok(StageKind::Lost),
            other => Err(format!("{other} is not a stage kind")),
        }
    }
}

impl fmt::Display for StageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StageKind::Open => "open",
            StageKind::Won => "won",
            StageKind::Lost => "lost",
        })
    }
}

/// How a stage's deals count in a forecast (the wire's `ForecastCategory`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ForecastCategory {
    Pipeline = 1,
    BestCase = 2,
    Commit = 3,
    Closed = 4,
    Omitted = 5,
}

impl TryFrom<i16> for ForecastCategory {
    type Error = String;
    fn try_from(value: i16) -> Result<Self, String> {
        match value {
            1 => Ok(ForecastCategory::Pipeline),
            2 => Ok(ForecastCategory::BestCase),
            3 => Ok(ForecastCategory::Commit),
            4 => Ok(ForecastCategory::Closed),
            5 => Ok(ForecastCategory::Omitted),
            other => Err(format!("{other} is not a forecast category")),
        }
    }
}

/// What a rep is shown at a stage.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageGuidance {
    #[serde(default)]
    pub tasks: Vec<String>,
    #[serde(default)]
    pub playbook_article_ids: Vec<Uuid>,
    #[serde(default)]
    pub notes: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub id: Uuid,
    pub pipeline_id: Uuid,
    pub name: String,
    /// 1-based order within the pipeline.
    pub position: u32,
    pub kind: StageKind,
    pub default_probability: u8,
    pub forecast_category: ForecastCategory,
    pub exit_criteria: Vec<ExitCriterion>,
    pub guidance: StageGuidance,
    pub retired: bool,
}

impl Stage {
    pub fn is_open(&self) -> bool {
        self.kind == StageKind::Open
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub product_line: String,
    pub is_default: bool,
    /// Days without activity after which an open deal is stale; 0: never.
    pub stale_after_days: u32,
    /// Ordered by position.
    pub stages: Vec<Stage>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Pipeline {
    pub fn stage(&self, id: Uuid) -> Option<&Stage> {
        self.stages.iter().find(|stage| stage.id == id)
    }

    /// The first open stage a new deal enters.
    pub fn first_open_stage(&self) -> Option<&Stage> {
        self.stages
            .iter()
            .find(|stage| stage.is_open() && !stage.retired)
    }

    /// The stage won (or lost) deals end in.
    pub fn closing_stage(&self, kind: StageKind) -> Option<&Stage> {
        self.stages
            .iter()
            .find(|stage| stage.kind == kind && !stage.retired)
    }

    /// The open stages a deal leaves when it moves from `from` to `to` (a later position): `from`
    /// itself and every open stage between them, in order. Empty when moving back or staying.
    pub fn stages_passed(&self, from: &Stage, to_position: u32) -> Vec<&Stage> {
        self.stages
            .iter()
            .filter(|stage| {
                stage.is_open() && stage.position >= from.position && stage.position < to_position
            })
            .collect()
    }
}

/// A stage as an admin describes it (new when `id` is `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct StageDraft {
    pub id: Option<Uuid>,
    pub name: String,
    pub kind: StageKind,
    pub default_probability: u8,
    pub forecast_category: ForecastCategory,
    pub exit_criteria: Vec<ExitCriterion>,
    pub guidance: StageGuidance,
    pub retired: bool,
}

/// Checks a whole ordered list of stages (`field` names the list, "stages"): at least one open
/// stage in use, open stages before the closing ones, exactly one won and one lost stage in use,
/// the closing stages' probability and category fixed, names unique (case-insensitive), ids
/// not repeated. Every problem is named at once.
pub fn validate_stage_list(field: &str, drafts: &[StageDraft]) -> Result<(), Vec<FieldViolation>> {
    let mut violations = Violations::new();
    let mut names = HashSet::new();
    let mut ids = HashSet::new();
    let mut seen_closing = false;
    for (index, draft) in drafts.iter().enumerate() {
        let at = format!("{field}[{index}]");
        if !names.insert(draft.name.trim().to_lowercase()) {
            violations.add(format!("{at}.name"), "repeats another stage's name");
        }
        if let Some(id) = draft.id
            && !ids.insert(id)
        {
            violations.add(format!("{at}.id"), "repeats another stage's id");
        }
        match draft.kind {
            StageKind::Open => {
                if seen_closing {
                    violations.add(
                        format!("{at}.kind"),
                        "open stages come before the won and lost stages",
                    );
                }
                if draft.forecast_category == ForecastCategory::Closed {
                    violations.add(
                        format!("{at}.forecast_category"),
                        "closed is the won stage's category",
                    );
                }
            }
            StageKind::Won => {
                seen_closing = true;
                if draft.default_probability != 100 {
                    violations.add(format!("{at}.default_probability"), "a won stage is 100");
                }
                if draft.forecast_category != ForecastCategory::Closed {
                    violations.add(
                        format!("{at}.forecast_category"),
                        "a won stage is in the closed category",
                    );
                }
            }
            StageKind::Lost => {
                seen_closing = true;
                if draft.default_probability != 0 {
                    violations.add(format!("{at}.default_probability"), "a lost stage is 0");
                }
                if draft.forecast_category != ForecastCategory::Omitted {
                    violations.add(
                        format!("{at}.forecast_category"),
                        "a lost stage is in the omitted category",
                    );
                }
            }
        }
    }
    let in_use = |kind: StageKind| {
        drafts
            .iter()
            .filter(|draft| draft.kind == kind && !draft.retired)
            .count()
    };
    if in_use(StageKind::Open) == 0 {
        violations.add(field, "needs at least one open stage that is not retired");
    }
    for (kind, name) in [(StageKind::Won, "won"), (StageKind::Lost, "lost")] {
        if in_use(kind) != 1 {
            violations.add(
                field,
                format!("needs exactly one {name} stage that is not retired"),
            );
        }
    }
    violations.into_result().map_err(|list| {
        crm_platform::error::as_refusals(crm_platform::error::reasons::INCONSISTENT_FIELDS, list)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(
        name: &str,
        kind: StageKind,
        probability: u8,
        category: ForecastCategory,
    ) -> StageDraft {
        StageDraft {
            id: None,
            name: name.into(),
            kind,
            default_probability: probability,
            forecast_category: category,
            exit_criteria: Vec::new(),
            guidance: StageGuidance::default(),
            retired: false,
        }
    }

    fn direct() -> Vec<StageDraft> {
        vec![
            draft("Qualify", StageKind::Open, 10, ForecastCategory::Pipeline),
            draft("Propose", StageKind::Open, 50, ForecastCategory::BestCase),
            draft("Won", StageKind::Won, 100, ForecastCategory::Closed),
            draft("Lost", StageKind::Lost, 0, ForecastCategory::Omitted),
        ]
    }

    fn fields(result: Result<(), Vec<FieldViolation>>) -> Vec<String> {
        result
            .unwrap_err()
            .into_iter()
            .map(|violation| format!("{}: {}", violation.field, violation.description))
            .collect()
    }

    #[test]
    fn a_pipeline_of_open_then_won_and_lost_stages_is_valid() {
        assert_eq!(validate_stage_list("stages", &direct()), Ok(()));
    }

    #[test]
    fn every_problem_of_a_stage_list_is_named_at_once() {
        let mut stages = direct();
        stages[1].name = "qualify".into();
        stages[2].default_probability = 90;
        stages.push(draft(
            "Late",
            StageKind::Open,
            20,
            ForecastCategory::Pipeline,
        ));
        assert_eq!(
            fields(validate_stage_list("stages", &stages)),
            [
                "stages[1].name: repeats another stage's name",
                "stages[2].default_probability: a won stage is 100",
                "stages[4].kind: open stages come before the won and lost stages",
            ]
        );
    }

    #[test]
    fn a_pipeline_needs_one_won_one_lost_and_an_open_stage_in_use() {
        let mut stages = direct();
        stages[0].retired = true;
        stages[1].retired = true;
        stages.remove(3);
        assert_eq!(
            fields(validate_stage_list("stages", &stages)),
            [
                "stages: needs at least one open stage that is not retired",
                "stages: needs exactly one lost stage that is not retired",
            ]
        );
    }

    #[test]
    fn moving_forward_passes_the_stage_left_and_the_ones_between() {
        let now = Utc::now();
        let pipeline_id = Uuid::now_v7();
        let stages: Vec<Stage> = direct()
            .into_iter()
            .enumerate()
            .map(|(index, draft)| Stage {
                id: Uuid::now_v7(),
                pipeline_id,
                name: draft.name,
                position: index as u32 + 1,
                kind: draft.kind,
                default_probability: draft.default_probability,
                forecast_category: draft.forecast_category,
                exit_criteria: Vec::new(),
                guidance: StageGuidance::default(),
                retired: false,
            })
            .collect();
        let pipeline = Pipeline {
            id: pipeline_id,
            name: "Direct".into(),
            description: String::new(),
            product_line: String::new(),
            is_default: true,
            stale_after_days: crate::domain::stale::DEFAULT_STALE_AFTER_DAYS,
            stages,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let qualify = &pipeline.stages[0];
        let names = |passed: Vec<&Stage>| {
            passed
                .into_iter()
                .map(|stage| stage.name.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(pipeline.stages_passed(qualify, 3)),
            ["Qualify", "Propose"]
        );
        assert_eq!(
            names(pipeline.stages_passed(&pipeline.stages[1], 1)),
            Vec::<String>::new()
        );
        assert_eq!(pipeline.first_open_stage().unwrap().name, "Qualify");
        assert_eq!(
            pipeline.closing_stage(StageKind::Lost).unwrap().name,
            "Lost"
        );
    }
}

/// A pipeline's stage list after an admin's change, in order (positions 1..n), and what the
/// change does to the stages it had.
#[derive(Debug, Clone, PartialEq)]
pub struct StageListChange {
    pub stages: Vec<Stage>,
    /// The stages left out of the list: deleted, which is refused for one deals or their
    /// history use (retiring is for those).
    pub removed: Vec<Stage>,
    /// The stages whose kind changes, as they were: refused while deals sit in them (a deal's
    /// status follows its stage's kind).
    pub kind_changed: Vec<Stage>,
}

/// `drafts` (a list [`validate_stage_list`] accepted) as the stages of pipeline `pipeline_id`,
/// whose stages are `current`: a draft with an id changes that stage in place, one without is a
/// new stage (a new id); positions follow the list. A draft's id that is not one of `current`
/// is named (`{field}[i].id`: every one, as a reference the request cannot use).
pub fn replace_stages(
    pipeline_id: Uuid,
    current: &[Stage],
    drafts: Vec<StageDraft>,
    field: &str,
) -> Result<StageListChange, Vec<FieldViolation>> {
    let mut violations = Violations::new();
    let mut stages = Vec::with_capacity(drafts.len());
    let mut kind_changed = Vec::new();
    for (index, draft) in drafts.into_iter().enumerate() {
        let id = match draft.id {
            None => Uuid::now_v7(),
            Some(id) => match current.iter().find(|stage| stage.id == id) {
                Some(existing) => {
                    if existing.kind != draft.kind {
                        kind_changed.push(existing.clone());
                    }
                    id
                }
                None => {
                    violations.add(
                        format!("{field}[{index}].id"),
                        "is not a stage of this pipeline (leave it empty for a new stage)",
                    );
                    continue;
                }
            },
        };
        stages.push(Stage {
            id,
            pipeline_id,
            name: draft.name,
            position: index as u32 + 1,
            kind: draft.kind,
            default_probability: draft.default_probability,
            forecast_category: draft.forecast_category,
            exit_criteria: draft.exit_criteria,
            guidance: draft.guidance,
            retired: draft.retired,
        });
    }
    violations.into_result()?;
    let removed = current
        .iter()
        .filter(|stage| !stages.iter().any(|kept| kept.id == stage.id))
        .cloned()
        .collect();
    Ok(StageListChange {
        stages,
        removed,
        kind_changed,
    })
}

#[cfg(test)]
mod stage_list_change_tests {
    use super::*;

    fn draft(id: Option<Uuid>, name: &str, kind: StageKind) -> StageDraft {
        let (probability, category) = match kind {
            StageKind::Open => (20, ForecastCategory::Pipeline),
            StageKind::Won => (100, ForecastCategory::Closed),
            StageKind::Lost => (0, ForecastCategory::Omitted),
        };
        StageDraft {
            id,
            name: name.into(),
            kind,
            default_probability: probability,
            forecast_category: category,
            exit_criteria: Vec::new(),
            guidance: StageGuidance::default(),
            retired: false,
        }
    }

    fn current(pipeline_id: Uuid) -> Vec<Stage> {
        let drafts = [
            draft(None, "Qualify", StageKind::Open),
            draft(None, "Propose", StageKind::Open),
            draft(None, "Won", StageKind::Won),
            draft(None, "Lost", StageKind::Lost),
        ];
        replace_stages(pipeline_id, &[], drafts.to_vec(), "stages")
            .unwrap()
            .stages
    }

    #[test]
    fn a_new_list_renames_reorders_adds_and_leaves_out_stages() {
        let pipeline_id = Uuid::now_v7();
        let stages = current(pipeline_id);
        let change = replace_stages(
            pipeline_id,
            &stages,
            vec![
                draft(Some(stages[1].id), "Proposal", StageKind::Open),
                draft(None, "Negotiate", StageKind::Open),
                draft(Some(stages[2].id), "Won", StageKind::Won),
                draft(Some(stages[3].id), "Lost", StageKind::Lost),
            ],
            "stages.stages",
        )
        .unwrap();
        let summary: Vec<(&str, u32)> = change
            .stages
            .iter()
            .map(|stage| (stage.name.as_str(), stage.position))
            .collect();
        assert_eq!(
            summary,
            [("Proposal", 1), ("Negotiate", 2), ("Won", 3), ("Lost", 4)]
        );
        assert_eq!(change.stages[0].id, stages[1].id);
        assert!(stages.iter().all(|stage| stage.id != change.stages[1].id));
        let in_pipeline = |stage: &Stage| stage.pipeline_id == pipeline_id;
        assert!(change.stages.iter().all(in_pipeline));
        assert_eq!(change.removed, [stages[0].clone()]);
        assert!(change.kind_changed.is_empty());
    }

    #[test]
    fn an_id_of_no_stage_of_the_pipeline_is_named() {
        let pipeline_id = Uuid::now_v7();
        let stages = current(pipeline_id);
        let refused = replace_stages(
            pipeline_id,
            &stages,
            vec![
                draft(Some(Uuid::now_v7()), "Qualify", StageKind::Open),
                draft(Some(stages[2].id), "Won", StageKind::Won),
                draft(Some(Uuid::now_v7()), "Lost", StageKind::Lost),
            ],
            "stages.stages",
        )
        .unwrap_err();
        let named: Vec<&str> = refused.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(named, ["stages.stages[0].id", "stages.stages[2].id"]);
    }

    #[test]
    fn a_stage_whose_kind_changes_is_reported_as_it_was() {
        let pipeline_id = Uuid::now_v7();
        let stages = current(pipeline_id);
        let change = replace_stages(
            pipeline_id,
            &stages,
            vec![
                draft(Some(stages[0].id), "Qualify", StageKind::Open),
                draft(Some(stages[1].id), "Won", StageKind::Won),
                draft(Some(stages[3].id), "Lost", StageKind::Lost),
            ],
            "stages",
        )
        .unwrap();
        assert_eq!(change.kind_changed, [stages[1].clone()]);
        assert_eq!(change.removed, [stages[2].clone()]);
    }
}
