//! The sales process's use cases (O1, O4, O5, O9): pipelines and their stages, close reasons,
//! the competitor catalogue and the priority board's settings. Everyone reads them; admins
//! change them (managers too for competitors).
//!
//! None of them publishes an event: other services learn a stage's name, kind, category and
//! probability from the deal events, which carry them, and nothing outside this service keeps
//! pipelines, close reasons or competitors of its own. The transactions still end in the outbox
//! commit, which keeps a keyed call's reply with the write.

use crm_platform::{
    auth::{Caller, Role},
    error::{CommonError, FieldViolation, check_version},
};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Opportunities, Result};
use crate::{
    domain::{
        pipeline::{Pipeline, StageDraft, replace_stages},
        settings::{
            BoardSettings, BoardSettingsChanges, CloseOutcomeKind, CloseReason, Competitor,
        },
    },
    error::OpportunitiesError,
    store::{
        catalog::{self, violates_unique},
        pipelines,
    },
};

/// A pipeline as an admin describes it; texts trimmed and checked, stages checked as a list.
#[derive(Debug, Clone)]
pub struct NewPipeline {
    /// A caller-chosen id makes a retried create return the first result.
    pub id: Option<Uuid>,
    pub name: String,
    pub description: String,
    pub product_line: String,
    pub is_default: bool,
    /// `None`: the default (14 days).
    pub stale_after_days: Option<u32>,
    pub stages: Vec<StageDraft>,
}

/// A partial change of a pipeline: `None` keeps a field; `stages` is the whole new list.
#[derive(Debug, Clone, Default)]
pub struct PipelineChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub product_line: Option<String>,
    pub stale_after_days: Option<u32>,
    pub stages: Option<Vec<StageDraft>>,
    pub make_default: bool,
}

/// A competitor's fields as a manager or admin gives them; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct CompetitorChanges {
    pub name: Option<String>,
    pub website: Option<String>,
    pub description: Option<String>,
    pub retired: Option<bool>,
}

fn require_admin(caller: &Caller, what: &str) -> Result<()> {
    if caller.role != Role::Admin {
        return Err(OpportunitiesError::permission_denied(format!(
            "only admins {what}"
        )));
    }
    Ok(())
}

/// Stage ids the pipeline does not have: fields of a valid form naming no usable record.
fn unusable(violations: Vec<FieldViolation>) -> OpportunitiesError {
    CommonError::Unusable {
        reason: crm_platform::error::reasons::UNUSABLE_REFERENCE,
        violations,
    }
    .into()
}

/// Violations that are all refusals for the data (the board's weights all 0) are
/// FAILED_PRECONDITION with their reason and that reason's text code; others are invalid input.
/// (`CommonError::Invalid` would answer the refusals alike but with the text code of
/// NO_DEFAULT_CALLING_CODE whatever their reason.)
fn refused(violations: Vec<FieldViolation>) -> OpportunitiesError {
    match violations.first().and_then(|violation| violation.reason) {
        Some(reason) if violations.iter().all(|v| v.reason == Some(reason)) => {
            CommonError::Unusable { reason, violations }.into()
        }
        _ => violations.into(),
    }
}

/// A write that took a name another record has, as its unique index says (a writer that got
/// there between the check and the write): the same refusal as the check's.
fn name_clash(
    index: &'static str,
    kind: &'static str,
    name: &str,
) -> impl FnOnce(sqlx::Error) -> OpportunitiesError {
    let name = name.to_owned();
    move |error| {
        if violates_unique(&error, index) {
            OpportunitiesError::NameTaken { kind, name }
        } else {
            error.into()
        }
    }
}

