//! `components.schemas`: the messages and enums the operations refer to.

use std::collections::{BTreeMap, HashSet};

use prost_reflect::{EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor};
use serde_json::{Map, Value, json};

use super::{REF_SCHEMAS, comments::Comments};
use crate::http::field_rules::{self, CURRENCIES, Rules, TextFormat};

/// The option A text field carries when it may hold several lines (tab, line feed, carriage
/// return); every other control character is refused in every text field.
const MULTILINE_OPTION: &str = "crm.common.v1.multiline";

/// A text without control characters (Unicode Cc), as the services accept text.
const SINGLE_LINE: &str = "[^\\u0000-\\u001f\\u007f-\\u009f]";
/// The same with tab, line feed and carriage return allowed.
const MULTI_LINE: &str = "[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]";

/// The `pattern` of a text field: no control characters (but the line breaks of a multi-line
/// field), and, when the field is required, at least one character that is not white space.
pub(super) fn text_pattern(multiline: bool, required: bool) -> String {
    let allowed = if multiline { MULTI_LINE } else { SINGLE_LINE };
    if required {
        // Any allowed character but white space: the allowed class minus `\s`.
        let visible = format!("[^\\s{}", &allowed[2..]);
        format!("^{allowed}*{visible}{allowed}*$")
    } else {
        format!("^{allowed}*$")
    }
}

/// Is `field` a multi-line text (its `crm.common.v1.multiline` option)?
fn is_multiline(field: &FieldDescriptor) -> bool {
    field
        .parent_pool()
        .get_extension_by_name(MULTILINE_OPTION)
        .is_some_and(|option| field.options().get_extension(&option).as_bool() == Some(true))
}

/// Builds `components.schemas`: each message or enum a schema refers to is queued when first
/// referred to and defined by [`Schemas::finish`], so exactly the reachable types appear.
pub(super) struct Schemas<'c> {
    pub(super) comments: &'c Comments,
    defined: BTreeMap<String, Value>,
    queued: HashSet<String>,
    pending: Vec<Pending>,
    /// Fields of a request message bound by its route's path, so not required in its body.
    path_bound: HashSet<(String, String)>,
    /// Messages a request can carry: the text rule (no control characters) is theirs; a
    /// response-only message says nothing about what text it returns.
    request_messages: HashSet<String>,
}

pub(super) enum Pending {
    Message(MessageDescriptor),
    Enum(EnumDescriptor),
}

impl<'c> Schemas<'c> {
    pub(super) fn new(comments: &'c Comments) -> Self {
        Self {
            comments,
            defined: BTreeMap::new(),
            queued: HashSet::new(),
            pending: Vec::new(),
            path_bound: HashSet::new(),
            request_messages: HashSet::new(),
        }
    }

    /// `message` and every message its fields hold are request messages.
    pub(super) fn request_message(&mut self, message: &MessageDescriptor) {
        if !self.request_messages.insert(message.full_name().to_owned()) {
            return;
        }
        for field in message.fields() {
            if let Kind::Message(inner) = field.kind() {
                self.request_message(&inner);
            }
        }
    }

    /// `field` of `message` is bound by the path of the route whose body `message` is.
    pub(super) fn not_required(&mut self, message: &str, field: &str) {
        self.path_bound
            .insert((message.to_owned(), field.to_owned()));
    }

    /// The schema of a field: its type, as a list or map when it is one, with its comment.
    pub(super) fn field(&mut self, field: &FieldDescriptor) -> Value {
        let mut schema = self.field_type(field);
        if let Some(comment) = self.comments.of_field(field) {
            // OpenAPI 3.1 schemas are JSON Schema 2020-12, where `$ref` may have siblings.
            schema["description"] = json!(comment);
        }
        schema
    }

