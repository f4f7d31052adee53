//! F6: Ravi's won deals of the four months before this one come in by import, and the
//! statistical forecast fits them: the regression to the yuan, Holt by its properties.

use chrono::{Datelike, NaiveDate};
use serde_json::{Value, json};

use crate::{
    figures::{self, QUALIFY, WON_FOR_PRODUCT_FIT, each, query},
    org::{Calendar, Cast, id},
    pipeline::Deals,
    suite::{Suite, cny, ok},
};

/// The "Direct" pipeline's won stage.
const CLOSED_WON: &str = "01900000-0000-7000-8000-000000000015";

/// A decimal amount in fen, exactly ("-100000.5" → -10000050).
fn fen(amount: &str) -> i64 {
    let (sign, digits) = amount
        .strip_prefix('-')
        .map_or((1, amount), |digits| (-1, digits));
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let fraction = format!("{fraction:0<2}");
    sign * (whole.parse::<i64>().unwrap() * 100 + fraction.parse::<i64>().unwrap())
}

fn label(month: NaiveDate) -> String {
    month.format("%Y-%m").to_string()
}

fn at(day: NaiveDate, time: &str) -> String {
    format!("{day}T{time}Z")
}

/// (period, forecast, actual, error, absolute percentage error) of each back-tested period.
fn backtest(method: &Value) -> Vec<(String, String, String, String, String)> {
    each(method, "backtest")
        .iter()
        .map(|point| {
            (
                point["period"]["label"].as_str().unwrap().to_owned(),
                figures::amount(&point["forecast"]),
                figures::amount(&point["actual"]),
                figures::amount(&point["error"]),
                point["absolute_percentage_error"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect()
}

fn forecasts(method: &Value) -> Vec<(String, String)> {
    each(method, "forecasts")
        .iter()
        .map(|forecast| {
            (
                forecast["period"]["label"].as_str().unwrap().to_owned(),
                figures::amount(&forecast["bookings"]),
            )
        })
        .collect()
}

pub async fn history_is_forecast(suite: &Suite, calendar: &Calendar, cast: &Cast, deals: &Deals) {
    // 100,000, 300,000, 200,000 and 400,000 won in the four months before this one, each on
    // the 15th of its month.
    let history = [(4, "100000"), (3, "300000"), (2, "200000"), (1, "400000")];
    let imported: Vec<Value> = history
        .iter()
        .map(|(back, amount)| {
            let month = calendar.months_ago(*back);
            let won_on = month.with_day(15).unwrap();
            json!({
                "opportunity_id": uuid::Uuid::now_v7().to_string(),
                "opportunity": {"name": format!("Contoso — order of {}", label(month)),
                    "account_id": deals.contoso, "owner_id": id(&cast.ravi),
                    "amount": cny(amount), "expected_close_date": won_on.to_string()},
                "created_at": at(month, "09:00:00"),
                "stays": [
                    {"stage_id": QUALIFY, "entered_at": at(month, "09:00:00")},
                    {"stage_id": CLOSED_WON, "entered_at": at(won_on, "10:00:00")},
                ],
                "close_reason_id": WON_FOR_PRODUCT_FIT,
            })
        })
        .collect();
    let answer = ok(suite
        .post(
            &cast.ada,
            "/v1/opportunities:import",
            json!({ "opportunities": imported }),
        )
        .await);
    assert_eq!(answer["imported"], 4, "{answer}");

    // This month's wins (the cleanroom, the packaging line) are not history: it is the month
    // holding `as_of`.
    let path = format!(
        "/v1/forecasting/statistics:forecast{}",
        query(&[
            ("scope.user_id", &id(&cast.ravi)),
            ("as_of", &calendar.today.to_string())
        ])
    );
    let expected_history: Vec<(String, String, u64)> = history
        .iter()
        .map(|(back, amount)| (label(calendar.months_ago(*back)), (*amount).to_owned(), 1))
        .collect();
    let answer = suite
        .get_when(
            &cast.mei,
            &path,
            |answer| {
                each(answer, "history")
                    .iter()
                    .map(|booked| {
                        (
                            booked["period"]["label"].as_str().unwrap().to_owned(),
                            figures::amount(&booked["bookings"]),
                            booked["won_deals"].as_u64().unwrap(),
                        )
                    })
                    .collect::<Vec<_>>()
            },
            expected_history,
        )
        .await;
    let methods: Vec<&str> = each(&answer, "methods")
        .iter()
        .map(|method| method["method"].as_str().unwrap())
        .collect();
    // Four months: short of two seasons, so Holt, then the regression.
    assert_eq!(
        methods,
        [
            "STATISTICAL_METHOD_HOLT_LINEAR",
            "STATISTICAL_METHOD_LINEAR_REGRESSION"
        ],
        "{answer}"
    );
    let (holt, line) = (&answer["methods"][0], &answer["methods"][1]);
    let horizon: Vec<String> = (0..3).map(|month| calendar.month_label(month)).collect();

    // The line over indices 0..3: x̄ = 1.5, ȳ = 250,000; Σ(x − x̄)(y − ȳ) = (−1.5)(−150,000)
    // + (−0.5)(50,000) + (0.5)(−50,000) + (1.5)(150,000) = 400,000 and Σ(x − x̄)² = 5, so the
    // slope is 80,000 and the intercept 250,000 − 1.5 × 80,000 = 130,000; this month and the
    // next two (indices 4, 5, 6) 450,000, 530,000, 610,000.
    assert_eq!(
        (line["intercept"].as_str(), line["slope"].as_str()),
        (Some("130000"), Some("80000")),
        "{line}"
    );
    assert_eq!(
        forecasts(line),
        horizon
            .iter()
            .cloned()
            .zip(["450000", "530000", "610000"].map(str::to_owned))
            .collect::<Vec<_>>()
    );
    // Back-tested from the third month: the first two months' line (100,000 + 200,000 × index)
    // says 500,000 for 200,000 booked (+300,000, 150 %); the first three's (x̄ = 1, ȳ =
    // 200,000, slope 100,000 ÷ 2 = 50,000, intercept 150,000) 300,000 for 400,000 (−100,000,
    // 25 %). Bias (300,000 − 100,000) ÷ 2 = 100,000, MAPE (150 + 25) ÷ 2 = 87.50.
    let (third, fourth) = (label(calendar.months_ago(2)), label(calendar.months_ago(1)));
    let owned = |texts: [&str; 4]| texts.map(str::to_owned);
    let [forecast_3, actual_3, error_3, ape_3] = owned(["500000", "200000", "300000", "150.00"]);
    let [forecast_4, actual_4, error_4, ape_4] = owned(["300000", "400000", "-100000", "25.00"]);
    assert_eq!(
        backtest(line),
        [
            (third.clone(), forecast_3, actual_3, error_3, ape_3),
            (fourth.clone(), forecast_4, actual_4, error_4, ape_4),
        ]
    );
    let accuracy = &line["accuracy"];
    assert_eq!(
        (
            &accuracy["count"],
            figures::amount(&accuracy["mean_error"]),
            &accuracy["mean_absolute_percentage_error"],
            &accuracy["percentage_count"]
        ),
        (&json!(2), "100000".to_owned(), &json!("87.50"), &json!(2)),
        "{accuracy}"
    );

    // Holt by its properties: weights from the grid, no season, a forecast for each month of
    // the horizon that is never negative, back-tested over the same two months against what
    // they booked, error = forecast − actual.
    let grid: Vec<String> = (1..=9).map(|tenth| format!("0.{tenth}")).collect();
    for weight in ["alpha", "beta"] {
        let chosen = holt[weight].as_str().unwrap().to_owned();
        assert!(grid.contains(&chosen), "{weight} {chosen}");
    }
    assert_eq!(holt["gamma"], "", "{holt}");
    let holt_forecasts = forecasts(holt);
    assert_eq!(
        holt_forecasts
            .iter()
            .map(|(period, _)| period.clone())
            .collect::<Vec<_>>(),
        horizon
    );
    assert!(
        holt_forecasts.iter().all(|(_, amount)| fen(amount) >= 0),
        "{holt}"
    );
    let holt_backtest = backtest(holt);
    assert_eq!(
        holt_backtest
            .iter()
            .map(|(period, _, actual, _, _)| (period.clone(), actual.clone()))
            .collect::<Vec<_>>(),
        [(third, "200000".to_owned()), (fourth, "400000".to_owned())]
    );
    for (_, forecast, actual, error, _) in &holt_backtest {
        assert_eq!(fen(error), fen(forecast) - fen(actual), "{holt}");
    }
    // The recommendation is the smaller MAPE, Holt (listed first) on a tie.
    let mape = |method: &Value| -> f64 {
        method["accuracy"]["mean_absolute_percentage_error"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let recommended = if mape(line) < mape(holt) {
        "STATISTICAL_METHOD_LINEAR_REGRESSION"
    } else {
        "STATISTICAL_METHOD_HOLT_LINEAR"
    };
    assert_eq!(answer["recommended"], recommended, "{answer}");
    assert_eq!(
        (&answer["unconverted_deals"], &answer["currency_code"]),
        (&json!(0), &json!("CNY"))
    );
}
