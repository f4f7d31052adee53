//! Customer care, domain → wire: what CareService returns and care_reminder_due carries.

use crm_platform::time::to_timestamp;
use crm_proto::crm::opportunities::v1 as pb;

use crate::{
    domain::care::RecurringDate,
    store::care::{ReminderRow, SettingsRow, TemplateRow},
};

pub(crate) fn settings(settings: &SettingsRow) -> pb::CareSettings {
    pb::CareSettings {
        birthday_days_before: u32::try_from(settings.birthday_days_before).unwrap_or_default(),
        anniversary_days_before: u32::try_from(settings.anniversary_days_before)
            .unwrap_or_default(),
        version: u64::try_from(settings.version).unwrap_or_default(),
    }
}

pub(crate) fn template(template: &TemplateRow) -> pb::CareTemplate {
    let kind = match template.kind.as_str() {
        "birthday" => pb::CareTemplateKind::Birthday,
        "contract_anniversary" => pb::CareTemplateKind::ContractAnniversary,
        "any" => pb::CareTemplateKind::Any,
        _ => pb::CareTemplateKind::Unspecified,
    };
    let channel = match template.channel.as_str() {
        "letter" => pb::CareChannel::Letter,
        "message" => pb::CareChannel::Message,
        _ => pb::CareChannel::Unspecified,
    };
    pb::CareTemplate {
        id: template.id.to_string(),
        name: template.name.clone(),
        kind: kind.into(),
        channel: channel.into(),
        subject: template.subject.clone(),
        body: template.body.clone(),
        archived: template.archived,
        updated_by: template.updated_by.to_string(),
        updated_at: Some(to_timestamp(template.updated_at)),
        version: u64::try_from(template.revision).unwrap_or_default(),
    }
}

pub(crate) fn reminder(reminder: &ReminderRow) -> pb::CareReminder {
    let kind = match reminder.kind.as_str() {
        "birthday" => pb::CareDateKind::Birthday,
        "contract_anniversary" => pb::CareDateKind::ContractAnniversary,
        _ => pb::CareDateKind::Unspecified,
    };
    let years = RecurringDate::parse(&reminder.date)
        .and_then(|date| date.years_at(reminder.occurs_on))
        .and_then(|years| u32::try_from(years).ok())
        .unwrap_or_default();
    pb::CareReminder {
        id: reminder.id.to_string(),
        contact_id: reminder.contact_id.to_string(),
        contact_name: reminder.contact_name.clone(),
        account_id: reminder.account_id.to_string(),
        account_name: reminder.account_name.clone(),
        kind: kind.into(),
        date: reminder.date.clone(),
        occurs_on: reminder.occurs_on.to_string(),
        owner_id: reminder.owner_id.to_string(),
        owner_team_path: reminder.owner_team_path.clone(),
        due_on: reminder.due_on.to_string(),
        suggested_template_id: reminder
            .template_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        years,
    }
}
