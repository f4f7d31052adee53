//! Contacts: the people at an account, their buying role and the dates worth remembering.

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::{
    auth::TeamPath,
    error::{FieldViolation, Violations},
};
use crm_proto::crm::accounts::v1::{BuyingRole, ContactInput, ContactPatch, ImportantDateKind};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::fields::{self, RecordStatus};

pub const MAX_IMPORTANT_DATES: usize = 20;

#[derive(Clone, Debug, PartialEq)]
pub struct Contact {
    pub id: Uuid,
    pub account_id: Uuid,
    pub full_name: String,
    pub title: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub wechat: String,
    pub buying_role: BuyingRole,
    pub important_dates: Vec<ImportantDate>,
    pub owner_id: Uuid,
    pub owner_team_path: TeamPath,
    pub status: RecordStatus,
    pub merged_into_contact_id: Option<Uuid>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A birthday (`--03-14` when the year is unknown), contract anniversary or other date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportantDate {
    pub kind: i32,
    pub date: String,
    pub label: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewContact {
    pub account_id: Uuid,
    pub full_name: String,
    pub title: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub wechat: String,
    pub buying_role: BuyingRole,
    pub important_dates: Vec<ImportantDate>,
    pub owner_id: Option<Uuid>,
}

pub fn validate_new_contact(
    input: &ContactInput,
    default_calling_code: Option<&str>,
) -> Result<NewContact, Vec<FieldViolation>> {
    let mut violations = Violations::new();
    let account_id = violations.id("contact.account_id", &input.account_id);
    let contact = NewContact {
        account_id: account_id.unwrap_or_default(),
        full_name: fields::required_text(
            &mut violations,
            "contact.full_name",
            &input.full_name,
            200,
        ),
        title: fields::optional_text(&mut violations, "contact.title", &input.title, 200),
        email: email(&mut violations, "contact.email", &input.email),
        phone: fields::optional_phone(
            &mut violations,
            "contact.phone",
            &input.phone,
            default_calling_code,
        ),
        mobile: fields::optional_phone(
            &mut violations,
            "contact.mobile",
            &input.mobile,
            default_calling_code,
        ),
        wechat: fields::optional_text(&mut violations, "contact.wechat", &input.wechat, 64),
        buying_role: buying_role(&mut violations, "contact.buying_role", input.buying_role),
        important_dates: important_dates(
            &mut violations,
            "contact.important_dates",
            &input.important_dates,
        ),
        owner_id: violations.optional_id("contact.owner_id", &input.owner_id),
    };
    violations.into_result().map(|()| contact)
}

fn email(violations: &mut Violations, field: &str, value: &str) -> Option<String> {
    if value.trim().is_empty() {
        return None;
    }
    violations.check(field, crm_contact_data::normalize_email(value))
}

fn buying_role(violations: &mut Violations, field: &str, value: i32) -> BuyingRole {
    BuyingRole::try_from(value).unwrap_or_else(|_| {
        violations.add(field, format!("{value} is not a known buying role"));
        BuyingRole::Unspecified
    })
}

fn important_dates(
    violations: &mut Violations,
    field: &str,
    values: &[crm_proto::crm::accounts::v1::ImportantDate],
) -> Vec<ImportantDate> {
    if values.len() > MAX_IMPORTANT_DATES {
        violations.add(field, format!("at most {MAX_IMPORTANT_DATES} dates"));
    }
    values
        .iter()
        .enumerate()
        .map(|(index, value)| {
            let path = format!("{field}[{index}]");
            let kind =
                ImportantDateKind::try_from(value.kind).unwrap_or(ImportantDateKind::Unspecified);
            if kind == ImportantDateKind::Unspecified {
                violations.add(
                    format!("{path}.kind"),
                    "must be birthday, contract anniversary or other",
                );
            }
            let date = value.date.trim().to_owned();
            if let Err(message) = check_date(&date, kind) {
                violations.add(format!("{path}.date"), message);
            }
            ImportantDate {
                kind: value.kind,
                date,
                label: fields::optional_text(
                    violations,
                    &format!("{path}.label"),
                    &value.label,
                    100,
                ),
            }
        })
        .collect()
}

/// `YYYY-MM-DD`, or `--MM-DD` for a birthday whose year is not known.
fn check_date(date: &str, kind: ImportantDateKind) -> Result<(), String> {
    if let Some(month_day) = date.strip_prefix("--") {
        if kind != ImportantDateKind::Birthday {
            return Err("only a birthday may omit the year".to_owned());
        }
        // 2000 is a leap year, so 29 February is accepted.
        return NaiveDate::parse_from_str(&format!("2000-{month_day}"), "%Y-%m-%d")
            .map(|_| ())
            .map_err(|_| format!("{date:?} is not a date like --03-14"));
    }
    NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map(|_| ())
        .map_err(|_| format!("{date:?} is not a date like 2026-03-14"))
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContactChanges {
    pub account_id: Option<Uuid>,
    pub full_name: Option<String>,
    pub title: Option<String>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub mobile: Option<Option<String>>,
    pub wechat: Option<String>,
    pub buying_role: Option<BuyingRole>,
    pub important_dates: Option<Vec<ImportantDate>>,
    pub owner_id: Option<Uuid>,
}

pub fn validate_contact_patch(
    patch: &ContactPatch,
    default_calling_code: Option<&str>,
) -> Result<ContactChanges, Vec<FieldViolation>> {
    let mut violations = Violations::new();
    let changes = ContactChanges {
        account_id: match patch.account_id.as_deref() {
            Some(id) => violations.id("patch.account_id", id),
            None => None,
        },
        full_name: patch
            .full_name
            .as_deref()
            .map(|v| fields::required_text(&mut violations, "patch.full_name", v, 200)),
        title: patch
            .title
            .as_deref()
            .map(|v| fields::optional_text(&mut violations, "patch.title", v, 200)),
        email: patch
            .email
            .as_deref()
            .map(|v| email(&mut violations, "patch.email", v)),
        phone: patch.phone.as_deref().map(|v| {
            fields::optional_phone(&mut violations, "patch.phone", v, default_calling_code)
        }),
        mobile: patch.mobile.as_deref().map(|v| {
            fields::optional_phone(&mut violations, "patch.mobile", v, default_calling_code)
        }),
        wechat: patch
            .wechat
            .as_deref()
            .map(|v| fields::optional_text(&mut violations, "patch.wechat", v, 64)),
        buying_role: patch
            .buying_role
            .map(|v| buying_role(&mut violations, "patch.buying_role", v)),
        important_dates: (patch.replace_important_dates || !patch.important_dates.is_empty()).then(
            || {
                important_dates(
                    &mut violations,
                    "patch.important_dates",
                    &patch.important_dates,
                )
            },
        ),
        owner_id: match patch.owner_id.as_deref() {
            Some(id) => violations.id("patch.owner_id", id),
            None => None,
        },
    };
    violations.into_result().map(|()| changes)
}

/// The contact after `changes`, with the names of the fields that changed. Important dates are
/// added unless the patch replaces them.
pub fn apply_contact_changes(
    contact: &Contact,
    changes: &ContactChanges,
    replace_important_dates: bool,
) -> (Contact, Vec<&'static str>) {
    let mut updated = contact.clone();
    let mut changed = Vec::new();
    macro_rules! set {
        ($field:ident) => {
            if let Some(value) = &changes.$field {
                if updated.$field != *value {
                    updated.$field = value.clone();
                    changed.push(stringify!($field));
                }
            }
        };
    }
    set!(account_id);
    set!(full_name);
    set!(title);
    set!(email);
    set!(phone);
    set!(mobile);
    set!(wechat);
    set!(buying_role);
    set!(owner_id);
    if let Some(dates) = &changes.important_dates {
        let new_dates = if replace_important_dates {
            dates.clone()
        } else {
            let mut merged = updated.important_dates.clone();
            merged.extend(
                dates
                    .iter()
                    .filter(|d| !updated.important_dates.contains(d))
                    .cloned(),
            );
            merged
        };
        if new_dates != updated.important_dates {
            updated.important_dates = new_dates;
            changed.push("important_dates");
        }
    }
    (updated, changed)
}

/// Survivorship for contacts: the survivor's values stand, empty ones are filled from the
/// duplicate, important dates are united.
pub fn merge_contact_into_survivor(
    survivor: &Contact,
    duplicate: &Contact,
) -> (Contact, Vec<&'static str>) {
    let mut merged = survivor.clone();
    let mut changed = Vec::new();
    macro_rules! fill {
        ($field:ident, $empty:expr) => {
            if $empty(&merged.$field) && !$empty(&duplicate.$field) {
                merged.$field = duplicate.$field.clone();
                changed.push(stringify!($field));
            }
        };
    }
    fill!(title, String::is_empty);
    fill!(wechat, String::is_empty);
    fill!(email, Option::is_none);
    fill!(phone, Option::is_none);
    fill!(mobile, Option::is_none);
    if merged.buying_role == BuyingRole::Unspecified
        && duplicate.buying_role != BuyingRole::Unspecified
    {
        merged.buying_role = duplicate.buying_role;
        changed.push("buying_role");
    }
    let before = merged.important_dates.len();
    for date in &duplicate.important_dates {
        if !merged.important_dates.contains(date) {
            merged.important_dates.push(date.clone());
        }
    }
    if merged.important_dates.len() != before {
        changed.push("important_dates");
    }
    (merged, changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crm_proto::crm::accounts::v1::ImportantDate as ImportantDateMessage;

    fn input() -> ContactInput {
        ContactInput {
            account_id: Uuid::now_v7().to_string(),
            full_name: "Li Wei".into(),
            email: "Li.Wei@Contoso.CN".into(),
            mobile: "+86 138 0013 8000".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_valid_contact_is_normalised() {
        let contact = validate_new_contact(&input(), None).unwrap();
        assert_eq!(contact.email.as_deref(), Some("li.wei@contoso.cn"));
        assert_eq!(contact.mobile.as_deref(), Some("+8613800138000"));
    }

    #[test]
    fn bad_contact_fields_are_reported_with_paths() {
        let mut bad = input();
        bad.account_id.clear();
        bad.email = "li.wei@".into();
        bad.buying_role = 99;
        bad.important_dates = vec![
            ImportantDateMessage {
                kind: ImportantDateKind::ContractAnniversary as i32,
                date: "--03-14".into(),
                label: String::new(),
            },
            ImportantDateMessage {
                kind: ImportantDateKind::Birthday as i32,
                date: "2026-02-30".into(),
                label: String::new(),
            },
        ];
        let fields: Vec<String> = validate_new_contact(&bad, None)
            .unwrap_err()
            .into_iter()
            .map(|v| v.field)
            .collect();
        for expected in [
            "contact.account_id",
            "contact.email",
            "contact.buying_role",
            "contact.important_dates[0].date",
            "contact.important_dates[1].date",
        ] {
            assert!(
                fields.iter().any(|f| f == expected),
                "{expected} missing from {fields:?}"
            );
        }
    }

    #[test]
    fn a_birthday_may_omit_the_year() {
        assert!(check_date("--02-29", ImportantDateKind::Birthday).is_ok());
        assert!(check_date("--13-01", ImportantDateKind::Birthday).is_err());
        assert!(check_date("2026-11-23", ImportantDateKind::ContractAnniversary).is_ok());
    }
}
