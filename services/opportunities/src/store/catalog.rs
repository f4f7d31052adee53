//! SQL for the sales process's catalogue beside the pipelines: close reasons, competitors and
//! the priority board's settings (one row).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::corrupt;
use crate::domain::settings::{BoardSettings, CloseOutcomeKind, CloseReason, Competitor};

/// The unique index on a close reason's outcome and lower-cased label.
pub(crate) const CLOSE_REASON_LABEL_INDEX: &str = "close_reasons_label";
/// The unique index on a competitor's lower-cased name.
pub(crate) const COMPETITOR_NAME_INDEX: &str = "competitors_name";
/// The unique index on a pipeline's lower-cased name.
pub(crate) const PIPELINE_NAME_INDEX: &str = "pipelines_name";

/// Whether `error` is a unique violation of `index`: two writers took one name at once, and
/// the second is told so as if it had checked first.
pub(crate) fn violates_unique(error: &sqlx::Error, index: &str) -> bool {
    matches!(
        error,
        sqlx::Error::Database(database)
            if database.code().as_deref() == Some("23505") && database.constraint() == Some(index)
    )
}

#[derive(sqlx::FromRow)]
struct CloseReasonRow {
    id: Uuid,
    outcome: i16,
    label: String,
    retired: bool,
}

impl TryFrom<CloseReasonRow> for CloseReason {
    type Error = sqlx::Error;

    fn try_from(row: CloseReasonRow) -> sqlx::Result<Self> {
        Ok(CloseReason {
            id: row.id,
            outcome: CloseOutcomeKind::try_from(row.outcome).map_err(corrupt)?,
            label: row.label,
            retired: row.retired,
        })
    }
}

/// The close reasons of `outcome` (both when `None`), won ones first, then by label.
pub(crate) async fn list_close_reasons(
    connection: &mut PgConnection,
    outcome: Option<CloseOutcomeKind>,
    include_retired: bool,
) -> sqlx::Result<Vec<CloseReason>> {
    let rows: Vec<CloseReasonRow> = sqlx::query_as(
        "SELECT id, outcome, label, retired FROM close_reasons \
         WHERE ($1::smallint IS NULL OR outcome = $1) AND ($2 OR NOT retired) \
         ORDER BY outcome, lower(label), id",
    )
    .bind(outcome.map(|outcome| outcome as i16))
    .bind(include_retired)
    .fetch_all(connection)
    .await?;
    rows.into_iter().map(CloseReason::try_from).collect()
}

/// One close reason; `lock` holds it for the transaction.
pub(crate) async fn get_close_reason(
    connection: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> sqlx::Result<Option<CloseReason>> {
    let row: Option<CloseReasonRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT id, outcome, label, retired FROM close_reasons WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    )))
    .bind(id)
    .fetch_optional(connection)
    .await?;
    row.map(CloseReason::try_from).transpose()
}

/// Inserts a close reason; a label its outcome has already fails on
/// [`CLOSE_REASON_LABEL_INDEX`].
pub(crate) async fn insert_close_reason(
    connection: &mut PgConnection,
    reason: &CloseReason,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO close_reasons (id, outcome, label, retired) VALUES ($1, $2, $3, $4)")
        .bind(reason.id)
        .bind(reason.outcome as i16)
        .bind(&reason.label)
        .bind(reason.retired)
        .execute(connection)
        .await
        .map(drop)
}

/// Writes a close reason's label and retirement (its outcome never changes).
pub(crate) async fn update_close_reason(
    connection: &mut PgConnection,
    reason: &CloseReason,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE close_reasons SET label = $2, retired = $3 WHERE id = $1")
        .bind(reason.id)
        .bind(&reason.label)
        .bind(reason.retired)
        .execute(connection)
        .await
        .map(drop)
}

#[derive(sqlx::FromRow)]
struct CompetitorRow {
    id: Uuid,
    name: String,
    website: String,
    description: String,
    retired: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<CompetitorRow> for Competitor {
    fn from(row: CompetitorRow) -> Self {
        Competitor {
            id: row.id,
            name: row.name,
            website: row.website,
            description: row.description,
            retired: row.retired,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

const COMPETITOR_COLUMNS: &str = "id, name, website, description, retired, created_at, updated_at";

/// The competitor catalogue by name.
pub(crate) async fn list_competitors(
    connection: &mut PgConnection,
    include_retired: bool,
) -> sqlx::Result<Vec<Competitor>> {
    let rows: Vec<CompetitorRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COMPETITOR_COLUMNS} FROM competitors WHERE $1 OR NOT retired \
         ORDER BY lower(name), id"
    )))
    .bind(include_retired)
    .fetch_all(connection)
    .await?;
    Ok(rows.into_iter().map(Competitor::from).collect())
}

