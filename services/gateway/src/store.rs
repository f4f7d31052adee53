//! SQL of the gateway: teams, users, territories, refresh tokens, API keys.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct TeamRow {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub parent_team_id: Option<Uuid>,
    pub path: String,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_team(connection: &mut PgConnection, team: &TeamRow) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO teams (id, slug, name, parent_team_id, path, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(team.id)
        .bind(&team.slug)
        .bind(&team.name)
        .bind(team.parent_team_id)
        .bind(&team.path)
        .bind(team.created_at)
        .execute(connection)
        .await?;
    Ok(())
}

pub async fn get_team(connection: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<TeamRow>> {
    sqlx::query_as(
        "SELECT id, slug, name, parent_team_id, path, created_at FROM teams WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(connection)
    .await
}

/// Teams whose path lies under `path_prefix` ("/" for all), in tree order.
pub async fn teams_under(
    connection: &mut PgConnection,
    path_prefix: &str,
) -> sqlx::Result<Vec<TeamRow>> {
    sqlx::query_as("SELECT id, slug, name, parent_team_id, path, created_at FROM teams WHERE path LIKE $1 || '%' ORDER BY path")
        .bind(path_prefix)
        .fetch_all(connection)
        .await
}

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub team_id: Uuid,
    pub team_path: String,
    pub password_hash: String,
    pub stage: String,
    pub stage_override: Option<String>,
    pub started_on: NaiveDate,
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Codes of the user's territories, in code order.
    pub territories: Vec<String>,
}

const USER_SELECT: &str = "SELECT u.id, u.email, u.display_name, u.role, u.team_id, t.path AS team_path, \
    u.password_hash, u.stage, u.stage_override, u.started_on, u.active, u.version, u.created_at, u.updated_at, \
    ARRAY(SELECT tr.code FROM user_territories ut JOIN territories tr ON tr.id = ut.territory_id \
          WHERE ut.user_id = u.id ORDER BY tr.code COLLATE \"C\") AS territories \
    FROM users u JOIN teams t ON t.id = u.team_id";

pub async fn insert_user(connection: &mut PgConnection, user: &UserRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO users (id, email, display_name, role, team_id, password_hash, stage, stage_override, started_on, \
         active, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
    )
    .bind(user.id)
    .bind(&user.email)
    .bind(&user.display_name)
    .bind(&user.role)
    .bind(user.team_id)
    .bind(&user.password_hash)
    .bind(&user.stage)
    .bind(&user.stage_override)
    .bind(user.started_on)
    .bind(user.active)
    .bind(user.version)
    .bind(user.created_at)
    .execute(connection)
    .await?;
    Ok(())
}

pub async fn update_user(connection: &mut PgConnection, user: &UserRow) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE users SET display_name = $2, role = $3, team_id = $4, password_hash = $5, stage = $6, \
         stage_override = $7, started_on = $8, active = $9, version = $10, updated_at = $11 WHERE id = $1",
    )
    .bind(user.id)
    .bind(&user.display_name)
    .bind(&user.role)
    .bind(user.team_id)
    .bind(&user.password_hash)
    .bind(&user.stage)
    .bind(&user.stage_override)
    .bind(user.started_on)
    .bind(user.active)
    .bind(user.version)
    .bind(user.updated_at)
    .execute(connection)
    .await?;
    Ok(())
}

pub async fn get_user(connection: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{USER_SELECT} WHERE u.id = $1"
    )))
    .bind(id)
    .fetch_optional(connection)
    .await
}

pub async fn lock_user(connection: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{USER_SELECT} WHERE u.id = $1 FOR UPDATE OF u"
    )))
    .bind(id)
    .fetch_optional(connection)
    .await
}

pub async fn user_by_email(
    connection: &mut PgConnection,
    email: &str,
) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{USER_SELECT} WHERE u.email = $1"
    )))
    .bind(email)
    .fetch_optional(connection)
    .await
}

pub async fn users_under(
    connection: &mut PgConnection,
    path_prefix: &str,
    include_inactive: bool,
) -> sqlx::Result<Vec<UserRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{USER_SELECT} WHERE t.path LIKE $1 || '%' AND (u.active OR $2) ORDER BY t.path, u.display_name, u.id"
    )))
    .bind(path_prefix)
    .bind(include_inactive)
    .fetch_all(connection)
    .await
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

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct TerritoryRow {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub parent_territory_id: Option<Uuid>,
    /// Read with the row; not written.
    pub parent_code: Option<String>,
    pub team_id: Option<Uuid>,
    /// Read with the row; not written.
    pub team_path: Option<String>,
    pub description: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const TERRITORY_SELECT: &str = "SELECT t.id, t.code, t.name, t.parent_territory_id, p.code AS parent_code, \
    t.team_id, tm.path AS team_path, t.description, t.version, t.created_at, t.updated_at \
    FROM territories t LEFT JOIN territories p ON p.id = t.parent_territory_id \
    LEFT JOIN teams tm ON tm.id = t.team_id";

pub async fn insert_territory(
    connection: &mut PgConnection,
    territory: &TerritoryRow,
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
    territory: &TerritoryRow,
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
) -> sqlx::Result<Option<TerritoryRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{TERRITORY_SELECT} WHERE t.id = $1"
    )))
    .bind(id)
    .fetch_optional(connection)
    .await
}

