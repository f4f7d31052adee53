//! SQL for customer care: the contacts' important dates and owners in their replica, the care
//! settings, templates and reminders.

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::{
    access::{OWNER_COLUMNS, push_visibility},
    auth::Caller,
};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, Postgres, QueryBuilder, types::Json};
use uuid::Uuid;

/// An important date as the replica keeps it: accounts' kind name and date text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredDate {
    pub kind: String,
    pub date: String,
}

/// Writes the contact's dates and owner where the replica holds this version of it (the upsert
/// beside it keeps a later one; then this writes nothing).
pub(crate) async fn record_contact_care(
    connection: &mut PgConnection,
    contact_id: Uuid,
    version: i64,
    owner: Option<&(Uuid, String)>,
    dates: &[StoredDate],
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE contact_replicas SET important_dates = $3, owner_id = $4, owner_team_path = $5 \
         WHERE id = $1 AND version = $2",
    )
    .bind(contact_id)
    .bind(version)
    .bind(Json(dates))
    .bind(owner.map(|(owner, _)| *owner))
    .bind(owner.map(|(_, team)| team.as_str()))
    .execute(connection)
    .await
    .map(drop)
}

/// A live contact with its dates, account and owner (the contact's, else its account's).
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct CareContact {
    pub id: Uuid,
    pub full_name: String,
    pub account_id: Uuid,
    pub account_name: String,
    pub important_dates: Json<Vec<StoredDate>>,
    pub owner_id: Option<Uuid>,
    pub owner_team_path: Option<String>,
    pub owner_name: String,
}

const CARE_CONTACT: &str = "SELECT c.id, c.full_name, c.account_id, \
     coalesce(a.name, '') AS account_name, c.important_dates, \
     coalesce(c.owner_id, a.owner_id) AS owner_id, \
     coalesce(c.owner_team_path, a.owner_team_path) AS owner_team_path, \
     coalesce((SELECT display_name FROM org_users u \
               WHERE u.user_id = coalesce(c.owner_id, a.owner_id)), '') AS owner_name \
     FROM contact_replicas c LEFT JOIN account_replicas a ON a.id = c.account_id";

/// Active (neither archived nor merged) contacts with important dates.
pub(crate) async fn contacts_with_dates(
    connection: &mut PgConnection,
) -> sqlx::Result<Vec<CareContact>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{CARE_CONTACT} WHERE c.important_dates <> '[]' AND c.status = 1 ORDER BY c.id"
    )))
    .fetch_all(connection)
    .await
}

pub(crate) async fn get_contact(
    connection: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<CareContact>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{CARE_CONTACT} WHERE c.id = $1 AND c.status = 1"
    )))
    .bind(id)
    .fetch_optional(connection)
    .await
}

#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub(crate) struct SettingsRow {
    pub birthday_days_before: i32,
    pub anniversary_days_before: i32,
    pub version: i64,
}

pub(crate) async fn settings(
    connection: &mut PgConnection,
    lock: bool,
) -> sqlx::Result<SettingsRow> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT birthday_days_before, anniversary_days_before, version FROM care_settings{}",
        if lock { " FOR UPDATE" } else { "" }
    )))
    .fetch_one(connection)
    .await
}

pub(crate) async fn save_settings(
    connection: &mut PgConnection,
    settings: &SettingsRow,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE care_settings SET birthday_days_before = $1, anniversary_days_before = $2, \
         version = $3",
    )
    .bind(settings.birthday_days_before)
    .bind(settings.anniversary_days_before)
    .bind(settings.version)
    .execute(connection)
    .await
    .map(drop)
}

/// A care template as stored (kind and channel by name).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub(crate) struct TemplateRow {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub channel: String,
    pub subject: String,
    pub body: String,
    pub archived: bool,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_by: Uuid,
    pub updated_at: DateTime<Utc>,
    pub revision: i64,
}

const TEMPLATE_COLUMNS: &str = "id, name, kind, channel, subject, body, archived, created_by, \
     created_at, updated_by, updated_at, revision";

