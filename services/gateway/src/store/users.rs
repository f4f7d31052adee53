//! Users, with their team's path and their territories' codes read alongside.

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::{access::push_within, auth::TeamPath};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::domain::{stage::Stage, user::User};

#[derive(sqlx::FromRow)]
struct UserRow {
    id: Uuid,
    email: String,
    display_name: String,
    role: String,
    team_id: Uuid,
    team_path: String,
    password_hash: String,
    stage: String,
    stage_override: Option<String>,
    started_on: NaiveDate,
    active: bool,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    territories: Vec<String>,
}

fn stage(column: &str, stored: &str) -> sqlx::Result<Stage> {
    Stage::parse(stored).ok_or_else(|| super::corrupt(column, format!("{stored:?} is not a stage")))
}

impl TryFrom<UserRow> for User {
    type Error = sqlx::Error;

    fn try_from(row: UserRow) -> sqlx::Result<User> {
        Ok(User {
            role: row
                .role
                .parse()
                .map_err(|error| super::corrupt("users.role", error))?,
            team_path: super::team_path("teams.path", &row.team_path)?,
            stage: stage("users.stage", &row.stage)?,
            stage_override: row
                .stage_override
                .as_deref()
                .map(|stored| stage("users.stage_override", stored))
                .transpose()?,
            id: row.id,
            email: row.email,
            display_name: row.display_name,
            team_id: row.team_id,
            password_hash: row.password_hash,
            started_on: row.started_on,
            active: row.active,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
            territories: row.territories,
        })
    }
}

const USER_SELECT: &str = "SELECT u.id, u.email, u.display_name, u.role, u.team_id, t.path AS team_path, \
    u.password_hash, u.stage, u.stage_override, u.started_on, u.active, u.version, u.created_at, u.updated_at, \
    ARRAY(SELECT tr.code FROM user_territories ut JOIN territories tr ON tr.id = ut.territory_id \
          WHERE ut.user_id = u.id ORDER BY tr.code COLLATE \"C\") AS territories \
    FROM users u JOIN teams t ON t.id = u.team_id";

pub async fn insert_user(connection: &mut PgConnection, user: &User) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO users (id, email, display_name, role, team_id, password_hash, stage, stage_override, started_on, \
         active, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
    )
    .bind(user.id)
    .bind(&user.email)
    .bind(&user.display_name)
    .bind(user.role.to_string())
    .bind(user.team_id)
    .bind(&user.password_hash)
    .bind(user.stage.as_str())
    .bind(user.stage_override.map(Stage::as_str))
    .bind(user.started_on)
    .bind(user.active)
    .bind(user.version)
    .bind(user.created_at)
    .execute(connection)
    .await?;
    Ok(())
}

pub async fn update_user(connection: &mut PgConnection, user: &User) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE users SET display_name = $2, role = $3, team_id = $4, password_hash = $5, stage = $6, \
         stage_override = $7, started_on = $8, active = $9, version = $10, updated_at = $11 WHERE id = $1",
    )
    .bind(user.id)
    .bind(&user.display_name)
    .bind(user.role.to_string())
    .bind(user.team_id)
    .bind(&user.password_hash)
    .bind(user.stage.as_str())
    .bind(user.stage_override.map(Stage::as_str))
    .bind(user.started_on)
    .bind(user.active)
    .bind(user.version)
    .bind(user.updated_at)
    .execute(connection)
    .await?;
    Ok(())
}

pub async fn get_user(connection: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<User>> {
    let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{USER_SELECT} WHERE u.id = $1"
    )))
    .bind(id)
    .fetch_optional(connection)
    .await?;
    row.map(User::try_from).transpose()
}

pub async fn lock_user(connection: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<User>> {
    let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{USER_SELECT} WHERE u.id = $1 FOR UPDATE OF u"
    )))
    .bind(id)
    .fetch_optional(connection)
    .await?;
    row.map(User::try_from).transpose()
}

pub async fn user_by_email(
    connection: &mut PgConnection,
    email: &str,
) -> sqlx::Result<Option<User>> {
    let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{USER_SELECT} WHERE u.email = $1"
    )))
    .bind(email)
    .fetch_optional(connection)
    .await?;
    row.map(User::try_from).transpose()
}

/// Users whose team lies within `path` (everyone when `None`), in tree order then by name.
pub async fn users_under(
    connection: &mut PgConnection,
    path: Option<&TeamPath>,
    include_inactive: bool,
) -> sqlx::Result<Vec<User>> {
    let mut query = QueryBuilder::<Postgres>::new(format!("{USER_SELECT} WHERE (u.active OR "));
    query.push_bind(include_inactive).push(")");
    if let Some(path) = path {
        query.push(" AND ");
        push_within(&mut query, "t.path", path);
    }
    query.push(" ORDER BY t.path, u.display_name, u.id");
    let rows: Vec<UserRow> = query.build_query_as().fetch_all(connection).await?;
    rows.into_iter().map(User::try_from).collect()
}

/// Replaces the user's territories with `territory_ids`.
pub async fn set_user_territories(
    connection: &mut PgConnection,
    user_id: Uuid,
    territory_ids: &[Uuid],
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM user_territories WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *connection)
        .await?;
    sqlx::query(
        "INSERT INTO user_territories (user_id, territory_id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING",
    )
    .bind(user_id)
    .bind(territory_ids)
    .execute(connection)
    .await?;
    Ok(())
}

pub async fn any_admin(connection: &mut PgConnection) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE role = 'admin')")
        .fetch_one(connection)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(role: &str, team_path: &str, stage: &str) -> UserRow {
        let now = crm_platform::time::now();
        UserRow {
            id: Uuid::now_v7(),
            email: "ravi@northwind.example".into(),
            display_name: "Ravi".into(),
            role: role.into(),
            team_id: Uuid::now_v7(),
            team_path: team_path.into(),
            password_hash: String::new(),
            stage: stage.into(),
            stage_override: None,
            started_on: now.date_naive(),
            active: true,
            version: 1,
            created_at: now,
            updated_at: now,
            territories: Vec::new(),
        }
    }

    #[test]
    fn a_row_becomes_a_typed_user() {
        let user = User::try_from(row("manager", "/northwind/east/", "senior")).unwrap();
        assert_eq!(user.role, crm_platform::auth::Role::Manager);
        assert_eq!(user.stage, Stage::Senior);
        assert_eq!(user.team_path.as_str(), "/northwind/east/");
    }

    /// The old reading defaulted an unknown role to rep; now the row is refused.
    #[test]
    fn an_unknown_role_stage_or_path_is_an_error_not_a_default() {
        for bad in [
            row("owner", "/northwind/", "new"),
            row("rep", "/Northwind/", "new"),
            row("rep", "/northwind/", "veteran"),
        ] {
            assert!(matches!(User::try_from(bad), Err(sqlx::Error::Decode(_))));
        }
    }

    /// A stored path without its trailing slash is still the team it names, so the team's
    /// manager is not refused by a text comparison.
    #[test]
    fn a_stored_path_is_read_as_a_team_path() {
        let user = User::try_from(row("rep", "/northwind/east", "new")).unwrap();
        let manager = crm_platform::auth::Caller::user(
            Uuid::now_v7(),
            crm_platform::auth::Role::Manager,
            TeamPath::parse("/northwind/east/").unwrap(),
        );
        assert!(crate::domain::user::may_see(&manager, &user));
    }
}
