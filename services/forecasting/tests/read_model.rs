//! The pipeline read model (F1) over real PostgreSQL and NATS, the test standing in for the
//! opportunities service by publishing its deal events: each deal is kept at the newest version
//! heard, whatever order or how often the events arrive.

use std::time::Duration;

use crm_proto::crm::{
    common::v1::Money,
    opportunities::v1::{
        Opportunity, OpportunityArchived, OpportunityCreated, OpportunityStageChanged,
        OpportunityStatus, OpportunityWon, StageSummary,
    },
};
use crm_test_support::{TestApp, eventually, nats_url};
use uuid::Uuid;

async fn start() -> TestApp {
    let app = TestApp::spawn_with(&[crm_forecasting::module()], &nats_url(), &[]).await;
    // The opportunities service would create its stream; here the test stands in for it.
    app.stand_in_for("forecasting", "opportunities").await;
    app
}

/// Ravi's deal at `version` in stage `stage` (position, category) with `amount` CNY.
fn deal(id: Uuid, version: u64, stage: (&str, u32, i32), amount: &str) -> Opportunity {
    Opportunity {
        id: id.to_string(),
        name: "Contoso — Line 3 automation".into(),
        account_id: "01900000-0000-7000-8000-0000000000a1".into(),
        owner_id: "01900000-0000-7000-8000-0000000000b1".into(),
        owner_team_path: "/northwind/east/east-1/".into(),
        pipeline_id: "01900000-0000-7000-8000-000000000001".into(),
        stage: Some(StageSummary {
            stage_id: format!("01900000-0000-7000-8000-0000000000{:02}", stage.1),
            name: stage.0.into(),
            position: stage.1,
            forecast_category: stage.2,
            ..Default::default()
        }),
        effective_probability: 20 * stage.1,
        amount: Some(Money {
            currency_code: "CNY".into(),
            amount: amount.into(),
        }),
        expected_close_date: "2027-01-30".into(),
        status: OpportunityStatus::Open as i32,
        version,
        ..Default::default()
    }
}

/// (version, stage name, status, amount) as the read model holds the deal; None before.
async fn held(app: &TestApp, id: Uuid) -> Option<(i64, String, String, String)> {
    sqlx::query_as::<_, (i64, String, String, rust_decimal::Decimal)>(
        "SELECT version, stage_name, status, amount FROM deals WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(app.pool("forecasting"))
    .await
    .unwrap()
    .map(|(version, stage, status, amount)| (version, stage, status, amount.to_string()))
}

async fn held_at(app: &TestApp, id: Uuid, version: i64) -> (i64, String, String, String) {
    eventually(
        Duration::from_secs(10),
        "the deal at its version",
        || async move { held(app, id).await.is_some_and(|held| held.0 == version) },
    )
    .await;
    held(app, id).await.unwrap()
}

/// Waits until the forecasting consumer has handled `count` events in all.
async fn handled(app: &TestApp, count: i64) {
    let pool = app.pool("forecasting");
    eventually(
        Duration::from_secs(10),
        "the events handled",
        || async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM inbox")
                .fetch_one(pool)
                .await
                .unwrap()
                >= count
        },
    )
    .await;
}

#[tokio::test]
async fn a_deal_is_kept_at_its_newest_version_whatever_the_order_of_its_events() {
    let app = start().await;
    let id = Uuid::now_v7();
    let qualify = ("Qualify", 1, 1);
    let propose = ("Propose", 3, 2);
    // Version 2 overtakes version 1: the older one, arriving after, changes nothing.
    app.publish_event(
        "forecasting",
        &OpportunityStageChanged {
            opportunity: Some(deal(id, 2, propose, "1200000")),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        held_at(&app, id, 2).await,
        (2, "Propose".into(), "open".into(), "1200000".into())
    );
    let created = OpportunityCreated {
        opportunity: Some(deal(id, 1, qualify, "1000000")),
        ..Default::default()
    };
    app.publish_event("forecasting", &created).await;
    // And the same again (a replay).
    app.publish_event("forecasting", &created).await;
    handled(&app, 3).await;
    assert_eq!(held(&app, id).await.unwrap().0, 2);

    // Won at version 3, archived at 4; then version 3 redelivered: the tombstone stays.
    let mut won = deal(id, 3, ("Closed Won", 5, 4), "1200000");
    won.status = OpportunityStatus::Won as i32;
    let won = OpportunityWon {
        opportunity: Some(won),
        ..Default::default()
    };
    app.publish_event("forecasting", &won).await;
    assert_eq!(held_at(&app, id, 3).await.2, "won");
    let mut archived = deal(id, 4, ("Closed Won", 5, 4), "1200000");
    archived.status = OpportunityStatus::Archived as i32;
    app.publish_event(
        "forecasting",
        &OpportunityArchived {
            opportunity: Some(archived),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(held_at(&app, id, 4).await.2, "archived");
    app.publish_event("forecasting", &won).await;
    handled(&app, 6).await;
    assert_eq!(
        held(&app, id).await.unwrap(),
        (4, "Closed Won".into(), "archived".into(), "1200000".into())
    );
}

#[tokio::test]
async fn a_malformed_deal_event_is_set_aside_and_the_next_one_applies() {
    let app = start().await;
    let (bad, good) = (Uuid::now_v7(), Uuid::now_v7());
    let mut malformed = deal(bad, 1, ("Qualify", 1, 1), "1000");
    malformed.owner_team_path = "/North Wind/".into();
    app.publish_event(
        "forecasting",
        &OpportunityCreated {
            opportunity: Some(malformed),
            ..Default::default()
        },
    )
    .await;
    app.publish_event(
        "forecasting",
        &OpportunityCreated {
            opportunity: Some(deal(good, 1, ("Qualify", 1, 1), "1000")),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(held_at(&app, good, 1).await.1, "Qualify");
    assert_eq!(held(&app, bad).await, None);
}
