//! Rate limits per integration over real HTTP: an admin gives an API key a limit of its own
//! (more, or less, than the default every caller has), and the front door applies it to the
//! calls made with that key's token.

use crm_test_support::{HttpClient, TestApp, user};
use serde_json::{Value, json};

mod support;

use support::PASSWORD;

/// A default limit of 1 request a second and bursts of 3.
const TIGHT: &[(&str, &str)] = &[
    ("CRM_GATEWAY_RATE_LIMIT_PER_SECOND", "1"),
    ("CRM_GATEWAY_RATE_LIMIT_BURST", "3"),
];

/// The gateway alone, with its first admin.
async fn start(overrides: &[(&str, &str)]) -> (TestApp, HttpClient) {
    let app = TestApp::spawn_with(
        &[crm_gateway::module()],
        &crm_test_support::nats_url(),
        overrides,
    )
    .await;
    support::first_admin(&app).await;
    let http = HttpClient::new(app.http_url());
    (app, http)
}

/// Ada's session token (one request, counted against her address).
async fn ada(http: &HttpClient) -> String {
    let reply = http
        .post_json(
            "/v1/auth:login",
            None,
            &json!({"email": "ada@northwind.example", "password": PASSWORD}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json());
    reply.json()["tokens"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A new key of Ada's with `rate_limit` (JSON; null: none), exchanged for a token.
async fn key_token(http: &HttpClient, session: &str, name: &str, rate_limit: Value) -> String {
    let mut request = json!({"name": name, "scopes": ["read"]});
    if !rate_limit.is_null() {
        request["rate_limit"] = rate_limit;
    }
    let created = http.post_json("/v1/apiKeys", Some(session), &request).await;
    assert_eq!(created.status, 200, "{}", created.json());
    let secret = created.json()["api_key"].as_str().unwrap().to_owned();
    let exchanged = http
        .post_json("/v1/auth:exchangeApiKey", None, &json!({"api_key": secret}))
        .await;
    assert_eq!(exchanged.status, 200, "{}", exchanged.json());
    exchanged.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_key_with_its_own_higher_limit_gets_through_where_the_default_throttles() {
    let (_app, http) = start(TIGHT).await;
    let session = ada(&http).await;
    let harness = key_token(
        &http,
        &session,
        "load test harness",
        json!({"requests_per_second": 100, "burst": 20}),
    )
    .await;
    for attempt in 0..15 {
        let reply = http.get("/v1/teams", Some(&harness)).await;
        assert_eq!(reply.status, 200, "call {attempt} with the harness's key");
    }
    // Ada's own session is on the default: a few at once, then 429.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(http.get("/v1/teams", Some(&session)).await.status);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
}

#[tokio::test]
async fn a_key_with_a_low_limit_is_throttled_with_retry_after_in_a_bucket_of_its_own() {
    let (_app, http) = start(TIGHT).await;
    let session = ada(&http).await;
    let slow = key_token(
        &http,
        &session,
        "nightly export",
        json!({"requests_per_second": 1, "burst": 1}),
    )
    .await;
    let default = key_token(&http, &session, "crm sync", Value::Null).await;

    assert_eq!(http.get("/v1/teams", Some(&slow)).await.status, 200);
    let limited = http.get("/v1/teams", Some(&slow)).await;
    assert_eq!(limited.status, 429, "{}", limited.json());
    assert_eq!(limited.json()["code"], "RESOURCE_EXHAUSTED");
    let retry_after: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert_eq!(retry_after, 1);

    // Another key of the same owner, on the default, has its own bucket of 3.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let reply = http.get("/v1/teams", Some(&default)).await;
        if reply.status == 429 {
            assert!(reply.header("retry-after").is_some());
        }
        statuses.push(reply.status);
    }
    assert_eq!(statuses[..3], [200, 200, 200], "{statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
}

#[tokio::test]
async fn only_an_admin_sets_a_keys_own_limit_and_a_bad_one_names_its_field() {
    let (app, http) = start(&[]).await;
    let session = ada(&http).await;
    let created = http
        .post_json(
            "/v1/apiKeys",
            Some(&session),
            &json!({"name": "crm sync", "rate_limit": {"requests_per_second": 5}}),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.json());
    let key = created.json()["key"].clone();
    assert_eq!(
        key["rate_limit"],
        json!({"requests_per_second": 5, "burst": 5}),
        "burst defaults to the rate"
    );
    let key_id = key["id"].as_str().unwrap();

    let set = http
        .post_json(
            &format!("/v1/apiKeys/{key_id}:setRateLimit"),
            Some(&session),
            &json!({"rate_limit": {"requests_per_second": 50, "burst": 80}}),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.json());
    assert_eq!(
        set.json()["key"]["rate_limit"],
        json!({"requests_per_second": 50, "burst": 80})
    );
    let listed = http.get("/v1/apiKeys", Some(&session)).await.json();
    assert_eq!(listed["keys"][0]["rate_limit"]["burst"], 80);
    let cleared = http
        .post_json(
            &format!("/v1/apiKeys/{key_id}:setRateLimit"),
            Some(&session),
            &json!({}),
        )
        .await;
    assert_eq!(cleared.status, 200, "{}", cleared.json());
    assert!(
        cleared.json()["key"]
            .get("rate_limit")
            .is_none_or(Value::is_null)
    );

    let bad = http
        .post_json(
            &format!("/v1/apiKeys/{key_id}:setRateLimit"),
            Some(&session),
            &json!({"rate_limit": {"requests_per_second": 0, "burst": 1}}),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.json());
    assert_eq!(
        bad.json()["field_violations"][0]["field"],
        "rate_limit.requests_per_second"
    );

    let rep = app.token(&user("rep", "/northwind"));
    for (path, body) in [
        (
            "/v1/apiKeys".to_owned(),
            json!({"name": "mine", "rate_limit": {"requests_per_second": 1000}}),
        ),
        (
            format!("/v1/apiKeys/{key_id}:setRateLimit"),
            json!({"rate_limit": {"requests_per_second": 1000}}),
        ),
    ] {
        let refused = http.post_json(&path, Some(&rep), &body).await;
        assert_eq!(refused.status, 403, "{path}: {}", refused.json());
    }
}