pub(crate) async fn get_template(
    connection: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> sqlx::Result<Option<TemplateRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {TEMPLATE_COLUMNS} FROM care_templates WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    )))
    .bind(id)
    .fetch_optional(connection)
    .await
}

pub(crate) async fn list_templates(
    connection: &mut PgConnection,
    include_archived: bool,
) -> sqlx::Result<Vec<TemplateRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {TEMPLATE_COLUMNS} FROM care_templates WHERE $1 OR NOT archived ORDER BY name, id"
    )))
    .bind(include_archived)
    .fetch_all(connection)
    .await
}

/// Writes the template whole (new or changed).
pub(crate) async fn save_template(
    connection: &mut PgConnection,
    template: &TemplateRow,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO care_templates (id, name, kind, channel, subject, body, archived, \
         created_by, created_at, updated_by, updated_at, revision) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (id) DO UPDATE SET name = $2, kind = $3, channel = $4, subject = $5, \
         body = $6, archived = $7, updated_by = $10, updated_at = $11, revision = $12",
    )
    .bind(template.id)
    .bind(&template.name)
    .bind(&template.kind)
    .bind(&template.channel)
    .bind(&template.subject)
    .bind(&template.body)
    .bind(template.archived)
    .bind(template.created_by)
    .bind(template.created_at)
    .bind(template.updated_by)
    .bind(template.updated_at)
    .bind(template.revision)
    .execute(connection)
    .await
    .map(drop)
}

/// The template the job suggests for a kind of date: the first active one of the kind by name,
/// else the first of ANY.
pub(crate) async fn suggested_template(
    connection: &mut PgConnection,
    kind: &str,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "SELECT id FROM care_templates WHERE NOT archived AND kind IN ($1, 'any') \
         ORDER BY kind = 'any', name, id LIMIT 1",
    )
    .bind(kind)
    .fetch_optional(connection)
    .await
}

/// A care reminder as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ReminderRow {
    pub id: Uuid,
    pub contact_id: Uuid,
    pub contact_name: String,
    pub account_id: Uuid,
    pub account_name: String,
    pub kind: String,
    pub date: String,
    pub occurs_on: NaiveDate,
    pub owner_id: Uuid,
    pub owner_team_path: String,
    pub due_on: NaiveDate,
    pub template_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// Writes the reminder unless its contact, kind and occurrence have one: `true` when written
/// (the job then announces it), `false` for a second run's.
pub(crate) async fn insert_reminder(
    connection: &mut PgConnection,
    reminder: &ReminderRow,
) -> sqlx::Result<bool> {
    let written = sqlx::query(
        "INSERT INTO care_reminders (id, contact_id, contact_name, account_id, account_name, \
         kind, date, occurs_on, owner_id, owner_team_path, due_on, template_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (contact_id, kind, occurs_on) DO NOTHING",
    )
    .bind(reminder.id)
    .bind(reminder.contact_id)
    .bind(&reminder.contact_name)
    .bind(reminder.account_id)
    .bind(&reminder.account_name)
    .bind(&reminder.kind)
    .bind(&reminder.date)
    .bind(reminder.occurs_on)
    .bind(reminder.owner_id)
    .bind(&reminder.owner_team_path)
    .bind(reminder.due_on)
    .bind(reminder.template_id)
    .bind(reminder.created_at)
    .execute(connection)
    .await?;
    Ok(written.rows_affected() == 1)
}

/// The reminders of `reader`'s reach whose date recurs in `from..=to`, soonest first.
pub(crate) async fn list_reminders(
    connection: &mut PgConnection,
    reader: &Caller,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<Vec<ReminderRow>> {
    let mut query = QueryBuilder::<Postgres>::new(
        "SELECT id, contact_id, contact_name, account_id, account_name, kind, date, occurs_on, \
         owner_id, owner_team_path, due_on, template_id, created_at FROM care_reminders \
         WHERE occurs_on >= ",
    );
    query
        .push_bind(from)
        .push(" AND occurs_on <= ")
        .push_bind(to);
    push_visibility(&mut query, &reader.visibility(), OWNER_COLUMNS);
    query.push(" ORDER BY occurs_on, id LIMIT 1000");
    query.build_query_as().fetch_all(connection).await
}