    /// A field's type alone, for a parameter, which has its own description: with the rules
    /// of its `crm.common.v1.field` option, which the front door enforces.
    pub(super) fn field_type(&mut self, field: &FieldDescriptor) -> Value {
        let rules = field_rules::rules(field);
        if field.is_map() {
            self.map(field)
        } else if field.is_list() {
            let mut items = self.kind(&field.kind());
            let item_rules = Rules {
                required: rules.required || rules.each_required,
                ..rules.clone()
            };
            self.constrain(field, &item_rules, &mut items);
            let mut schema = json!({"type": "array", "items": items});
            if rules.required {
                schema["minItems"] = json!(1);
            }
            if let Some(most) = rules.max_items {
                schema["maxItems"] = json!(most);
            }
            schema
        } else {
            let mut schema = self.kind(&field.kind());
            self.constrain(field, &rules, &mut schema);
            if rules.non_negative && field.kind().as_message().is_some() {
                // A money field that takes no negative amount: the shared Money schema, and
                // an amount without a minus sign.
                let amount = json!({"pattern": field_rules::decimal_pattern(
                    field_rules::max_minor_units(),
                    true,
                )});
                schema = json!({"allOf": [schema, {"properties": {"amount": amount}}]});
            }
            schema
        }
    }

    /// What `rules` (and the rule for every text) add to the schema of one value of `field`.
    pub(super) fn constrain(&mut self, field: &FieldDescriptor, rules: &Rules, schema: &mut Value) {
        match field.kind() {
            Kind::String if !rules.one_of.is_empty() => {
                schema["enum"] = json!(rules.one_of);
            }
            Kind::String => match rules.format {
                Some(format) => {
                    let mut formatted = format_schema(format);
                    if rules.month_day_when.is_some() {
                        // Or a month and day (--03-14), where the message's rule allows it.
                        formatted = json!({"anyOf": [formatted, {"pattern": MONTH_DAY}]});
                    }
                    if rules.required {
                        if let (Some(target), Value::Object(keywords)) =
                            (schema.as_object_mut(), formatted)
                        {
                            target.extend(keywords);
                        }
                        if format.openapi().is_none() {
                            schema["minLength"] = json!(1);
                        }
                    } else {
                        // Empty means "not given" in a text field that is not required.
                        schema["anyOf"] = json!([{"const": ""}, formatted]);
                    }
                    let most = rules
                        .max_length
                        .into_iter()
                        .chain(format.max_length())
                        .min();
                    if let Some(most) = most {
                        schema["maxLength"] = json!(most);
                    }
                }
                None => {
                    if self
                        .request_messages
                        .contains(field.parent_message().full_name())
                    {
                        schema["pattern"] =
                            json!(text_pattern(is_multiline(field), rules.required));
                    }
                    if rules.required {
                        schema["minLength"] = json!(1);
                    }
                    if let Some(most) = rules.max_length {
                        schema["maxLength"] = json!(most);
                    }
                }
            },
            Kind::Double | Kind::Float => {
                if let Some(least) = rules.at_least {
                    schema["minimum"] = json!(least);
                }
                if let Some(floor) = rules.above {
                    schema["exclusiveMinimum"] = json!(floor);
                }
                if let Some(most) = rules.at_most {
                    schema["maximum"] = json!(most);
                }
            }
            Kind::Enum(descriptor) if rules.required => {
                if let Some(zero) = descriptor.get_value(0) {
                    schema["not"] = json!({"const": zero.name()});
                }
            }
            Kind::Int32
            | Kind::Sint32
            | Kind::Sfixed32
            | Kind::Int64
            | Kind::Sint64
            | Kind::Sfixed64
            | Kind::Uint32
            | Kind::Fixed32
            | Kind::Uint64
            | Kind::Fixed64 => {
                if let Some(most) = rules.maximum {
                    schema["maximum"] = json!(most);
                }
                if rules.required {
                    schema["not"] = json!({"const": 0});
                }
            }
            _ => {}
        }
    }

