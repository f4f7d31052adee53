//! The OpenAPI 3.1 document of the HTTP/JSON front door, written from the descriptors the routes
//! and the transcoder run on: the `google.api.http` rules give the operations, the messages give
//! the schemas and the proto comments give the prose. Nothing here is maintained per operation,
//! so the document cannot drift from what the gateway serves.

use std::collections::{BTreeMap, HashMap, HashSet};

use http::Method;
use prost_reflect::{
    DescriptorPool, EnumDescriptor, FieldDescriptor, FileDescriptor, Kind, MessageDescriptor,
};
use serde_json::{Map, Value, json};

use super::routes::{BodyMapping, PathTemplate, Route, RouteTable, Segment};

/// How the JSON mapping works, once for the whole API rather than on every schema.
const DESCRIPTION: &str = "\
The CRM's HTTP/JSON API: every operation is transcoded to the gRPC method named by its \
operationId, and this document is generated from the same protobuf descriptors.

* Responses use the proto field names (`owner_team_path`) and include every field, default \
values too, except `optional` fields and message fields that are not set. Requests accept the \
proto names or lowerCamelCase (`ownerTeamPath`); unknown fields are rejected.
* 64-bit integers are JSON numbers (requests also accept them as strings); enums are their \
value names (`LEAD_STATUS_NEW`); timestamps are RFC 3339 strings; money is a decimal string.
* Operations without a body take their fields as query parameters: nested fields as \
`page.page_size`, repeated fields by repeating the parameter. Operations with a body take \
every field not in the path from the JSON body and refuse query parameters. Path parameters \
win over the same fields in a body.
* Errors are RFC 9457 problem documents (`application/problem+json`) whose `code` is the gRPC \
status name, with `field_violations` for invalid input and the `request_id` to quote.";

const REF_SCHEMAS: &str = "#/components/schemas/";
const PROBLEM: &str = "Problem";
const REQUEST_ID: &str = "X-Request-Id";
const IDEMPOTENCY_REPLAYED: &str = "Idempotency-Replayed";

/// The source-info path of `FileDescriptorProto.package`: the comment above `package`
/// describes the service as a whole, so it describes the service's tag.
const PACKAGE_PATH: &[i32] = &[2];

/// The OpenAPI 3.1 document of every route in `table`; `pool` is where the routes' descriptors
/// (and their source comments) come from. Everything is collected in sorted maps, so equal
/// inputs give equal documents whether or not serde_json keeps insertion order.
pub fn document(table: &RouteTable, pool: &DescriptorPool) -> Value {
    let comments = Comments::new(pool);
    let mut schemas = Schemas::new(&comments);
    let operation_ids = operation_ids(table.routes());
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut tags: BTreeMap<String, Option<String>> = BTreeMap::new();
    for (route, operation_id) in table.routes().iter().zip(operation_ids) {
        let operation = operation(route, operation_id, &mut schemas);
        paths
            .entry(openapi_path(&route.template))
            .or_default()
            .insert(route.method.as_str().to_ascii_lowercase(), operation);
        tags.entry(route.service.clone()).or_insert_with(|| {
            comments
                .get(&route.rpc.parent_file(), PACKAGE_PATH)
                .map(str::to_owned)
        });
    }
    let mut schemas: Map<String, Value> = schemas.finish().into_iter().collect();
    schemas.insert(PROBLEM.to_owned(), problem_schema());
    let paths: Map<String, Value> = paths
        .into_iter()
        .map(|(path, item)| (path, Value::Object(item)))
        .collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "CRM API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": DESCRIPTION,
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "tags": tag_list(tags),
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A short-lived access token from AuthService: Login for users, \
                        ExchangeApiKey for integrations.",
                },
            },
            "parameters": {"IdempotencyKey": idempotency_key_parameter()},
            "headers": response_headers(),
            "responses": error_responses(),
        },
    })
}

/// RPC names are unique across the suite today; should two services ever share one, both are
/// qualified with their service name, as operationIds must be unique.
fn operation_ids(routes: &[Route]) -> Vec<String> {
    let mut uses: HashMap<&str, usize> = HashMap::new();
    for route in routes {
        *uses.entry(route.rpc.name()).or_default() += 1;
    }
    routes
        .iter()
        .map(|route| match uses.get(route.rpc.name()) {
            Some(1) => route.rpc.name().to_owned(),
            _ => format!("{}_{}", route.rpc.parent_service().name(), route.rpc.name()),
        })
        .collect()
}

