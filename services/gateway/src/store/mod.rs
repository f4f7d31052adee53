//! SQL of the gateway, one file per entity: teams, users, territories, refresh tokens (the
//! sessions), API keys, the organisation's settings and its exchange rates. Rows are private to each file and
//! become domain types as they are read; a value the domain does not know (a role, a stage, a
//! team path) is a decode error, never a default.

mod api_keys;
mod exchange_rates;
mod sessions;
mod settings;
mod teams;
mod territories;
mod users;

pub use api_keys::{
    api_key_rate_limit, api_keys_of, insert_api_key, revoke_api_key, set_api_key_rate_limit,
    use_api_key,
};
pub use exchange_rates::{exchange_rates, upsert_exchange_rate};
pub use sessions::{
    insert_refresh_token, lock_refresh_token, mark_rotated, revoke_family, revoke_user_tokens,
};
pub use settings::{get_settings, lock_settings, update_settings};
pub use teams::{get_team, insert_team, team_by_path, teams_under};
pub use territories::{
    get_territory, insert_territory, list_territories, lock_territory, territory_ancestors,
    update_territory,
};
pub use users::{
    any_admin, get_user, insert_user, lock_user, set_user_territories, update_user, user_by_email,
    users_under,
};

use crm_platform::{auth::TeamPath, money::CurrencyCode};

/// A row the domain refuses: the column and why.
fn corrupt(column: &str, error: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(format!("corrupt row: {column}: {error}").into())
}

/// A stored team path, which must be a valid one.
fn team_path(column: &str, stored: &str) -> sqlx::Result<TeamPath> {
    TeamPath::parse(stored).map_err(|error| corrupt(column, error))
}

/// A stored currency code, which must be an active one.
fn stored_currency(column: &str, stored: &str) -> sqlx::Result<CurrencyCode> {
    stored.parse().map_err(|error| corrupt(column, error))
}

/// Takes a transaction-scoped advisory lock named `name`.
pub async fn advisory_lock(connection: &mut sqlx::PgConnection, name: &str) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(name)
        .execute(connection)
        .await?;
    Ok(())
}

/// True for a unique violation (SQLSTATE 23505).
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some("23505"))
}
