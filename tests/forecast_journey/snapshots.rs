//! F5 and F7: this week's snapshot, a week of changes (Line 3 grows, the cold chain slips to
//! next quarter, the packaging line is won), next week's snapshot, the movement between them
//! deal by deal, and the reps ranked by attainment.

use chrono::{Datelike, Days, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::{
    figures::{self, WON_FOR_PRODUCT_FIT, each, query},
    org::{Calendar, Cast, EAST},
    pipeline::Deals,
    suite::{Suite, cny, ok},
};

async fn snapshot(suite: &Suite, now: chrono::DateTime<Utc>) -> u64 {
    let context = suite.app.services.context("forecasting").unwrap();
    crm_forecasting::run_job(context, crm_forecasting::WEEKLY_SNAPSHOT, now)
        .await
        .unwrap()
}

fn monday(day: NaiveDate) -> NaiveDate {
    day - Days::new(u64::from(day.weekday().num_days_from_monday()))
}

/// A movement group: "KIND deals amount change [names]".
fn group(group: &Value) -> String {
    let names: Vec<&str> = each(group, "deals")
        .iter()
        .map(|deal| deal["name"].as_str().unwrap())
        .collect();
    format!(
        "{} {} {} {} {names:?}",
        group["kind"]
            .as_str()
            .unwrap()
            .trim_start_matches("MOVEMENT_KIND_"),
        group["deal_count"],
        figures::amount(&group["amount"]),
        figures::amount(&group["change"])
    )
}

/// A snapshot's pipeline: "deals total; category amount …".
fn snapshot_pipeline(pipeline: &Value) -> String {
    let categories: Vec<String> = each(pipeline, "by_category")
        .iter()
        .map(|category| {
            format!(
                "{} {}",
                category["category"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("FORECAST_CATEGORY_"),
                figures::amount(&category["amount"])
            )
        })
        .collect();
    format!(
        "{} {}; {}",
        pipeline["deal_count"],
        figures::amount(&pipeline["total"]),
        categories.join(", ")
    )
}

pub async fn the_week_moves(suite: &Suite, calendar: &Calendar, cast: &Cast, deals: &Deals) {
    let quarter = calendar.quarter.as_str();
    let now = Utc::now();
    let next_week = now + chrono::Duration::days(7);
    // Every open deal (Line 3, packaging, cold chain, spare parts) and the two closed today.
    assert_eq!(snapshot(suite, now).await, 6);
    assert_eq!(snapshot(suite, now).await, 0, "one snapshot a week");

    // Line 3 grows by 120,000 to 1,320,000; the cold chain slips to next quarter; the
    // packaging line is won at its 800,000.
    let update = |rep, id: &str, patch: Value| {
        let path = format!("/v1/opportunities/{id}");
        async move { ok(suite.patch(rep, &path, json!({ "patch": patch })).await) }
    };
    update(&cast.ravi, &deals.line3, json!({"amount": cny("1320000")})).await;
    update(
        &cast.nora,
        &deals.cold_chain,
        json!({"expected_close_date": calendar.day(3, 20)}),
    )
    .await;
    ok(suite
        .post(
            &cast.ravi,
            &format!("/v1/opportunities/{}:win", deals.packaging),
            json!({"close_reason_id": WON_FOR_PRODUCT_FIT}),
        )
        .await);
    // Once the forecast has heard: open Line 3 1,320,000 commit (× 75 % = 990,000) and the
    // spare parts 160,000 pipeline (40,000); won 300,000 + 800,000 = 1,100,000. Commit and
    // best case totals 1,100,000 + 1,320,000 = 2,420,000; weighted 1,100,000 + 1,030,000 =
    // 2,130,000.
    let pipeline = format!("/v1/forecasting/pipeline{}", query(&[("period", quarter)]));
    suite
        .get_when(
            &cast.mei,
            &pipeline,
            |answer| figures::forecast(&answer["forecast"]),
            "P 1 160000 40000; B 0 0 0; C 1 1320000 990000; O 0 0 0; open 2 1480000 1030000; \
             won 2 1100000 1100000; lost 1 250000 0; totals 2420000 2420000 2130000; \
             unconverted 0"
                .to_owned(),
        )
        .await;
    // Open: Line 3, the cold chain (now next quarter's), the spare parts; closed in the year:
    // the cleanroom, the sorting line and the packaging line.
    assert_eq!(snapshot(suite, next_week).await, 6);

    let (this_monday, next_monday) = (monday(now.date_naive()), monday(next_week.date_naive()));
    let listed = suite.get(&cast.ravi, "/v1/forecasting/snapshots").await;
    let weeks: Vec<(&str, &str)> = each(&listed, "snapshots")
        .iter()
        .map(|week| {
            (
                week["week_start"].as_str().unwrap(),
                week["week_label"].as_str().unwrap(),
            )
        })
        .collect();
    let label = |day: NaiveDate| {
        let week = day.iso_week();
        format!("{}-W{:02}", week.year(), week.week())
    };
    let (this_label, next_label) = (label(this_monday), label(next_monday));
    assert_eq!(
        weeks,
        [
            (next_monday.to_string().as_str(), next_label.as_str()),
            (this_monday.to_string().as_str(), this_label.as_str())
        ]
    );

    // East's quarter from one snapshot to the next: 1,200,000 + 800,000 + 400,000 + 160,000 =
    // 2,560,000 in four deals (commit: Line 3 and the committed packaging line, 2,000,000;
    // pipeline 560,000), then 1,320,000 + 160,000 = 1,480,000 in two. Line 3 up 120,000, the
    // cold chain pushed out (−400,000), the packaging line won (−800,000): 2,560,000 +
    // 120,000 − 400,000 − 800,000 = 1,480,000. The spare parts did not move.
    let movement = format!(
        "/v1/forecasting/snapshots:movement{}",
        query(&[
            ("scope.team_path", EAST),
            ("period", quarter),
            ("from_week", &now.date_naive().to_string()),
            ("to_week", &next_week.date_naive().to_string()),
        ])
    );
    let answer = suite.get(&cast.mei, &movement).await;
    assert_eq!(
        (
            snapshot_pipeline(&answer["start"]),
            snapshot_pipeline(&answer["end"])
        ),
        (
            "4 2560000; PIPELINE 560000, COMMIT 2000000".to_owned(),
            "2 1480000; PIPELINE 160000, COMMIT 1320000".to_owned()
        ),
        "{answer}"
    );
    let groups: Vec<String> = each(&answer, "groups").iter().map(group).collect();
    assert_eq!(
        groups,
        [
            "IN 0 0 0 []",
            "OUT 0 0 0 []",
            "UP 1 120000 120000 [\"Contoso — Line 3 automation\"]",
            "DOWN 0 0 0 []",
            "PULLED_IN 0 0 0 []",
            "PUSHED_OUT 1 400000 -400000 [\"Coho — cold chain\"]",
            "WON 1 800000 -800000 [\"Contoso — packaging line\"]",
            "LOST 0 0 0 []",
        ],
        "{answer}"
    );
    assert_eq!(answer["unchanged_count"], 1);
    let slipped = &answer["groups"][5]["deals"][0];
    assert_eq!(
        (
            &slipped["before"]["expected_close_date"],
            &slipped["after"]["expected_close_date"]
        ),
        (&json!(calendar.day(2, 20)), &json!(calendar.day(3, 20))),
        "{slipped}"
    );

    // The leaderboard of East's reps for the quarter: Ravi 1,100,000 of 3,600,000 = 30.555 %
    // → 30.56, then Nora with nothing of 900,000.
    let leaderboard = format!(
        "/v1/forecasting/leaderboard{}",
        query(&[("period", quarter), ("kind", "LEADERBOARD_KIND_REP")])
    );
    let answer = suite.get(&cast.mei, &leaderboard).await;
    let entries: Vec<String> = each(&answer, "entries")
        .iter()
        .map(|entry| {
            format!(
                "{} {} {} {} {}",
                entry["rank"],
                entry["display_name"].as_str().unwrap(),
                figures::amount(&entry["target"]),
                figures::amount(&entry["result"]),
                entry["attainment_percent"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        entries,
        ["1 Ravi 3600000 1100000 30.56", "2 Nora 900000 0 0.00"],
        "{answer}"
    );
}
