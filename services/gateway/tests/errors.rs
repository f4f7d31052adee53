//! The error model over HTTP and gRPC, as an outside client sees it (docs/api.md, "Error
//! model"): a business rule or an illegal state change is 422 FAILED_PRECONDITION with its
//! reason; throttling alone is 429, always with Retry-After; a database or upstream outage is
//! 503 UNAVAILABLE with Retry-After (never 500), and readiness says NOT_SERVING until the
//! database is back.

use std::time::Duration;

use crm_proto::crm::{accounts::v1 as accounts, common::v1 as common, leads::v1 as leads};
use crm_test_support::{HttpClient, HttpReply, PgProxy, TestApp, authorized, eventually, user};
use http::Method;
use serde_json::{Value, json};
use tonic::Code;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use tonic_types::StatusExt;

mod support;

const EAST_1: &str = "/northwind/east/east-1";

fn modules() -> [crm_platform::host::ServiceModule; 3] {
    [
        crm_gateway::module(),
        crm_accounts::module(),
        crm_leads::module(),
    ]
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
    reply.json()
}

fn ok(reply: HttpReply) -> Value {
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    reply.json()
}

fn retry_after(reply: &HttpReply) -> u64 {
    reply
        .header("retry-after")
        .unwrap_or_else(|| panic!("a {} without Retry-After", reply.status))
        .parse()
        .expect("Retry-After in seconds")
}

/// Ravi, a rep of east-1 who may hold one claimed lead.
async fn ravi_with_a_claim_cap_of_one(app: &TestApp) -> crm_platform::auth::Caller {
    let ada = user("admin", "/northwind");
    let ravi = user("rep", EAST_1);
    leads::lead_admin_service_client::LeadAdminServiceClient::new(app.channel().await)
        .put_rep(authorized(
            leads::PutRepRequest {
                rep: Some(leads::Rep {
                    rep_id: ravi.user_id.to_string(),
                    team_path: EAST_1.into(),
                    display_name: "Ravi".into(),
                    stage: common::LifecycleStage::Senior as i32,
                    started_on: "2023-01-09".into(),
                    capacity: 50,
                    claim_cap: 1,
                    active: true,
                    open_leads: 0,
                }),
            },
            &app.token(&ada),
        ))
        .await
        .expect("put rep");
    ravi
}