fn tag_list(tags: BTreeMap<String, Option<String>>) -> Value {
    tags.into_iter()
        .map(|(name, description)| match description {
            Some(description) => json!({"name": name, "description": description}),
            None => json!({"name": name}),
        })
        .collect()
}

/// `/v1/leadReps/{rep.rep_id}`: the template as OpenAPI writes it. A nested variable keeps its
/// dotted field path as the parameter name — OpenAPI allows any name without braces, and it is
/// the name the field has in the request body and in error messages.
fn openapi_path(template: &PathTemplate) -> String {
    let mut path = String::with_capacity(template.text.len());
    for segment in &template.segments {
        path.push('/');
        match segment {
            Segment::Literal(literal) => path.push_str(literal),
            Segment::Variable(field) => {
                path.push('{');
                path.push_str(&field.join("."));
                path.push('}');
            }
        }
    }
    if let Some(verb) = &template.verb {
        path.push(':');
        path.push_str(verb);
    }
    path
}

/// Services whose methods need no bearer token, as their protos declare them (the list the
/// host mounts without the token check): login, refresh and API-key exchange are how a caller
/// gets a token in the first place, and the web-to-lead form is posted by anonymous visitors.
fn is_public(route: &Route) -> bool {
    crm_platform::auth::is_public_service(route.rpc.parent_service().full_name())
}

fn operation(route: &Route, operation_id: String, schemas: &mut Schemas<'_>) -> Value {
    let comment = schemas
        .comments
        .get(&route.rpc.parent_file(), route.rpc.path());
    let mut operation = Map::new();
    operation.insert("operationId".into(), json!(operation_id));
    operation.insert("tags".into(), json!([route.service]));
    let summary = match comment {
        Some(comment) => first_sentence(comment),
        None => words(route.rpc.name()),
    };
    operation.insert("summary".into(), json!(summary));
    if let Some(comment) = comment {
        operation.insert("description".into(), json!(comment));
    }
    let parameters = parameters(route, schemas);
    if !parameters.is_empty() {
        operation.insert("parameters".into(), Value::Array(parameters));
    }
    if let Some(body) = request_body(route, schemas) {
        operation.insert("requestBody".into(), body);
    }
    operation.insert("responses".into(), responses(route, schemas));
    if is_public(route) {
        // Overrides the document's global bearer requirement.
        operation.insert("security".into(), json!([]));
    }
    Value::Object(operation)
}

fn parameters(route: &Route, schemas: &mut Schemas<'_>) -> Vec<Value> {
    let mut parameters = path_parameters(route, schemas);
    parameters.extend(query_parameters(route, schemas));
    if takes_idempotency_key(route) {
        parameters.push(json!({"$ref": "#/components/parameters/IdempotencyKey"}));
    }
    parameters
}

/// Writes by a signed-in caller, as the front door deduplicates them: keys are kept per
/// caller, so an anonymous call has no key space to replay from.
fn takes_idempotency_key(route: &Route) -> bool {
    route.method != Method::GET && !is_public(route)
}

fn path_parameters(route: &Route, schemas: &mut Schemas<'_>) -> Vec<Value> {
    let comments = schemas.comments;
    route
        .template
        .variables()
        .map(|path| {
            let field = field_at(&route.rpc.input(), path);
            let schema = match &field {
                Some(field) => schemas.kind(&field.kind()),
                None => json!({"type": "string"}),
            };
            let mut parameter = json!({
                "name": path.join("."),
                "in": "path",
                "required": true,
                "schema": schema,
            });
            if let Some(comment) = field.as_ref().and_then(|field| comments.of_field(field)) {
                parameter["description"] = json!(comment);
            }
            parameter
        })
        .collect()
}

/// The field a dotted path names in `message`, if every step but the last is a message.
fn field_at(message: &MessageDescriptor, path: &[String]) -> Option<FieldDescriptor> {
    let (last, parents) = path.split_last()?;
    let mut message = message.clone();
    for name in parents {
        message = message
            .get_field_by_name(name)?
            .kind()
            .as_message()?
            .clone();
    }
    message.get_field_by_name(last)
}

