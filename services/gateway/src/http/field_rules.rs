//! The rules a request field must keep beyond its type — its `crm.common.v1.field` option
//! (`FieldRules`: required, longest text, UUID or date form, largest number, most items) — read
//! from the descriptors: the front door refuses a request that breaks one before calling the
//! service, and the OpenAPI document declares the same rules, so the two cannot disagree.

use std::sync::LazyLock;

use crm_platform::money::{CurrencyCode, RATE_FRACTION_DIGITS};
use prost_reflect::{
    DynamicMessage, ExtensionDescriptor, FieldDescriptor, Kind, MessageDescriptor, ReflectMessage,
    Value,
};
use regex::Regex;

use super::transcode::Invalid;

/// The option's full name, as `common.proto` declares it.
pub const FIELD_RULES_OPTION: &str = "crm.common.v1.field";
/// The message option's full name (`MessageRules`).
pub const MESSAGE_RULES_OPTION: &str = "crm.common.v1.message";

/// A field's rules; the default is no rule at all.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rules {
    pub required: bool,
    /// In characters; on a repeated field, each item's.
    pub max_length: Option<u32>,
    pub format: Option<TextFormat>,
    pub maximum: Option<u64>,
    pub max_items: Option<u32>,
    /// A money field whose amount must not be negative.
    pub non_negative: bool,
    /// The values a text may take; empty: any.
    pub one_of: Vec<String>,
    /// A date that may be "--MM-DD" when this enum field (of the same message) has this value.
    pub month_day_when: Option<(String, String)>,
    /// Every item of a repeated field given, the list possibly empty.
    pub each_required: bool,
    /// Bounds of a number field.
    pub at_least: Option<f64>,
    pub above: Option<f64>,
    pub at_most: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextFormat {
    Uuid,
    Date,
    Email,
    Phone,
    Website,
    TeamPath,
    Slug,
    CallingCode,
    PageToken,
    WebFormKey,
    CurrencyCode,
    Decimal,
    SnakeCaseKey,
    FiscalPeriod,
}

// The pieces of the patterns. Every pattern is written so that JSON Schema (ECMA 262), Python's
// `re` (the fuzzer's generator) and Rust's `regex` (the front door) read it alike: character
// classes and `\uXXXX` escapes only, no `\s`, `\d`, `.` or lookaround. Where a service reads
// text in Unicode NFKC (contact data), the full-width forms of the characters are allowed too
// (U+FF01..U+FF5E stand for ASCII 0x21..0x7E, U+3000 for the space).

/// A digit, ASCII or full-width.
const DIGIT: &str = "[0-9\\uFF10-\\uFF19]";
const NONZERO: &str = "[1-9\\uFF11-\\uFF19]";
const ZERO: &str = "[0\\uFF10]";
const PLUS: &str = "[+\\uFF0B]";
/// What a phone number may have between its digits: space, dot, brackets, dash.
const PHONE_SEPARATOR: &str = "[ .()\\u3000\\uFF08\\uFF09\\uFF0D\\uFF0E-]{0,2}";
/// RFC 5322's atext, ASCII and full-width.
const ATEXT: &str = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~\\uFF01\\uFF03-\\uFF07\\uFF0A\\uFF0B\\uFF0D\\uFF0F-\\uFF19\\uFF1D\\uFF1F\\uFF21-\\uFF3A\\uFF3E-\\uFF5E-]";
const DOT: &str = "[.\\uFF0E]";
const AT: &str = "[@\\uFF20]";
const ALNUM: &str = "[A-Za-z0-9\\uFF10-\\uFF19\\uFF21-\\uFF3A\\uFF41-\\uFF5A]";
const LETTER_DIGIT_DASH: &str = "[A-Za-z0-9\\uFF10-\\uFF19\\uFF21-\\uFF3A\\uFF41-\\uFF5A\\uFF0D-]";
const ALPHA: &str = "[A-Za-z\\uFF21-\\uFF3A\\uFF41-\\uFF5A]";
/// Any text without control characters (the rule for every text).
const NO_CONTROL: &str = "[^\\u0000-\\u001f\\u007f-\\u009f]";
const HTTP_SCHEME: &str = "(?:[Hh][Tt][Tt][Pp][Ss]?://)?";