async fn pool_lead(http: &HttpClient, admin: &str, last_name: &str) -> String {
    let created = ok(http
        .post_json(
            "/v1/leads",
            Some(admin),
            &json!({"lead": {"last_name": last_name, "company": "Contoso", "territory": "East"}}),
        )
        .await);
    created["lead"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn business_rules_are_422_with_their_reason_and_never_429() {
    let app = TestApp::spawn_with(&modules(), &crm_test_support::nats_url(), &[]).await;
    let http = HttpClient::new(app.http_url());
    let admin = app.token(&user("admin", "/northwind"));
    let ravi = app.token(&ravi_with_a_claim_cap_of_one(&app).await);
    let first = pool_lead(&http, &admin, "Li").await;
    let second = pool_lead(&http, &admin, "Zhang").await;

    ok(http
        .post_json(&format!("/v1/leads/{first}:claim"), Some(&ravi), &json!({}))
        .await);
    let capped = http
        .post_json(
            &format!("/v1/leads/{second}:claim"),
            Some(&ravi),
            &json!({}),
        )
        .await;

    let body = problem(&capped, 422);
    assert_eq!(body["code"], "FAILED_PRECONDITION");
    assert_eq!(body["reason"], "CLAIM_CAP_REACHED");
    assert_eq!(body["text"]["code"], "leads.pool.claim_cap_reached");
    assert_eq!(body["text"]["params"]["cap"], "1");
    assert_eq!(
        capped.header("retry-after"),
        None,
        "waiting does not lift a cap"
    );

    ok(http
        .post_json(
            &format!("/v1/leads/{first}/activities"),
            Some(&ravi),
            &json!({"kind": "ACTIVITY_KIND_CALL", "note": "discussed Line 3"}),
        )
        .await);
    ok(http
        .post_json(
            &format!("/v1/leads/{first}:qualify"),
            Some(&ravi),
            &json!({}),
        )
        .await);
    let disqualified = http
        .post_json(
            &format!("/v1/leads/{first}:disqualify"),
            Some(&ravi),
            &json!({"reason": "no budget this year"}),
        )
        .await;

    let body = problem(&disqualified, 422);
    assert_eq!(body["code"], "FAILED_PRECONDITION");
    assert_eq!(body["reason"], "LEAD_TRANSITION_NOT_ALLOWED");
    assert_eq!(body["text"]["params"]["action"], "disqualify");
    assert_eq!(body["text"]["params"]["from"], "qualified");
    assert_eq!(body["text"]["params"]["to"], "disqualified");
    assert!(body["field_violations"].is_null(), "{body}");
    let without_reason = http
        .post_json(
            &format!("/v1/leads/{second}:disqualify"),
            Some(&admin),
            &json!({"reason": "  "}),
        )
        .await;
    let body = problem(&without_reason, 400);
    assert_eq!(body["field_violations"][0]["field"], "reason");
}

#[tokio::test]
async fn a_web_form_over_its_rate_is_429_with_retry_after() {
    let app = TestApp::spawn_with(&modules(), &crm_test_support::nats_url(), &[]).await;
    let http = HttpClient::new(app.http_url());
    let mei = app.token(&user("manager", "/northwind/east"));
    let form = ok(http
        .post_json(
            "/v1/webForms",
            Some(&mei),
            &json!({"name": "Contact us", "rate_limit_per_minute": 1}),
        )
        .await);
    let key = form["form_key"].as_str().unwrap();
    let submit = |email: &'static str| {
        let http = http.clone();
        let path = format!("/v1/webForms/{key}:submit");
        async move {
            http.post_json(
                &path,
                None,
                &json!({"lead": {"last_name": "Visitor", "email": email}}),
            )
            .await
        }
    };

    ok(submit("a@fabrikam.com").await);
    let limited = submit("b@fabrikam.com").await;

    let body = problem(&limited, 429);
    assert_eq!(body["code"], "RESOURCE_EXHAUSTED");
    assert_eq!(body["reason"], "FORM_RATE_LIMITED");
    let seconds = retry_after(&limited);
    assert!((1..=60).contains(&seconds), "{seconds}");
}

async fn health(app: &TestApp, service: &str) -> ServingStatus {
    match HealthClient::new(app.channel().await)
        .check(HealthCheckRequest {
            service: service.into(),
        })
        .await
    {
        Ok(reply) => reply.into_inner().status(),
        Err(status) => panic!("health check failed: {status}"),
    }
}

async fn serving(app: &TestApp, http: &HttpClient, expected: ServingStatus) -> bool {
    let readyz = http.get("/readyz", None).await.status;
    let http_expected = if expected == ServingStatus::Serving {
        200
    } else {
        503
    };
    health(app, "").await == expected
        && health(app, "crm.accounts.v1.AccountService").await == expected
        && readyz == http_expected
}

#[tokio::test]
async fn while_the_database_is_down_calls_get_503_with_retry_after_and_readiness_says_not_serving()
{
    let proxy = PgProxy::start().await;
    let app = TestApp::spawn_through(&proxy, &modules(), &[]).await;
    support::first_admin(&app).await;
    let http = HttpClient::new(app.http_url());
    let admin = app.token(&user("admin", "/northwind"));
    let create = |name: &'static str, key: Option<&'static str>| {
        let http = http.clone();
        let admin = admin.clone();
        async move {
            let headers: Vec<(&str, &str)> = key
                .map(|key| ("idempotency-key", key))
                .into_iter()
                .collect();
            http.send(
                Method::POST,
                "/v1/accounts",
                Some(&admin),
                &headers,
                Some(json!({"account": {"name": name}}).to_string().into_bytes()),
            )
            .await
        }
    };
    ok(create("Tailspin Toys", None).await);
    assert!(serving(&app, &http, ServingStatus::Serving).await);

    proxy.cut();

    let write = create("Wingtip Toys", None).await;
    let read = http.get("/v1/leads", Some(&admin)).await;
    // The gateway's own database: Idempotency-Key and sign-in.
    let keyed = create("Wingtip Toys", Some("key-1")).await;
    let login = http
        .post_json(
            "/v1/auth:login",
            None,
            &json!({"email": "ada@northwind.example", "password": support::PASSWORD}),
        )
        .await;
    for reply in [&write, &read, &keyed, &login] {
        let body = problem(reply, 503);
        assert_eq!(body["code"], "UNAVAILABLE");
        assert_eq!(body["reason"], "SERVICE_UNAVAILABLE");
        assert!(retry_after(reply) >= 1);
        let detail = body["detail"].as_str().unwrap();
        assert!(
            !detail.contains("pool") && !detail.contains("sql"),
            "{detail}"
        );
    }
    let grpc = accounts::account_service_client::AccountServiceClient::new(app.channel().await)
        .list_accounts(authorized(accounts::ListAccountsRequest::default(), &admin))
        .await
        .unwrap_err();
    assert_eq!(grpc.code(), Code::Unavailable, "{grpc:?}");
    assert!(grpc.get_error_details().retry_info().is_some());
    eventually(
        Duration::from_secs(10),
        "readiness says NOT_SERVING",
        || serving(&app, &http, ServingStatus::NotServing),
    )
    .await;

    proxy.restore();

    eventually(
        Duration::from_secs(10),
        "readiness says SERVING again",
        || serving(&app, &http, ServingStatus::Serving),
    )
    .await;
    ok(create("Wingtip Toys", None).await);
    ok(create("Northwind Traders", Some("key-2")).await);
    ok(http.get("/v1/leads", Some(&admin)).await);
    let accounts = ok(http.get("/v1/accounts", Some(&admin)).await);
    assert_eq!(accounts["accounts"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn an_unreachable_upstream_service_is_503_with_retry_after() {
    let app = TestApp::spawn_with(
        &[crm_gateway::module()],
        &crm_test_support::nats_url(),
        &[("CRM_GATEWAY_UPSTREAM_LEADS", "http://127.0.0.1:1")],
    )
    .await;
    let http = HttpClient::new(app.http_url());
    let admin = app.token(&user("admin", "/northwind"));

    let reply = http.get("/v1/leads", Some(&admin)).await;

    let body = problem(&reply, 503);
    assert_eq!(body["code"], "UNAVAILABLE");
    assert!(retry_after(&reply) >= 1);
    let grpc = leads::lead_service_client::LeadServiceClient::new(app.channel().await)
        .list_leads(authorized(leads::ListLeadsRequest::default(), &admin))
        .await
        .unwrap_err();
    assert_eq!(grpc.code(), Code::Unavailable, "{grpc:?}");
    assert!(grpc.get_error_details().retry_info().is_some());
}
