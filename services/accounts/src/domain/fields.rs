//! Checks shared by account and contact fields.

use std::collections::BTreeMap;

use crm_platform::error::{FieldViolation, Violations, reasons};

/// Lifecycle of an account or contact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordStatus {
    Active = 1,
    Archived = 2,
    /// Merged into another record, which survives.
    Merged = 3,
}

impl TryFrom<i16> for RecordStatus {
    type Error = String;

    /// A stored status; an unknown value is corrupt data, never read as some default.
    fn try_from(value: i16) -> Result<Self, Self::Error> {
        match value {
            1 => Ok(RecordStatus::Active),
            2 => Ok(RecordStatus::Archived),
            3 => Ok(RecordStatus::Merged),
            other => Err(format!("{other} is not a record status")),
        }
    }
}

impl std::fmt::Display for RecordStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RecordStatus::Active => "active",
            RecordStatus::Archived => "archived",
            RecordStatus::Merged => "merged",
        })
    }
}

pub const MAX_TAGS: usize = 50;
pub const MAX_CUSTOM_FIELDS: usize = 100;

/// The kit's text checks, as every account and contact field uses them.
pub use crm_platform::error::{optional_text, required_text};

/// Normalises a phone number to E.164; empty means none.
pub fn optional_phone(
    violations: &mut Violations,
    field: &str,
    value: &str,
    default_calling_code: Option<&str>,
) -> Option<String> {
    if value.trim().is_empty() {
        return None;
    }
    match crm_contact_data::normalize_phone(value, default_calling_code) {
        // Valid in form: the organisation's setting is what is missing.
        Err(error @ crm_contact_data::ContactDataError::PhoneMissingCallingCode) => {
            violations.push(FieldViolation::refusal(
                reasons::NO_DEFAULT_CALLING_CODE,
                field,
                error.to_string(),
            ));
            None
        }
        result => violations.check(field, result),
    }
}

/// Tags are case-insensitive labels: lower-cased, trimmed, de-duplicated, order kept.
pub fn tags(violations: &mut Violations, field: &str, values: &[String]) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for (index, raw) in values.iter().enumerate() {
        let tag = raw.trim().to_lowercase();
        if tag.is_empty() || tag.chars().count() > 50 {
            violations.add(format!("{field}[{index}]"), "must be 1 to 50 characters");
            continue;
        }
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.len() > MAX_TAGS {
        violations.add(field, format!("at most {MAX_TAGS} tags"));
    }
    tags
}

/// Custom field keys are `snake_case` identifiers; values are text up to 1,000 characters.
pub fn custom_fields(
    violations: &mut Violations,
    field: &str,
    values: &std::collections::HashMap<String, String>,
    allow_empty_values: bool,
) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    for (key, value) in values {
        let valid_key = !key.is_empty()
            && key.len() <= 64
            && key.starts_with(|c: char| c.is_ascii_lowercase())
            && key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid_key {
            violations.add(
                format!("{field}.{key}"),
                "key must be 1-64 characters of a-z, 0-9 and _, starting with a letter",
            );
            continue;
        }
        if value.chars().count() > 1000 {
            violations.add(
                format!("{field}.{key}"),
                "value must be at most 1000 characters",
            );
            continue;
        }
        if value.is_empty() && !allow_empty_values {
            continue;
        }
        fields.insert(key.clone(), value.clone());
    }
    if fields.len() > MAX_CUSTOM_FIELDS {
        violations.add(field, format!("at most {MAX_CUSTOM_FIELDS} custom fields"));
    }
    fields
}
