//! SQL of the activity log's replica (what activity targets count): an activity upserted by
//! version, and the counts of a scope over a span of days.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};

use super::push_scope;
use crate::domain::{activity::LoggedActivity, scope::Scope};

/// Writes `activity` unless the replica holds it at its version or a newer one. Returns
/// whether it was written.
pub async fn upsert(
    connection: &mut PgConnection,
    activity: &LoggedActivity,
) -> sqlx::Result<bool> {
    let written = sqlx::query(
        "INSERT INTO activities AS a (id, version, kind, owner_id, owner_team_path, starts_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, kind = EXCLUDED.kind, \
         owner_id = EXCLUDED.owner_id, owner_team_path = EXCLUDED.owner_team_path, \
         starts_at = EXCLUDED.starts_at WHERE a.version < EXCLUDED.version",
    )
    .bind(activity.id)
    .bind(activity.version)
    .bind(activity.kind.as_str())
    .bind(activity.owner_id)
    .bind(activity.owner_team_path.as_str())
    .bind(activity.starts_at)
    .execute(connection)
    .await?
    .rows_affected();
    Ok(written == 1)
}

/// Calls, meetings and visits of the scope starting in `[from, until)`.
pub async fn counts(
    connection: &mut PgConnection,
    scope: &Scope,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> sqlx::Result<(i64, i64, i64)> {
    let mut query = QueryBuilder::<Postgres>::new(
        "SELECT count(*) FILTER (WHERE kind = 'call'), count(*) FILTER (WHERE kind = 'meeting'), \
         count(*) FILTER (WHERE kind = 'visit') FROM activities WHERE starts_at >= ",
    );
    query
        .push_bind(from)
        .push(" AND starts_at < ")
        .push_bind(until);
    push_scope(&mut query, scope, "");
    query.build_query_as().fetch_one(connection).await
}
