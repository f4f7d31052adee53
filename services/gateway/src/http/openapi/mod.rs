//! The OpenAPI 3.1 document of the HTTP/JSON front door, written from the descriptors the routes
//! and the transcoder run on: the `google.api.http` rules give the operations, the messages give
//! the schemas and the proto comments give the prose. Nothing here is maintained per operation,
//! so the document cannot drift from what the gateway serves.
//!
//! `operations` writes the paths (operations, parameters, responses and the error documents),
//! `schemas` the components' schemas, `comments` reads the proto comments they are written
//! from.

mod comments;
mod operations;
mod schemas;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use prost_reflect::DescriptorPool;
use serde_json::{Map, Value, json};

use self::{
    comments::Comments,
    operations::{
        error_responses, idempotency_key_parameter, openapi_path, operation, operation_ids,
        problem_schema, response_headers, tag_list,
    },
    schemas::Schemas,
};
use super::routes::RouteTable;

/// How the JSON mapping works, once for the whole API rather than on every schema.
pub(super) const DESCRIPTION: &str = "\
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

pub(super) const REF_SCHEMAS: &str = "#/components/schemas/";
pub(super) const PROBLEM: &str = "Problem";
pub(super) const REQUEST_ID: &str = "X-Request-Id";
pub(super) const IDEMPOTENCY_REPLAYED: &str = "Idempotency-Replayed";

/// The source-info path of `FileDescriptorProto.package`: the comment above `package`
/// describes the service as a whole, so it describes the service's tag.
pub(super) const PACKAGE_PATH: &[i32] = &[2];

/// The OpenAPI 3.1 document of every route in `table`; `pool` is where the routes' descriptors
/// (and their source comments) come from. Everything is collected in sorted maps, so equal
/// inputs give equal documents whether or not serde_json keeps insertion order.
pub fn document(table: &RouteTable, pool: &DescriptorPool) -> Value {
    let comments = Comments::new(pool);
    let mut schemas = Schemas::new(&comments);
    for route in table.routes() {
        schemas.request_message(&route.rpc.input());
    }
    let operation_ids = operation_ids(table.routes());
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut tags: BTreeMap<String, Option<String>> = BTreeMap::new();
    for (route, operation_id) in table.routes().iter().zip(operation_ids) {
        let operation = operation(route, operation_id, &mut schemas);
        paths
            .entry(openapi_path(&route.template))
            .or_default()
            .insert(route.method.as_str().to_ascii_lowercase(), operation);
        // A service's tag is described by the package comment of the first of its files that
        // has one: a further file of the package (the gateway's views.proto) leaves it to the
        // main one.
        let tag = tags.entry(route.service.clone()).or_default();
        if tag.is_none() {
            *tag = comments
                .get(&route.rpc.parent_file(), PACKAGE_PATH)
                .map(str::to_owned);
        }
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