/// The most integer digits of a decimal amount the document offers.
const DECIMAL_INTEGER_DIGITS: u32 = 20;

/// A DNS name with an alphabetic top-level domain, as contact data checks domains.
fn domain() -> String {
    let label = format!("{ALNUM}(?:{LETTER_DIGIT_DASH}{{0,61}}{ALNUM})?");
    format!("(?:{label}{DOT})+{ALPHA}{{2,63}}")
}

/// `^-?[0-9]{1,20}(?:\.[0-9]{1,digits})?$`: a plain decimal with at most `digits` fraction
/// digits; `non_negative` leaves out the minus sign.
pub fn decimal_pattern(fraction_digits: u32, non_negative: bool) -> String {
    let sign = if non_negative { "" } else { "-?" };
    let fraction = match fraction_digits {
        0 => String::new(),
        digits => format!("(?:\\.[0-9]{{1,{digits}}})?"),
    };
    format!("^{sign}[0-9]{{1,{DECIMAL_INTEGER_DIGITS}}}{fraction}$")
}

/// The most fraction digits of a plain decimal (TEXT_FORMAT_DECIMAL): an exchange rate's, the
/// longest; an amount of money has at most its currency's minor units, which the Money schema
/// says per currency and the services check.
pub fn decimal_fraction_digits() -> u32 {
    RATE_FRACTION_DIGITS.max(max_minor_units())
}

/// The most fraction digits of any active currency.
pub fn max_minor_units() -> u32 {
    CURRENCIES
        .iter()
        .map(CurrencyCode::minor_units)
        .max()
        .unwrap_or(0)
}

/// The active ISO 4217 codes, from the kit's table.
pub static CURRENCIES: LazyLock<Vec<CurrencyCode>> = LazyLock::new(CurrencyCode::active);

impl TextFormat {
    fn from_number(number: i32) -> Option<Self> {
        Some(match number {
            1 => TextFormat::Uuid,
            2 => TextFormat::Date,
            3 => TextFormat::Email,
            4 => TextFormat::Phone,
            5 => TextFormat::Website,
            6 => TextFormat::TeamPath,
            7 => TextFormat::Slug,
            8 => TextFormat::CallingCode,
            9 => TextFormat::PageToken,
            10 => TextFormat::WebFormKey,
            11 => TextFormat::CurrencyCode,
            12 => TextFormat::Decimal,
            13 => TextFormat::SnakeCaseKey,
            14 => TextFormat::FiscalPeriod,
            _ => return None,
        })
    }

