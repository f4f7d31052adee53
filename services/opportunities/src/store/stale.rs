//! SQL for stale-deal detection: open deals past their pipeline's threshold without activity,
//! and the mark of the stale episode already announced.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::stored_team;
use crate::domain::{opportunity::OpportunityStatus, stale::StaleDeal};

#[derive(sqlx::FromRow)]
struct StaleRow {
    id: Uuid,
    owner_id: Uuid,
    owner_team_path: String,
    pipeline_id: Uuid,
    version: i64,
    last_activity_at: DateTime<Utc>,
    stale_after_days: i32,
}

/// Claims up to `limit` open deals that became stale by `now` and are not yet flagged in this
/// episode, skipping deals another transaction holds.
pub(crate) async fn newly_stale(
    connection: &mut PgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<StaleDeal>> {
    let rows: Vec<StaleRow> = sqlx::query_as(
        "SELECT o.id, o.owner_id, o.owner_team_path, o.pipeline_id, o.version, \
         o.last_activity_at, p.stale_after_days FROM opportunities o \
         JOIN pipelines p ON p.id = o.pipeline_id \
         WHERE o.status = $1 AND o.stale_flagged_at IS NULL AND p.stale_after_days > 0 \
         AND o.last_activity_at <= $2 - make_interval(days => p.stale_after_days) \
         ORDER BY o.last_activity_at, o.id LIMIT $3 FOR UPDATE OF o SKIP LOCKED",
    )
    .bind(OpportunityStatus::Open as i16)
    .bind(now)
    .bind(limit)
    .fetch_all(connection)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok(StaleDeal {
                opportunity_id: row.id,
                owner_id: row.owner_id,
                owner_team_path: stored_team(&row.owner_team_path)?,
                pipeline_id: row.pipeline_id,
                version: row.version,
                last_activity_at: row.last_activity_at,
                stale_after_days: row.stale_after_days.unsigned_abs(),
            })
        })
        .collect()
}

/// Marks the deals' stale episodes announced.
pub(crate) async fn mark_flagged(
    connection: &mut PgConnection,
    ids: &[Uuid],
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE opportunities SET stale_flagged_at = $2 WHERE id = ANY($1)")
        .bind(ids)
        .bind(at)
        .execute(connection)
        .await
        .map(drop)
}
