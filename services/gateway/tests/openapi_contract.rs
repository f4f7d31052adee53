//! The front door refuses what its OpenAPI document does not offer, over HTTP: enums as
//! numbers, `null`, a required field left empty, a malformed id, a page too large; and the
//! document it serves declares those rules.

mod support;

use crm_test_support::{HttpClient, HttpReply, TestApp, user};
use serde_json::{Value, json};

async fn start() -> (TestApp, HttpClient) {
    let app = TestApp::spawn_with(
        &[
            crm_gateway::module(),
            crm_accounts::module(),
            crm_leads::module(),
        ],
        &crm_test_support::nats_url(),
        &[],
    )
    .await;
    support::first_admin(&app).await;
    let http = HttpClient::new(app.http_url());
    (app, http)
}

/// The field the 400 names.
fn refused_field(reply: &HttpReply) -> String {
    assert_eq!(
        reply.status,
        400,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let body = reply.json();
    body["field_violations"][0]["field"]
        .as_str()
        .unwrap_or_else(|| panic!("no field violation: {body}"))
        .to_owned()
}

#[tokio::test]
async fn what_the_document_does_not_offer_is_refused_naming_the_parameter() {
    let (app, http) = start().await;
    let token = app.token(&user("admin", "/northwind"));
    let token = Some(token.as_str());

    for (path, field) in [
        ("/v1/accounts?sort_direction=0", "sort_direction"),
        ("/v1/contacts?sort_direction=2", "sort_direction"),
        ("/v1/leads?status=0", "status"),
        ("/v1/accounts?page.page_size=501", "page.page_size"),
        ("/v1/accounts/not-an-id", "account_id"),
    ] {
        assert_eq!(refused_field(&http.get(path, token).await), field, "{path}");
    }
    let named = http
        .get(
            "/v1/accounts?sort_direction=SORT_DIRECTION_DESCENDING",
            token,
        )
        .await;
    assert_eq!(named.status, 200, "{}", named.json());

    let null = http
        .post_json("/v1/auth:logout", None, &json!({"refresh_token": null}))
        .await;
    assert_eq!(refused_field(&null), "refresh_token");
    let empty = http
        .post_json("/v1/auth:logout", None, &json!({"refresh_token": ""}))
        .await;
    assert_eq!(refused_field(&empty), "refresh_token");
    let number = http
        .post_json(
            "/v1/accounts",
            token,
            &json!({"account": {"name": "Contoso", "size": 3}}),
        )
        .await;
    assert_eq!(refused_field(&number), "account.size");
}

#[tokio::test]
async fn the_served_document_declares_the_rules() {
    let (_app, http) = start().await;
    let document: Value = http.get("/openapi.json", None).await.json();
    let paths = document["paths"].as_object().unwrap();
    assert!(
        paths.keys().all(|path| !path.contains('.')),
        "no dotted parameter"
    );
    assert!(paths.contains_key("/v1/leadReps/{rep_id}"));
    let schemas = &document["components"]["schemas"];
    let page_size = document["paths"]["/v1/accounts"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|parameter| parameter["name"] == "page.page_size")
        .unwrap()
        .clone();
    assert_eq!(page_size["schema"]["maximum"], 500);
    assert_eq!(
        schemas["crm.accounts.v1.MergeAccountsRequest"]["properties"]["duplicate_id"]["format"],
        "uuid"
    );
    assert_eq!(
        schemas["crm.gateway.v1.LogoutRequest"]["additionalProperties"],
        false
    );
}

/// The reason and the field a 422 names.
fn refused_for_the_data(reply: &HttpReply) -> (String, String) {
    assert_eq!(
        reply.status,
        422,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let body = reply.json();
    (
        body["reason"].as_str().unwrap_or_default().to_owned(),
        body["field_violations"][0]["field"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

/// Each form the document declares (a pattern, a list of values, a bound, a rule of the whole
/// message) is the front door's check too: a request outside it is 400 naming the field. The
/// fuzzer found each of these answered 400 by a service while the document offered them.
#[tokio::test]
async fn the_forms_the_document_declares_are_checked_at_the_front_door() {
    let (app, http) = start().await;
    let token = app.token(&user("admin", "/northwind"));
    let token = Some(token.as_str());

    for (path, field) in [
        ("/v1/leadReps?team_path=J", "team_path"),
        ("/v1/assignmentRules?team_path=", "team_path"),
        (
            "/v1/accounts?page.page_token=%5BFiltered%5D",
            "page.page_token",
        ),
        ("/v1/contacts?email=20000", "email"),
        ("/v1/territories?codes=", "codes[0]"),
        ("/v1/accounts:findDuplicates?phone=20000", "phone"),
    ] {
        assert_eq!(refused_field(&http.get(path, token).await), field, "{path}");
    }
    let long_reason = "x".repeat(501);
    for (path, body, field) in [
        (
            "/v1/territories",
            json!({"code": "cn--east", "name": "East"}),
            "code",
        ),
        (
            "/v1/users",
            json!({"email": "0", "display_name": "Li", "role": "ROLE_REP",
                   "team_id": "0190a5c4-7b1e-7c3d-9f00-1a2b3c4d5e6f"}),
            "email",
        ),
        (
            "/v1/apiKeys",
            json!({"name": "ci", "rate_limit": {"requests_per_second": 0}}),
            "rate_limit.requests_per_second",
        ),
        (
            "/v1/apiKeys",
            json!({"name": "ci", "scopes": ["admin"]}),
            "scopes[0]",
        ),
        (
            "/v1/campaigns",
            json!({"campaign": {"name": "Expo", "cost": {"currency_code": "", "amount": "1"}}}),
            "campaign.cost.currency_code",
        ),
        (
            "/v1/campaigns",
            json!({"campaign": {"name": "Expo", "cost": {"currency_code": "CNY", "amount": "-1"}}}),
            "campaign.cost.amount",
        ),
        (
            "/v1/leads",
            json!({"lead": {"first_name": "Wei", "company": "  "}}),
            "lead",
        ),
        (
            "/v1/leads/0190a5c4-7b1e-7c3d-9f00-1a2b3c4d5e6f:release",
            json!({"reason": long_reason}),
            "reason",
        ),
        (
            "/v1/leads/0190a5c4-7b1e-7c3d-9f00-1a2b3c4d5e6f:release",
            json!({"lead_id": "g30ceecb-11c0-383a-8698-e4242e46e649"}),
            "lead_id",
        ),
        (
            "/v1/accounts",
            json!({"account": {"name": "Contoso", "custom_fields": {"Bad Key": "x"}}}),
            "account.custom_fields.Bad Key",
        ),
        (
            "/v1/contacts",
            json!({"contact": {"account_id": "0190a5c4-7b1e-7c3d-9f00-1a2b3c4d5e6f",
                   "full_name": "Li", "important_dates": [
                       {"kind": "IMPORTANT_DATE_KIND_OTHER", "date": "--03-14"}]}}),
            "contact.important_dates[0].date",
        ),
        (
            "/v1/webForms/wf_forged:submit",
            json!({"lead": {"email": "li@contoso.cn"}}),
            "form_key",
        ),
    ] {
        let reply = http.post_json(path, token, &body).await;
        assert_eq!(refused_field(&reply), field, "{path} {body}");
    }
    let policies = http
        .send(
            http::Method::PUT,
            "/v1/leadPolicies",
            token,
            &[("content-type", "application/json")],
            Some(
                json!({"policies": {"fairness": {"thin_pipeline_boost": 0.5}}})
                    .to_string()
                    .into_bytes(),
            ),
        )
        .await;
    assert_eq!(
        refused_field(&policies),
        "policies.fairness.thin_pipeline_boost"
    );
    let calling_code = http
        .patch_json(
            "/v1/orgSettings",
            token,
            &json!({"default_calling_code": "a"}),
        )
        .await;
    assert_eq!(refused_field(&calling_code), "default_calling_code");
}

/// A request of the document's form that the data rules out — an id or a page token naming
/// nothing, a change that would leave a lead unreachable — is 422 with its reason and the
/// field, never 400: the document cannot know which ids exist. A duplicate search with
/// nothing to compare finds nothing.
#[tokio::test]
async fn a_valid_request_the_data_rules_out_is_a_failed_precondition() {
    let (app, http) = start().await;
    let token = app.token(&user("admin", "/northwind"));
    let token = Some(token.as_str());
    let nowhere = "0190a5c4-7b1e-7c3d-9f00-1a2b3c4d5e6f";

    let token_of_nothing = http.get("/v1/accounts?page.page_token=7b7d", token).await;
    assert_eq!(
        refused_for_the_data(&token_of_nothing),
        (
            "PAGE_TOKEN_NOT_RECOGNISED".to_owned(),
            "page.page_token".to_owned()
        )
    );
    let parent = http
        .post_json(
            "/v1/accounts",
            token,
            &json!({"account": {"name": "Contoso", "parent_account_id": nowhere}}),
        )
        .await;
    assert_eq!(
        refused_for_the_data(&parent),
        (
            "UNUSABLE_REFERENCE".to_owned(),
            "account.parent_account_id".to_owned()
        )
    );
    let team = http
        .post_json(
            "/v1/teams",
            token,
            &json!({"name": "East", "slug": "east", "parent_team_id": nowhere}),
        )
        .await;
    assert_eq!(refused_for_the_data(&team).1, "parent_team_id");

    let nothing = http.get("/v1/accounts:findDuplicates", token).await;
    assert_eq!(nothing.status, 200, "{}", nothing.json());
    assert_eq!(nothing.json()["candidates"], json!([]));

    let created = http
        .post_json(
            "/v1/leads",
            token,
            &json!({"lead": {"last_name": "Wang", "company": "Contoso"}}),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.json());
    let lead_id = created.json()["lead"]["id"].as_str().unwrap().to_owned();
    let unreachable = http
        .patch_json(
            &format!("/v1/leads/{lead_id}"),
            token,
            &json!({"patch": {"last_name": "", "company": ""}}),
        )
        .await;
    assert_eq!(
        refused_for_the_data(&unreachable).0,
        "LEAD_NEEDS_CONTACT_POINT"
    );
}

#[tokio::test]
async fn the_document_lists_currencies_and_says_what_a_message_needs_as_a_whole() {
    let (_app, http) = start().await;
    let document: Value = http.get("/openapi.json", None).await.json();
    let schemas = &document["components"]["schemas"];
    let money = &schemas["crm.common.v1.Money"];
    let codes = money["properties"]["currency_code"]["enum"]
        .as_array()
        .unwrap();
    assert!(codes.contains(&json!("CNY")) && codes.contains(&json!("JPY")));
    assert!(!codes.contains(&json!("XXX")) && !codes.contains(&json!("")));
    // Amounts by the currency's minor units: JPY takes no fraction digits.
    let jpy = money["anyOf"]
        .as_array()
        .unwrap()
        .iter()
        .find(|group| {
            group["properties"]["currency_code"]["enum"]
                .as_array()
                .unwrap()
                .contains(&json!("JPY"))
        })
        .unwrap();
    assert_eq!(jpy["properties"]["amount"]["pattern"], "^-?[0-9]{1,20}$");
    let lead = &schemas["crm.leads.v1.LeadInput"];
    let needs: Vec<&Value> = lead["anyOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|alternative| &alternative["required"][0])
        .collect();
    assert_eq!(
        needs,
        [
            &json!("email"),
            &json!("phone"),
            &json!("company"),
            &json!("last_name")
        ]
    );
    assert!(
        lead["properties"]["email"]["anyOf"][1]["pattern"]
            .as_str()
            .unwrap()
            .contains('@')
    );
    let rate = &schemas["crm.gateway.v1.RateLimit"]["properties"]["requests_per_second"];
    assert_eq!(rate["maximum"], 1_000_000);
    assert_eq!(rate["not"], json!({"const": 0}));
    let web_form = &document["paths"]["/v1/webForms/{form_key}:submit"]["post"]["parameters"][0];
    assert_eq!(web_form["schema"]["pattern"], "^wf_[0-9a-f]{64}$");
}
