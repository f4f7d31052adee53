//! The forecast's answers read into short lines the journey compares with hand-computed ones.

use serde_json::Value;

/// The stages of the seeded "Direct" pipeline: probability and forecast category.
pub const QUALIFY: &str = "01900000-0000-7000-8000-000000000011"; // 10 %, pipeline
pub const DEVELOP: &str = "01900000-0000-7000-8000-000000000012"; // 25 %, pipeline
pub const PROPOSE: &str = "01900000-0000-7000-8000-000000000013"; // 50 %, best case
pub const NEGOTIATE: &str = "01900000-0000-7000-8000-000000000014"; // 75 %, commit
pub const WON_FOR_PRODUCT_FIT: &str = "01900000-0000-7000-8000-000000000101";
pub const LOST_ON_PRICE: &str = "01900000-0000-7000-8000-000000000111";

/// A Money value's amount as the API writes it ("984000"); "-" when absent.
pub fn amount(money: &Value) -> String {
    money["amount"].as_str().unwrap_or("-").to_owned()
}

/// `scope.team_path=%2Fnorthwind%2Feast%2F&period=…`: a query string of the non-empty fields.
pub fn query(fields: &[(&str, &str)]) -> String {
    let given: Vec<String> = fields
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| format!("{name}={}", value.replace('/', "%2F")))
        .collect();
    format!("?{}", given.join("&"))
}

fn totals(totals: &Value) -> String {
    format!(
        "{} {} {}",
        totals["deal_count"],
        amount(&totals["amount"]),
        amount(&totals["weighted_amount"])
    )
}

/// A pipeline forecast in one line: each group as "deals amount weighted" — the open deals by
/// category (P pipeline, B best case, C commit, O omitted), the open ones together, the won
/// and the lost — then the commit, best-case and weighted totals and the unconverted deals.
pub fn forecast(forecast: &Value) -> String {
    let category = |name: &str| {
        forecast["open_by_category"]
            .as_array()
            .unwrap()
            .iter()
            .find(|group| group["category"] == format!("FORECAST_CATEGORY_{name}"))
            .map_or("absent".to_owned(), |group| totals(&group["totals"]))
    };
    format!(
        "P {}; B {}; C {}; O {}; open {}; won {}; lost {}; totals {} {} {}; unconverted {}",
        category("PIPELINE"),
        category("BEST_CASE"),
        category("COMMIT"),
        category("OMITTED"),
        totals(&forecast["open"]),
        totals(&forecast["closed"]),
        totals(&forecast["lost"]),
        amount(&forecast["commit_total"]),
        amount(&forecast["best_case_total"]),
        amount(&forecast["weighted_total"]),
        forecast["unconverted_deals"],
    )
}

/// A forecast's period: "label start end".
pub fn period(period: &Value) -> String {
    format!(
        "{} {} {}",
        period["label"].as_str().unwrap_or("-"),
        period["start_date"].as_str().unwrap_or("-"),
        period["end_date"].as_str().unwrap_or("-")
    )
}

/// The elements of an array field, or none when it is absent.
pub fn each<'a>(value: &'a Value, field: &str) -> &'a [Value] {
    value[field].as_array().map_or(&[], Vec::as_slice)
}
