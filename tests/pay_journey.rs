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
//! attainment falls to 40 %. Across a closed period: a deal brought in from the old system,
//! won and half paid last month, is paid on last month's statement; Ada closes the month; the
//! deal reopened and lost this month, this month's statement claws back exactly what the closed
//! one paid.

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

use chrono::Datelike;
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

/// The seeded Direct pipeline's won stage.
const CLOSED_WON: &str = "01900000-0000-7000-8000-000000000015";

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

    // Last month, brought in from the old system: the legacy retrofit, 500,000, won on the 15th
    // and half paid on the 20th — 50 % of a 1,000,000 quota at 5 %, 25,000.00 earned, 12,500.00
    // released. Ada closes the month; then the deal is reopened and lost this month, and this
    // month's statement claws back exactly the 12,500.00 the closed one paid.
    let last_month = calendar.months_ago(1);
    let on = |day: u32| last_month.with_day(day).unwrap();
    let at = |day: u32| format!("{}T09:00:00Z", on(day));
    ok(suite
        .post(
            &cast.ada,
            "/v1/forecasting/quotas",
            json!({"holder": {"user_id": id(&cast.ravi)}, "kind": "TARGET_KIND_REVENUE",
                   "period": last_month.format("%Y-%m").to_string(),
                   "target": {"amount": cny("1000000.00")}}),
        )
        .await);
    let legacy = uuid::Uuid::now_v7().to_string();
    let imported = ok(suite
        .post(
            &cast.ada,
            "/v1/opportunities:import",
            json!({"opportunities": [{"opportunity_id": legacy,
                "opportunity": {"name": "Northwind — legacy retrofit", "account_id": account,
                    "owner_id": id(&cast.ravi), "amount": cny("500000.00"),
                    "expected_close_date": on(15).to_string()},
                "created_at": at(2),
                "stays": [{"stage_id": DEVELOP, "entered_at": at(2)},
                          {"stage_id": CLOSED_WON, "entered_at": at(15)}],
                "close_reason_id": WON_FOR_PRODUCT_FIT}]}),
        )
        .await);
    assert_eq!(imported["imported"], 1, "{imported}");
    ok(suite
        .http
        .send_json(
            http::Method::PUT,
            &format!("/v1/opportunities/{legacy}/paymentSchedule"),
            Some(&suite.token(&cast.ravi)),
            &json!({"instalments": [{"due_date": due(30), "percent": "100"}]}),
        )
        .await);
    ok(suite
        .post(
            &cast.ravi,
            &format!("/v1/opportunities/{legacy}/paymentSchedule:recordPayment"),
            json!({"payment_id": uuid::Uuid::now_v7().to_string(), "amount": cny("250000.00"),
                   "received_on": on(20).to_string(), "method": "PAYMENT_METHOD_BANK_TRANSFER"}),
        )
        .await);
    eventually(
        Duration::from_secs(20),
        "the legacy deal booked and paid",
        || async {
            count("SELECT count(*) FROM credits".into()).await == 6
                && count("SELECT count(*) FROM quotas".into()).await == 2
        },
    )
    .await;
    let last = last_month.format("%Y-%m").to_string();
    let closed = ok(suite
        .post(
            &cast.ada,
            "/v1/compensation/periods:close",
            json!({"period": last}),
        )
        .await)["closed"]
        .clone();
    assert_eq!(closed["statement_count"], 1, "{closed}");
    assert_eq!(amount(&closed["total"]), "12500.00");
    let locked = suite
        .get(
            &cast.ravi,
            &format!("/v1/compensation/statements?period={last}"),
        )
        .await["statement"]
        .clone();
    assert_eq!(
        lines(&locked),
        [
            line(
                "COMMISSION_EARNED",
                "Northwind — legacy retrofit",
                1,
                "25000.00"
            ),
            line(
                "COMMISSION_RELEASED",
                "Northwind — legacy retrofit",
                0,
                "12500.00"
            ),
        ],
        "{locked}"
    );
    assert_eq!(locked["status"], "STATEMENT_STATUS_CLOSED");
    ok(suite
        .post(
            &cast.mei,
            &format!("/v1/opportunities/{legacy}:reopen"),
            json!({"reason": "the retrofit was never delivered"}),
        )
        .await);
    ok(suite
        .post(
            &cast.ravi,
            &format!("/v1/opportunities/{legacy}:lose"),
            json!({"close_reason_id": LOST_ON_PRICE}),
        )
        .await);
    eventually(
        Duration::from_secs(20),
        "the legacy booking taken back",
        || async {
            count("SELECT count(*) FROM credits WHERE kind = 'booking_reversal'".into()).await == 2
        },
    )
    .await;
    let clawed = suite.get(&cast.ravi, &statement_path).await["statement"].clone();
    assert_eq!(
        lines(&clawed),
        [
            line("COMMISSION_EARNED", "Fabrikam — retrofit", 1, "20000.00"),
            line("CLAWBACK", "Northwind — legacy retrofit", 0, "-12500.00"),
        ],
        "{clawed}"
    );
    assert_eq!(amount(&clawed["total"]), "-12500.00");
    // The closed month did not move.
    let again = suite
        .get(
            &cast.ravi,
            &format!("/v1/compensation/statements?period={last}"),
        )
        .await["statement"]
        .clone();
    assert_eq!(again, locked);
}
