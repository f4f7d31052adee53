//! The organisation's settings: one row.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crm_platform::fiscal::FiscalCalendar;

use super::{corrupt, stored_currency};
use crate::domain::settings::OrgSettings;

#[derive(sqlx::FromRow)]
struct SettingsRow {
    id: Uuid,
    default_calling_code: Option<String>,
    corporate_currency: Option<String>,
    fiscal_year_start_month: i32,
    fiscal_year_naming: String,
    version: i64,
    updated_at: Option<DateTime<Utc>>,
}

impl TryFrom<SettingsRow> for OrgSettings {
    type Error = sqlx::Error;

    fn try_from(row: SettingsRow) -> sqlx::Result<Self> {
        Ok(OrgSettings {
            id: row.id,
            default_calling_code: row.default_calling_code,
            corporate_currency: row
                .corporate_currency
                .map(|code| stored_currency("corporate_currency", &code))
                .transpose()?,
            fiscal_calendar: FiscalCalendar::from_stored(
                row.fiscal_year_start_month,
                &row.fiscal_year_naming,
            )
            .map_err(|error| corrupt("fiscal_year_start_month", error))?,
            version: row.version,
            updated_at: row.updated_at,
        })
    }
}

const SETTINGS_SELECT: &str = "SELECT id, default_calling_code, corporate_currency, \
                               fiscal_year_start_month, fiscal_year_naming, version, updated_at \
                               FROM organisation_settings";

/// The settings; the migration made their row.
pub async fn get_settings(connection: &mut PgConnection) -> sqlx::Result<OrgSettings> {
    let row: SettingsRow = sqlx::query_as(SETTINGS_SELECT)
        .fetch_one(connection)
        .await?;
    row.try_into()
}

/// The settings, row-locked to the end of the transaction.
pub async fn lock_settings(connection: &mut PgConnection) -> sqlx::Result<OrgSettings> {
    let row: SettingsRow =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SETTINGS_SELECT} FOR UPDATE")))
            .fetch_one(connection)
            .await?;
    row.try_into()
}

pub async fn update_settings(
    connection: &mut PgConnection,
    settings: &OrgSettings,
    by: Uuid,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE organisation_settings SET default_calling_code = $2, corporate_currency = $6, \
         version = $3, updated_at = $4, updated_by = $5, fiscal_year_start_month = $7, \
         fiscal_year_naming = $8 WHERE id = $1",
    )
    .bind(settings.id)
    .bind(settings.default_calling_code.as_deref())
    .bind(settings.version)
    .bind(settings.updated_at)
    .bind(by)
    .bind(settings.corporate_currency.map(|code| code.as_str()))
    .bind(settings.fiscal_calendar.start_month() as i32)
    .bind(settings.fiscal_calendar.naming().as_str())
    .execute(connection)
    .await?;
    Ok(())
}
