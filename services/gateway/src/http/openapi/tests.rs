//! The generated document, checked against what the routes serve.

use std::collections::HashSet;

use prost_reflect::DescriptorPool;
use serde_json::{Value, json};

use super::{
    PROBLEM, REQUEST_ID,
    comments::{clean_comment, first_sentence, words},
    document,
    operations::{openapi_path, screaming_snake},
};
use crate::http::routes::{PathTemplate, RouteTable};

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
    // A oneof's fields: never two together.
    let target = &schemas["crm.forecasting.v1.TargetValue"];
    assert!(target.get("properties").is_none(), "{target}");
    let alternatives = target["anyOf"].as_array().unwrap();
    assert_eq!(alternatives.len(), 2);
    assert_eq!(alternatives[1]["additionalProperties"], false);
    assert_eq!(alternatives[1]["properties"]["value"]["type"], "string");
    let line = &schemas["crm.forecasting.v1.RollUpLine"];
    assert_eq!(line["not"], json!({"required": ["team_path", "user_id"]}));
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
    // Every RPC is commented now (buf lint asks for it): the first sentence is the summary,
    // the whole comment the description. Without a comment the summary would be the name in
    // words (`words`, tested below) and there would be no description.
    let get = operation(&doc, "GetAccount");
    assert_eq!(
        get["summary"],
        "One account by id: the console's account page, and integrations reading back what they wrote."
    );
    assert_eq!(
        get["description"],
        "One account by id: the console's account page, and integrations reading back what they\nwrote."
    );
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
fn nested_path_variables_get_plain_parameter_names() {
    let template = PathTemplate::parse("/v1/leadReps/{rep.rep_id}").unwrap();
    assert_eq!(openapi_path(&template), "/v1/leadReps/{rep_id}");
    let template = PathTemplate::parse("/v1/accounts/{account_id}:archive").unwrap();
    assert_eq!(openapi_path(&template), "/v1/accounts/{account_id}:archive");
    let doc = generate();
    for (path, method, operation) in operations(&doc) {
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            if parameter["in"] == "path" {
                let name = parameter["name"].as_str().unwrap();
                assert!(!name.contains('.'), "{method} {path}: {name}");
                assert!(
                    path.contains(&format!("{{{name}}}")),
                    "{method} {path}: {name}"
                );
            }
        }
    }
    let put = &doc["paths"]["/v1/leadReps/{rep_id}"]["put"];
    assert_eq!(parameter(put, "rep_id")["schema"]["format"], "uuid");
}

#[test]
fn the_document_declares_what_the_front_door_enforces() {
    let doc = generate();
    let schemas = &doc["components"]["schemas"];
    // Ids are UUIDs, in the path and in bodies (empty allowed where the id is optional).
    let get = operation(&doc, "GetAccount");
    assert_eq!(parameter(&get, "account_id")["schema"]["format"], "uuid");
    let input = &schemas["crm.accounts.v1.AccountInput"];
    assert_eq!(
        input["properties"]["parent_account_id"]["anyOf"],
        json!([{"const": ""}, {"format": "uuid"}])
    );
    // The page size is bounded by the kit's maximum.
    let list = operation(&doc, "ListAccounts");
    assert_eq!(
        parameter(&list, "page.page_size")["schema"]["maximum"],
        crm_platform::paging::MAX_PAGE_SIZE
    );
    // Required fields, limits, and no property beyond the declared ones.
    assert_eq!(input["additionalProperties"], false);
    assert_eq!(input["required"], json!(["name"]));
    assert_eq!(input["properties"]["name"]["maxLength"], 200);
    assert_eq!(input["properties"]["name"]["minLength"], 1);
    let logout = &schemas["crm.gateway.v1.LogoutRequest"];
    assert_eq!(logout["required"], json!(["refresh_token"]));
    assert_eq!(operation(&doc, "Logout")["requestBody"]["required"], true);
    // A path-bound field need not be in the body.
    let update = &schemas["crm.accounts.v1.UpdateAccountRequest"];
    assert!(update.get("required").is_none(), "{update}");
    // Enums are their names; a required one is not its *_UNSPECIFIED.
    let activity = &schemas["crm.leads.v1.LogLeadActivityRequest"]["properties"]["kind"];
    assert_eq!(
        activity["not"],
        json!({"const": "ACTIVITY_KIND_UNSPECIFIED"})
    );
    for (name, schema) in schemas.as_object().unwrap() {
        if name.starts_with("crm.") && schema.get("properties").is_some() {
            assert_eq!(schema["additionalProperties"], false, "{name}");
        }
    }
}

#[test]
fn text_patterns_refuse_what_the_services_refuse() {
    use super::schemas::text_pattern;
    // The JSON Schema regex, as its character classes read: every control character but the
    // line breaks of a multi-line field is outside the allowed class.
    for (multiline, pattern) in [
        (false, text_pattern(false, false)),
        (true, text_pattern(true, false)),
    ] {
        assert!(
            pattern.starts_with("^[^") && pattern.ends_with("]*$"),
            "{pattern}"
        );
        for character in ['\u{0}', '\u{1f}', '\u{7f}', '\u{85}', '\u{9f}'] {
            let escaped = format!("\\u{:04x}", character as u32);
            assert!(
                pattern.contains(&escaped) || pattern.contains("-\\u"),
                "{pattern} names {escaped}"
            );
        }
        assert_eq!(pattern.contains("\\u000b"), multiline, "{pattern}");
    }
    assert!(text_pattern(false, true).contains("[^\\s"));
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
