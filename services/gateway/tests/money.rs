//! Money over HTTP: every amount is read by the kit's one parser, so a negative amount where
//! none is allowed, a code that is not an active currency and more fraction digits than the
//! currency has are each a 400 naming the part at fault — and nothing is changed.

use crm_test_support::{HttpClient, TestApp};
use serde_json::{Value, json};

mod support;

use support::PASSWORD;

async fn start() -> (TestApp, HttpClient, String) {
    let app = TestApp::spawn(&[
        crm_gateway::module(),
        crm_accounts::module(),
        crm_leads::module(),
    ])
    .await;
    support::first_admin(&app).await;
    let http = HttpClient::new(app.http_url());
    let login = http
        .post_json(
            "/v1/auth:login",
            None,
            &json!({"email": "ada@northwind.example", "password": PASSWORD}),
        )
        .await;
    assert_eq!(login.status, 200, "{}", login.json());
    let token = login.json()["tokens"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    (app, http, token)
}

async fn post(http: &HttpClient, token: &str, path: &str, body: Value) -> (u16, Value) {
    let reply = http.post_json(path, Some(token), &body).await;
    (reply.status, reply.json())
}

fn violated_fields(problem: &Value) -> Vec<&str> {
    problem["field_violations"]
        .as_array()
        .unwrap_or_else(|| panic!("no field violations: {problem}"))
        .iter()
        .map(|violation| violation["field"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn converting_a_lead_with_a_negative_amount_is_a_400_naming_the_field_and_converts_nothing() {
    let (_app, http, ada) = start().await;
    let (status, lead) = post(
        &http,
        &ada,
        "/v1/leads",
        json!({"lead": {"last_name": "Li", "company": "Contoso", "email": "li.wei@contoso.cn"}}),
    )
    .await;
    assert_eq!(status, 200, "{lead}");
    let lead_id = lead["lead"]["id"].as_str().unwrap().to_owned();
    let (status, claimed) = post(
        &http,
        &ada,
        &format!("/v1/leads/{lead_id}:claim"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{claimed}");
    let (status, worked) = post(
        &http,
        &ada,
        &format!("/v1/leads/{lead_id}/activities"),
        json!({"kind": "ACTIVITY_KIND_CALL", "note": "discussed Line 3"}),
    )
    .await;
    assert_eq!(status, 200, "{worked}");
    let (status, qualified) = post(
        &http,
        &ada,
        &format!("/v1/leads/{lead_id}:qualify"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{qualified}");

    for (amount, field) in [
        (
            json!({"currency_code": "CNY", "amount": "-5"}),
            "opportunity_amount.amount",
        ),
        (
            json!({"currency_code": "XXX", "amount": "5"}),
            "opportunity_amount.currency_code",
        ),
        (
            json!({"currency_code": "JPY", "amount": "5.5"}),
            "opportunity_amount.amount",
        ),
    ] {
        let (status, problem) = post(
            &http,
            &ada,
            &format!("/v1/leads/{lead_id}:convert"),
            json!({"opportunity_name": "Line 3", "opportunity_amount": amount}),
        )
        .await;
        assert_eq!(status, 400, "{amount}: {problem}");
        assert_eq!(problem["code"], "INVALID_ARGUMENT");
        assert_eq!(violated_fields(&problem), [field], "{amount}");
    }

    let lead = http
        .get(&format!("/v1/leads/{lead_id}"), Some(&ada))
        .await
        .json();
    assert_eq!(
        lead["lead"]["status"], "LEAD_STATUS_QUALIFIED",
        "nothing converted"
    );
}

#[tokio::test]
async fn a_campaign_costs_an_active_currency_with_its_minor_units_and_never_less_than_zero() {
    let (_app, http, ada) = start().await;
    for (cost, field) in [
        (
            json!({"currency_code": "CNY", "amount": "-1"}),
            "campaign.cost.amount",
        ),
        (
            json!({"currency_code": "XTS", "amount": "1"}),
            "campaign.cost.currency_code",
        ),
        (
            json!({"currency_code": "CNY", "amount": "0.001"}),
            "campaign.cost.amount",
        ),
    ] {
        let (status, problem) = post(
            &http,
            &ada,
            "/v1/campaigns",
            json!({"campaign": {"name": "Expo", "cost": cost}}),
        )
        .await;
        assert_eq!(status, 400, "{cost}: {problem}");
        assert_eq!(violated_fields(&problem), [field], "{cost}");
    }
    let (status, created) = post(
        &http,
        &ada,
        "/v1/campaigns",
        json!({"campaign": {"name": "Expo", "cost": {"currency_code": "KWD", "amount": "1250.125"}}}),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["campaign"]["cost"]["amount"], "1250.125");
    let listed = http.get("/v1/campaigns", Some(&ada)).await.json();
    assert_eq!(listed["campaigns"].as_array().unwrap().len(), 1, "{listed}");
}
