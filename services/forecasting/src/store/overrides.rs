//! SQL of reps' category overrides: forecasting's own records (a rebuild keeps them).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::deal::ForecastCategory;

/// An override as stored, with who set it and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredOverride {
    pub stage_id: Uuid,
    pub category: ForecastCategory,
    pub note: String,
    pub set_by: Uuid,
    pub set_at: DateTime<Utc>,
}

/// Sets (or replaces) the deal's override.
pub async fn set(
    connection: &mut PgConnection,
    deal_id: Uuid,
    stage_id: Uuid,
    category: ForecastCategory,
    note: &str,
    set_by: Uuid,
) -> sqlx::Result<StoredOverride> {
    let (set_at,): (DateTime<Utc>,) = sqlx::query_as(
        "INSERT INTO category_overrides (deal_id, stage_id, category, note, set_by) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (deal_id) DO UPDATE SET stage_id = EXCLUDED.stage_id, \
         category = EXCLUDED.category, note = EXCLUDED.note, set_by = EXCLUDED.set_by, \
         set_at = now() RETURNING set_at",
    )
    .bind(deal_id)
    .bind(stage_id)
    .bind(category as i16)
    .bind(note)
    .bind(set_by)
    .fetch_one(connection)
    .await?;
    Ok(StoredOverride {
        stage_id,
        category,
        note: note.to_owned(),
        set_by,
        set_at,
    })
}

pub async fn remove(connection: &mut PgConnection, deal_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM category_overrides WHERE deal_id = $1")
        .bind(deal_id)
        .execute(connection)
        .await?;
    Ok(())
}
