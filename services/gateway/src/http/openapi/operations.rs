//! The paths of the document: one operation per route, with its parameters, body, responses
//! and the problem documents its errors are.

use std::collections::{BTreeMap, HashMap, HashSet};

use http::Method;
use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor};
use serde_json::{Map, Value, json};

use crate::http::{
    field_rules::{self, Rules},
    routes::{BodyMapping, PathTemplate, Route, Segment},
};

use super::{
    IDEMPOTENCY_REPLAYED, PROBLEM, REF_SCHEMAS, REQUEST_ID,
    comments::{first_sentence, words},
    schemas::Schemas,
};

/// RPC names are unique across the suite today; should two services ever share one, both are
/// qualified with their service name, as operationIds must be unique.
pub(super) fn operation_ids(routes: &[Route]) -> Vec<String> {
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

pub(super) fn tag_list(tags: BTreeMap<String, Option<String>>) -> Value {
    tags.into_iter()
        .map(|(name, description)| match description {
            Some(description) => json!({"name": name, "description": description}),
            None => json!({"name": name}),
        })
        .collect()
}

/// `/v1/leadReps/{rep_id}`: the template as OpenAPI writes it, each variable under its
/// parameter name ([`PathTemplate::parameter_names`]): plain names, since OpenAPI tools take a
/// dot in a path parameter's name for an operator. The transcoder binds variables by position,
/// so the name maps back to the nested field (`rep.rep_id`).
pub(super) fn openapi_path(template: &PathTemplate) -> String {
    let mut names = template.parameter_names().into_iter();
    let mut path = String::with_capacity(template.text.len());
    for segment in &template.segments {
        path.push('/');
        match segment {
            Segment::Literal(literal) => path.push_str(literal),
            Segment::Variable(_) => {
                path.push('{');
                path.push_str(&names.next().unwrap_or_default());
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
pub(super) fn is_public(route: &Route) -> bool {
    crm_platform::auth::is_public_service(route.rpc.parent_service().full_name())
}

pub(super) fn operation(route: &Route, operation_id: String, schemas: &mut Schemas<'_>) -> Value {
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

pub(super) fn parameters(route: &Route, schemas: &mut Schemas<'_>) -> Vec<Value> {
    let mut parameters = path_parameters(route, schemas);
    parameters.extend(query_parameters(route, schemas));
    if takes_idempotency_key(route) {
        parameters.push(json!({"$ref": "#/components/parameters/IdempotencyKey"}));
    }
    parameters
}

/// Writes by a signed-in caller, as the front door deduplicates them: keys are kept per
/// caller, so an anonymous call has no key space to replay from.
pub(super) fn takes_idempotency_key(route: &Route) -> bool {
    route.method != Method::GET && !is_public(route)
}

pub(super) fn path_parameters(route: &Route, schemas: &mut Schemas<'_>) -> Vec<Value> {
    let comments = schemas.comments;
    route
        .template
        .variables()
        .zip(route.template.parameter_names())
        .map(|(path, name)| {
            let field = field_at(&route.rpc.input(), path);
            let schema = match &field {
                Some(field) => {
                    // A path segment is never empty, so the field is given whatever its rules.
                    let rules = Rules {
                        required: true,
                        ..field_rules::rules(field)
                    };
                    let mut schema = schemas.kind(&field.kind());
                    schemas.constrain(field, &rules, &mut schema);
                    schema
                }
                None => json!({"type": "string"}),
            };
            let mut parameter = json!({
                "name": name,
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
pub(super) fn field_at(message: &MessageDescriptor, path: &[String]) -> Option<FieldDescriptor> {
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
pub(super) fn query_parameters(route: &Route, schemas: &mut Schemas<'_>) -> Vec<Value> {
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

pub(super) struct QueryWalk<'a, 'c> {
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
            "required": field_rules::rules(field).required && !field_rules::is_optional_scalar(field),
            "schema": self.schemas.field_type(field),
        });
        if let Some(comment) = self.schemas.comments.of_field(field) {
            parameter["description"] = json!(comment);
        }
        parameter
    }
}

/// The transcoder reads an empty body as the empty message, so a body is optional unless the
/// message has a required field the path does not bind.
pub(super) fn request_body(route: &Route, schemas: &mut Schemas<'_>) -> Option<Value> {
    let input = route.rpc.input();
    let (schema, message) = match &route.body {
        BodyMapping::None => return None,
        BodyMapping::Whole => {
            // Fields the path binds need not be in the body too (the path wins).
            for path in route.template.variables() {
                if let [name] = path {
                    schemas.not_required(input.full_name(), name);
                }
            }
            (schemas.message(&input), input.clone())
        }
        BodyMapping::Field(name) => {
            let field = input.get_field_by_name(name)?;
            let message = field.kind().as_message()?.clone();
            (schemas.kind(&field.kind()), message)
        }
    };
    let bound: HashSet<&str> = route
        .template
        .variables()
        .filter_map(|path| match path {
            [name] => Some(name.as_str()),
            _ => None,
        })
        .collect();
    let required = message.fields().any(|field| {
        field_rules::rules(&field).required
            && !field_rules::is_optional_scalar(&field)
            && !bound.contains(field.name())
    });
    Some(json!({
        "required": required,
        "content": {"application/json": {"schema": schema}},
    }))
}

pub(super) fn responses(route: &Route, schemas: &mut Schemas<'_>) -> Value {
    let mut headers = Map::new();
    headers.insert(REQUEST_ID.into(), header_ref(REQUEST_ID));
    if takes_idempotency_key(route) {
        headers.insert(
            IDEMPOTENCY_REPLAYED.into(),
            header_ref(IDEMPOTENCY_REPLAYED),
        );
    }
    let output = route.rpc.output();
    // A `google.api.HttpBody` is served raw, as the media type its RPC declares: no JSON.
    let content = if crate::http::transcode::is_http_body(&output) {
        json!({http_body_media_type(route): {"schema": {"type": "string"}}})
    } else {
        json!({"application/json": {"schema": schemas.message(&output)}})
    };
    let mut responses = Map::new();
    responses.insert(
        "200".into(),
        json!({
            "description": "OK",
            "headers": headers,
            "content": content,
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

/// The media type an RPC answering `google.api.HttpBody` declares
/// (`crm.common.v1.http_body_media_type`); `application/octet-stream` without one.
fn http_body_media_type(route: &Route) -> String {
    route
        .rpc
        .parent_pool()
        .get_extension_by_name(HTTP_BODY_MEDIA_TYPE_OPTION)
        .and_then(|option| {
            let options = route.rpc.options();
            let value = options.get_extension(&option);
            value
                .as_str()
                .filter(|media| !media.is_empty())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "application/octet-stream".to_owned())
}

const HTTP_BODY_MEDIA_TYPE_OPTION: &str = "crm.common.v1.http_body_media_type";

/// The errors worth naming on an operation; any other is covered by `default`.
pub(super) fn error_statuses(route: &Route) -> Vec<&'static str> {
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
    // Throttling, and an outage of a database or a service: any route.
    statuses.extend(["429", "503"]);
    statuses
}

pub(super) fn header_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/headers/{name}")})
}

/// The shared error responses, keyed by status, each a problem document.
pub(super) fn error_responses() -> Value {
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
        "422": problem("FAILED_PRECONDITION: a business rule refuses it (the record's state, a \
            cap, a policy), or the Idempotency-Key was used for a different request; `reason` \
            says which (`CLAIM_CAP_REACHED`). Retrying the same request does not help.", false),
        "429": problem("RESOURCE_EXHAUSTED: throttled (a rate limit); retry after `Retry-After` \
            seconds.", true),
        "503": problem("UNAVAILABLE: a database or a service is down; retry after \
            `Retry-After` seconds.", true),
        "default": problem("Any other error, as a problem document.", true),
    })
}

pub(super) fn response_headers() -> Value {
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

pub(super) fn idempotency_key_parameter() -> Value {
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
pub(super) fn problem_schema() -> Value {
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
            "reason": {
                "type": "string",
                "pattern": "^[A-Z][A-Z0-9_]*$",
                "description": "Why it was refused, for programs: the stable UPPER_SNAKE reason \
                    of the gRPC `google.rpc.ErrorInfo` (`CLAIM_CAP_REACHED`, \
                    `LEAD_TRANSITION_NOT_ALLOWED`, `SERVICE_UNAVAILABLE`); the list is in \
                    docs/api.md.",
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
            "text": {
                "$ref": "#/components/schemas/crm.common.v1.LocalizableText",
                "description": "A refusal's stable code and parameters beside `detail` (its \
                    `text`), to show it in another language; the codes are in docs/api.md.",
            },
        },
    })
}

/// Every gRPC code but OK, named as `problem.rs` names them (`InvalidArgument` →
/// `INVALID_ARGUMENT`); codes 1..=16 are the whole gRPC vocabulary.
pub(super) fn grpc_code_names() -> Vec<String> {
    (1..=16)
        .map(|number| screaming_snake(&format!("{:?}", tonic::Code::from_i32(number))))
        .collect()
}

pub(super) fn screaming_snake(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for (index, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && index > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}
