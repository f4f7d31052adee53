//! SQL for pipelines and their stages.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, types::Json};
use uuid::Uuid;

use super::corrupt;
use crate::domain::{
    criteria::ExitCriterion,
    pipeline::{ForecastCategory, Pipeline, Stage, StageGuidance, StageKind},
};

#[derive(sqlx::FromRow)]
struct PipelineRow {
    id: Uuid,
    name: String,
    description: String,
    product_line: String,
    is_default: bool,
    stale_after_days: i32,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct StageRow {
    id: Uuid,
    pipeline_id: Uuid,
    name: String,
    position: i32,
    kind: i16,
    default_probability: i16,
    forecast_category: i16,
    exit_criteria: Vec<String>,
    guidance: Json<StageGuidance>,
    retired: bool,
}

impl TryFrom<StageRow> for Stage {
    type Error = sqlx::Error;

    fn try_from(row: StageRow) -> sqlx::Result<Self> {
        Ok(Stage {
            id: row.id,
            pipeline_id: row.pipeline_id,
            name: row.name,
            position: u32::try_from(row.position).map_err(corrupt)?,
            kind: StageKind::try_from(row.kind).map_err(corrupt)?,
            default_probability: u8::try_from(row.default_probability).map_err(corrupt)?,
            forecast_category: ForecastCategory::try_from(row.forecast_category)
                .map_err(corrupt)?,
            exit_criteria: row
                .exit_criteria
                .iter()
                .map(|text| ExitCriterion::parse(text))
                .collect::<Result<_, _>>()
                .map_err(corrupt)?,
            guidance: row.guidance.0,
            retired: row.retired,
        })
    }
}

const PIPELINE_COLUMNS: &str = "id, name, description, product_line, is_default, stale_after_days, version, created_at, \
     updated_at";
const STAGE_COLUMNS: &str = "id, pipeline_id, name, position, kind, default_probability, \
    forecast_category, exit_criteria, guidance, retired";

fn assemble(row: PipelineRow, stages: Vec<Stage>) -> Pipeline {
    Pipeline {
        stale_after_days: row.stale_after_days.unsigned_abs(),
        id: row.id,
        name: row.name,
        description: row.description,
        product_line: row.product_line,
        is_default: row.is_default,
        stages,
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

async fn stages_of(
    connection: &mut PgConnection,
    pipeline_ids: &[Uuid],
) -> sqlx::Result<Vec<Stage>> {
    let rows: Vec<StageRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {STAGE_COLUMNS} FROM stages WHERE pipeline_id = ANY($1) ORDER BY pipeline_id, position"
    )))
    .bind(pipeline_ids)
    .fetch_all(connection)
    .await?;
    rows.into_iter().map(Stage::try_from).collect()
}

/// One pipeline with its stages; `lock` holds it (and so its stage list) for the transaction.
pub(crate) async fn get_pipeline(
    connection: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> sqlx::Result<Option<Pipeline>> {
    let row: Option<PipelineRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PIPELINE_COLUMNS} FROM pipelines WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    )))
    .bind(id)
    .fetch_optional(&mut *connection)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let stages = stages_of(connection, &[row.id]).await?;
    Ok(Some(assemble(row, stages)))
}

/// The default pipeline's id, if there is one.
pub(crate) async fn default_pipeline_id(
    connection: &mut PgConnection,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("SELECT id FROM pipelines WHERE is_default")
        .fetch_optional(connection)
        .await
}

/// Every pipeline, the default first, then by name.
pub(crate) async fn list_pipelines(connection: &mut PgConnection) -> sqlx::Result<Vec<Pipeline>> {
    let rows: Vec<PipelineRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PIPELINE_COLUMNS} FROM pipelines ORDER BY is_default DESC, lower(name), id"
    )))
    .fetch_all(&mut *connection)
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let mut stages = stages_of(connection, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let (own, rest): (Vec<Stage>, Vec<Stage>) = stages
                .drain(..)
                .partition(|stage| stage.pipeline_id == row.id);
            stages = rest;
            assemble(row, own)
        })
        .collect())
}

/// Inserts a pipeline with its stages; `false` when the id exists (a retried create).
pub(crate) async fn insert_pipeline(
    connection: &mut PgConnection,
    pipeline: &Pipeline,
    created_by: Uuid,
) -> sqlx::Result<bool> {
    if pipeline.is_default {
        clear_default(connection).await?;
    }
    let inserted = sqlx::query(
        "INSERT INTO pipelines (id, name, description, product_line, is_default, version, created_by, \
         created_at, updated_at, stale_after_days) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(pipeline.id)
    .bind(&pipeline.name)
    .bind(&pipeline.description)
    .bind(&pipeline.product_line)
    .bind(pipeline.is_default)
    .bind(pipeline.version)
    .bind(created_by)
    .bind(pipeline.created_at)
    .bind(i32::try_from(pipeline.stale_after_days).unwrap_or(i32::MAX))
    .execute(&mut *connection)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(false);
    }
    for stage in &pipeline.stages {
        upsert_stage(connection, stage).await?;
    }
    Ok(true)
}