impl Opportunities {
    /// Creates a pipeline with its stages (admins). A retry with the same `id` by the same
    /// admin returns the pipeline as it is; anyone else's id is ID_TAKEN.
    pub async fn create_pipeline(&self, caller: &Caller, new: NewPipeline) -> Result<Pipeline> {
        require_admin(caller, "create pipelines")?;
        let mut transaction = self.pool.begin().await?;
        let id = new.id.unwrap_or_else(Uuid::now_v7);
        if new.id.is_some()
            && let Some(existing) = retried_create(&mut transaction, caller, id).await?
        {
            return Ok(existing);
        }
        if pipelines::pipeline_name_taken(&mut transaction, &new.name, None).await? {
            return Err(OpportunitiesError::NameTaken {
                kind: "pipeline",
                name: new.name,
            });
        }
        let change = replace_stages(id, &[], new.stages, "stages").map_err(unusable)?;
        let now = crm_platform::time::now();
        let pipeline = Pipeline {
            id,
            name: new.name,
            description: new.description,
            product_line: new.product_line,
            is_default: new.is_default,
            stale_after_days: new
                .stale_after_days
                .unwrap_or(crate::domain::stale::DEFAULT_STALE_AFTER_DAYS),
            stages: change.stages,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let inserted = pipelines::insert_pipeline(&mut transaction, &pipeline, caller.user_id)
            .await
            .map_err(name_clash(
                catalog::PIPELINE_NAME_INDEX,
                "pipeline",
                &pipeline.name,
            ))?;
        if !inserted {
            // A create with this id committed since the check: answer as its retry.
            return match retried_create(&mut transaction, caller, id).await? {
                Some(existing) => Ok(existing),
                None => Err(OpportunitiesError::IdTaken {
                    kind: "pipeline",
                    id,
                }),
            };
        }
        self.outbox.commit(transaction).await?;
        Ok(pipeline)
    }

    /// One pipeline with every stage, retired ones included (every role).
    pub async fn get_pipeline(&self, _caller: &Caller, id: Uuid) -> Result<Pipeline> {
        let mut connection = self.pool.acquire().await?;
        pipelines::get_pipeline(&mut connection, id, false)
            .await?
            .ok_or_else(|| OpportunitiesError::not_found("pipeline", id))
    }

    /// Every pipeline, the default first, then by name (every role).
    pub async fn list_pipelines(&self, _caller: &Caller) -> Result<Vec<Pipeline>> {
        let mut connection = self.pool.acquire().await?;
        Ok(pipelines::list_pipelines(&mut connection).await?)
    }

    /// Changes a pipeline (admins). A new stage list keeps the stages it names by id, adds the
    /// others and deletes the current stages it leaves out, unless deals or their history use
    /// them (STAGE_IN_USE: retire those instead); a stage deals sit in keeps its kind
    /// (STAGE_KIND_IN_USE). A change that changes nothing is not a new version.
    pub async fn update_pipeline(
        &self,
        caller: &Caller,
        id: Uuid,
        changes: PipelineChanges,
        expected_version: Option<i64>,
    ) -> Result<Pipeline> {
        require_admin(caller, "change pipelines")?;
        let mut transaction = self.pool.begin().await?;
        let current = pipelines::get_pipeline(&mut transaction, id, true)
            .await?
            .ok_or_else(|| OpportunitiesError::not_found("pipeline", id))?;
        check_version("pipeline", id, expected_version, current.version)?;
        let mut updated = current.clone();
        if let Some(name) = changes.name {
            if pipelines::pipeline_name_taken(&mut transaction, &name, Some(id)).await? {
                return Err(OpportunitiesError::NameTaken {
                    kind: "pipeline",
                    name,
                });
            }
            updated.name = name;
        }
        if let Some(description) = changes.description {
            updated.description = description;
        }
        if let Some(product_line) = changes.product_line {
            updated.product_line = product_line;
        }
        if let Some(days) = changes.stale_after_days {
            updated.stale_after_days = days;
        }
        updated.is_default |= changes.make_default;
        let mut removed = Vec::new();
        if let Some(drafts) = changes.stages {
            let change =
                replace_stages(id, &current.stages, drafts, "stages.stages").map_err(unusable)?;
            for stage in &change.kind_changed {
                let to = change
                    .stages
                    .iter()
                    .find(|kept| kept.id == stage.id)
                    .map_or(stage.kind, |kept| kept.kind);
                if pipelines::stage_holds_deals(&mut transaction, stage.id).await? {
                    return Err(OpportunitiesError::StageKindInUse {
                        stage: stage.name.clone(),
                        from: stage.kind,
                        to,
                    });
                }
            }
            for stage in &change.removed {
                if pipelines::stage_in_use(&mut transaction, stage.id).await? {
                    return Err(OpportunitiesError::StageInUse {
                        stage: stage.name.clone(),
                    });
                }
            }
            removed = change.removed;
            updated.stages = change.stages;
        }
        if updated == current {
            return Ok(current);
        }
        updated.version += 1;
        updated.updated_at = crm_platform::time::now();
        let removed_ids: Vec<Uuid> = removed.iter().map(|stage| stage.id).collect();
        pipelines::update_pipeline(&mut transaction, &updated, &removed_ids)
            .await
            .map_err(|error| match &error {
                // A deal entered a stage being deleted after it was checked.
                sqlx::Error::Database(database) if database.code().as_deref() == Some("23503") => {
                    OpportunitiesError::StageInUse {
                        stage: removed
                            .iter()
                            .map(|stage| stage.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    }
                }
                _ => name_clash(catalog::PIPELINE_NAME_INDEX, "pipeline", &updated.name)(error),
            })?;
        self.outbox.commit(transaction).await?;
        Ok(updated)
    }

    /// Adds a reason deals are won or lost (admins); labels are unique per outcome.
    pub async fn create_close_reason(
        &self,
        caller: &Caller,
        outcome: CloseOutcomeKind,
        label: String,
    ) -> Result<CloseReason> {
        require_admin(caller, "add close reasons")?;
        let mut transaction = self.pool.begin().await?;
        let reason = CloseReason {
            id: Uuid::now_v7(),
            outcome,
            label,
            retired: false,
        };
        catalog::insert_close_reason(&mut transaction, &reason)
            .await
            .map_err(name_clash(
                catalog::CLOSE_REASON_LABEL_INDEX,
                "close reason",
                &reason.label,
            ))?;
        self.outbox.commit(transaction).await?;
        Ok(reason)
    }

    /// The close reasons of an outcome (both when `None`), retired ones only when asked.
    pub async fn list_close_reasons(
        &self,
        _caller: &Caller,
        outcome: Option<CloseOutcomeKind>,
        include_retired: bool,
    ) -> Result<Vec<CloseReason>> {
        let mut connection = self.pool.acquire().await?;
        Ok(catalog::list_close_reasons(&mut connection, outcome, include_retired).await?)
    }

    /// Relabels or retires a close reason (admins); closed deals keep the label they closed
    /// with.
    pub async fn update_close_reason(
        &self,
        caller: &Caller,
        id: Uuid,
        label: Option<String>,
        retired: Option<bool>,
    ) -> Result<CloseReason> {
        require_admin(caller, "change close reasons")?;
        let mut transaction = self.pool.begin().await?;
        let current = catalog::get_close_reason(&mut transaction, id, true)
            .await?
            .ok_or_else(|| OpportunitiesError::not_found("close reason", id))?;
        let updated = CloseReason {
            label: label.unwrap_or_else(|| current.label.clone()),
            retired: retired.unwrap_or(current.retired),
            ..current.clone()
        };
        if updated == current {
            return Ok(current);
        }
        catalog::update_close_reason(&mut transaction, &updated)
            .await
            .map_err(name_clash(
                catalog::CLOSE_REASON_LABEL_INDEX,
                "close reason",
                &updated.label,
            ))?;
        self.outbox.commit(transaction).await?;
        Ok(updated)
    }

    /// Adds a competitor to the catalogue (managers and admins); names are unique.
    pub async fn create_competitor(
        &self,
        caller: &Caller,
        name: String,
        website: String,
        description: String,
    ) -> Result<Competitor> {
        if !caller.is_at_least_manager() {
            return Err(OpportunitiesError::permission_denied(
                "only managers and admins add competitors",
            ));
        }
        let mut transaction = self.pool.begin().await?;
        let now = crm_platform::time::now();
        let competitor = Competitor {
            id: Uuid::now_v7(),
            name,
            website,
            description,
            retired: false,
            created_at: now,
            updated_at: now,
        };
        catalog::insert_competitor(&mut transaction, &competitor)
            .await
            .map_err(name_clash(
                catalog::COMPETITOR_NAME_INDEX,
                "competitor",
                &competitor.name,
            ))?;
        self.outbox.commit(transaction).await?;
        Ok(competitor)
    }

    /// The competitor catalogue by name, retired ones only when asked.
    pub async fn list_competitors(
        &self,
        _caller: &Caller,
        include_retired: bool,
    ) -> Result<Vec<Competitor>> {
        let mut connection = self.pool.acquire().await?;
        Ok(catalog::list_competitors(&mut connection, include_retired).await?)
    }

    /// Renames, describes or retires a competitor (managers and admins); deals keep the name
    /// they recorded.
    pub async fn update_competitor(
        &self,
        caller: &Caller,
        id: Uuid,
        changes: CompetitorChanges,
    ) -> Result<Competitor> {
        if !caller.is_at_least_manager() {
            return Err(OpportunitiesError::permission_denied(
                "only managers and admins change competitors",
            ));
        }
        let mut transaction = self.pool.begin().await?;
        let current = catalog::get_competitor(&mut transaction, id, true)
            .await?
            .ok_or_else(|| OpportunitiesError::not_found("competitor", id))?;
        let mut updated = Competitor {
            name: changes.name.unwrap_or_else(|| current.name.clone()),
            website: changes.website.unwrap_or_else(|| current.website.clone()),
            description: changes
                .description
                .unwrap_or_else(|| current.description.clone()),
            retired: changes.retired.unwrap_or(current.retired),
            ..current.clone()
        };
        if updated == current {
            return Ok(current);
        }
        updated.updated_at = crm_platform::time::now();
        catalog::update_competitor(&mut transaction, &updated)
            .await
            .map_err(name_clash(
                catalog::COMPETITOR_NAME_INDEX,
                "competitor",
                &updated.name,
            ))?;
        self.outbox.commit(transaction).await?;
        Ok(updated)
    }

    /// The priority board's settings (every role: the board explains its scores with them).
    pub async fn board_settings(&self, _caller: &Caller) -> Result<BoardSettings> {
        let mut connection = self.pool.acquire().await?;
        Ok(catalog::board_settings(&mut connection, false).await?)
    }

    /// Changes the board's settings (admins), at `expected_version` when given; setting the
    /// values they have is not a new version.
    pub async fn update_board_settings(
        &self,
        caller: &Caller,
        changes: BoardSettingsChanges,
        expected_version: Option<i64>,
    ) -> Result<BoardSettings> {
        require_admin(caller, "change the priority board's settings")?;
        let mut transaction = self.pool.begin().await?;
        let current = catalog::board_settings(&mut transaction, true).await?;
        // One row without an id of its own: the nil id names it in a conflict.
        check_version(
            "priority board settings",
            Uuid::nil(),
            expected_version,
            current.version,
        )?;
        let mut updated = current.apply(&changes).map_err(refused)?;
        if updated == current {
            return Ok(current);
        }
        updated.version += 1;
        catalog::save_board_settings(&mut transaction, &updated).await?;
        self.outbox.commit(transaction).await?;
        Ok(updated)
    }
}

/// The pipeline a create with this id made, if the caller made it: a retry gets it back; an id
/// another user's pipeline has (or the seeded one's) is ID_TAKEN. `None`: no pipeline has it.
async fn retried_create(
    connection: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<Option<Pipeline>> {
    let Some(existing) = pipelines::get_pipeline(connection, id, false).await? else {
        return Ok(None);
    };
    match pipelines::pipeline_created_by(connection, id).await? {
        Some(creator) if creator == caller.user_id => Ok(Some(existing)),
        _ => Err(OpportunitiesError::IdTaken {
            kind: "pipeline",
            id,
        }),
    }
}