    /// The OpenAPI (JSON Schema) `format` the form is, for those JSON Schema names.
    pub fn openapi(self) -> Option<&'static str> {
        match self {
            TextFormat::Uuid => Some("uuid"),
            TextFormat::Date => Some("date"),
            _ => None,
        }
    }

    /// The patterns (all must match) that describe the form, for those that JSON Schema does
    /// not name; the front door checks the same ones.
    pub fn patterns(self) -> Vec<String> {
        match self {
            TextFormat::Uuid | TextFormat::Date | TextFormat::CurrencyCode => Vec::new(),
            TextFormat::Email => vec![
                format!("^{ATEXT}+(?:{DOT}{ATEXT}+)*{AT}{}$", domain()),
                // At most 64 characters before the "@".
                "^[^@\\uFF20]{1,64}[@\\uFF20]".to_owned(),
            ],
            TextFormat::Phone => {
                let s = PHONE_SEPARATOR;
                let digits = |range: &str| format!("(?:{s}{DIGIT}){{{range}}}");
                vec![format!(
                    "^{s}(?:{PLUS}{s}{NONZERO}{international}|{ZERO}{s}{ZERO}{s}{NONZERO}{international}\
                     |{NONZERO}{national}|{ZERO}{s}{NONZERO}{trunk}){s}$",
                    international = digits("7,14"),
                    national = digits("6,11"),
                    trunk = digits("6,10"),
                )]
            }
            TextFormat::Website => vec![
                format!(
                    "^{HTTP_SCHEME}{}(?::[0-9]{{1,5}})?(?:[/?#]{NO_CONTROL}*)?$",
                    domain()
                ),
                // At most 253 characters of host name (a port is a colon and digits: the
                // scheme's colon is not the end of a host).
                format!("^{HTTP_SCHEME}[^/?#:]{{1,253}}(?:[/?#]|:[0-9]|$)"),
            ],
            // At most 32 levels (a bounded repeat: the fuzzer's generator handles it).
            TextFormat::TeamPath => {
                vec!["^/?[a-z0-9-]{1,64}(?:/[a-z0-9-]{1,64}){0,31}/?$".to_owned()]
            }
            TextFormat::SnakeCaseKey => vec!["^[a-z][a-z0-9_]{0,63}$".to_owned()],
            // Years 1000 on, as the fiscal calendar reads them (crm_platform::fiscal).
            TextFormat::FiscalPeriod => {
                vec!["^(?:FY[1-9][0-9]{3}(?:-Q[1-4])?|[1-9][0-9]{3}-(?:0[1-9]|1[0-2]))$".to_owned()]
            }
            TextFormat::Slug => vec!["^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$".to_owned()],
            TextFormat::CallingCode => vec![format!("^{PLUS}?{NONZERO}{DIGIT}{{0,2}}$")],
            TextFormat::PageToken => vec!["^(?:[0-9a-fA-F]{2}){1,1024}$".to_owned()],
            TextFormat::WebFormKey => vec!["^wf_[0-9a-f]{64}$".to_owned()],
            TextFormat::Decimal => vec![decimal_pattern(decimal_fraction_digits(), false)],
        }
    }

    /// The longest text of the form, in characters, where the form has a limit of its own.
    pub fn max_length(self) -> Option<u32> {
        match self {
            TextFormat::Uuid => Some(36),
            TextFormat::Email => Some(254),
            _ => None,
        }
    }

    /// The values the text may take, for a form that is a list.
    pub fn values(self) -> Option<Vec<String>> {
        match self {
            TextFormat::CurrencyCode => Some(
                CURRENCIES
                    .iter()
                    .map(|code| code.as_str().to_owned())
                    .collect(),
            ),
            _ => None,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            TextFormat::Uuid => {
                "must be an id (a UUID such as 0190a5c4-7b1e-7c3d-9f00-1a2b3c4d5e6f)"
            }
            TextFormat::Date => "must be a date like 2026-10-01",
            TextFormat::Email => "must be an email address like li.wei@contoso.cn",
            TextFormat::Phone => {
                "must be a phone number like +86 138 0013 8000 (8 to 15 digits after the +) \
                 or a national number like 138 0013 8000"
            }
            TextFormat::Website => {
                "must be a web address or domain like contoso.cn or https://www.contoso.cn/"
            }
            TextFormat::TeamPath => {
                "must be a team path like /northwind/east/ (segments of 1 to 64 lower-case \
                 letters, digits or dashes)"
            }
            TextFormat::Slug => {
                "must be letters and digits in words joined by single dashes, like cn-east"
            }
            TextFormat::CallingCode => {
                "must be a country calling code: 1 to 3 digits not starting with 0, like 86 or +86"
            }
            TextFormat::PageToken => {
                "must be a page token as a listing returns it (next_page_token); leave it out \
                 for the first page"
            }
            TextFormat::WebFormKey => "must be a web form key as CreateWebForm returns it (wf_…)",
            TextFormat::CurrencyCode => {
                "must be an active ISO 4217 currency code (upper case, such as CNY or EUR)"
            }
            TextFormat::Decimal => "must be a plain decimal like 1150000.00 or -12.5",
            TextFormat::SnakeCaseKey => {
                "must be 1 to 64 characters of a-z, 0-9 and _, starting with a letter"
            }
            TextFormat::FiscalPeriod => {
                "must be a fiscal period: a month like 2026-08, a fiscal quarter like FY2027-Q1 \
                 or a fiscal year like FY2027"
            }
        }
    }

    fn accepts(self, text: &str) -> bool {
        match self {
            TextFormat::Uuid => is_hyphenated_uuid(text),
            TextFormat::Date => is_calendar_date(text),
            TextFormat::CurrencyCode => text.parse::<CurrencyCode>().is_ok(),
            _ => compiled(self).iter().all(|pattern| pattern.is_match(text)),
        }
    }
}

