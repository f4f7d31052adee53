//! `components.schemas`: the messages and enums the operations refer to.

use std::collections::{BTreeMap, HashSet};

use prost_reflect::{EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor};
use serde_json::{Map, Value, json};

use super::{REF_SCHEMAS, comments::Comments};
use crate::http::field_rules::{self, Rules, TextFormat};

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
            self.constrain(field, &rules, &mut items);
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
            schema
        }
    }

    /// What `rules` (and the rule for every text) add to the schema of one value of `field`.
    pub(super) fn constrain(&mut self, field: &FieldDescriptor, rules: &Rules, schema: &mut Value) {
        match field.kind() {
            Kind::String => match rules.format {
                Some(format) => {
                    let formatted = json!({"format": format.openapi()});
                    if rules.required {
                        schema["format"] = json!(format.openapi());
                    } else {
                        // Empty means "not given" in a text field that is not required.
                        schema["anyOf"] = json!([{"const": ""}, formatted]);
                    }
                    if format == TextFormat::Uuid {
                        schema["maxLength"] = json!(36);
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

    /// `map<K, V>`: a JSON object whose keys are K as text.
    pub(super) fn map(&mut self, field: &FieldDescriptor) -> Value {
        let values = match field.kind() {
            Kind::Message(entry) => self.kind(&entry.map_entry_value_field().kind()),
            _ => json!({}),
        };
        json!({"type": "object", "additionalProperties": values})
    }

    pub(super) fn kind(&mut self, kind: &Kind) -> Value {
        match kind {
            Kind::String => json!({"type": "string"}),
            Kind::Bool => json!({"type": "boolean"}),
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
                json!({"type": "integer", "format": "int32"})
            }
            Kind::Uint32 | Kind::Fixed32 => {
                json!({"type": "integer", "format": "uint32", "minimum": 0})
            }
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
                json!({"type": "integer", "format": "int64"})
            }
            Kind::Uint64 | Kind::Fixed64 => {
                json!({"type": "integer", "format": "uint64", "minimum": 0})
            }
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
        let mut schema = json!({
            "type": "object",
            "properties": properties,
            "additionalProperties": false,
        });
        if !required.is_empty() {
            schema["required"] = json!(required);
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