/// Every field the query string can set, as the transcoder reads it: all fields not bound by
/// the path (nor taken by a `body: "field"` rule), nested messages as dotted names. Maps, bytes
/// and repeated messages cannot be written as text, so they are not parameters.
fn query_parameters(route: &Route, schemas: &mut Schemas<'_>) -> Vec<Value> {
    let mut excluded: HashSet<String> = route
        .template
        .variables()
        .map(|path| path.join("."))
        .collect();
    match &route.body {
        BodyMapping::Whole => return Vec::new(),
        BodyMapping::Field(name) => {
            excluded.insert(name.clone());
        }
        BodyMapping::None => {}
    }
    let mut query = QueryWalk {
        excluded,
        schemas,
        stack: Vec::new(),
        parameters: Vec::new(),
    };
    query.message(&route.rpc.input(), "");
    query.parameters
}

struct QueryWalk<'a, 'c> {
    excluded: HashSet<String>,
    schemas: &'a mut Schemas<'c>,
    /// The messages being walked, so that a recursive message does not recurse forever.
    stack: Vec<String>,
    parameters: Vec<Value>,
}

impl QueryWalk<'_, '_> {
    fn message(&mut self, message: &MessageDescriptor, prefix: &str) {
        if self.stack.iter().any(|name| name == message.full_name()) {
            return;
        }
        self.stack.push(message.full_name().to_owned());
        for field in message.fields() {
            let name = format!("{prefix}{}", field.name());
            if self.excluded.contains(&name) || field.is_map() {
                continue;
            }
            match field.kind() {
                Kind::Message(inner) if !field.is_list() => {
                    self.message(&inner, &format!("{name}."));
                }
                Kind::Message(_) | Kind::Bytes => {}
                _ => {
                    let parameter = self.parameter(&name, &field);
                    self.parameters.push(parameter);
                }
            }
        }
        self.stack.pop();
    }

    fn parameter(&mut self, name: &str, field: &FieldDescriptor) -> Value {
        let mut parameter = json!({
            "name": name,
            "in": "query",
            "required": false,
            "schema": self.schemas.field_type(field),
        });
        if let Some(comment) = self.schemas.comments.of_field(field) {
            parameter["description"] = json!(comment);
        }
        parameter
    }
}

/// Optional, as the transcoder reads an empty body as the empty message.
fn request_body(route: &Route, schemas: &mut Schemas<'_>) -> Option<Value> {
    let input = route.rpc.input();
    let schema = match &route.body {
        BodyMapping::None => return None,
        BodyMapping::Whole => schemas.message(&input),
        BodyMapping::Field(name) => schemas.kind(&input.get_field_by_name(name)?.kind()),
    };
    Some(json!({
        "required": false,
        "content": {"application/json": {"schema": schema}},
    }))
}

fn responses(route: &Route, schemas: &mut Schemas<'_>) -> Value {
    let mut headers = Map::new();
    headers.insert(REQUEST_ID.into(), header_ref(REQUEST_ID));
    if takes_idempotency_key(route) {
        headers.insert(
            IDEMPOTENCY_REPLAYED.into(),
            header_ref(IDEMPOTENCY_REPLAYED),
        );
    }
    let mut responses = Map::new();
    responses.insert(
        "200".into(),
        json!({
            "description": "OK",
            "headers": headers,
            "content": {"application/json": {"schema": schemas.message(&route.rpc.output())}},
        }),
    );
    for status in error_statuses(route) {
        responses.insert(
            status.into(),
            json!({"$ref": format!("#/components/responses/{status}")}),
        );
    }
    responses.insert(
        "default".into(),
        json!({"$ref": "#/components/responses/default"}),
    );
    Value::Object(responses)
}

/// The errors worth naming on an operation; any other is covered by `default`.
fn error_statuses(route: &Route) -> Vec<&'static str> {
    let mut statuses = vec!["400", "401"];
    if !is_public(route) {
        statuses.push("403");
    }
    if route.template.variables().next().is_some() {
        statuses.push("404");
    }
    // Stale versions, duplicates, states and Idempotency-Key conflicts: signed-in writes only.
    if takes_idempotency_key(route) {
        statuses.extend(["409", "422"]);
    }
    statuses.push("429");
    statuses
}

