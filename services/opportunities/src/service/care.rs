//! Customer care's use cases (A6): the care settings and templates (everyone reads them,
//! admins write them), a template rendered for a contact the caller may see, the reminders of
//! the caller's reach, and the scheduled care job writing each reminder once with event
//! care_reminder_due.

use chrono::{Days, NaiveDate};
use crm_platform::{
    auth::{Caller, Role, TeamPath},
    error::{FieldViolation, check_version, reasons::INCONSISTENT_FIELDS},
    schedule,
};
use crm_proto::crm::opportunities::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Opportunities, Result, quotes::refused};
use crate::{
    convert,
    domain::{
        activity::{Regarding, Task, TaskContent},
        care::{self, CareKind, CareValues, RecurringDate},
    },
    error::OpportunitiesError,
    store::care::{self as store_care, CareContact, ReminderRow, SettingsRow, TemplateRow},
};

/// The care job's name (its advisory lock).
pub const CARE_REMINDERS: &str = "care-reminders";

/// A template as the editor writes it; kind and channel by their stored names.
#[derive(Debug, Clone)]
pub struct TemplateDraft {
    pub name: String,
    pub kind: &'static str,
    pub channel: &'static str,
    pub subject: String,
    pub body: String,
}

fn admin_only(caller: &Caller, what: &str) -> Result<()> {
    if caller.role == Role::Admin {
        return Ok(());
    }
    Err(OpportunitiesError::permission_denied(format!(
        "only admins change {what}"
    )))
}

/// The draft's subject and body use only the known placeholders; the unknown are named.
fn check_placeholders(draft: &TemplateDraft) -> Result<()> {
    let violations: Vec<FieldViolation> = [("template.subject", &draft.subject), ("template.body", &draft.body)]
        .into_iter()
        .filter_map(|(field, text)| {
            let unknown = care::unknown_placeholders(text);
            (!unknown.is_empty()).then(|| {
                let named: Vec<String> = unknown.iter().map(|name| format!("{{{name}}}")).collect();
                FieldViolation::refusal(
                    INCONSISTENT_FIELDS,
                    field,
                    format!(
                        "uses unknown placeholders {}; known: {{contact_name}}, {{account_name}}, {{date}}, {{owner_name}}, {{years}}",
                        named.join(", ")
                    ),
                )
            })
        })
        .collect();
    if violations.is_empty() {
        Ok(())
    } else {
        Err(refused(violations))
    }
}

/// Who owns the contact (its own owner, else its account's), when known.
fn contact_owner(contact: &CareContact) -> Option<(Uuid, TeamPath)> {
    let owner = contact.owner_id?;
    let team = TeamPath::parse(contact.owner_team_path.as_deref()?).ok()?;
    Some((owner, team))
}

fn days_before(settings: &SettingsRow, kind: CareKind) -> u64 {
    let days = match kind {
        CareKind::Birthday => settings.birthday_days_before,
        CareKind::ContractAnniversary => settings.anniversary_days_before,
    };
    u64::try_from(days).unwrap_or(0)
}

/// Where the reminder becomes a task on its owner's calendar: called in the care job's
/// transaction for every reminder it writes, before the event. The task is
/// due at 09:00 UTC on the reminder's day with its reminder then, regarding the contact (the
/// task-reminders job then reminds the owner like any task's). The task's id is the
/// reminder's, so the one reminder never makes two tasks.
pub(crate) async fn create_care_reminder_task(
    connection: &mut PgConnection,
    reminder: &ReminderRow,
) -> Result<()> {
    let due_at = reminder
        .due_on
        .and_hms_opt(9, 0, 0)
        .expect("09:00 exists")
        .and_utc();
    let occasion = match reminder.kind.as_str() {
        "birthday" => "birthday",
        _ => "contract anniversary",
    };
    let task = Task {
        id: reminder.id,
        content: TaskContent {
            title: format!(
                "{}'s {occasion} on {} ({})",
                reminder.contact_name, reminder.occurs_on, reminder.account_name
            )
            .chars()
            .take(200)
            .collect(),
            notes: "Customer care: start from a care template (CareService).".to_owned(),
            due_at,
            remind_at: Some(due_at),
        },
        regarding: Regarding {
            contact_id: Some(reminder.contact_id),
            ..Regarding::default()
        },
        reminder_sent_at: None,
        owner_id: reminder.owner_id,
        owner_team_path: crate::store::stored_team(&reminder.owner_team_path)?,
        completed_at: None,
        completed_by: None,
        created_by: reminder.owner_id,
        created_at: reminder.created_at,
        updated_by: reminder.owner_id,
        updated_at: reminder.created_at,
        revision: 1,
    };
    crate::store::activities::insert_task(connection, &task).await?;
    Ok(())
}