/// The patterns of `format`, compiled once.
fn compiled(format: TextFormat) -> &'static [Regex] {
    static COMPILED: LazyLock<Vec<(TextFormat, Vec<Regex>)>> = LazyLock::new(|| {
        ALL_FORMATS
            .iter()
            .map(|&format| {
                let patterns = format
                    .patterns()
                    .iter()
                    .map(|pattern| Regex::new(pattern).expect("the formats' patterns compile"))
                    .collect();
                (format, patterns)
            })
            .collect()
    });
    COMPILED
        .iter()
        .find(|(known, _)| *known == format)
        .map_or(&[], |(_, patterns)| patterns.as_slice())
}

pub const ALL_FORMATS: &[TextFormat] = &[
    TextFormat::Uuid,
    TextFormat::Date,
    TextFormat::Email,
    TextFormat::Phone,
    TextFormat::Website,
    TextFormat::TeamPath,
    TextFormat::Slug,
    TextFormat::CallingCode,
    TextFormat::PageToken,
    TextFormat::WebFormKey,
    TextFormat::CurrencyCode,
    TextFormat::Decimal,
    TextFormat::SnakeCaseKey,
    TextFormat::FiscalPeriod,
];

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
        format: get("format")
            .and_then(|value| value.as_enum_number())
            .and_then(TextFormat::from_number),
        maximum: get("maximum")
            .and_then(|value| value.as_u64())
            .filter(|&n| n > 0),
        max_items: positive_u32("max_items"),
        non_negative: get("non_negative").and_then(|value| value.as_bool()) == Some(true),
        one_of: get("one_of")
            .and_then(|value| {
                value.as_list().map(|items| {
                    items
                        .iter()
                        .filter_map(|item| item.as_str().map(str::to_owned))
                        .collect()
                })
            })
            .unwrap_or_default(),
        month_day_when: get("month_day_when")
            .and_then(|value| value.as_str().map(str::to_owned))
            .and_then(|when| {
                let (field, value) = when.split_once('=')?;
                Some((field.to_owned(), value.to_owned()))
            }),
        each_required: get("each_required").and_then(|value| value.as_bool()) == Some(true),
        at_least: number(rules, "at_least"),
        above: number(rules, "above"),
        at_most: number(rules, "at_most"),
    }
}

/// An `optional double` of the rules, when set.
fn number(rules: &DynamicMessage, name: &str) -> Option<f64> {
    let field = rules.descriptor().get_field_by_name(name)?;
    if !rules.has_field(&field) {
        return None;
    }
    rules.get_field(&field).as_f64()
}

/// `--03-14`: a month and day that exist in some year (29 February too).
pub fn is_month_day(text: &str) -> bool {
    text.strip_prefix("--")
        .is_some_and(|rest| is_calendar_date(&format!("2000-{rest}")))
}

/// The fields of `message` of which at least one must be given (its `crm.common.v1.message`
/// option's `at_least_one_of`); empty when there is no such rule.
pub fn at_least_one_of(message: &MessageDescriptor) -> Vec<String> {
    let Some(extension) = message
        .parent_pool()
        .get_extension_by_name(MESSAGE_RULES_OPTION)
    else {
        return Vec::new();
    };
    let options = message.options();
    if !options.has_extension(&extension) {
        return Vec::new();
    }
    let value = options.get_extension(&extension);
    let Value::Message(rules) = value.as_ref() else {
        return Vec::new();
    };
    rules
        .get_field_by_name("at_least_one_of")
        .and_then(|value| {
            value.as_list().map(|items| {
                items
                    .iter()
                    .filter_map(|item| item.as_str().map(str::to_owned))
                    .collect()
            })
        })
        .unwrap_or_default()
}

/// Every rule of `message` and the messages in it, by field path (`rep.rep_id`,
/// `rules[2].rep_ids[0]`): each broken field once (its first broken rule), so that a caller
/// fixes them all in one go, or `Ok`.
pub fn check(message: &DynamicMessage) -> Result<(), Vec<Invalid>> {
    let mut broken = Vec::new();
    check_message(message, "", &mut broken);
    if broken.is_empty() {
        Ok(())
    } else {
        Err(broken)
    }
}