/// One competitor; `lock` holds it for the transaction.
pub(crate) async fn get_competitor(
    connection: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> sqlx::Result<Option<Competitor>> {
    let row: Option<CompetitorRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COMPETITOR_COLUMNS} FROM competitors WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    )))
    .bind(id)
    .fetch_optional(connection)
    .await?;
    Ok(row.map(Competitor::from))
}

/// Inserts a competitor; a name the catalogue has already fails on [`COMPETITOR_NAME_INDEX`].
pub(crate) async fn insert_competitor(
    connection: &mut PgConnection,
    competitor: &Competitor,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO competitors (id, name, website, description, retired, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(competitor.id)
    .bind(&competitor.name)
    .bind(&competitor.website)
    .bind(&competitor.description)
    .bind(competitor.retired)
    .bind(competitor.created_at)
    .bind(competitor.updated_at)
    .execute(connection)
    .await
    .map(drop)
}

pub(crate) async fn update_competitor(
    connection: &mut PgConnection,
    competitor: &Competitor,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE competitors SET name = $2, website = $3, description = $4, retired = $5, \
         updated_at = $6 WHERE id = $1",
    )
    .bind(competitor.id)
    .bind(&competitor.name)
    .bind(&competitor.website)
    .bind(&competitor.description)
    .bind(competitor.retired)
    .bind(competitor.updated_at)
    .execute(connection)
    .await
    .map(drop)
}

#[derive(sqlx::FromRow)]
struct BoardSettingsRow {
    probability_weight: i32,
    amount_weight: i32,
    closeness_weight: i32,
    staleness_weight: i32,
    amount_scale: Decimal,
    close_horizon_days: i32,
    version: i64,
}

impl TryFrom<BoardSettingsRow> for BoardSettings {
    type Error = sqlx::Error;

    fn try_from(row: BoardSettingsRow) -> sqlx::Result<Self> {
        Ok(BoardSettings {
            probability_weight: u32::try_from(row.probability_weight).map_err(corrupt)?,
            amount_weight: u32::try_from(row.amount_weight).map_err(corrupt)?,
            closeness_weight: u32::try_from(row.closeness_weight).map_err(corrupt)?,
            staleness_weight: u32::try_from(row.staleness_weight).map_err(corrupt)?,
            amount_scale: row.amount_scale,
            close_horizon_days: u32::try_from(row.close_horizon_days).map_err(corrupt)?,
            version: row.version,
        })
    }
}

/// The board's settings (the migration seeds the one row); `lock` holds them for the
/// transaction.
pub(crate) async fn board_settings(
    connection: &mut PgConnection,
    lock: bool,
) -> sqlx::Result<BoardSettings> {
    let row: BoardSettingsRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT probability_weight, amount_weight, closeness_weight, staleness_weight, \
         amount_scale, close_horizon_days, version FROM board_settings{}",
        if lock { " FOR UPDATE" } else { "" }
    )))
    .fetch_one(connection)
    .await?;
    BoardSettings::try_from(row)
}

pub(crate) async fn save_board_settings(
    connection: &mut PgConnection,
    settings: &BoardSettings,
) -> sqlx::Result<()> {
    let column = |value: u32| i32::try_from(value).map_err(corrupt);
    sqlx::query(
        "UPDATE board_settings SET probability_weight = $1, amount_weight = $2, \
         closeness_weight = $3, amount_scale = $4, close_horizon_days = $5, version = $6, \
         staleness_weight = $7",
    )
    .bind(column(settings.probability_weight)?)
    .bind(column(settings.amount_weight)?)
    .bind(column(settings.closeness_weight)?)
    .bind(settings.amount_scale)
    .bind(column(settings.close_horizon_days)?)
    .bind(settings.version)
    .bind(column(settings.staleness_weight)?)
    .execute(connection)
    .await
    .map(drop)
}
