//! The rules a request field must keep beyond its type — its `crm.common.v1.field` option
//! (`FieldRules`: required, longest text, UUID or date form, largest number, most items) — read
//! from the descriptors: the front door refuses a request that breaks one before calling the
//! service, and the OpenAPI document declares the same rules, so the two cannot disagree.

use prost_reflect::{
    DynamicMessage, ExtensionDescriptor, FieldDescriptor, Kind, ReflectMessage, Value,
};

use super::transcode::Invalid;

/// The option's full name, as `common.proto` declares it.
pub const FIELD_RULES_OPTION: &str = "crm.common.v1.field";

/// A field's rules; the default is no rule at all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    pub required: bool,
    /// In characters; on a repeated field, each item's.
    pub max_length: Option<u32>,
    pub format: Option<TextFormat>,
    pub maximum: Option<u64>,
    pub max_items: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextFormat {
    Uuid,
    Date,
}

impl TextFormat {
    /// The OpenAPI (JSON Schema) `format`.
    pub fn openapi(self) -> &'static str {
        match self {
            TextFormat::Uuid => "uuid",
            TextFormat::Date => "date",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            TextFormat::Uuid => {
                "must be an id (a UUID such as 0190a5c4-7b1e-7c3d-9f00-1a2b3c4d5e6f)"
            }
            TextFormat::Date => "must be a date like 2026-10-01",
        }
    }

    fn accepts(self, text: &str) -> bool {
        match self {
            TextFormat::Uuid => is_hyphenated_uuid(text),
            TextFormat::Date => is_calendar_date(text),
        }
    }
}

/// The rules of `field`, from its option; none when the pool has no such option.
pub fn rules(field: &FieldDescriptor) -> Rules {
    match field
        .parent_pool()
        .get_extension_by_name(FIELD_RULES_OPTION)
    {
        Some(extension) => rules_with(field, &extension),
        None => Rules::default(),
    }
}

fn rules_with(field: &FieldDescriptor, extension: &ExtensionDescriptor) -> Rules {
    let options = field.options();
    if !options.has_extension(extension) {
        return Rules::default();
    }
    let value = options.get_extension(extension);
    let Value::Message(rules) = value.as_ref() else {
        return Rules::default();
    };
    let get = |name: &str| {
        rules
            .get_field_by_name(name)
            .map(|value| value.into_owned())
    };
    let positive_u32 = |name: &str| {
        get(name)
            .and_then(|value| value.as_u32())
            .filter(|&n| n > 0)
    };
    Rules {
        required: get("required").and_then(|value| value.as_bool()) == Some(true),
        max_length: positive_u32("max_length"),
        format: match get("format").and_then(|value| value.as_enum_number()) {
            Some(1) => Some(TextFormat::Uuid),
            Some(2) => Some(TextFormat::Date),
            _ => None,
        },
        maximum: get("maximum")
            .and_then(|value| value.as_u64())
            .filter(|&n| n > 0),
        max_items: positive_u32("max_items"),
    }
}

/// Every rule of `message` and the messages in it, by field path (`rep.rep_id`,
/// `rules[2].rep_ids[0]`); the first broken rule, or `Ok`.
pub fn check(message: &DynamicMessage) -> Result<(), Invalid> {
    check_message(message, "")
}

