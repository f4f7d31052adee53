//! The lead's audit trail and its activities.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    pub kind: String,
    pub actor_id: Option<Uuid>,
    pub from_owner_id: Option<Uuid>,
    pub to_owner_id: Option<Uuid>,
    pub summary: String,
}

/// One line of history; `details` holds the machine-readable part (assignment explanation,
/// merge origins).
#[allow(clippy::too_many_arguments)]
pub async fn record(
    connection: &mut PgConnection,
    lead_id: Uuid,
    at: DateTime<Utc>,
    kind: &str,
    actor_id: Option<Uuid>,
    from_owner_id: Option<Uuid>,
    to_owner_id: Option<Uuid>,
    summary: &str,
    details: serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO lead_history (id, lead_id, at, kind, actor_id, from_owner_id, to_owner_id, summary, details) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(Uuid::now_v7())
    .bind(lead_id)
    .bind(at)
    .bind(kind)
    .bind(actor_id)
    .bind(from_owner_id)
    .bind(to_owner_id)
    .bind(summary)
    .bind(details)
    .execute(connection)
    .await?;
    Ok(())
}

/// A history line of [`record_many`].
#[derive(Clone, Debug, PartialEq)]
pub struct NewEntry {
    pub lead_id: Uuid,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub actor_id: Option<Uuid>,
    pub from_owner_id: Option<Uuid>,
    pub to_owner_id: Option<Uuid>,
    pub summary: String,
    /// The details as JSON text (serialised once, where the entry is made).
    pub details: String,
}

/// [`record`] for many lines in one statement.
pub async fn record_many(connection: &mut PgConnection, entries: &[NewEntry]) -> sqlx::Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = entries.iter().map(|_| Uuid::now_v7()).collect();
    let column = |get: fn(&NewEntry) -> Option<Uuid>| entries.iter().map(get).collect::<Vec<_>>();
    sqlx::query(
        "INSERT INTO lead_history (id, lead_id, at, kind, actor_id, from_owner_id, to_owner_id, summary, details) \
         SELECT id, lead_id, at, kind, actor_id, from_owner_id, to_owner_id, summary, details::jsonb \
         FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::text[], $5::uuid[], \
         $6::uuid[], $7::uuid[], $8::text[], $9::text[]) \
         AS e(id, lead_id, at, kind, actor_id, from_owner_id, to_owner_id, summary, details)",
    )
    .bind(&ids)
    .bind(entries.iter().map(|e| e.lead_id).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.at).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>())
    .bind(column(|e| e.actor_id))
    .bind(column(|e| e.from_owner_id))
    .bind(column(|e| e.to_owner_id))
    .bind(entries.iter().map(|e| e.summary.as_str()).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.details.as_str()).collect::<Vec<_>>())
    .execute(connection)
    .await?;
    Ok(())
}

pub async fn entries(
    connection: &mut PgConnection,
    lead_id: Uuid,
) -> sqlx::Result<Vec<HistoryEntry>> {
    sqlx::query_as(
        "SELECT at, kind, actor_id, from_owner_id, to_owner_id, summary FROM lead_history \
         WHERE lead_id = $1 ORDER BY at, id",
    )
    .bind(lead_id)
    .fetch_all(connection)
    .await
}

/// When `rep_id` last lost this lead (recycled or released), for the reclaim cool-down.
pub async fn last_lost_by(
    connection: &mut PgConnection,
    lead_id: Uuid,
    rep_id: Uuid,
) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar(
        "SELECT max(at) FROM lead_history WHERE lead_id = $1 AND from_owner_id = $2 AND kind IN ('recycled', 'released')",
    )
    .bind(lead_id)
    .bind(rep_id)
    .fetch_one(connection)
    .await
}

pub async fn record_activity(
    connection: &mut PgConnection,
    lead_id: Uuid,
    kind: &str,
    at: DateTime<Utc>,
    actor_id: Option<Uuid>,
    note: &str,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO lead_activities (id, lead_id, kind, at, actor_id, note) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(Uuid::now_v7())
        .bind(lead_id)
        .bind(kind)
        .bind(at)
        .bind(actor_id)
        .bind(note)
        .execute(connection)
        .await?;
    Ok(())
}

/// (kind, at) of the lead's activities, for engagement scoring.
pub async fn activities(
    connection: &mut PgConnection,
    lead_id: Uuid,
) -> sqlx::Result<Vec<(String, DateTime<Utc>)>> {
    sqlx::query_as("SELECT kind, at FROM lead_activities WHERE lead_id = $1 ORDER BY at")
        .bind(lead_id)
        .fetch_all(connection)
        .await
}