pub async fn lock_territory(
    connection: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<TerritoryRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{TERRITORY_SELECT} WHERE t.id = $1 FOR UPDATE OF t"
    )))
    .bind(id)
    .fetch_optional(connection)
    .await
}

/// Territories in code order (bytewise, as Rust sorts strings); each filter applies when given: covered by a team whose path
/// lies under `team_path_prefix`, children of `parent`, one of `codes`.
pub async fn list_territories(
    connection: &mut PgConnection,
    team_path_prefix: Option<&str>,
    parent: Option<Uuid>,
    codes: &[String],
) -> sqlx::Result<Vec<TerritoryRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{TERRITORY_SELECT} WHERE ($1::text IS NULL OR tm.path LIKE $1 || '%') \
         AND ($2::uuid IS NULL OR t.parent_territory_id = $2) \
         AND (cardinality($3::text[]) = 0 OR t.code = ANY($3)) ORDER BY t.code COLLATE \"C\""
    )))
    .bind(team_path_prefix)
    .bind(parent)
    .bind(codes)
    .fetch_all(connection)
    .await
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

pub async fn any_admin(connection: &mut PgConnection) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE role = 'admin')")
        .fetch_one(connection)
        .await
}

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct RefreshRow {
    pub id: Uuid,
    pub family_id: Uuid,
    pub user_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub async fn insert_refresh_token(
    connection: &mut PgConnection,
    family_id: Uuid,
    user_id: Uuid,
    token_hash: &str,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(Uuid::now_v7())
        .bind(family_id)
        .bind(user_id)
        .bind(token_hash)
        .bind(expires_at)
        .execute(connection)
        .await?;
    Ok(())
}

pub async fn lock_refresh_token(
    connection: &mut PgConnection,
    token_hash: &str,
) -> sqlx::Result<Option<RefreshRow>> {
    sqlx::query_as(
        "SELECT id, family_id, user_id, expires_at, rotated_at, revoked_at FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE",
    )
    .bind(token_hash)
    .fetch_optional(connection)
    .await
}

pub async fn mark_rotated(connection: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE refresh_tokens SET rotated_at = now() WHERE id = $1")
        .bind(id)
        .execute(connection)
        .await?;
    Ok(())
}

pub async fn revoke_family(connection: &mut PgConnection, family_id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL",
    )
    .bind(family_id)
    .execute(connection)
    .await?;
    Ok(())
}

/// Ends every session of a user (deactivation, password change).
pub async fn revoke_user_tokens(connection: &mut PgConnection, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(user_id)
    .execute(connection)
    .await?;
    Ok(())
}

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: Uuid,
    pub owner_user_id: Uuid,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

const API_KEY_COLUMNS: &str =
    "id, owner_user_id, name, prefix, scopes, created_at, revoked_at, last_used_at";

pub async fn insert_api_key(
    connection: &mut PgConnection,
    key: &ApiKeyRow,
    key_hash: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO api_keys (id, owner_user_id, name, prefix, key_hash, scopes, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(key.id)
    .bind(key.owner_user_id)
    .bind(&key.name)
    .bind(&key.prefix)
    .bind(key_hash)
    .bind(&key.scopes)
    .bind(key.created_at)
    .execute(connection)
    .await?;
    Ok(())
}

/// A live key by its hash; records the use.
pub async fn use_api_key(
    connection: &mut PgConnection,
    key_hash: &str,
) -> sqlx::Result<Option<ApiKeyRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE api_keys SET last_used_at = now() WHERE key_hash = $1 AND revoked_at IS NULL RETURNING {API_KEY_COLUMNS}"
    )))
    .bind(key_hash)
    .fetch_optional(connection)
    .await
}

pub async fn api_keys_of(
    connection: &mut PgConnection,
    owner_user_id: Uuid,
) -> sqlx::Result<Vec<ApiKeyRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE owner_user_id = $1 ORDER BY created_at"
    )))
    .bind(owner_user_id)
    .fetch_all(connection)
    .await
}

pub async fn revoke_api_key(
    connection: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<ApiKeyRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING {API_KEY_COLUMNS}"
    )))
    .bind(id)
    .fetch_optional(connection)
    .await
}
