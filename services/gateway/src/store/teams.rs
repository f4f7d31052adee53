//! The team tree.

use chrono::{DateTime, Utc};
use crm_platform::{access::push_within, auth::TeamPath};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::domain::team::Team;

#[derive(sqlx::FromRow)]
struct TeamRow {
    id: Uuid,
    slug: String,
    name: String,
    parent_team_id: Option<Uuid>,
    path: String,
    created_at: DateTime<Utc>,
}

impl TryFrom<TeamRow> for Team {
    type Error = sqlx::Error;

    fn try_from(row: TeamRow) -> sqlx::Result<Team> {
        Ok(Team {
            path: super::team_path("teams.path", &row.path)?,
            id: row.id,
            slug: row.slug,
            name: row.name,
            parent_team_id: row.parent_team_id,
            created_at: row.created_at,
        })
    }
}

const TEAM_SELECT: &str = "SELECT id, slug, name, parent_team_id, path, created_at FROM teams";

pub async fn insert_team(connection: &mut PgConnection, team: &Team) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO teams (id, slug, name, parent_team_id, path, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(team.id)
        .bind(&team.slug)
        .bind(&team.name)
        .bind(team.parent_team_id)
        .bind(team.path.as_str())
        .bind(team.created_at)
        .execute(connection)
        .await?;
    Ok(())
}

pub async fn get_team(connection: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Team>> {
    let row: Option<TeamRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{TEAM_SELECT} WHERE id = $1")))
            .bind(id)
            .fetch_optional(connection)
            .await?;
    row.map(Team::try_from).transpose()
}

pub async fn team_by_path(
    connection: &mut PgConnection,
    path: &TeamPath,
) -> sqlx::Result<Option<Team>> {
    let row: Option<TeamRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{TEAM_SELECT} WHERE path = $1"
    )))
    .bind(path.as_str())
    .fetch_optional(connection)
    .await?;
    row.map(Team::try_from).transpose()
}

/// Teams within `path` (all when `None`), in tree order.
pub async fn teams_under(
    connection: &mut PgConnection,
    path: Option<&TeamPath>,
) -> sqlx::Result<Vec<Team>> {
    let mut query = QueryBuilder::<Postgres>::new(format!("{TEAM_SELECT} WHERE true"));
    if let Some(path) = path {
        query.push(" AND ");
        push_within(&mut query, "path", path);
    }
    query.push(" ORDER BY path");
    let rows: Vec<TeamRow> = query.build_query_as().fetch_all(connection).await?;
    rows.into_iter().map(Team::try_from).collect()
}