/// Writes a pipeline's own fields and its stage list: stages in `pipeline.stages` are upserted,
/// the ids in `deleted` removed (the caller checked they are unused).
pub(crate) async fn update_pipeline(
    connection: &mut PgConnection,
    pipeline: &Pipeline,
    deleted: &[Uuid],
) -> sqlx::Result<()> {
    if pipeline.is_default {
        clear_default(connection).await?;
    }
    sqlx::query(
        "UPDATE pipelines SET name = $2, description = $3, product_line = $4, is_default = $5, \
         version = $6, updated_at = $7, stale_after_days = $8 WHERE id = $1",
    )
    .bind(pipeline.id)
    .bind(&pipeline.name)
    .bind(&pipeline.description)
    .bind(&pipeline.product_line)
    .bind(pipeline.is_default)
    .bind(pipeline.version)
    .bind(pipeline.updated_at)
    .bind(i32::try_from(pipeline.stale_after_days).unwrap_or(i32::MAX))
    .execute(&mut *connection)
    .await?;
    sqlx::query("DELETE FROM stages WHERE id = ANY($1)")
        .bind(deleted)
        .execute(&mut *connection)
        .await?;
    for stage in &pipeline.stages {
        upsert_stage(connection, stage).await?;
    }
    Ok(())
}

async fn clear_default(connection: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("UPDATE pipelines SET is_default = false WHERE is_default")
        .execute(connection)
        .await
        .map(drop)
}

async fn upsert_stage(connection: &mut PgConnection, stage: &Stage) -> sqlx::Result<()> {
    let criteria: Vec<String> = stage
        .exit_criteria
        .iter()
        .map(ToString::to_string)
        .collect();
    sqlx::query(
        "INSERT INTO stages (id, pipeline_id, name, position, kind, default_probability, \
         forecast_category, exit_criteria, guidance, retired) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, position = EXCLUDED.position, \
         kind = EXCLUDED.kind, default_probability = EXCLUDED.default_probability, \
         forecast_category = EXCLUDED.forecast_category, exit_criteria = EXCLUDED.exit_criteria, \
         guidance = EXCLUDED.guidance, retired = EXCLUDED.retired",
    )
    .bind(stage.id)
    .bind(stage.pipeline_id)
    .bind(&stage.name)
    .bind(i32::try_from(stage.position).unwrap_or(i32::MAX))
    .bind(stage.kind as i16)
    .bind(i16::from(stage.default_probability))
    .bind(stage.forecast_category as i16)
    .bind(&criteria)
    .bind(Json(&stage.guidance))
    .bind(stage.retired)
    .execute(connection)
    .await
    .map(drop)
}

/// Whether any deal or history entry points at the stage (then it can only be retired).
pub(crate) async fn stage_in_use(
    connection: &mut PgConnection,
    stage_id: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM opportunities WHERE stage_id = $1 OR closed_from_stage_id = $1) \
         OR EXISTS (SELECT 1 FROM stage_history WHERE stage_id = $1)",
    )
    .bind(stage_id)
    .fetch_one(connection)
    .await
}

/// Whether a pipeline other than `except` has this name (case-insensitive).
pub(crate) async fn pipeline_name_taken(
    connection: &mut PgConnection,
    name: &str,
    except: Option<Uuid>,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pipelines WHERE lower(name) = lower($1) AND id IS DISTINCT FROM $2)",
    )
    .bind(name)
    .bind(except)
    .fetch_one(connection)
    .await
}

/// The names of the catalogue's competitors among `ids` that are not retired.
pub(crate) async fn competitor_names(
    connection: &mut PgConnection,
    ids: &[Uuid],
) -> sqlx::Result<Vec<(Uuid, String)>> {
    sqlx::query_as("SELECT id, name FROM competitors WHERE id = ANY($1) AND NOT retired")
        .bind(ids)
        .fetch_all(connection)
        .await
}

/// A close reason a win or loss names: its outcome (1 won, 2 lost), label and whether retired.
pub(crate) async fn close_reason(
    connection: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<(i16, String, bool)>> {
    sqlx::query_as("SELECT outcome, label, retired FROM close_reasons WHERE id = $1")
        .bind(id)
        .fetch_optional(connection)
        .await
}

/// Who created the pipeline (`None` for the seeded one, or no such pipeline): a retried create
/// with the same id returns the first result only to its creator.
pub(crate) async fn pipeline_created_by(
    connection: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("SELECT created_by FROM pipelines WHERE id = $1")
        .bind(id)
        .fetch_optional(connection)
        .await
        .map(Option::flatten)
}

/// Whether a deal is in the stage now, or closed from it (a reopen returns there): then the
/// stage keeps its kind.
pub(crate) async fn stage_holds_deals(
    connection: &mut PgConnection,
    stage_id: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM opportunities WHERE stage_id = $1 OR closed_from_stage_id = $1)",
    )
    .bind(stage_id)
    .fetch_one(connection)
    .await
}