impl Opportunities {
    pub async fn care_settings(&self) -> Result<SettingsRow> {
        let mut connection = self.pool.acquire().await?;
        Ok(store_care::settings(&mut connection, false).await?)
    }

    /// Changes the days before each kind of date (admins), at the expected version.
    pub async fn update_care_settings(
        &self,
        caller: &Caller,
        birthday_days_before: u32,
        anniversary_days_before: u32,
        expected_version: Option<i64>,
    ) -> Result<SettingsRow> {
        admin_only(caller, "the care settings")?;
        let mut transaction = self.pool.begin().await?;
        let current = store_care::settings(&mut transaction, true).await?;
        check_version(
            "care settings",
            Uuid::nil(),
            expected_version,
            current.version,
        )?;
        let next = SettingsRow {
            birthday_days_before: i32::try_from(birthday_days_before).unwrap_or(i32::MAX),
            anniversary_days_before: i32::try_from(anniversary_days_before).unwrap_or(i32::MAX),
            version: current.version + 1,
        };
        store_care::save_settings(&mut transaction, &next).await?;
        self.outbox.commit(transaction).await?;
        Ok(next)
    }

    /// Writes a new template or (`id` given) changes one at the expected version (admins).
    pub async fn save_care_template(
        &self,
        caller: &Caller,
        id: Option<Uuid>,
        draft: TemplateDraft,
        expected_version: Option<i64>,
    ) -> Result<TemplateRow> {
        admin_only(caller, "care templates")?;
        check_placeholders(&draft)?;
        let mut transaction = self.pool.begin().await?;
        let now = crm_platform::time::now();
        let template = match id {
            None => TemplateRow {
                id: Uuid::now_v7(),
                name: draft.name,
                kind: draft.kind.to_owned(),
                channel: draft.channel.to_owned(),
                subject: draft.subject,
                body: draft.body,
                archived: false,
                created_by: caller.user_id,
                created_at: now,
                updated_by: caller.user_id,
                updated_at: now,
                revision: 1,
            },
            Some(id) => {
                let current = self
                    .template(&mut transaction, id, expected_version)
                    .await?;
                TemplateRow {
                    name: draft.name,
                    kind: draft.kind.to_owned(),
                    channel: draft.channel.to_owned(),
                    subject: draft.subject,
                    body: draft.body,
                    updated_by: caller.user_id,
                    updated_at: now,
                    revision: current.revision + 1,
                    ..current
                }
            }
        };
        store_care::save_template(&mut transaction, &template)
            .await
            .map_err(|error| match &error {
                sqlx::Error::Database(db) if db.is_unique_violation() => {
                    OpportunitiesError::NameTaken {
                        kind: "care template",
                        name: template.name.clone(),
                    }
                }
                _ => error.into(),
            })?;
        self.outbox.commit(transaction).await?;
        Ok(template)
    }

    async fn template(
        &self,
        connection: &mut PgConnection,
        id: Uuid,
        expected_version: Option<i64>,
    ) -> Result<TemplateRow> {
        let current = store_care::get_template(connection, id, true)
            .await?
            .ok_or_else(|| OpportunitiesError::not_found("care template", id))?;
        check_version("care template", id, expected_version, current.revision)?;
        Ok(current)
    }

    pub async fn archive_care_template(
        &self,
        caller: &Caller,
        id: Uuid,
        expected_version: Option<i64>,
    ) -> Result<TemplateRow> {
        admin_only(caller, "care templates")?;
        let mut transaction = self.pool.begin().await?;
        let current = self
            .template(&mut transaction, id, expected_version)
            .await?;
        let template = TemplateRow {
            archived: true,
            updated_by: caller.user_id,
            updated_at: crm_platform::time::now(),
            revision: current.revision + 1,
            ..current
        };
        store_care::save_template(&mut transaction, &template).await?;
        self.outbox.commit(transaction).await?;
        Ok(template)
    }

    pub async fn list_care_templates(&self, include_archived: bool) -> Result<Vec<TemplateRow>> {
        let mut connection = self.pool.acquire().await?;
        Ok(store_care::list_templates(&mut connection, include_archived).await?)
    }