    /// `map<K, V>`: a JSON object whose keys are K as text; in a request, with the map's
    /// rules (its keys' form, its values' length, its number of entries) and the text rule.
    pub(super) fn map(&mut self, field: &FieldDescriptor) -> Value {
        let rules = field_rules::rules(field);
        let request = self
            .request_messages
            .contains(field.parent_message().full_name());
        let (mut values, text_values) = match field.kind() {
            Kind::Message(entry) => {
                let value_field = entry.map_entry_value_field();
                (
                    self.kind(&value_field.kind()),
                    value_field.kind() == Kind::String,
                )
            }
            _ => (json!({}), false),
        };
        let mut schema = json!({"type": "object"});
        if request {
            if text_values {
                values["pattern"] = json!(text_pattern(is_multiline(field), false));
                if let Some(most) = rules.max_length {
                    values["maxLength"] = json!(most);
                }
            }
            let mut keys = match rules.format {
                Some(format) => format_schema(format),
                None => json!({"pattern": text_pattern(false, false)}),
            };
            keys["type"] = json!("string");
            schema["propertyNames"] = keys;
            if let Some(most) = rules.max_items {
                schema["maxProperties"] = json!(most);
            }
        }
        schema["additionalProperties"] = values;
        schema
    }

    pub(super) fn kind(&mut self, kind: &Kind) -> Value {
        match kind {
            Kind::String => json!({"type": "string"}),
            Kind::Bool => json!({"type": "boolean"}),
            // With the type's range: JSON Schema validators and generators do not read the
            // `format`, and a number out of it is refused.
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => json!({
                "type": "integer", "format": "int32", "minimum": i32::MIN, "maximum": i32::MAX,
            }),
            Kind::Uint32 | Kind::Fixed32 => json!({
                "type": "integer", "format": "uint32", "minimum": 0, "maximum": u32::MAX,
            }),
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => json!({
                "type": "integer", "format": "int64", "minimum": i64::MIN, "maximum": i64::MAX,
            }),
            Kind::Uint64 | Kind::Fixed64 => json!({
                "type": "integer", "format": "uint64", "minimum": 0, "maximum": u64::MAX,
            }),
            Kind::Float => json!({"type": "number", "format": "float"}),
            Kind::Double => json!({"type": "number", "format": "double"}),
            Kind::Bytes => json!({"type": "string", "format": "byte"}),
            Kind::Message(message) => self.message(message),
            Kind::Enum(descriptor) => self.enumeration(descriptor),
        }
    }

    /// A reference to a message's schema, or the JSON form of a well-known type inline.
    pub(super) fn message(&mut self, message: &MessageDescriptor) -> Value {
        if let Some(schema) = well_known(message) {
            return schema;
        }
        self.queue(message.full_name(), || Pending::Message(message.clone()))
    }

    pub(super) fn enumeration(&mut self, descriptor: &EnumDescriptor) -> Value {
        self.queue(descriptor.full_name(), || Pending::Enum(descriptor.clone()))
    }

    pub(super) fn queue(&mut self, full_name: &str, pending: impl FnOnce() -> Pending) -> Value {
        if self.queued.insert(full_name.to_owned()) {
            self.pending.push(pending());
        }
        json!({"$ref": format!("{REF_SCHEMAS}{full_name}")})
    }

    /// Defines every queued type, and those their fields refer to in turn.
    pub(super) fn finish(mut self) -> BTreeMap<String, Value> {
        while let Some(pending) = self.pending.pop() {
            let (name, schema) = match pending {
                Pending::Message(message) => (
                    message.full_name().to_owned(),
                    self.message_schema(&message),
                ),
                Pending::Enum(descriptor) => (
                    descriptor.full_name().to_owned(),
                    self.enum_schema(&descriptor),
                ),
            };
            self.defined.insert(name, schema);
        }
        self.defined
    }

