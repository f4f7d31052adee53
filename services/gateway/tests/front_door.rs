//! The HTTP/JSON front door over real HTTP, gRPC, PostgreSQL and NATS: a new user's first
//! steps, bad input of every kind, Idempotency-Key, rate limits and the OpenAPI document.

use crm_test_support::{HttpClient, HttpReply, TestApp, user};
use http::Method;
use serde_json::{Value, json};

mod support;

use support::PASSWORD;

/// The suite with the first admin created as `crm create-admin` does.
async fn start(overrides: &[(&str, &str)]) -> (TestApp, HttpClient) {
    let app = TestApp::spawn_with(
        &[
            crm_gateway::module(),
            crm_accounts::module(),
            crm_leads::module(),
        ],
        &crm_test_support::nats_url(),
        overrides,
    )
    .await;
    support::first_admin(&app).await;
    let http = HttpClient::new(app.http_url());
    (app, http)
}

async fn login(http: &HttpClient, email: &str) -> String {
    let reply = http
        .post_json(
            "/v1/auth:login",
            None,
            &json!({"email": email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json());
    reply.json()["tokens"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn ok(reply: HttpReply) -> Value {
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.header("content-type"), Some("application/json"));
    reply.json()
}

/// The problem document of a failed request, after checking its status and media type.
fn problem(reply: &HttpReply, status: u16) -> Value {
    assert_eq!(
        reply.status,
        status,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    let body = reply.json();
    assert_eq!(body["status"], status);
    assert_eq!(
        body["request_id"].as_str(),
        reply.header("x-request-id"),
        "the problem quotes the request id"
    );
    body
}

fn fields(problem: &Value) -> Vec<String> {
    problem["field_violations"]
        .as_array()
        .map(|violations| {
            violations
                .iter()
                .map(|violation| violation["field"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_new_user_builds_a_team_and_each_member_sees_what_their_role_allows() {
    let (_app, http) = start(&[]).await;
    let admin = login(&http, "ada@northwind.example").await;
    let teams = ok(http.get("/v1/teams", Some(&admin)).await);
    let root = teams["teams"][0]["id"].as_str().unwrap().to_owned();
    let east = ok(http
        .post_json(
            "/v1/teams",
            Some(&admin),
            &json!({"slug": "east", "name": "East", "parent_team_id": root}),
        )
        .await);
    let east_id = east["team"]["id"].as_str().unwrap().to_owned();
    for (email, role) in [
        ("mia@northwind.example", "ROLE_MANAGER"),
        ("raj@northwind.example", "ROLE_REP"),
        ("rob@northwind.example", "ROLE_REP"),
    ] {
        let created = http
            .post_json(
                "/v1/users",
                Some(&admin),
                &json!({"email": email, "display_name": email, "role": role,
                        "team_id": east_id, "password": PASSWORD}),
            )
            .await;
        assert_eq!(ok(created)["user"]["role"], role);
    }
    let manager = login(&http, "mia@northwind.example").await;
    let raj = login(&http, "raj@northwind.example").await;
    let rob = login(&http, "rob@northwind.example").await;

    let me = ok(http.get("/v1/me", Some(&raj)).await);
    assert_eq!(me["user"]["email"], "raj@northwind.example");

    let created = ok(http
        .post_json(
            "/v1/accounts",
            Some(&raj),
            &json!({"account": {"name": "Contoso Ltd", "website": "contoso.example",
                                "size": "COMPANY_SIZE_LARGE", "tags": ["expo"]}}),
        )
        .await);
    let account = &created["account"];
    let id = account["id"].as_str().unwrap().to_owned();
    assert_eq!(account["size"], "COMPANY_SIZE_LARGE");
    assert_eq!(account["version"], 1, "64-bit integers are JSON numbers");
    assert_eq!(account["owner_team_path"], format!("/northwind/east/"));

    let path = format!("/v1/accounts/{id}");
    assert_eq!(ok(http.get(&path, Some(&raj)).await)["account"]["id"], id);
    assert_eq!(
        ok(http.get(&path, Some(&manager)).await)["account"]["id"],
        id
    );
    assert_eq!(ok(http.get(&path, Some(&admin)).await)["account"]["id"], id);
    problem(&http.get(&path, Some(&rob)).await, 404);

    let updated = ok(http
        .patch_json(
            &path,
            Some(&raj),
            &json!({"patch": {"region": "APAC"}, "expected_version": 1}),
        )
        .await);
    assert_eq!(updated["account"]["region"], "APAC");
    let stale = http
        .patch_json(
            &path,
            Some(&raj),
            &json!({"patch": {"region": "EMEA"}, "expected_version": 1}),
        )
        .await;
    assert_eq!(problem(&stale, 409)["code"], "ABORTED");

    let listed = ok(http
        .get(
            "/v1/accounts?page.page_size=10&name_contains=contoso",
            Some(&manager),
        )
        .await);
    assert_eq!(listed["accounts"].as_array().unwrap().len(), 1);
    let listed = ok(http.get("/v1/accounts", Some(&rob)).await);
    assert!(listed["accounts"].as_array().unwrap().is_empty());

    let lead = ok(http
        .post_json(
            "/v1/leads",
            Some(&raj),
            &json!({"lead": {"first_name": "Wei", "last_name": "Li",
                             "email": "li.wei@fabrikam.example", "company": "Fabrikam"}}),
        )
        .await);
    let lead_id = lead["lead"]["id"].as_str().unwrap();
    let history = ok(http
        .get(&format!("/v1/leads/{lead_id}/history"), Some(&raj))
        .await);
    assert!(!history["entries"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn bad_input_gets_the_right_status_and_names_what_is_wrong() {
    let (app, http) = start(&[("CRM_GATEWAY_MAX_BODY_BYTES", "2048")]).await;
    let admin = login(&http, "ada@northwind.example").await;
    let token = Some(admin.as_str());
    let send =
        |method: Method, path: &'static str, body: &'static str, content_type: &'static str| {
            let http = http.clone();
            let admin = admin.clone();
            async move {
                http.send(
                    method,
                    path,
                    Some(&admin),
                    &[("content-type", content_type)],
                    Some(body.as_bytes().to_vec()),
                )
                .await
            }
        };
    let json_type = "application/json";

    let malformed = send(
        Method::POST,
        "/v1/accounts",
        r#"{"account": {"name": "#,
        json_type,
    )
    .await;
    let body = problem(&malformed, 400);
    assert!(
        body["detail"].as_str().unwrap().contains("not valid JSON"),
        "{body}"
    );

    let wrong_type = send(
        Method::POST,
        "/v1/accounts",
        r#"{"account": {"name": 42}}"#,
        json_type,
    )
    .await;
    assert_eq!(fields(&problem(&wrong_type, 400)), ["body"]);

    let unknown = send(
        Method::POST,
        "/v1/accounts",
        r#"{"acount": {"name": "x"}}"#,
        json_type,
    )
    .await;
    let body = problem(&unknown, 400);
    assert!(
        body["detail"].as_str().unwrap().contains("acount"),
        "{body}"
    );

    let big = format!(r#"{{"account": {{"name": "{}"}}}}"#, "x".repeat(4096));
    let oversized = http
        .send(
            Method::POST,
            "/v1/accounts",
            token,
            &[],
            Some(big.into_bytes()),
        )
        .await;
    problem(&oversized, 413);

    let form = send(
        Method::POST,
        "/v1/accounts",
        "name=x",
        "application/x-www-form-urlencoded",
    )
    .await;
    problem(&form, 415);

    // The front door's rules name every field at fault at once.
    let invalid = send(
        Method::POST,
        "/v1/accounts",
        r#"{"account": {"name": "Contoso", "website": "not a site", "phone": "12"}}"#,
        json_type,
    )
    .await;
    let body = problem(&invalid, 400);
    assert_eq!(body["code"], "INVALID_ARGUMENT");
    assert_eq!(fields(&body), ["account.website", "account.phone"]);

    // The service's own refusals come back with their field violations: a merge of a record
    // with itself is valid in form, refused for what it names (422).
    let itself = send(
        Method::POST,
        "/v1/accounts/0190a5c4-7b1e-7c3d-9f00-1a2b3c4d5e6f:merge",
        r#"{"duplicate_id": "0190a5c4-7b1e-7c3d-9f00-1a2b3c4d5e6f"}"#,
        json_type,
    )
    .await;
    let body = problem(&itself, 422);
    assert_eq!(body["reason"], "MERGE_WITH_ITSELF");
    assert_eq!(fields(&body), ["duplicate_id"]);

    let bad_query = http.get("/v1/leads?page.page_size=many", token).await;
    assert_eq!(self::fields(&problem(&bad_query, 400)), ["page.page_size"]);
    let unknown_query = http.get("/v1/leads?colour=red", token).await;
    assert_eq!(self::fields(&problem(&unknown_query, 400)), ["colour"]);

    problem(&http.get("/v1/nowhere", token).await, 404);
    let wrong_method = http
        .send(Method::DELETE, "/v1/accounts/abc", token, &[], None)
        .await;
    problem(&wrong_method, 405);
    assert!(wrong_method.header("allow").unwrap().contains("GET"));

    // Tokens: none, garbage, forged, expired, and a revoked API key.
    let anonymous = http.get("/v1/accounts", None).await;
    assert_eq!(problem(&anonymous, 401)["code"], "UNAUTHENTICATED");
    problem(&http.get("/v1/accounts", Some("garbage")).await, 401);
    let forged = {
        let mut settings = app.settings.jwt.clone();
        settings.verification_keys = vec![(
            "test".into(),
            crm_platform::config::Secret::new("another-secret-0123456789abcdef0123"),
        )];
        crm_platform::auth::JwtSigner::new(&settings).unwrap().sign(
            &user("admin", "/northwind"),
            std::time::Duration::from_secs(60),
        )
    };
    problem(&http.get("/v1/accounts", Some(&forged)).await, 401);
    let expired = app.token_expired_ago(&user("admin", "/northwind"), 3600);
    let body = problem(&http.get("/v1/accounts", Some(&expired)).await, 401);
    assert!(
        body["detail"].as_str().unwrap().contains("expired"),
        "{body}"
    );
    // The same tokens over gRPC, straight to a service: the same refusals.
    {
        use crm_proto::crm::accounts::v1 as accounts;
        let mut client =
            accounts::account_service_client::AccountServiceClient::new(app.channel().await);
        for (token, says) in [(&expired, "expired"), (&forged, "invalid"), (&admin, "")] {
            let outcome = client
                .list_accounts(crm_test_support::authorized(
                    accounts::ListAccountsRequest::default(),
                    token,
                ))
                .await;
            match outcome {
                Ok(_) => assert!(says.is_empty(), "a {says} token was accepted"),
                Err(status) => {
                    assert_eq!(status.code(), tonic::Code::Unauthenticated);
                    assert!(status.message().contains(says), "{status:?}");
                }
            }
        }
    }
    let header = http
        .send(
            Method::GET,
            "/v1/accounts",
            None,
            &[("authorization", "Basic abc")],
            None,
        )
        .await;
    problem(&header, 401);

    let key = ok(http
        .post_json(
            "/v1/apiKeys",
            token,
            &json!({"name": "erp sync", "scopes": ["read"]}),
        )
        .await);
    let secret = key["api_key"].as_str().unwrap().to_owned();
    let key_id = key["key"]["id"].as_str().unwrap().to_owned();
    let exchanged = ok(http
        .post_json("/v1/auth:exchangeApiKey", None, &json!({"api_key": secret}))
        .await);
    // The key's token reads but does not write, through the front door as over gRPC.
    let key_token = exchanged["access_token"].as_str().unwrap().to_owned();
    ok(http.get("/v1/accounts", Some(&key_token)).await);
    let write = http
        .post_json(
            "/v1/accounts",
            Some(&key_token),
            &json!({"account": {"name": "Scoped"}}),
        )
        .await;
    assert_eq!(problem(&write, 403)["code"], "PERMISSION_DENIED");
    ok(http
        .post_json(&format!("/v1/apiKeys/{key_id}:revoke"), token, &json!({}))
        .await);
    let revoked = http
        .post_json("/v1/auth:exchangeApiKey", None, &json!({"api_key": secret}))
        .await;
    problem(&revoked, 401);
}

#[tokio::test]
async fn a_refusal_carries_its_text_code_and_parameters_beside_the_english() {
    let (_app, http) = start(&[]).await;
    let admin = login(&http, "ada@northwind.example").await;
    let lead = ok(http
        .post_json(
            "/v1/leads",
            Some(&admin),
            &json!({"lead": {"last_name": "Li", "company": "Contoso", "industry": "Manufacturing"}}),
        )
        .await);
    let lead_id = lead["lead"]["id"].as_str().unwrap();
    let reason = &lead["lead"]["score"]["reasons"][0];
    assert_eq!(reason["text"]["code"], "leads.score.fit_rule_matched");
    assert_eq!(reason["text"]["text"], reason["label"]);

    let refused = http
        .post_json(
            &format!("/v1/leads/{lead_id}:qualify"),
            Some(&admin),
            &json!({}),
        )
        .await;

    let body = problem(&refused, 422);
    assert_eq!(
        body["text"]["code"],
        "leads.lifecycle.transition_not_allowed"
    );
    assert_eq!(body["text"]["params"]["from"], "new");
    assert_eq!(body["text"]["params"]["to"], "qualified");
    assert_eq!(body["text"]["text"], body["detail"]);
}

#[tokio::test]
async fn a_retried_create_with_the_same_idempotency_key_returns_the_first_result() {
    let (app, http) = start(&[]).await;
    let admin = login(&http, "ada@northwind.example").await;
    let create = |key: &'static str, name: &'static str| {
        let http = http.clone();
        let admin = admin.clone();
        async move {
            http.send(
                Method::POST,
                "/v1/accounts",
                Some(&admin),
                &[("idempotency-key", key)],
                Some(json!({"account": {"name": name}}).to_string().into_bytes()),
            )
            .await
        }
    };
    let first = create("key-1", "Tailspin Toys").await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("idempotency-replayed"), None);
    let again = create("key-1", "Tailspin Toys").await;
    assert_eq!(again.status, 200);
    assert_eq!(again.header("idempotency-replayed"), Some("true"));
    assert_eq!(
        again.json()["account"]["id"],
        first.json()["account"]["id"],
        "the retry gets the first result"
    );
    let other = create("key-1", "Wingtip Toys").await;
    let body = problem(&other, 422);
    assert_eq!(body["code"], "FAILED_PRECONDITION");
    assert_eq!(body["reason"], "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(body["text"]["code"], "gateway.idempotency_key_reused");
    let fresh = create("key-2", "Wingtip Toys").await;
    assert_eq!(fresh.status, 200);
    let invalid = create("a key with spaces", "Wingtip Toys").await;
    assert_eq!(fields(&problem(&invalid, 400)), ["Idempotency-Key"]);

    let accounts: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts")
        .fetch_one(app.pool("accounts"))
        .await
        .unwrap();
    assert_eq!(accounts, 2, "one account per key");
}

#[tokio::test]
async fn a_caller_over_its_rate_limit_gets_429_with_retry_after() {
    let (app, http) = start(&[
        ("CRM_GATEWAY_RATE_LIMIT_PER_SECOND", "1"),
        ("CRM_GATEWAY_RATE_LIMIT_BURST", "3"),
    ])
    .await;
    let ada = app.token(&user("admin", "/northwind"));
    let bob = app.token(&user("rep", "/northwind"));
    for _ in 0..3 {
        assert_eq!(http.get("/v1/accounts", Some(&ada)).await.status, 200);
    }
    let limited = http.get("/v1/accounts", Some(&ada)).await;
    let body = problem(&limited, 429);
    assert_eq!(body["code"], "RESOURCE_EXHAUSTED");
    let retry_after: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    assert_eq!(
        http.get("/v1/accounts", Some(&bob)).await.status,
        200,
        "another caller has its own budget"
    );
}

#[tokio::test]
async fn request_ids_are_kept_or_made_and_the_openapi_document_is_served() {
    let (app, http) = start(&[]).await;
    let token = app.token(&user("admin", "/northwind"));
    let reply = http
        .send(
            Method::GET,
            "/v1/accounts",
            Some(&token),
            &[("x-request-id", "trace-me-42")],
            None,
        )
        .await;
    assert_eq!(reply.header("x-request-id"), Some("trace-me-42"));
    let made = http.get("/v1/accounts", Some(&token)).await;
    let made = made.header("x-request-id").unwrap().to_owned();
    let next = http.get("/v1/accounts", Some(&token)).await;
    assert_ne!(next.header("x-request-id").unwrap(), made, "ids are unique");
    assert_eq!(made.len(), 29);

    let document = ok(http.get("/openapi.json", None).await);
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    assert!(document["paths"]["/v1/accounts/{account_id}"]["get"].is_object());
}

#[tokio::test]
async fn a_csv_upload_imports_the_valid_rows_and_reports_the_others_by_line() {
    let (app, http) = start(&[]).await;
    let token = app.token(&user("admin", "/northwind"));
    let csv = "First Name,Last Name,E-Mail,公司,Size,Ignored\n\
               Wei,Li,li.wei@contoso.example,Contoso,Large,x\n\
               Min,Zhang,not-an-email,Fabrikam,,x\n\
               Jie,Chen,chen.jie@tailspin.example,\"Tailspin, Inc\",huge,x\n\
               WEI,LI,LI.WEI@CONTOSO.EXAMPLE,Contoso,,x\n";
    let upload = |query: &'static str, content_type: &'static str| {
        let http = http.clone();
        let token = token.clone();
        async move {
            http.send(
                Method::POST,
                &format!("/v1/leads:import{query}"),
                Some(&token),
                &[("content-type", content_type)],
                Some(csv.as_bytes().to_vec()),
            )
            .await
        }
    };
    let unmapped = upload("", "text/csv").await;
    assert_eq!(fields(&problem(&unmapped, 400)), ["columns.Ignored"]);
    problem(&upload("?map.Ignored=", "application/json").await, 415);

    let summary = ok(upload("?map.Ignored=", "text/csv; charset=utf-8").await);
    assert_eq!(summary["rows_received"], 4);
    assert_eq!(summary["created"], 2);
    assert_eq!(summary["flagged_duplicates"], 1, "line 5 repeats line 2");
    assert_eq!(summary["rejected"], 2);
    let errors: Vec<(u64, String)> = summary["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["field"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            (3, "row.email".to_owned()),
            (4, "row.company_size".to_owned())
        ]
    );
    let companies: Vec<String> =
        sqlx::query_scalar("SELECT company FROM leads ORDER BY created_at")
            .fetch_all(app.pool("leads"))
            .await
            .unwrap();
    assert_eq!(companies, ["Contoso", "Contoso"]);
}

/// A NUL reached PostgreSQL and was a 500 (in a capture, a list's filter, a release reason, an
/// import's cell); every control character in any text is a 400 naming the field, line breaks
/// allowed only in multi-line fields, and an import keeps the rows without one.
#[tokio::test]
async fn a_control_character_in_any_text_is_a_400_naming_the_field() {
    let (app, http) = start(&[]).await;
    let token = app.token(&user("admin", "/northwind"));
    let capture = |lead: Value| {
        let http = http.clone();
        let token = token.clone();
        async move {
            http.post_json("/v1/leads", Some(&token), &json!({ "lead": lead }))
                .await
        }
    };
    let refused = capture(json!({"last_name": "x\u{0}y", "company": "Contoso"})).await;
    let body = problem(&refused, 400);
    assert_eq!(fields(&body), ["lead.last_name"]);
    assert!(
        body["field_violations"][0]["description"]
            .as_str()
            .unwrap()
            .contains("U+0000"),
        "{body}"
    );
    // A description may have several lines, a name not one.
    assert_eq!(
        fields(&problem(
            &capture(json!({"last_name": "Li\nWei", "company": "Contoso"})).await,
            400
        )),
        ["lead.last_name"]
    );
    let lead = ok(capture(json!({"last_name": "Li", "company": "Contoso",
                                  "description": "met at the expo\nwants a demo"}))
    .await);
    let lead_id = lead["lead"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        fields(&problem(
            &capture(json!({"last_name": "Li", "company": "Contoso",
                            "description": "bell\u{7}"}))
            .await,
            400
        )),
        ["lead.description"]
    );

    let filtered = http
        .get("/v1/accounts?name_contains=a%00b", Some(&token))
        .await;
    assert_eq!(fields(&problem(&filtered, 400)), ["name_contains"]);

    let release = http
        .post_json(
            &format!("/v1/leads/{lead_id}:release"),
            Some(&token),
            &json!({"reason": "gone\u{0}"}),
        )
        .await;
    assert_eq!(fields(&problem(&release, 400)), ["reason"]);

    let csv = "Last Name,Company,E-Mail\n\
               Zhang,Fabrikam,zhang@fabrikam.example\n\
               Ch\u{0}en,Tailspin,chen@tailspin.example\n\
               Wang,Northwind,wang@northwind.example\n";
    let upload = http
        .send(
            Method::POST,
            "/v1/leads:import",
            Some(&token),
            &[("content-type", "text/csv")],
            Some(csv.as_bytes().to_vec()),
        )
        .await;
    let summary = ok(upload);
    assert_eq!(
        (&summary["created"], &summary["rejected"]),
        (&json!(2), &json!(1)),
        "{summary}"
    );
    assert_eq!(summary["errors"][0]["line"], 3);
    assert_eq!(summary["errors"][0]["field"], "row.last_name");
}

/// `docs/openapi.json` is the generated document, never edited by hand: regenerate it with
/// `cargo run -p crm -- openapi > docs/openapi.json` when the protos change.
#[test]
fn the_committed_openapi_document_is_the_generated_one() {
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/openapi.json"
    ))
    .expect("docs/openapi.json exists");
    let generated = crm_gateway::http::openapi_json().unwrap();
    assert!(
        committed.trim_end() == generated.trim_end(),
        "docs/openapi.json is stale: run `cargo run -p crm -- openapi > docs/openapi.json`"
    );
}

/// As in Kubernetes: the gateway in its own process, accounts in another. gRPC calls to the
/// gateway for accounts are forwarded with the caller's token, as are HTTP calls; a service
/// without an upstream is not served, rather than looping back.
#[tokio::test]
async fn a_gateway_alone_forwards_grpc_and_http_to_the_services_upstream() {
    use crm_proto::crm::{accounts::v1 as accounts, leads::v1 as leads};
    let accounts_app = TestApp::spawn(&[crm_accounts::module()]).await;
    let upstream = accounts_app.grpc_url();
    let (gateway_app, http) = {
        let app = TestApp::spawn_with(
            &[crm_gateway::module()],
            &crm_test_support::nats_url(),
            &[("CRM_GATEWAY_UPSTREAM_ACCOUNTS", upstream.as_str())],
        )
        .await;
        let http = HttpClient::new(app.http_url());
        (app, http)
    };
    let rep = user("rep", "/northwind/east");
    let token = gateway_app.token(&rep);
    let channel = gateway_app.channel().await;

    let mut client = accounts::account_service_client::AccountServiceClient::new(channel.clone());
    let created = client
        .create_account(crm_test_support::authorized(
            accounts::CreateAccountRequest {
                account: Some(accounts::AccountInput {
                    name: "Litware".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap();
    assert_eq!(created.owner_id, rep.user_id.to_string());
    let unauthenticated = client
        .get_account(accounts::GetAccountRequest {
            account_id: created.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(unauthenticated.code(), tonic::Code::Unauthenticated);

    let fetched = ok(http
        .get(&format!("/v1/accounts/{}", created.id), Some(&token))
        .await);
    assert_eq!(fetched["account"]["name"], "Litware");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts")
        .fetch_one(accounts_app.pool("accounts"))
        .await
        .unwrap();
    assert_eq!(stored, 1, "the account lives in the accounts process");

    let not_here = leads::lead_service_client::LeadServiceClient::new(channel)
        .get_lead(crm_test_support::authorized(
            leads::GetLeadRequest {
                lead_id: uuid::Uuid::now_v7().to_string(),
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(not_here.code(), tonic::Code::Unimplemented);
}
