//! The organisation's settings: one row.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::settings::OrgSettings;

#[derive(sqlx::FromRow)]
struct SettingsRow {
    id: Uuid,
    default_calling_code: Option<String>,
    version: i64,
    updated_at: Option<DateTime<Utc>>,
}

impl From<SettingsRow> for OrgSettings {
    fn from(row: SettingsRow) -> Self {
        OrgSettings {
            id: row.id,
            default_calling_code: row.default_calling_code,
            version: row.version,
            updated_at: row.updated_at,
        }
    }
}

const SETTINGS_SELECT: &str =
    "SELECT id, default_calling_code, version, updated_at FROM organisation_settings";

/// The settings; the migration made their row.
pub async fn get_settings(connection: &mut PgConnection) -> sqlx::Result<OrgSettings> {
    let row: SettingsRow = sqlx::query_as(SETTINGS_SELECT)
        .fetch_one(connection)
        .await?;
    Ok(row.into())
}

/// The settings, row-locked to the end of the transaction.
pub async fn lock_settings(connection: &mut PgConnection) -> sqlx::Result<OrgSettings> {
    let row: SettingsRow =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SETTINGS_SELECT} FOR UPDATE")))
            .fetch_one(connection)
            .await?;
    Ok(row.into())
}

pub async fn update_settings(
    connection: &mut PgConnection,
    settings: &OrgSettings,
    by: Uuid,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE organisation_settings SET default_calling_code = $2, version = $3, \
         updated_at = $4, updated_by = $5 WHERE id = $1",
    )
    .bind(settings.id)
    .bind(settings.default_calling_code.as_deref())
    .bind(settings.version)
    .bind(settings.updated_at)
    .bind(by)
    .execute(connection)
    .await?;
    Ok(())
}