    /// A field is `required` when its `crm.common.v1.field` option says so (the front door
    /// refuses a request without it); any other may be left out, and `optional` fields are
    /// absent from responses when unset. No other property is accepted.
    pub(super) fn message_schema(&mut self, message: &MessageDescriptor) -> Value {
        let properties: Map<String, Value> = message
            .fields()
            .map(|field| (field.name().to_owned(), self.field(&field)))
            .collect();
        let required: Vec<String> = message
            .fields()
            .filter(|field| field_rules::rules(field).required)
            .filter(|field| !field_rules::is_optional_scalar(field))
            .filter(|field| {
                !self
                    .path_bound
                    .contains(&(message.full_name().to_owned(), field.name().to_owned()))
            })
            .map(|field| field.name().to_owned())
            .collect();
        let mut alternatives = Vec::new();
        // A message that is one oneof and nothing else: one object per field, of that field
        // alone (none given is one of them too). The form generators follow: the fuzzer finds
        // no valid body under a `not` or `maxProperties` beside the properties.
        let whole_one_of = message.oneofs().count() == 1
            && message
                .fields()
                .all(|field| field.containing_oneof().is_some())
            && properties.len() > 1;
        let mut schema = if whole_one_of {
            alternatives.push(Value::Array(
                properties
                    .into_iter()
                    .map(|(name, property)| {
                        json!({
                            "type": "object",
                            "properties": {name: property},
                            "additionalProperties": false,
                        })
                    })
                    .collect(),
            ));
            json!({"type": "object"})
        } else {
            json!({
                "type": "object",
                "properties": properties,
                "additionalProperties": false,
            })
        };
        if !required.is_empty() {
            schema["required"] = json!(required);
        }
        let one_of = field_rules::at_least_one_of(message);
        if !one_of.is_empty() {
            // Each alternative: the field given and not blank.
            alternatives.push(Value::Array(
                one_of
                    .iter()
                    .map(|name| {
                        json!({"required": [name], "properties": {name: {"pattern": "[^\\s]"}}})
                    })
                    .collect(),
            ));
        }
        if let Some(groups) = money_groups(message) {
            alternatives.push(groups);
        }
        for field in message.fields() {
            // A date that may be a month and day only when another field allows it.
            if let Some((other, wanted)) = field_rules::rules(&field).month_day_when {
                alternatives.push(json!([
                    {"properties": {other: {"const": wanted}}},
                    {"properties": {field.name(): {"format": "date"}}},
                ]));
            }
        }
        match alternatives.len() {
            0 => {}
            1 => schema["anyOf"] = alternatives.remove(0),
            _ => {
                schema["allOf"] = alternatives
                    .into_iter()
                    .map(|any_of| json!({"anyOf": any_of}))
                    .collect();
            }
        }
        if !whole_one_of && let Some(exclusion) = one_of_exclusion(message) {
            schema["not"] = exclusion;
        }
        if let Some(comment) = self.comments.get(&message.parent_file(), message.path()) {
            schema["description"] = json!(comment);
        }
        schema
    }

