//! Territories, with their parent's code and their team's path read alongside.

use chrono::{DateTime, Utc};
use crm_platform::{access::push_within, auth::TeamPath};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::domain::territory::Territory;

#[derive(sqlx::FromRow)]
struct TerritoryRow {
    id: Uuid,
    code: String,
    name: String,
    parent_territory_id: Option<Uuid>,
    parent_code: Option<String>,
    team_id: Option<Uuid>,
    team_path: Option<String>,
    description: String,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<TerritoryRow> for Territory {
    type Error = sqlx::Error;

    fn try_from(row: TerritoryRow) -> sqlx::Result<Territory> {
        Ok(Territory {
            team_path: row
                .team_path
                .as_deref()
                .map(|path| super::team_path("teams.path", path))
                .transpose()?,
            id: row.id,
            code: row.code,
            name: row.name,
            parent_territory_id: row.parent_territory_id,
            parent_code: row.parent_code,
            team_id: row.team_id,
            description: row.description,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

const TERRITORY_SELECT: &str = "SELECT t.id, t.code, t.name, t.parent_territory_id, p.code AS parent_code, \
    t.team_id, tm.path AS team_path, t.description, t.version, t.created_at, t.updated_at \
    FROM territories t LEFT JOIN territories p ON p.id = t.parent_territory_id \
    LEFT JOIN teams tm ON tm.id = t.team_id";

pub async fn insert_territory(
    connection: &mut PgConnection,
    territory: &Territory,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO territories (id, code, name, parent_territory_id, team_id, description, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(territory.id)
    .bind(&territory.code)
    .bind(&territory.name)
    .bind(territory.parent_territory_id)
    .bind(territory.team_id)
    .bind(&territory.description)
    .bind(territory.version)
    .bind(territory.created_at)
    .bind(territory.updated_at)
    .execute(connection)
    .await?;
    Ok(())
}

/// Writes everything but the code, which never changes.
pub async fn update_territory(
    connection: &mut PgConnection,
    territory: &Territory,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE territories SET name = $2, parent_territory_id = $3, team_id = $4, description = $5, \
         version = $6, updated_at = $7 WHERE id = $1",
    )
    .bind(territory.id)
    .bind(&territory.name)
    .bind(territory.parent_territory_id)
    .bind(territory.team_id)
    .bind(&territory.description)
    .bind(territory.version)
    .bind(territory.updated_at)
    .execute(connection)
    .await?;
    Ok(())
}

pub async fn get_territory(
    connection: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<Territory>> {
    let row: Option<TerritoryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{TERRITORY_SELECT} WHERE t.id = $1"
    )))
    .bind(id)
    .fetch_optional(connection)
    .await?;
    row.map(Territory::try_from).transpose()
}

pub async fn lock_territory(
    connection: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<Territory>> {
    let row: Option<TerritoryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{TERRITORY_SELECT} WHERE t.id = $1 FOR UPDATE OF t"
    )))
    .bind(id)
    .fetch_optional(connection)
    .await?;
    row.map(Territory::try_from).transpose()
}

/// Territories in code order (bytewise, as Rust sorts strings); each filter applies when
/// given: covered by a team within `team_path`, children of `parent`, one of `codes`.
pub async fn list_territories(
    connection: &mut PgConnection,
    team_path: Option<&TeamPath>,
    parent: Option<Uuid>,
    codes: &[String],
) -> sqlx::Result<Vec<Territory>> {
    let mut query = QueryBuilder::<Postgres>::new(format!("{TERRITORY_SELECT} WHERE true"));
    if let Some(path) = team_path {
        query.push(" AND ");
        push_within(&mut query, "tm.path", path);
    }
    if let Some(parent) = parent {
        query
            .push(" AND t.parent_territory_id = ")
            .push_bind(parent);
    }
    if !codes.is_empty() {
        query
            .push(" AND t.code = ANY(")
            .push_bind(codes.to_vec())
            .push(")");
    }
    query.push(" ORDER BY t.code COLLATE \"C\"");
    let rows: Vec<TerritoryRow> = query.build_query_as().fetch_all(connection).await?;
    rows.into_iter().map(Territory::try_from).collect()
}

/// A territory and its ancestors up to the top: (id, parent id, code) of each. Stops on a loop.
pub async fn territory_ancestors(
    connection: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Vec<(Uuid, Option<Uuid>, String)>> {
    sqlx::query_as(
        "WITH RECURSIVE up (id, parent_territory_id, code) AS ( \
           SELECT id, parent_territory_id, code FROM territories WHERE id = $1 \
           UNION \
           SELECT t.id, t.parent_territory_id, t.code FROM territories t JOIN up ON t.id = up.parent_territory_id \
         ) SELECT id, parent_territory_id, code FROM up",
    )
    .bind(id)
    .fetch_all(connection)
    .await
}