fn check_message(message: &DynamicMessage, prefix: &str) -> Result<(), Invalid> {
    for field in message.descriptor().fields() {
        let path = format!("{prefix}{}", field.name());
        let rules = rules(&field);
        // An `optional` scalar keeps its rules only when it is given at all (`required` then
        // means "not empty"); a required message must be given.
        let present = message.has_field(&field);
        if field.supports_presence() && !present {
            if rules.required && !is_optional_scalar(&field) {
                return Err(Invalid::new(path, "is required"));
            }
            continue;
        }
        let value = message.get_field(&field);
        check_value(&field, &rules, &value, &path)?;
        // Nested messages: their own fields' rules.
        match value.as_ref() {
            Value::Message(inner) if present => check_message(inner, &format!("{path}."))?,
            Value::List(items) => {
                for (index, item) in items.iter().enumerate() {
                    if let Value::Message(inner) = item {
                        check_message(inner, &format!("{path}[{index}]."))?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn check_value(
    field: &FieldDescriptor,
    rules: &Rules,
    value: &Value,
    path: &str,
) -> Result<(), Invalid> {
    if let Value::List(items) = value {
        if rules.required && items.is_empty() {
            return Err(Invalid::new(path, "needs at least one item"));
        }
        if let Some(most) = rules.max_items
            && items.len() > most as usize
        {
            return Err(Invalid::new(path, format!("has at most {most} items")));
        }
        let item_rules = Rules {
            required: rules.required,
            max_items: None,
            ..rules.clone()
        };
        for (index, item) in items.iter().enumerate() {
            check_scalar(field, &item_rules, item, &format!("{path}[{index}]"))?;
        }
        return Ok(());
    }
    check_scalar(field, rules, value, path)
}

fn check_scalar(
    field: &FieldDescriptor,
    rules: &Rules,
    value: &Value,
    path: &str,
) -> Result<(), Invalid> {
    match value {
        Value::String(text) => {
            if text.trim().is_empty() {
                if rules.required {
                    return Err(Invalid::new(
                        path,
                        match rules.format {
                            Some(format) => format.describe(),
                            None => "must not be empty",
                        },
                    ));
                }
                if text.is_empty() {
                    return Ok(());
                }
            }
            if let Some(most) = rules.max_length
                && text.chars().count() > most as usize
            {
                return Err(Invalid::new(
                    path,
                    format!("must be at most {most} characters"),
                ));
            }
            if let Some(format) = rules.format
                && !format.accepts(text)
            {
                return Err(Invalid::new(path, format.describe()));
            }
        }
        Value::EnumNumber(number) if rules.required && *number == 0 => {
            let names = match field.kind() {
                Kind::Enum(descriptor) => descriptor
                    .values()
                    .filter(|value| value.number() != 0)
                    .map(|value| value.name().to_owned())
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => String::new(),
            };
            return Err(Invalid::new(path, format!("is required: one of {names}")));
        }
        Value::U32(_) | Value::U64(_) | Value::I32(_) | Value::I64(_) => {
            let number = as_i128(value);
            if rules.required && number == 0 {
                return Err(Invalid::new(path, "is required (not 0)"));
            }
            if let Some(most) = rules.maximum
                && number > i128::from(most)
            {
                return Err(Invalid::new(path, format!("must be at most {most}")));
            }
        }
        Value::Message(_) if rules.required && !field.is_list() => {}
        _ => {}
    }
    Ok(())
}

/// A proto3 `optional` scalar: one that may be left out even when its rules say `required`
/// (a patch's field, "not empty when given").
pub fn is_optional_scalar(field: &FieldDescriptor) -> bool {
    field.supports_presence() && !field.is_list() && field.kind().as_message().is_none()
}

fn as_i128(value: &Value) -> i128 {
    match value {
        Value::U32(n) => i128::from(*n),
        Value::U64(n) => i128::from(*n),
        Value::I32(n) => i128::from(*n),
        Value::I64(n) => i128::from(*n),
        _ => 0,
    }
}

/// `0190a5c4-7b1e-7c3d-9f00-1a2b3c4d5e6f`: JSON Schema's `format: uuid` (RFC 9562's string
/// form), either case.
pub fn is_hyphenated_uuid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(index, byte)| match index {
            8 | 13 | 18 | 23 => *byte == b'-',
            _ => byte.is_ascii_hexdigit(),
        })
}

/// `2026-10-01`: JSON Schema's `format: date` (RFC 3339 full-date), a day that exists.
pub fn is_calendar_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() != 10
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || !bytes
            .iter()
            .enumerate()
            .all(|(index, byte)| index == 4 || index == 7 || byte.is_ascii_digit())
    {
        return false;
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
}

#[cfg(test)]
mod tests {
    use prost_reflect::DescriptorPool;

    use super::*;

    fn pool() -> DescriptorPool {
        DescriptorPool::decode(crm_proto::FILE_DESCRIPTOR_SET).unwrap()
    }

    fn field(message: &str, name: &str) -> FieldDescriptor {
        pool()
            .get_message_by_name(message)
            .unwrap()
            .get_field_by_name(name)
            .unwrap()
    }

    #[test]
    fn the_page_size_is_at_most_the_kits_maximum() {
        let rules = rules(&field("crm.common.v1.PageRequest", "page_size"));
        assert_eq!(
            rules.maximum,
            Some(u64::from(crm_platform::paging::MAX_PAGE_SIZE))
        );
    }

    #[test]
    fn ids_are_uuids_and_required_ones_are_marked() {
        let id = rules(&field("crm.accounts.v1.GetAccountRequest", "account_id"));
        assert!(id.required);
        assert_eq!(id.format, Some(TextFormat::Uuid));
        let logout = rules(&field("crm.gateway.v1.LogoutRequest", "refresh_token"));
        assert!(logout.required);
    }

    #[test]
    fn formats_accept_their_form_only() {
        assert!(is_hyphenated_uuid("0190a5c4-7b1e-7c3d-9f00-1a2b3c4d5e6F"));
        assert!(!is_hyphenated_uuid("0190a5c47b1e7c3d9f001a2b3c4d5e6f"));
        assert!(!is_hyphenated_uuid(" 0190a5c4-7b1e-7c3d-9f00-1a2b3c4d5e6"));
        assert!(is_calendar_date("2028-02-29"));
        assert!(!is_calendar_date("2027-02-29"));
        assert!(!is_calendar_date("2027-2-28"));
        assert!(!is_calendar_date("+2027-02-28"));
    }

    #[test]
    fn a_request_breaking_a_rule_names_the_field() {
        let pool = pool();
        let descriptor = pool
            .get_message_by_name("crm.accounts.v1.GetAccountRequest")
            .unwrap();
        let mut message = DynamicMessage::new(descriptor);
        assert_eq!(check(&message).unwrap_err().field, "account_id");
        message.set_field_by_name("account_id", Value::String("not-a-uuid".into()));
        assert_eq!(check(&message).unwrap_err().field, "account_id");
        message.set_field_by_name(
            "account_id",
            Value::String("0190a5c4-7b1e-7c3d-9f00-1a2b3c4d5e6f".into()),
        );
        assert_eq!(check(&message), Ok(()));
    }
}