    /// The value names, as the JSON mapping writes enums; value comments become a list in the
    /// description, since JSON Schema has no place for them.
    pub(super) fn enum_schema(&self, descriptor: &EnumDescriptor) -> Value {
        let file = descriptor.parent_file();
        let names: Vec<String> = descriptor
            .values()
            .map(|value| value.name().to_owned())
            .collect();
        let values: Vec<String> = descriptor
            .values()
            .filter_map(|value| {
                let comment = self.comments.get(&file, value.path())?;
                Some(format!(
                    "- `{}`: {}",
                    value.name(),
                    comment.replace('\n', " ")
                ))
            })
            .collect();
        // A blank line before the list, so that Markdown renders it as one.
        let description = [
            self.comments
                .get(&file, descriptor.path())
                .map(str::to_owned),
            (!values.is_empty()).then(|| values.join("\n")),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n\n");
        let mut schema = json!({"type": "string", "enum": names});
        if !description.is_empty() {
            schema["description"] = json!(description);
        }
        schema
    }
}

/// `--03-14`: a month and a day that exists in it (29 February too).
const MONTH_DAY: &str = "^--(?:(?:01|03|05|07|08|10|12)-(?:0[1-9]|[12][0-9]|3[01])\
    |(?:04|06|09|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|[12][0-9]))$";

/// The schema of a text of `format`: JSON Schema's `format` where it names the form, else its
/// patterns (all of which must match) or its list of values.
fn format_schema(format: TextFormat) -> Value {
    if let Some(name) = format.openapi() {
        return json!({"format": name});
    }
    if let Some(values) = format.values() {
        return json!({"enum": values});
    }
    let mut patterns = format.patterns().into_iter();
    let mut schema = json!({"pattern": patterns.next().unwrap_or_default()});
    let more: Vec<Value> = patterns
        .map(|pattern| json!({"pattern": pattern}))
        .collect();
    if !more.is_empty() {
        schema["allOf"] = Value::Array(more);
    }
    schema
}

/// The money message, `crm.common.v1.Money` (a currency code field and a decimal field): an
/// amount has at most its currency's minor-unit digits (JPY 0, CNY 2, KWD 3), as the services
/// read money; one alternative per number of digits, listing its currencies. Other messages
/// with a currency and a decimal (an exchange rate) are not amounts in that currency.
/// A proto `oneof` holds one of its fields: the JSON mapping refuses a body giving two. A
/// message with other fields beside its oneofs says so with a `not`: no two fields of a oneof
/// together.
fn one_of_exclusion(message: &MessageDescriptor) -> Option<Value> {
    let pairs: Vec<Value> = message
        .oneofs()
        .filter(|oneof| !oneof.is_synthetic())
        .flat_map(|oneof| {
            let names: Vec<String> = oneof
                .fields()
                .map(|field| field.name().to_owned())
                .collect();
            let mut pairs = Vec::new();
            for (at, first) in names.iter().enumerate() {
                for second in &names[at + 1..] {
                    pairs.push(json!({"required": [first, second]}));
                }
            }
            pairs
        })
        .collect();
    match pairs.len() {
        0 => None,
        1 => pairs.into_iter().next(),
        _ => Some(json!({"anyOf": pairs})),
    }
}

fn money_groups(message: &MessageDescriptor) -> Option<Value> {
    if message.full_name() != "crm.common.v1.Money" {
        return None;
    }
    let with_format = |wanted: TextFormat| {
        message
            .fields()
            .find(|field| field_rules::rules(field).format == Some(wanted))
            .map(|field| field.name().to_owned())
    };
    let currency = with_format(TextFormat::CurrencyCode)?;
    let amount = with_format(TextFormat::Decimal)?;
    let mut by_digits: BTreeMap<u32, Vec<&str>> = BTreeMap::new();
    for code in CURRENCIES.iter() {
        by_digits
            .entry(code.minor_units())
            .or_default()
            .push(code.as_str());
    }
    Some(
        by_digits
            .into_iter()
            .map(|(digits, codes)| {
                json!({"properties": {
                    &currency: {"enum": codes},
                    &amount: {"pattern": field_rules::decimal_pattern(digits, false)},
                }})
            })
            .collect(),
    )
}

/// Well-known types whose canonical JSON is not an object.
pub(super) fn well_known(message: &MessageDescriptor) -> Option<Value> {
    match message.full_name() {
        "google.protobuf.Timestamp" => Some(json!({"type": "string", "format": "date-time"})),
        "google.protobuf.Duration" => Some(json!({
            "type": "string",
            "pattern": "^-?[0-9]+(\\.[0-9]{1,9})?s$",
            "description": "A duration in seconds with an `s` suffix, e.g. `1.5s`.",
        })),
        _ => None,
    }
}