fn header_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/headers/{name}")})
}

/// The shared error responses, keyed by status, each a problem document.
fn error_responses() -> Value {
    let problem = |description: &str, retry_after: bool| {
        let mut headers = Map::new();
        headers.insert(REQUEST_ID.into(), header_ref(REQUEST_ID));
        if retry_after {
            headers.insert("Retry-After".into(), header_ref("Retry-After"));
        }
        json!({
            "description": description,
            "headers": headers,
            "content": {
                "application/problem+json": {"schema": {"$ref": format!("{REF_SCHEMAS}{PROBLEM}")}},
            },
        })
    };
    json!({
        "400": problem("INVALID_ARGUMENT: the request is malformed or a field is invalid; \
            `field_violations` names each field.", false),
        "401": problem("UNAUTHENTICATED: no valid token, or bad credentials.", false),
        "403": problem("PERMISSION_DENIED: the caller may not do this to this record.", false),
        "404": problem("NOT_FOUND: no such record, or not one the caller can see.", false),
        "409": problem("ALREADY_EXISTS, or ABORTED: `expected_version` is stale, or a request \
            with the same Idempotency-Key is still running.", false),
        "422": problem("FAILED_PRECONDITION: the record is not in a state that allows this, or \
            the Idempotency-Key was used for a different request.", false),
        "429": problem("RESOURCE_EXHAUSTED: rate limited; retry after `Retry-After` seconds.",
            true),
        "default": problem("Any other error, as a problem document.", true),
    })
}

fn response_headers() -> Value {
    json!({
        REQUEST_ID: {
            "description": "Identifies the request in the gateway's logs and traces, and is the \
                `request_id` of a problem document: the caller's own X-Request-Id when it sent a \
                usable one (1 to 128 letters, digits or `-_.:`), else a new UUID.",
            "schema": {"type": "string"},
        },
        IDEMPOTENCY_REPLAYED: {
            "description": "`true` when this is the stored result of an earlier request with \
                the same Idempotency-Key.",
            "schema": {"type": "boolean"},
        },
        "Retry-After": {
            "description": "Seconds to wait before retrying.",
            "schema": {"type": "integer", "minimum": 1},
        },
    })
}