fn check_message(message: &DynamicMessage, prefix: &str, broken: &mut Vec<Invalid>) {
    let descriptor = message.descriptor();
    let one_of = at_least_one_of(&descriptor);
    if !one_of.is_empty() && !one_of.iter().any(|name| is_given(message, name)) {
        let path = match prefix.strip_suffix('.') {
            Some(path) => path.to_owned(),
            None => "body".to_owned(),
        };
        broken.push(Invalid::new(
            path,
            format!("needs at least one of {}", one_of.join(", ")),
        ));
    }
    for field in descriptor.fields() {
        let path = format!("{prefix}{}", field.name());
        let rules = match rules_in(message, &field) {
            Ok(rules) => rules,
            Err(invalid) => {
                broken.push(Invalid {
                    field: format!("{prefix}{}", invalid.field),
                    ..invalid
                });
                continue;
            }
        };
        // An `optional` scalar keeps its rules only when it is given at all (`required` then
        // means "not empty"); a required message must be given.
        let present = message.has_field(&field);
        if field.supports_presence() && !present {
            if rules.required && !is_optional_scalar(&field) {
                broken.push(Invalid::new(path, "is required"));
            }
            continue;
        }
        let value = message.get_field(&field);
        if let Err(invalid) = check_value(&field, &rules, &value, &path) {
            broken.push(invalid);
            continue;
        }
        // Nested messages: their own fields' rules.
        match value.as_ref() {
            Value::Message(inner) if present => check_message(inner, &format!("{path}."), broken),
            Value::List(items) => {
                for (index, item) in items.iter().enumerate() {
                    if let Value::Message(inner) = item {
                        check_message(inner, &format!("{path}[{index}]."), broken);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The rules of one field of `message` as sent, before the path's value replaces it: a body
/// may repeat a path parameter (the path wins), and what it says must still keep the rules.
pub fn check_sent(message: &DynamicMessage, path: &[&str]) -> Result<(), Invalid> {
    let Some((last, parents)) = path.split_last() else {
        return Ok(());
    };
    let mut current = message.clone();
    for name in parents {
        match current.get_field_by_name(name).as_deref() {
            Some(Value::Message(inner)) => current = inner.clone(),
            _ => return Ok(()),
        }
    }
    let Some(field) = current.descriptor().get_field_by_name(last) else {
        return Ok(());
    };
    if !current.has_field(&field) {
        return Ok(());
    }
    let value = current.get_field(&field);
    if value.as_str().is_some_and(str::is_empty) {
        return Ok(());
    }
    check_value(&field, &rules(&field), &value, &path.join("."))
}

/// Whether the text field `name` of `message` holds something other than white space.
fn is_given(message: &DynamicMessage, name: &str) -> bool {
    message
        .get_field_by_name(name)
        .is_some_and(|value| value.as_str().is_some_and(|text| !text.trim().is_empty()))
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
            required: rules.required || rules.each_required,
            max_items: None,
            ..rules.clone()
        };
        for (index, item) in items.iter().enumerate() {
            check_scalar(field, &item_rules, item, &format!("{path}[{index}]"))?;
        }
        return Ok(());
    }
    if let Value::Map(entries) = value {
        // A map's rules: its keys' form, its values' length, its number of entries.
        if let Some(most) = rules.max_items
            && entries.len() > most as usize
        {
            return Err(Invalid::new(path, format!("has at most {most} entries")));
        }
        for (key, item) in entries {
            let key = key.as_str().unwrap_or_default();
            if let Some(format) = rules.format
                && !format.accepts(key)
            {
                return Err(Invalid::new(
                    format!("{path}.{key}"),
                    format!("key {}", format.describe()),
                ));
            }
            if let (Some(most), Some(text)) = (rules.max_length, item.as_str())
                && text.chars().count() > most as usize
            {
                return Err(Invalid::new(
                    format!("{path}.{key}"),
                    format!("must be at most {most} characters"),
                ));
            }
        }
        return Ok(());
    }
    check_scalar(field, rules, value, path)
}

/// The rules of `field` in `message`: a date that may be a month and day
/// (`month_day_when`) loses its date form when the other field says it may and it is one.
fn rules_in(message: &DynamicMessage, field: &FieldDescriptor) -> Result<Rules, Invalid> {
    let mut rules = rules(field);
    if let Some((other, wanted)) = &rules.month_day_when
        && let Some(text) = message.get_field(field).as_str()
        && is_month_day(text.trim())
    {
        let other_value = message
            .descriptor()
            .get_field_by_name(other)
            .and_then(|other_field| {
                let number = message.get_field(&other_field).as_enum_number()?;
                let name = other_field
                    .kind()
                    .as_enum()?
                    .get_value(number)?
                    .name()
                    .to_owned();
                Some(name)
            });
        if other_value.as_deref() != Some(wanted.as_str()) {
            return Err(Invalid::new(
                field.name(),
                format!("may omit the year (--03-14) only when {other} is {wanted}"),
            ));
        }
        rules.format = None;
    }
    Ok(rules)
}

fn check_scalar(
    field: &FieldDescriptor,
    rules: &Rules,
    value: &Value,
    path: &str,
) -> Result<(), Invalid> {
    match value {
        Value::String(text)
            if !rules.one_of.is_empty() && !rules.one_of.iter().any(|value| value == text) =>
        {
            return Err(Invalid::new(
                path,
                format!("must be one of {}", rules.one_of.join(", ")),
            ));
        }
        Value::String(_) if !rules.one_of.is_empty() => {}
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
            let most = rules
                .max_length
                .into_iter()
                .chain(rules.format.and_then(TextFormat::max_length))
                .min();
            if let Some(most) = most
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
        Value::Message(money)
            if rules.non_negative
                && money.get_field_by_name("amount").is_some_and(|amount| {
                    amount.as_str().is_some_and(|text| text.starts_with('-'))
                }) =>
        {
            return Err(Invalid::new(
                format!("{path}.amount"),
                crm_platform::money::NEGATIVE_MESSAGE,
            ));
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
        Value::F64(_) | Value::F32(_) => {
            let number = match value {
                Value::F32(n) => f64::from(*n),
                Value::F64(n) => *n,
                _ => 0.0,
            };
            // NaN is within no bound.
            let refused = number.is_nan()
                && (rules.at_least.is_some() || rules.above.is_some() || rules.at_most.is_some())
                || rules.at_least.is_some_and(|least| number < least)
                || rules.above.is_some_and(|floor| number <= floor)
                || rules.at_most.is_some_and(|most| number > most);
            if refused {
                let mut bounds = Vec::new();
                if let Some(least) = rules.at_least {
                    bounds.push(format!("at least {least}"));
                }
                if let Some(floor) = rules.above {
                    bounds.push(format!("above {floor}"));
                }
                if let Some(most) = rules.at_most {
                    bounds.push(format!("at most {most}"));
                }
                return Err(Invalid::new(
                    path,
                    format!("must be {}", bounds.join(" and ")),
                ));
            }
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
    use proptest::prelude::*;
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

    /// Strings of `format`'s first pattern (anchors dropped: proptest generates without them)
    /// that the front door accepts as the form.
    fn of_form(format: TextFormat) -> impl Strategy<Value = String> {
        let pattern = format.patterns().remove(0);
        let body = pattern
            .strip_prefix('^')
            .and_then(|rest| rest.strip_suffix('$'))
            .expect("anchored")
            .to_owned();
        proptest::string::string_regex(&body)
            .unwrap()
            .prop_filter("the whole form", move |text| {
                format.accepts(text)
                    && format
                        .max_length()
                        .is_none_or(|most| text.chars().count() <= most as usize)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        // Every text of a form the document offers (and the front door lets through) is one
        // the services take: schema-valid means server-valid.
        #[test]
        fn an_email_of_the_form_is_an_address(text in of_form(TextFormat::Email)) {
            prop_assert!(crm_contact_data::normalize_email(&text).is_ok(), "{text:?}");
        }

        #[test]
        fn a_phone_of_the_form_is_a_number_with_any_calling_code(
            text in of_form(TextFormat::Phone),
            code in prop::sample::select(vec!["1", "7", "39", "44", "86", "378", "999"]),
        ) {
            let read = crm_contact_data::normalize_phone(&text, Some(code));
            prop_assert!(read.is_ok(), "{text:?} with +{code}: {read:?}");
        }

        #[test]
        fn a_website_of_the_form_has_a_domain(text in of_form(TextFormat::Website)) {
            prop_assert!(crm_contact_data::normalize_domain(&text).is_some(), "{text:?}");
        }

        #[test]
        fn a_team_path_of_the_form_parses(text in of_form(TextFormat::TeamPath)) {
            prop_assert!(crm_platform::auth::TeamPath::parse(&text).is_ok(), "{text:?}");
        }

        #[test]
        fn a_slug_of_the_form_is_a_territory_code_and_a_team_slug(
            text in of_form(TextFormat::Slug).prop_filter("64 at most", |t| t.len() <= 64),
        ) {
            prop_assert!(crate::domain::territory::normalize_code(&text).is_ok(), "{text:?}");
            let under = format!("/northwind/{}", text.to_lowercase());
            prop_assert!(crm_platform::auth::TeamPath::parse(&under).is_ok(), "{text:?}");
        }

        #[test]
        fn a_calling_code_of_the_form_is_one(text in of_form(TextFormat::CallingCode)) {
            prop_assert!(crm_contact_data::normalize_calling_code(&text).is_ok(), "{text:?}");
        }

        #[test]
        fn an_amount_of_a_currencys_form_is_money_in_it(
            (currency, amount) in prop::sample::select(CURRENCIES.clone()).prop_flat_map(|currency| {
                let pattern = decimal_pattern(currency.minor_units(), false);
                let body = pattern[1..pattern.len() - 1].to_owned();
                (Just(currency), proptest::string::string_regex(&body).unwrap())
            }),
        ) {
            let money = crm_proto::crm::common::v1::Money {
                currency_code: currency.as_str().to_owned(),
                amount: amount.clone(),
            };
            let read = crm_platform::money::Money::parse(
                "amount",
                &money,
                crm_platform::money::Sign::Any,
            );
            prop_assert!(read.is_ok(), "{amount:?} {currency}: {read:?}");
        }
    }

    #[test]
    fn forms_refuse_what_the_services_refuse() {
        let refused = [
            (TextFormat::Email, "li.wei@contoso"),
            (TextFormat::Email, "li..wei@contoso.cn"),
            (TextFormat::Email, "0"),
            (TextFormat::Phone, "20000"),
            (TextFormat::Phone, "+86 138 0013 8000 +1"),
            (TextFormat::Phone, "call me"),
            (TextFormat::Website, "not a site"),
            (TextFormat::TeamPath, "J"),
            (TextFormat::TeamPath, ""),
            (TextFormat::TeamPath, "//"),
            (TextFormat::Slug, "cn--east"),
            (TextFormat::CallingCode, "086"),
            (TextFormat::CallingCode, "1234"),
            (TextFormat::PageToken, "[Filtered]"),
            (TextFormat::PageToken, "abc"),
            (TextFormat::WebFormKey, "wf_forged"),
            (TextFormat::CurrencyCode, "XXX"),
            (TextFormat::CurrencyCode, ""),
            (TextFormat::Decimal, "1e5"),
            (TextFormat::Decimal, "0.12345678901"),
        ];
        for (format, text) in refused {
            assert!(!format.accepts(text), "{format:?} took {text:?}");
        }
        let accepted = [
            (TextFormat::Email, "Li.Wei@Contoso.CN"),
            (TextFormat::Email, "ｌｉ．ｗｅｉ＠ｃｏｎｔｏｓｏ．ｃｎ"),
            (TextFormat::Phone, "+86 138 0013 8000"),
            (TextFormat::Phone, "＋８６ １３８００１３８０００"),
            (TextFormat::Phone, "(+86) 138-0013-8000"),
            (TextFormat::Phone, "138 0013 8000"),
            (TextFormat::Phone, "020 7946 0018"),
            (TextFormat::Website, "https://www.contoso.cn/about?x=1"),
            (TextFormat::Website, "contoso.cn"),
            (TextFormat::TeamPath, "/northwind/east/east-1/"),
            (TextFormat::Slug, "CN-East"),
            (TextFormat::CallingCode, "+86"),
            (TextFormat::CallingCode, "８６"),
            (TextFormat::PageToken, "7b7d"),
            (TextFormat::CurrencyCode, "CNY"),
            (TextFormat::Decimal, "-12.5"),
            // An exchange rate: more fraction digits than any currency has.
            (TextFormat::Decimal, "0.1234567891"),
        ];
        for (format, text) in accepted {
            assert!(format.accepts(text), "{format:?} refused {text:?}");
        }
    }

    #[test]
    fn the_rate_limits_bounds_and_the_scopes_are_the_gateways() {
        let rate = rules(&field("crm.gateway.v1.RateLimit", "requests_per_second"));
        assert!(rate.required);
        assert_eq!(
            rate.maximum,
            Some(u64::from(crate::domain::api_key::MAX_RATE_LIMIT))
        );
        let burst = rules(&field("crm.gateway.v1.RateLimit", "burst"));
        assert_eq!(burst.maximum, rate.maximum);
        let scopes = rules(&field("crm.gateway.v1.CreateApiKeyRequest", "scopes"));
        let known: Vec<&str> = crm_platform::scope::Scope::ALL
            .iter()
            .map(|scope| scope.as_str())
            .collect();
        assert_eq!(scopes.one_of, known);
    }

    #[test]
    fn a_lead_needs_a_way_to_reach_or_find_it() {
        let pool = pool();
        let input = pool.get_message_by_name("crm.leads.v1.LeadInput").unwrap();
        assert_eq!(
            at_least_one_of(&input),
            ["email", "phone", "company", "last_name"]
        );
        let request = pool
            .get_message_by_name("crm.leads.v1.CreateLeadRequest")
            .unwrap();
        let mut message = DynamicMessage::new(request);
        let mut lead = DynamicMessage::new(input);
        lead.set_field_by_name("company", Value::String("  ".into()));
        message.set_field_by_name("lead", Value::Message(lead.clone()));
        let refused = check(&message).unwrap_err().remove(0);
        assert_eq!(refused.field, "lead");
        assert!(refused.message.contains("email, phone, company, last_name"));
        lead.set_field_by_name("last_name", Value::String("Wang".into()));
        message.set_field_by_name("lead", Value::Message(lead));
        assert_eq!(check(&message), Ok(()));
    }

    #[test]
    fn every_broken_field_is_named_at_once() {
        let pool = pool();
        let request = pool
            .get_message_by_name("crm.leads.v1.CreateLeadRequest")
            .unwrap();
        let input = pool.get_message_by_name("crm.leads.v1.LeadInput").unwrap();
        let mut lead = DynamicMessage::new(input);
        lead.set_field_by_name("email", Value::String("not an address".into()));
        lead.set_field_by_name("last_name", Value::String("x".repeat(10_000)));
        let mut message = DynamicMessage::new(request);
        message.set_field_by_name("lead", Value::Message(lead));
        message.set_field_by_name("lead_id", Value::String("not-a-uuid".into()));
        let fields: Vec<String> = check(&message)
            .unwrap_err()
            .into_iter()
            .map(|invalid| invalid.field)
            .collect();
        for field in ["lead.email", "lead.last_name", "lead_id"] {
            assert!(
                fields.iter().any(|f| f == field),
                "{field} missing in {fields:?}"
            );
        }
    }

    #[test]
    fn a_request_breaking_a_rule_names_the_field() {
        let pool = pool();
        let descriptor = pool
            .get_message_by_name("crm.accounts.v1.GetAccountRequest")
            .unwrap();
        let mut message = DynamicMessage::new(descriptor);
        assert_eq!(check(&message).unwrap_err()[0].field, "account_id");
        message.set_field_by_name("account_id", Value::String("not-a-uuid".into()));
        assert_eq!(check(&message).unwrap_err()[0].field, "account_id");
        message.set_field_by_name(
            "account_id",
            Value::String("0190a5c4-7b1e-7c3d-9f00-1a2b3c4d5e6f".into()),
        );
        assert_eq!(check(&message), Ok(()));
    }
}
