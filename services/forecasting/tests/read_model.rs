//! The pipeline read model (F1) over real PostgreSQL and NATS, the test standing in for the
//! opportunities service by publishing its deal events: each deal is kept at the newest version
//! heard, whatever order or how often the events arrive.

use std::time::Duration;

use crm_proto::crm::{
    common::v1::Money,
    opportunities::v1::{
        CloseOutcome, CorporateAmount, Opportunity, OpportunityArchived, OpportunityCreated,
        OpportunityLost, OpportunityStageChanged, OpportunityStatus, OpportunityWon, StageSummary,
    },
};
use crm_test_support::{TestApp, eventually, nats_url};
use rust_decimal::Decimal;
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
    app.handled("forecasting", 3).await;
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
    app.handled("forecasting", 6).await;
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

/// Deal `n` at `version` of the burst below: each version in another stage, month and amount,
/// the last one won, lost, archived or still open by `n`; owners and teams spread over three
/// reps.
fn burst_deal(n: u32, version: u64) -> Opportunity {
    let stage = u32::try_from(version).unwrap();
    let amount = format!("{}", 1_000 * n + 250 * stage);
    let mut deal = deal(
        Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0001_0000 + u128::from(n)),
        version,
        ("Stage", stage, i32::try_from(stage).unwrap()),
        &amount,
    );
    let rep = n % 3;
    deal.owner_id = format!("01900000-0000-7000-8000-0000000000b{rep}");
    deal.owner_team_path = [
        "/northwind/east/east-1/",
        "/northwind/east/east-2/",
        "/northwind/west/",
    ][rep as usize]
        .into();
    deal.expected_close_date = format!("2027-{:02}-15", 1 + (n + stage) % 6);
    deal.corporate_amount = Some(CorporateAmount {
        amount: deal.amount.clone(),
        rate: "1".into(),
        rate_date: "2026-12-01".into(),
    });
    if version == 4 {
        let closed = || {
            Some(CloseOutcome {
                closed_on: format!("2027-0{}-10", 1 + n % 3),
                ..Default::default()
            })
        };
        match n % 4 {
            0 => {
                deal.status = OpportunityStatus::Won as i32;
                deal.effective_probability = 100;
                deal.outcome = closed();
            }
            1 => {
                deal.status = OpportunityStatus::Lost as i32;
                deal.effective_probability = 0;
                deal.outcome = closed();
            }
            2 => deal.status = OpportunityStatus::Archived as i32,
            _ => {}
        }
    }
    deal
}

/// `pipeline_months` in key order: (team, owner, month, status, category, currency, deals,
/// amount, weighted).
type SumRows = Vec<(
    String,
    Uuid,
    chrono::NaiveDate,
    String,
    i16,
    String,
    i64,
    Decimal,
    Decimal,
)>;

#[tokio::test]
async fn a_burst_of_many_deals_events_in_any_order_leaves_the_sums_equal_to_the_deals_added_up() {
    // The consumer looks for the stream every half second: started first, it finds the burst
    // already there and takes it in large batches.
    let app = TestApp::spawn_with(&[crm_forecasting::module()], &nats_url(), &[]).await;
    app.stand_in_for("forecasting", "opportunities").await;
    let deals = 30;
    let mut published = 0;
    for n in 1..=deals {
        // Versions overtaking each other, one of them delivered twice.
        for version in [3, 1, 4, 2, 2] {
            let opportunity = Some(burst_deal(n, version));
            match (version, n % 4) {
                (1, _) => {
                    app.publish_event(
                        "forecasting",
                        &OpportunityCreated {
                            opportunity,
                            ..Default::default()
                        },
                    )
                    .await
                }
                (4, 0) => {
                    app.publish_event(
                        "forecasting",
                        &OpportunityWon {
                            opportunity,
                            ..Default::default()
                        },
                    )
                    .await
                }
                (4, 1) => {
                    app.publish_event(
                        "forecasting",
                        &OpportunityLost {
                            opportunity,
                            ..Default::default()
                        },
                    )
                    .await
                }
                (4, 2) => {
                    app.publish_event(
                        "forecasting",
                        &OpportunityArchived {
                            opportunity,
                            ..Default::default()
                        },
                    )
                    .await
                }
                _ => {
                    app.publish_event(
                        "forecasting",
                        &OpportunityStageChanged {
                            opportunity,
                            ..Default::default()
                        },
                    )
                    .await
                }
            }
            published += 1;
        }
    }
    app.handled("forecasting", published).await;
    let pool = app.pool("forecasting");
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM deals ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap();
    assert_eq!(versions, vec![4; deals as usize]);
    let sums: SumRows = sqlx::query_as(
        "SELECT owner_team_path, owner_id, month, status, category, currency, deal_count, amount, \
         weighted FROM pipeline_months ORDER BY 1, 2, 3, 4, 5, 6",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let added_up: SumRows = sqlx::query_as(
        "SELECT owner_team_path, owner_id, date_trunc('month', CASE WHEN status = 'open' \
         THEN expected_close_date ELSE coalesce(closed_on, expected_close_date) END)::date, \
         status, CASE WHEN status = 'won' THEN 4::smallint ELSE category END, \
         coalesce(corporate_currency, ''), count(*), sum(coalesce(corporate_amount, 0)), \
         sum(CASE status WHEN 'won' THEN corporate_amount WHEN 'lost' THEN 0 \
         ELSE corporate_amount * effective_probability / 100 END) \
         FROM deals WHERE status <> 'archived' GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(sums, added_up);
    // By hand: of deals 1 … 30 at version 4 (amount 1,000 n + 1,000), a quarter is won (n ≡ 0
    // mod 4: 4, 8, … 28), a quarter archived (n ≡ 2) and counts nowhere.
    let count = |status: &str| {
        sums.iter()
            .filter(|row| row.3 == status)
            .map(|row| row.6)
            .sum::<i64>()
    };
    assert_eq!((count("won"), count("lost"), count("open")), (7, 8, 7));
    let won: Decimal = sums
        .iter()
        .filter(|row| row.3 == "won")
        .map(|row| row.7)
        .sum();
    // (4 + 8 + … + 28) × 1,000 + 7 × 1,000 = 112,000 + 7,000.
    assert_eq!(won, Decimal::from(119_000));
}
