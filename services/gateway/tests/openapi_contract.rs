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
