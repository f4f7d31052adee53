//! Compensation in scenario.md section 5 (C1–C5), through the gateway's HTTP front door with
//! the whole suite in one process — real PostgreSQL, real NATS, the compensation service
//! learning the deals and payments from the opportunities service's events and Ravi's quota
//! from the forecasting service's. Every number is computed by hand:
//!
//! Ravi's senior plan pays, per month, 5 % of bookings up to his quota of 1,000,000.00 and 8 %
//! above it, on payment. This month he wins Fabrikam for 400,000 (5 % → 20,000.00 earned) and
//! Contoso for 1,150,000, which crosses the quota: 600,000 at 5 % (30,000.00) and 550,000 at 8 %
//! (44,000.00), two lines split at the boundary. The first payment, 30 % of Contoso (345,000),
//! releases 30 % of its 74,000.00: 22,200.00, the statement's total. Contoso reopened and lost,
//! its booking is taken back within the month: its lines go, the 22,200.00 with them, and
//! attainment falls to 40 %. (A clawback across a closed period — October paid, November takes
//! it back — is the compensation service's own test, `services/compensation/tests/statements.rs`,
//! where the events can carry last month's days.)

#[allow(dead_code)] // the forecast journey's figures, of which this one reads a few
#[path = "forecast_journey/figures.rs"]
mod figures;
#[path = "support/first_admin.rs"]
mod first_admin;
#[allow(dead_code)]
#[path = "forecast_journey/org.rs"]
mod org;
#[path = "support/suite.rs"]
mod suite;

use std::time::Duration;

use crm_test_support::eventually;
use figures::{DEVELOP, LOST_ON_PRICE, WON_FOR_PRODUCT_FIT, amount};
use org::{Calendar, id};
use serde_json::{Value, json};
use suite::{Suite, cny, ok};

/// (component, deal, tier, amount) of each line.
fn lines(statement: &Value) -> Vec<(String, String, u64, String)> {
    statement["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| {
            (
                line["component"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("COMPONENT_")
                    .to_owned(),
                line["deal_name"].as_str().unwrap_or("").to_owned(),
                line["tier"].as_u64().unwrap_or(0),
                amount(&line["amount"]),
            )
        })
        .collect()
}

fn line(component: &str, deal: &str, tier: u64, amount: &str) -> (String, String, u64, String) {
    (component.into(), deal.into(), tier, amount.into())
}