fn idempotency_key_parameter() -> Value {
    json!({
        "name": "Idempotency-Key",
        "in": "header",
        "required": false,
        "description": "Makes a write safe to retry: a retried create with the same key (and the \
            same request) returns the first result, marked `Idempotency-Replayed: true`, instead \
            of creating again; reusing a key with a different body is refused with 422, and a \
            retry while the first request still runs with 409. Keys are the caller's own; a UUID \
            is a good key.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    })
}

/// RFC 9457 with the gateway's extensions, as `problem.rs` renders it.
fn problem_schema() -> Value {
    json!({
        "type": "object",
        "description": "An error (RFC 9457 problem details).",
        "required": ["type", "title", "status", "detail", "code", "request_id"],
        "properties": {
            "type": {
                "type": "string",
                "format": "uri",
                "description": "`urn:crm:problem:` and the code in kebab case, e.g. \
                    `urn:crm:problem:invalid-argument`.",
            },
            "title": {"type": "string", "description": "The HTTP status's reason phrase."},
            "status": {"type": "integer", "format": "int32", "description": "The HTTP status."},
            "detail": {"type": "string", "description": "What went wrong, for a human."},
            "code": {
                "type": "string",
                "enum": grpc_code_names(),
                "description": "The gRPC status code name: the same vocabulary as the gRPC API.",
            },
            "request_id": {"type": "string", "description": "The request's X-Request-Id."},
            "field_violations": {
                "type": "array",
                "description": "The invalid fields of the request, when `code` is \
                    INVALID_ARGUMENT.",
                "items": {
                    "type": "object",
                    "required": ["field", "description"],
                    "properties": {
                        "field": {
                            "type": "string",
                            "description": "The field path (`account.website`), `body`, or the \
                                query parameter as sent.",
                        },
                        "description": {"type": "string"},
                    },
                },
            },
        },
    })
}

/// Every gRPC code but OK, named as `problem.rs` names them (`InvalidArgument` →
/// `INVALID_ARGUMENT`); codes 1..=16 are the whole gRPC vocabulary.
fn grpc_code_names() -> Vec<String> {
    (1..=16)
        .map(|number| screaming_snake(&format!("{:?}", tonic::Code::from_i32(number))))
        .collect()
}

fn screaming_snake(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for (index, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && index > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// The summary of a documented RPC: the first sentence of its comment's first paragraph.
fn first_sentence(comment: &str) -> String {
    let paragraph = comment.split("\n\n").next().unwrap_or(comment);
    let joined = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
    match joined.find(". ") {
        Some(end) => joined[..=end].to_owned(),
        None => joined,
    }
}

/// The summary of an undocumented RPC: its name in words (`GetAccount` → `Get account`).
fn words(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for (index, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && index > 0 {
            out.push(' ');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The source comments of the pool's files, by file and descriptor path: leading comments,
/// else trailing ones (`string phone = 8; // E.164`), with each line trimmed.
struct Comments {
    files: HashMap<String, HashMap<Vec<i32>, String>>,
}

impl Comments {
    fn new(pool: &DescriptorPool) -> Self {
        let mut files = HashMap::new();
        for file in pool.files() {
            let Some(info) = &file.file_descriptor_proto().source_code_info else {
                continue;
            };
            let mut comments = HashMap::new();
            for location in &info.location {
                let text = location
                    .leading_comments
                    .as_deref()
                    .and_then(clean_comment)
                    .or_else(|| {
                        location
                            .trailing_comments
                            .as_deref()
                            .and_then(clean_comment)
                    });
                if let Some(text) = text {
                    comments.entry(location.path.clone()).or_insert(text);
                }
            }
            files.insert(file.name().to_owned(), comments);
        }
        Self { files }
    }

    fn get(&self, file: &FileDescriptor, path: &[i32]) -> Option<&str> {
        self.files.get(file.name())?.get(path).map(String::as_str)
    }

    fn of_field(&self, field: &FieldDescriptor) -> Option<&str> {
        self.get(&field.parent_file(), field.path())
    }
}

/// Trims every line (protoc keeps the space after `//`) and drops blank lines at either end;
/// `None` for a comment with no text.
fn clean_comment(raw: &str) -> Option<String> {
    let lines: Vec<&str> = raw.lines().map(str::trim).collect();
    let first = lines.iter().position(|line| !line.is_empty())?;
    let last = lines.iter().rposition(|line| !line.is_empty())?;
    Some(lines[first..=last].join("\n"))
}

/// Builds `components.schemas`: each message or enum a schema refers to is queued when first
/// referred to and defined by [`Schemas::finish`], so exactly the reachable types appear.
struct Schemas<'c> {
    comments: &'c Comments,
    defined: BTreeMap<String, Value>,
    queued: HashSet<String>,
    pending: Vec<Pending>,
}

enum Pending {
    Message(MessageDescriptor),
    Enum(EnumDescriptor),
}

impl<'c> Schemas<'c> {
    fn new(comments: &'c Comments) -> Self {
        Self {
            comments,
            defined: BTreeMap::new(),
            queued: HashSet::new(),
            pending: Vec::new(),
        }
    }

    /// The schema of a field: its type, as a list or map when it is one, with its comment.
    fn field(&mut self, field: &FieldDescriptor) -> Value {
        let mut schema = self.field_type(field);
        if let Some(comment) = self.comments.of_field(field) {
            // OpenAPI 3.1 schemas are JSON Schema 2020-12, where `$ref` may have siblings.
            schema["description"] = json!(comment);
        }
        schema
    }

    /// A field's type alone, for a parameter, which has its own description.
    fn field_type(&mut self, field: &FieldDescriptor) -> Value {
        if field.is_map() {
            self.map(field)
        } else if field.is_list() {
            json!({"type": "array", "items": self.kind(&field.kind())})
        } else {
            self.kind(&field.kind())
        }
    }

    /// `map<K, V>`: a JSON object whose keys are K as text.
    fn map(&mut self, field: &FieldDescriptor) -> Value {
        let values = match field.kind() {
            Kind::Message(entry) => self.kind(&entry.map_entry_value_field().kind()),
            _ => json!({}),
        };
        json!({"type": "object", "additionalProperties": values})
    }

    fn kind(&mut self, kind: &Kind) -> Value {
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
    fn message(&mut self, message: &MessageDescriptor) -> Value {
        if let Some(schema) = well_known(message) {
            return schema;
        }
        self.queue(message.full_name(), || Pending::Message(message.clone()))
    }

    fn enumeration(&mut self, descriptor: &EnumDescriptor) -> Value {
        self.queue(descriptor.full_name(), || Pending::Enum(descriptor.clone()))
    }

    fn queue(&mut self, full_name: &str, pending: impl FnOnce() -> Pending) -> Value {
        if self.queued.insert(full_name.to_owned()) {
            self.pending.push(pending());
        }
        json!({"$ref": format!("{REF_SCHEMAS}{full_name}")})
    }

    /// Defines every queued type, and those their fields refer to in turn.
    fn finish(mut self) -> BTreeMap<String, Value> {
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
    fn message_schema(&mut self, message: &MessageDescriptor) -> Value {
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
    fn enum_schema(&self, descriptor: &EnumDescriptor) -> Value {
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
fn well_known(message: &MessageDescriptor) -> Option<Value> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn generate() -> Value {
        let pool = DescriptorPool::decode(crm_proto::FILE_DESCRIPTOR_SET).unwrap();
        let table = RouteTable::from_pool(&pool).unwrap();
        document(&table, &pool)
    }

    const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

    /// Every operation of the document, with its path and method.
    fn operations(doc: &Value) -> Vec<(String, String, Value)> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                assert!(METHODS.contains(&method.as_str()), "{path}: {method}");
                out.push((path.clone(), method.clone(), operation.clone()));
            }
        }
        out
    }

    fn operation(doc: &Value, id: &str) -> Value {
        operations(doc)
            .into_iter()
            .find(|(_, _, operation)| operation["operationId"] == id)
            .unwrap_or_else(|| panic!("no operation {id}"))
            .2
    }

    fn parameter(operation: &Value, name: &str) -> Value {
        operation["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|parameter| parameter["name"] == name)
            .unwrap_or_else(|| panic!("no parameter {name}"))
            .clone()
    }

    #[test]
    fn every_route_has_one_operation_with_a_unique_id() {
        let pool = DescriptorPool::decode(crm_proto::FILE_DESCRIPTOR_SET).unwrap();
        let table = RouteTable::from_pool(&pool).unwrap();
        let doc = document(&table, &pool);
        assert_eq!(doc["openapi"], "3.1.0");
        let operations = operations(&doc);
        assert_eq!(operations.len(), table.routes().len());
        let ids: HashSet<&str> = operations
            .iter()
            .map(|(_, _, operation)| operation["operationId"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len(), operations.len(), "operationIds are unique");
        let tags: Vec<&str> = doc["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|tag| tag["name"].as_str().unwrap())
            .collect();
        for (path, method, operation) in &operations {
            let tag = operation["tags"][0].as_str().unwrap();
            assert!(
                tags.contains(&tag),
                "{method} {path}: tag {tag} is not listed"
            );
            assert!(operation["responses"]["200"].is_object(), "{method} {path}");
        }
        assert_eq!(
            doc,
            document(&table, &pool),
            "the document is deterministic"
        );
    }

    #[test]
    fn get_account_binds_the_path_and_returns_the_response_message() {
        let doc = generate();
        let get = &doc["paths"]["/v1/accounts/{account_id}"]["get"];
        assert_eq!(get["operationId"], "GetAccount");
        assert_eq!(get["tags"], json!(["accounts"]));
        let id = parameter(get, "account_id");
        assert_eq!(id["in"], "path");
        assert_eq!(id["required"], true);
        assert_eq!(id["schema"]["type"], "string");
        assert_eq!(
            get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/crm.accounts.v1.GetAccountResponse"
        );
        assert!(get.get("requestBody").is_none());
        assert!(get.get("security").is_none(), "the global bearer applies");
        assert_eq!(
            get["responses"]["default"]["$ref"],
            "#/components/responses/default"
        );
        let archive = &doc["paths"]["/v1/accounts/{account_id}:archive"]["post"];
        assert_eq!(archive["operationId"], "ArchiveAccount");
        assert_eq!(archive["requestBody"]["required"], false);
        assert_eq!(
            archive["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/crm.accounts.v1.ArchiveAccountRequest"
        );
    }

    #[test]
    fn list_leads_takes_nested_and_enum_query_parameters() {
        let doc = generate();
        let list = operation(&doc, "ListLeads");
        let page_size = parameter(&list, "page.page_size");
        assert_eq!(page_size["in"], "query");
        assert_eq!(page_size["required"], false);
        assert_eq!(page_size["schema"]["type"], "integer");
        assert!(
            page_size["description"]
                .as_str()
                .unwrap()
                .contains("1..=500"),
            "field comments describe parameters: {page_size}"
        );
        parameter(&list, "page.page_token");
        assert_eq!(
            parameter(&list, "status")["schema"]["$ref"],
            "#/components/schemas/crm.leads.v1.LeadStatus"
        );
        let status = &doc["components"]["schemas"]["crm.leads.v1.LeadStatus"];
        assert_eq!(status["type"], "string");
        assert!(
            status["enum"]
                .as_array()
                .unwrap()
                .contains(&json!("LEAD_STATUS_NEW"))
        );
        assert!(list.get("requestBody").is_none());

        // A body "*" operation takes no query parameters.
        let create = operation(&doc, "CreateLead");
        for parameter in create["parameters"].as_array().into_iter().flatten() {
            assert_ne!(parameter["in"], "query", "{parameter}");
        }
    }

    #[test]
    fn public_operations_need_no_token() {
        let doc = generate();
        assert_eq!(doc["security"], json!([{"bearer": []}]));
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        let login = operation(&doc, "Login");
        assert_eq!(login["security"], json!([]));
        assert_eq!(operation(&doc, "SubmitWebForm")["security"], json!([]));
        assert!(operation(&doc, "CreateAccount").get("security").is_none());
    }

    #[test]
    fn every_ref_resolves() {
        let doc = generate();
        let mut refs = Vec::new();
        collect_refs(&doc, &mut refs);
        assert!(refs.len() > 100, "only {} refs", refs.len());
        for reference in refs {
            let pointer = reference
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("{reference} is not local"));
            assert!(
                doc.pointer(pointer).is_some_and(Value::is_object),
                "{reference} does not resolve"
            );
        }
    }

    fn collect_refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    out.push(reference.clone());
                }
                map.values().for_each(|value| collect_refs(value, out));
            }
            Value::Array(values) => values.iter().for_each(|value| collect_refs(value, out)),
            _ => {}
        }
    }

    #[test]
    fn schemas_follow_the_json_mapping() {
        let doc = generate();
        let schemas = &doc["components"]["schemas"];
        let account = &schemas["crm.accounts.v1.Account"]["properties"];
        assert_eq!(
            account["created_at"],
            json!({"type": "string", "format": "date-time"})
        );
        assert!(schemas.get("google.protobuf.Timestamp").is_none());
        assert_eq!(account["version"]["format"], "uint64");
        assert_eq!(account["version"]["minimum"], 0);
        assert_eq!(account["tags"]["items"]["type"], "string");
        assert_eq!(
            account["custom_fields"],
            json!({"type": "object", "additionalProperties": {"type": "string"}})
        );
        assert_eq!(
            account["phone"]["description"], "E.164",
            "trailing comments count"
        );
        assert_eq!(
            account["status"]["$ref"],
            "#/components/schemas/crm.accounts.v1.AccountStatus"
        );
        let size = schemas["crm.common.v1.CompanySize"]["description"]
            .as_str()
            .unwrap();
        assert!(
            size.contains("- `COMPANY_SIZE_SMALL`: < 50 employees"),
            "enum value comments are listed: {size}"
        );
        let money = &schemas["crm.common.v1.Money"];
        assert_eq!(money["properties"]["amount"]["type"], "string");
        assert!(
            money["description"]
                .as_str()
                .unwrap()
                .contains("decimal string")
        );
        let patch = &schemas["crm.leads.v1.LeadPatch"];
        assert_eq!(
            patch["properties"]["company_size"]["$ref"],
            "#/components/schemas/crm.common.v1.CompanySize"
        );
        assert!(
            patch.get("required").is_none(),
            "optional fields are not required"
        );
        let problem = &schemas[PROBLEM];
        assert!(
            problem["properties"]["code"]["enum"]
                .as_array()
                .unwrap()
                .contains(&json!("INVALID_ARGUMENT"))
        );
        // Only reachable types: events are not part of the HTTP API.
        assert!(schemas.get("crm.accounts.v1.AccountCreated").is_none());
    }

    #[test]
    fn comments_give_summaries_and_descriptions() {
        let doc = generate();
        let create = operation(&doc, "CreateAccount");
        assert_eq!(create["summary"], "Creates an account.");
        assert!(
            create["description"]
                .as_str()
                .unwrap()
                .contains("DUPLICATE_POLICY_REJECT"),
            "{create}"
        );
        let rotate = operation(&doc, "RefreshToken");
        assert_eq!(
            rotate["summary"],
            "Rotates the refresh token: the old one stops working."
        );
        let get = operation(&doc, "GetAccount");
        assert_eq!(
            get["summary"], "Get account",
            "no comment: the name in words"
        );
        assert!(get.get("description").is_none());
        let accounts = doc["tags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|tag| tag["name"] == "accounts")
            .unwrap();
        assert!(
            accounts["description"]
                .as_str()
                .is_some_and(|text| text.starts_with("Accounts and contacts")),
            "{accounts}"
        );
    }

    fn takes_key(operation: &Value) -> bool {
        let key = json!({"$ref": "#/components/parameters/IdempotencyKey"});
        operation["parameters"]
            .as_array()
            .is_some_and(|parameters| parameters.contains(&key))
    }

    #[test]
    fn writes_document_idempotency_and_errors() {
        let doc = generate();
        let create = operation(&doc, "CreateAccount");
        assert!(takes_key(&create));
        assert!(
            takes_key(&operation(&doc, "UpdateAccount")),
            "PATCH is a write too"
        );
        assert!(!takes_key(&operation(&doc, "GetAccount")));
        let login = operation(&doc, "Login");
        assert!(!takes_key(&login), "keys are per signed-in caller");
        assert!(login["responses"].get("409").is_none());
        assert!(login["responses"].get("403").is_none());
        let key = &doc["components"]["parameters"]["IdempotencyKey"];
        assert_eq!(key["in"], "header");
        assert!(key["description"].as_str().unwrap().contains("422"));
        let responses = &create["responses"];
        for status in ["400", "401", "403", "409", "429", "default"] {
            assert!(responses[status]["$ref"].is_string(), "{status}");
        }
        assert!(responses["200"]["headers"][REQUEST_ID].is_object());
        let problem = &doc["components"]["responses"]["404"]["content"]["application/problem+json"];
        assert_eq!(problem["schema"]["$ref"], "#/components/schemas/Problem");
        assert!(doc["components"]["responses"]["429"]["headers"]["Retry-After"].is_object());
    }

    #[test]
    fn nested_path_variables_keep_their_field_path() {
        let template = PathTemplate::parse("/v1/leadReps/{rep.rep_id}").unwrap();
        assert_eq!(openapi_path(&template), "/v1/leadReps/{rep.rep_id}");
        let template = PathTemplate::parse("/v1/accounts/{account_id}:archive").unwrap();
        assert_eq!(openapi_path(&template), "/v1/accounts/{account_id}:archive");
    }

    #[test]
    fn text_helpers() {
        assert_eq!(words("FindDuplicateAccounts"), "Find duplicate accounts");
        assert_eq!(screaming_snake("InvalidArgument"), "INVALID_ARGUMENT");
        assert_eq!(first_sentence("One line\nwraps. Two."), "One line wraps.");
        assert_eq!(first_sentence("No stop\n\nSecond paragraph."), "No stop");
        assert_eq!(clean_comment("  a\n   b \n\n"), Some("a\nb".to_owned()));
        assert_eq!(clean_comment(" \n"), None);
    }
}
