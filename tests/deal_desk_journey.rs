//! The deal desk of scenario.md, through the gateway's HTTP front door with the whole suite in
//! one process: Ravi quotes Contoso's line-3 deal at 18% off list, cannot approve the discount
//! himself, Mei (who manages East) approves it, and the customer's acceptance sets the deal's
//! amount and makes the quote an order. His calls and visit are on his calendar and in his
//! weekly report; a deal left three weeks without a word rises on his priority board; the won
//! deal's 30/70 schedule takes its first payment and the rest is due.
//! Every figure is asserted to the fen, computed by hand with the one rounding rule (each line
//! half to even, ADR 0014).

use std::time::Duration;

use crm_test_support::{eventually, user};
use serde_json::{Value, json};
use suite::{Suite, cny, ok};

#[path = "support/suite.rs"]
mod suite;

const EAST_1: &str = "/northwind/east/east-1/";
const EAST: &str = "/northwind/east/";
const WON_FOR_PRODUCT_FIT: &str = "01900000-0000-7000-8000-000000000101";

/// The string of a Money value (as the API writes it: no trailing zeros, "984000").
fn amount(money: &Value) -> &str {
    money["amount"]
        .as_str()
        .unwrap_or_else(|| panic!("no amount in {money}"))
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_discounted_quote_is_approved_accepted_worked_on_won_and_paid_in_part() {
    let suite = Suite::start().await;
    let ada = user("admin", "/northwind/");
    let mei = user("manager", EAST);
    let ravi = user("rep", EAST_1);
    ok(suite
        .patch(
            &ada,
            "/v1/orgSettings",
            json!({"corporate_currency": "CNY"}),
        )
        .await);

    // The price book: the line-3 system and its installation, in the yuan list.
    let list = ok(suite
        .post(
            &ada,
            "/v1/priceLists",
            json!({"name": "China 2026", "currency_code": "CNY"}),
        )
        .await)["price_list"]
        .clone();
    for (code, name, price) in [
        ("L3-AUTO", "Line automation system", "487333.33"),
        ("SVC-INSTALL", "Installation and commissioning", "225333.34"),
    ] {
        let product = ok(suite
            .post(&ada, "/v1/products", json!({"code": code, "name": name}))
            .await)["product"]
            .clone();
        ok(suite
            .post(
                &ada,
                &format!("/v1/priceLists/{}/prices", id(&list)),
                json!({"product_id": id(&product), "effective_from": "2026-01-01",
                    "unit_price": cny(price)}),
            )
            .await);
    }

    // Ravi's customer and deal.
    let account = ok(suite
        .post(
            &ravi,
            "/v1/accounts",
            json!({"account": {"name": "Contoso Ltd", "industry": "Manufacturing"}}),
        )
        .await)["account"]
        .clone();
    let deal = suite
        .post_when_known(
            &ravi,
            "/v1/opportunities",
            json!({"opportunity": {"name": "Contoso — Line 3 automation",
                "account_id": id(&account), "amount": cny("1200000.00"),
                "expected_close_date": "2027-01-30"}}),
        )
        .await["opportunity"]
        .clone();
    let deal_id = id(&deal);

    // Two systems and the installation at 18% off the quote: list 974,666.66 + 225,333.34 =
    // 1,200,000.00; each line × 0.82, half to even: 799,226.6612 → 799,226.66 and
    // 184,773.3388 → 184,773.34, so 984,000.00 before tax; 13% tax per line: 103,899.4658 →
    // 103,899.47 and 24,020.5342 → 24,020.53, so 127,920.00 and a total of 1,111,920.00.
    let quote = ok(suite
        .post(
            &ravi,
            &format!("/v1/opportunities/{deal_id}/quotes"),
            json!({"lines": [
                {"product_code": "L3-AUTO", "quantity": "2"},
                {"product_code": "SVC-INSTALL", "quantity": "1"},
            ], "discount_percent": "18"}),
        )
        .await)["quote"]
        .clone();
    let figures = &quote["figures"];
    assert_eq!(amount(&figures["list_total"]), "1200000", "{quote}");
    assert_eq!(amount(&figures["amount_before_tax"]), "984000");
    assert_eq!(amount(&figures["tax"]), "127920");
    assert_eq!(amount(&figures["total"]), "1111920");
    assert_eq!(figures["discount_percent"], "18.00");
    let lines = quote["lines"].as_array().unwrap();
    assert_eq!(amount(&lines[0]["discounted"]), "799226.66");
    assert_eq!(amount(&lines[1]["discounted"]), "184773.34");
    assert_eq!(amount(&lines[0]["tax"]), "103899.47");
    assert_eq!(amount(&lines[1]["tax"]), "24020.53");

    // 18% is above the 15% threshold: the quote waits for a manager, and Ravi is not one.
    let quote_id = id(&quote);
    let submitted = ok(suite
        .post(&ravi, &format!("/v1/quotes/{quote_id}:submit"), json!({}))
        .await)["quote"]
        .clone();
    assert_eq!(submitted["status"], "QUOTE_STATUS_PENDING_APPROVAL");
    assert_eq!(submitted["approval"]["threshold_percent"], "15");
    let refused = suite
        .post(
            &ravi,
            &format!("/v1/quotes/{quote_id}:approveDiscount"),
            json!({"note": "I approve my own"}),
        )
        .await;
    assert_eq!(
        refused.status,
        403,
        "{}",
        String::from_utf8_lossy(&refused.body)
    );
    let approved = ok(suite
        .post(
            &mei,
            &format!("/v1/quotes/{quote_id}:approveDiscount"),
            json!({"note": "Strategic account: approved at 18%"}),
        )
        .await)["quote"]
        .clone();
    assert_eq!(approved["status"], "QUOTE_STATUS_APPROVED");
    assert_eq!(
        approved["approval"]["decision"],
        "QUOTE_DISCOUNT_DECISION_APPROVED"
    );
    assert_eq!(approved["approval"]["decided_by"], mei.user_id.to_string());

    // Issued, accepted: the deal is worth 984,000.00 before tax and the quote is an order.
    ok(suite
        .post(&ravi, &format!("/v1/quotes/{quote_id}:issue"), json!({}))
        .await);
    let accepted = ok(suite
        .post(&ravi, &format!("/v1/quotes/{quote_id}:accept"), json!({}))
        .await);
    assert_eq!(accepted["quote"]["status"], "QUOTE_STATUS_ACCEPTED");
    let order = accepted["order"].clone();
    assert_eq!(amount(&order["totals"]["total"]), "1111920", "{order}");
    let deal = suite
        .get(&ravi, &format!("/v1/opportunities/{deal_id}"))
        .await["opportunity"]
        .clone();
    assert_eq!(amount(&deal["amount"]), "984000", "{deal}");
    assert_eq!(deal["line_items"].as_array().unwrap().len(), 2);
    eventually(Duration::from_secs(20), "the acceptance is published", || async {
        suite
            .count(
                "opportunities",
                "SELECT count(*) FROM outbox WHERE event_type = 'crm.opportunities.v1.QuoteAccepted'",
            )
            .await
            == 1
    })
    .await;

    // Two calls and a visit this week: on Ravi's calendar and in his weekly report.
    let base = chrono::Utc::now() - chrono::Duration::minutes(30);
    let day = base.date_naive().to_string();
    let at = |minutes: i64| (base + chrono::Duration::minutes(minutes)).to_rfc3339();
    for (kind, subject, starts, ends) in [
        ("ACTIVITY_KIND_CALL", "Pricing call", at(0), None),
        ("ACTIVITY_KIND_CALL", "Legal call", at(5), None),
        ("ACTIVITY_KIND_VISIT", "Plant visit", at(10), Some(at(20))),
    ] {
        let mut activity = json!({"kind": kind, "subject": subject, "starts_at": starts});
        if let Some(ends) = ends {
            activity["ends_at"] = json!(ends);
        }
        ok(suite
            .post(
                &ravi,
                "/v1/activities",
                json!({"activity": activity, "regarding": {"opportunity_id": deal_id}}),
            )
            .await);
    }
    let calendar = suite
        .get(
            &ravi,
            &format!("/v1/calendar?view=CALENDAR_VIEW_WEEK&date={day}"),
        )
        .await;
    let on_calendar: Vec<&str> = calendar["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|entry| entry["activity"]["subject"].as_str())
        .collect();
    assert_eq!(
        on_calendar,
        ["Pricing call", "Legal call", "Plant visit"],
        "{calendar}"
    );
    let report = suite
        .get(
            &ravi,
            &format!("/v1/workReports:compute?period=WORK_REPORT_PERIOD_WEEK&date={day}"),
        )
        .await["report"]
        .clone();
    let summary = &report["summary"];
    assert_eq!(
        (&summary["calls"], &summary["visits"]),
        (&json!(2), &json!(1)),
        "{report}"
    );
    assert_eq!(summary["deals_created"], json!(1));

    // A second deal of the same worth, stage and close date: level with the first on every
    // part of the score but staleness, so the older deal leads. Three weeks pass with no word
    // on the second: stale after the pipeline's 14 days, it rises above the first, and the
    // board says why.
    let spares = suite
        .post_when_known(
            &ravi,
            "/v1/opportunities",
            json!({"opportunity": {"name": "Contoso — spare parts framework",
                "account_id": id(&account), "amount": cny("984000.00"),
                "expected_close_date": "2027-01-30"}}),
        )
        .await["opportunity"]
        .clone();
    let spares_id = id(&spares);
    let board_order = |board: &Value| -> Vec<String> {
        board["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["opportunity"]["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let board = suite.get(&ravi, "/v1/priorityBoard").await;
    assert_eq!(
        board_order(&board),
        [deal_id.clone(), spares_id.clone()],
        "{board}"
    );
    assert_eq!(
        suite
            .execute(
                "opportunities",
                &format!(
                    "UPDATE opportunities SET last_activity_at = now() - interval '21 days' \
                     WHERE id = '{spares_id}'"
                ),
            )
            .await,
        1
    );
    let board = suite.get(&ravi, "/v1/priorityBoard").await;
    assert_eq!(
        board_order(&board),
        [spares_id.clone(), deal_id.clone()],
        "{board}"
    );
    // 21 of 2 × 14 days: three quarters of the staleness part's 15 points.
    let staleness = &board["items"][0]["parts"][3];
    assert_eq!(
        (
            &staleness["name"],
            &staleness["value"],
            &staleness["points"]
        ),
        (&json!("staleness"), &json!("0.7500"), &json!("11.25")),
        "{board}"
    );
    assert_eq!(
        staleness["explanation"]["text"],
        json!("no activity for 21 days (stale after 14)")
    );

    // Won, the order's 30/70 schedule: 30% of 1,111,920 is 333,576 and the rest 778,344. The
    // first payment settles the first instalment; the second is due.
    ok(suite
        .post(
            &ravi,
            &format!("/v1/opportunities/{deal_id}:win"),
            json!({"close_reason_id": WON_FOR_PRODUCT_FIT}),
        )
        .await);
    let today = chrono::Utc::now().date_naive();
    let due = |days: u64| (today + chrono::Days::new(days)).to_string();
    let schedule = ok(suite
        .http
        .send_json(
            http::Method::PUT,
            &format!("/v1/opportunities/{deal_id}/paymentSchedule"),
            Some(&suite.token(&ravi)),
            &json!({"order_id": id(&order), "instalments": [
                {"due_date": due(30), "percent": "30"},
                {"due_date": due(90), "percent": "70"},
            ]}),
        )
        .await)["schedule"]
        .clone();
    let instalments = schedule["instalments"].as_array().unwrap();
    assert_eq!(amount(&instalments[0]["amount"]), "333576", "{schedule}");
    assert_eq!(amount(&instalments[1]["amount"]), "778344");
    let paid = ok(suite
        .post(
            &ravi,
            &format!("/v1/opportunities/{deal_id}/paymentSchedule:recordPayment"),
            json!({"payment_id": uuid::Uuid::now_v7().to_string(), "amount": cny("333576.00"),
                "method": "PAYMENT_METHOD_BANK_TRANSFER", "reference": "CONTOSO-0001"}),
        )
        .await)["schedule"]
        .clone();
    assert_eq!(amount(&paid["totals"]["paid"]), "333576", "{paid}");
    assert_eq!(amount(&paid["totals"]["open"]), "778344");
    let instalments = paid["instalments"].as_array().unwrap();
    assert_eq!(instalments[0]["status"], "INSTALMENT_STATUS_PAID");
    assert_eq!(instalments[1]["status"], "INSTALMENT_STATUS_OPEN");
    assert_eq!(amount(&instalments[1]["open"]), "778344");
}
