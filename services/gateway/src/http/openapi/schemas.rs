//! `components.schemas`: the messages and enums the operations refer to.

use std::collections::{BTreeMap, HashSet};

use prost_reflect::{EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor};
use serde_json::{Map, Value, json};

use super::{REF_SCHEMAS, comments::Comments};

/// Builds `components.schemas`: each message or enum a schema refers to is queued when first
/// referred to and defined by [`Schemas::finish`], so exactly the reachable types appear.
pub(super) struct Schemas<'c> {
    pub(super) comments: &'c Comments,
    defined: BTreeMap<String, Value>,
    queued: HashSet<String>,
    pending: Vec<Pending>,
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
        }
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

    /// A field's type alone, for a parameter, which has its own description.
    pub(super) fn field_type(&mut self, field: &FieldDescriptor) -> Value {
        if field.is_map() {
            self.map(field)
        } else if field.is_list() {
            json!({"type": "array", "items": self.kind(&field.kind())})
        } else {
            self.kind(&field.kind())
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

    /// No field is `required`: requests may omit any field (proto3 has no required fields),
    /// and `optional` fields are simply absent from responses when unset.
    pub(super) fn message_schema(&mut self, message: &MessageDescriptor) -> Value {
        let properties: Map<String, Value> = message
            .fields()
            .map(|field| (field.name().to_owned(), self.field(&field)))
            .collect();
        let mut schema = json!({"type": "object", "properties": properties});
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