    /// The template's subject and body for a contact the caller may see (NOT_FOUND otherwise,
    /// as for one that does not exist), for the occurrence given or the contact's next date
    /// of the template's kind.
    pub async fn render_care_template(
        &self,
        caller: &Caller,
        template_id: Uuid,
        contact_id: Uuid,
        occurs_on: Option<NaiveDate>,
    ) -> Result<(String, String)> {
        let mut connection = self.pool.acquire().await?;
        let template = store_care::get_template(&mut connection, template_id, false)
            .await?
            .ok_or_else(|| OpportunitiesError::not_found("care template", template_id))?;
        let contact = store_care::get_contact(&mut connection, contact_id)
            .await?
            .filter(|contact| {
                contact_owner(contact).is_some_and(|(owner, team)| caller.can_access(owner, &team))
            })
            .ok_or_else(|| OpportunitiesError::not_found("contact", contact_id))?;
        let today = crm_platform::time::now().date_naive();
        let date = contact
            .important_dates
            .0
            .iter()
            .filter(|date| template.kind == "any" || date.kind == template.kind)
            .filter_map(|date| RecurringDate::parse(&date.date))
            .min_by_key(|date| date.next_on_or_after(today));
        let occurrence = occurs_on.or_else(|| date.map(|date| date.next_on_or_after(today)));
        let values = CareValues {
            contact_name: contact.full_name.clone(),
            account_name: contact.account_name.clone(),
            date: occurrence.map(|day| day.to_string()).unwrap_or_default(),
            owner_name: contact.owner_name.clone(),
            years: date
                .zip(occurrence)
                .and_then(|(date, day)| date.years_at(day))
                .map(|years| years.to_string())
                .unwrap_or_default(),
        };
        Ok((
            care::render(&template.subject, &values),
            care::render(&template.body, &values),
        ))
    }

    /// The reminders of the caller's reach whose date recurs in `from..from + days`.
    pub async fn list_care_reminders(
        &self,
        caller: &Caller,
        from: NaiveDate,
        days: u32,
    ) -> Result<Vec<ReminderRow>> {
        let to = from
            .checked_add_days(Days::new(u64::from(days.saturating_sub(1))))
            .unwrap_or(from);
        let mut connection = self.pool.acquire().await?;
        Ok(store_care::list_reminders(&mut connection, caller, from, to).await?)
    }

    /// The care job: every live contact's birthday or contract anniversary recurring within
    /// its kind's days before from `today` gets its reminder once per occurrence (the unique
    /// key is the durable mark; a second run writes nothing), its calendar task
    /// ([`create_care_reminder_task`]) and event care_reminder_due, in one transaction under
    /// the job's lock. Archived and merged contacts get none; contacts without a known owner
    /// neither. Returns how many reminders were written.
    pub async fn run_care_reminders(&self, today: NaiveDate) -> Result<u64> {
        let mut transaction = self.pool.begin().await?;
        if !schedule::try_lock(&mut transaction, CARE_REMINDERS).await? {
            return Ok(0);
        }
        let settings = store_care::settings(&mut transaction, false).await?;
        let contacts = store_care::contacts_with_dates(&mut transaction).await?;
        let now = crm_platform::time::now();
        let mut written = 0;
        for contact in contacts {
            let Some((owner_id, owner_team)) = contact_owner(&contact) else {
                continue;
            };
            for stored in &contact.important_dates.0 {
                let (Some(kind), Some(date)) = (
                    CareKind::parse(&stored.kind),
                    RecurringDate::parse(&stored.date),
                ) else {
                    continue;
                };
                let occurs_on = date.next_on_or_after(today);
                let before = days_before(&settings, kind);
                let Some(due_on) = occurs_on.checked_sub_days(Days::new(before)) else {
                    continue;
                };
                if due_on > today {
                    continue;
                }
                let reminder = ReminderRow {
                    id: Uuid::now_v7(),
                    contact_id: contact.id,
                    contact_name: contact.full_name.clone(),
                    account_id: contact.account_id,
                    account_name: contact.account_name.clone(),
                    kind: kind.as_str().to_owned(),
                    date: stored.date.clone(),
                    occurs_on,
                    owner_id,
                    owner_team_path: owner_team.to_string(),
                    due_on,
                    template_id: store_care::suggested_template(&mut transaction, kind.as_str())
                        .await?,
                    created_at: now,
                };
                if !store_care::insert_reminder(&mut transaction, &reminder).await? {
                    continue;
                }
                create_care_reminder_task(&mut transaction, &reminder).await?;
                let message = pb::CareReminderDue {
                    reminder: Some(convert::care::reminder(&reminder)),
                };
                self.outbox
                    .enqueue_for(&mut transaction, "care_reminder", reminder.id, 1, &message)
                    .await?;
                written += 1;
            }
        }
        self.outbox.commit(transaction).await?;
        Ok(written)
    }
}