#[tokio::test]
async fn ravis_statement_splits_at_his_quota_pays_on_payment_and_gives_back_a_lost_deal() {
    let suite = Suite::start().await;
    let calendar = Calendar::today();
    let cast = org::northwind(&suite, &calendar).await;
    let month = calendar.month_label(0);
    let count = |sql: String| {
        let suite = &suite;
        async move { suite.count("compensation", &sql).await }
    };
    eventually(
        Duration::from_secs(20),
        "compensation knows everyone",
        || async {
            count("SELECT count(*) FROM org_users WHERE from_directory".into()).await >= 5
                && count(
                    "SELECT count(*) FROM org_settings WHERE corporate_currency = 'CNY'".into(),
                )
                .await
                    == 1
        },
    )
    .await;

    // Ada writes the senior plan and puts Ravi on it; forecasting hands down his quota.
    let plan = ok(suite
        .post(
            &cast.ada,
            "/v1/compensation/plans",
            json!({"name": "Senior field sales", "currency_code": "CNY", "versions": [{
                "version": 1, "effective_from": calendar.months_ago(2).to_string(),
                "period": "PLAN_PERIOD_MONTH",
                "commission": {"tiers": [{"from_attainment": "0", "rate": "5"},
                                         {"from_attainment": "100", "rate": "8"}],
                               "tiering": "TIERING_MARGINAL", "payout": "PAYOUT_ON_PAYMENT"}}]}),
        )
        .await)["plan"]
        .clone();
    let assigned = ok(suite
        .post(
            &cast.ada,
            "/v1/compensation/assignments",
            json!({"user_id": id(&cast.ravi), "plan_id": plan["plan_id"],
                   "from": calendar.months_ago(2).to_string()}),
        )
        .await);
    assert_eq!(assigned["assignment"]["plan_name"], "Senior field sales");
    ok(suite
        .post(
            &cast.ada,
            "/v1/forecasting/quotas",
            json!({"holder": {"user_id": id(&cast.ravi)}, "kind": "TARGET_KIND_REVENUE",
                   "period": month, "target": {"amount": cny("1000000.00")}}),
        )
        .await);

    // Ravi wins Fabrikam and Contoso; Contoso's first payment, 30 % of its schedule.
    let account = ok(suite
        .post(
            &cast.ravi,
            "/v1/accounts",
            json!({"account": {"name": "Contoso Ltd", "industry": "Manufacturing"}}),
        )
        .await)["account"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let deal = |name: &'static str, value: &'static str| {
        let (suite, ravi, account, close) = (&suite, &cast.ravi, &account, calendar.day(1, 10));
        async move {
            let body = json!({"opportunity": {"name": name, "account_id": account,
                "amount": cny(value), "stage_id": DEVELOP, "expected_close_date": close}});
            let id =
                suite.post_when_known(ravi, "/v1/opportunities", body).await["opportunity"]["id"]
                    .as_str()
                    .unwrap()
                    .to_owned();
            ok(suite
                .post(
                    ravi,
                    &format!("/v1/opportunities/{id}:win"),
                    json!({"close_reason_id": WON_FOR_PRODUCT_FIT}),
                )
                .await);
            id
        }
    };
    deal("Fabrikam — retrofit", "400000.00").await;
    let contoso = deal("Contoso — Line 3 automation", "1150000.00").await;
    let due = |days: u64| (calendar.today + chrono::Days::new(days)).to_string();
    ok(suite
        .http
        .send_json(
            http::Method::PUT,
            &format!("/v1/opportunities/{contoso}/paymentSchedule"),
            Some(&suite.token(&cast.ravi)),
            &json!({"instalments": [{"due_date": due(30), "percent": "30"},
                                    {"due_date": due(90), "percent": "70"}]}),
        )
        .await);
    ok(suite
        .post(
            &cast.ravi,
            &format!("/v1/opportunities/{contoso}/paymentSchedule:recordPayment"),
            json!({"payment_id": uuid::Uuid::now_v7().to_string(), "amount": cny("345000.00"),
                   "method": "PAYMENT_METHOD_BANK_TRANSFER"}),
        )
        .await);
    eventually(
        Duration::from_secs(20),
        "the bookings, payment and quota credited",
        || async {
            count("SELECT count(*) FROM credits".into()).await == 3
                && count("SELECT count(*) FROM quotas".into()).await == 1
        },
    )
    .await;

    let statement_path = format!("/v1/compensation/statements?period={month}");
    let statement = suite.get(&cast.ravi, &statement_path).await["statement"].clone();
    assert_eq!(
        lines(&statement),
        [
            line("COMMISSION_EARNED", "Fabrikam — retrofit", 1, "20000.00"),
            line(
                "COMMISSION_EARNED",
                "Contoso — Line 3 automation",
                1,
                "30000.00"
            ),
            line(
                "COMMISSION_EARNED",
                "Contoso — Line 3 automation",
                2,
                "44000.00"
            ),
            line(
                "COMMISSION_RELEASED",
                "Contoso — Line 3 automation",
                0,
                "22200.00"
            ),
        ],
        "{statement}"
    );
    assert_eq!(amount(&statement["total"]), "22200.00");
    assert_eq!(statement["attainment_percent"], "155.00");
    assert_eq!(statement["lines"][1]["base"], "600000");
    assert_eq!(statement["lines"][2]["base"], "550000");

    // Mei reads it on her team page; Nora may not read it.
    let ravis = format!("{statement_path}&user_id={}", id(&cast.ravi));
    assert_eq!(suite.get(&cast.mei, &ravis).await["statement"], statement);
    let refused = suite.http.get(&ravis, Some(&suite.token(&cast.nora))).await;
    assert_eq!(refused.status, 403);
    let team = suite
        .get(
            &cast.mei,
            &format!("/v1/compensation/statements:team?period={month}"),
        )
        .await;
    assert_eq!(team["statements"][0]["user_id"], id(&cast.ravi).as_str());
    assert_eq!(team["statements"][0]["rank"], 1);
    // The document Ravi keeps.
    let document = suite
        .http
        .get(
            &format!("/v1/compensation/statements:render?period={month}"),
            Some(&suite.token(&cast.ravi)),
        )
        .await;
    assert_eq!(document.status, 200);
    let html = String::from_utf8(document.body.to_vec()).unwrap();
    assert!(html.contains("CNY 44000.00") && html.contains("Contoso — Line 3 automation"));

    // Mei reopens Contoso and Ravi loses it: its booking taken back, and with it what it
    // earned.
    ok(suite
        .post(
            &cast.mei,
            &format!("/v1/opportunities/{contoso}:reopen"),
            json!({"reason": "the customer's board did not sign"}),
        )
        .await);
    ok(suite
        .post(
            &cast.ravi,
            &format!("/v1/opportunities/{contoso}:lose"),
            json!({"close_reason_id": LOST_ON_PRICE}),
        )
        .await);
    eventually(
        Duration::from_secs(20),
        "the booking taken back",
        || async {
            count("SELECT count(*) FROM credits WHERE kind = 'booking_reversal'".into()).await == 1
        },
    )
    .await;
    let after = suite.get(&cast.ravi, &statement_path).await["statement"].clone();
    assert_eq!(
        lines(&after),
        [line(
            "COMMISSION_EARNED",
            "Fabrikam — retrofit",
            1,
            "20000.00"
        )],
        "{after}"
    );
    assert_eq!(amount(&after["total"]), "0.00");
    assert_eq!(after["attainment_percent"], "40.00");
}
