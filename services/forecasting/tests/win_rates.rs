//! Stage-to-win rates (F6) over real PostgreSQL and NATS: learned from the stages closed deals
//! reached — their events arriving out of order and twice — with their sample sizes beside the
//! stages' nominal probabilities, and the open deals valued with them.

mod statistics_support;

use crm_proto::crm::forecasting::v1 as pb;
use crm_test_support::{authorized, user};

use statistics_support::*;

#[tokio::test]
async fn win_rates_are_learned_from_the_stages_closed_deals_reached() {
    let app = start().await;
    let ravi = user("rep", EAST_1);
    // Won through qualify and propose — its events arriving newest first, and one twice: a
    // visit counts whatever order its event comes in.
    let first = Deal::of(&ravi, "100000");
    publish(&app, first.at(3, WON, 100, "2026-10-01")).await;
    publish(&app, first.at(2, PROPOSE, 50, "")).await;
    publish(&app, first.at(1, QUALIFY, 20, "")).await;
    publish(&app, first.at(1, QUALIFY, 20, "")).await;
    // Lost after propose; lost in qualify; won having started in propose.
    let second = Deal::of(&ravi, "100000");
    for (version, stage, probability, closed_on) in [
        (1, QUALIFY, 20, ""),
        (2, PROPOSE, 50, ""),
        (3, LOST, 0, "2026-10-02"),
    ] {
        publish(&app, second.at(version, stage, probability, closed_on)).await;
    }
    let third = Deal::of(&ravi, "100000");
    publish(&app, third.at(1, QUALIFY, 20, "")).await;
    publish(&app, third.at(2, LOST, 0, "2026-10-03")).await;
    let fourth = Deal::of(&ravi, "100000");
    publish(&app, fourth.at(1, PROPOSE, 50, "")).await;
    publish(&app, fourth.at(2, WON, 100, "2026-10-04")).await;
    // Open: 1 000 in qualify at 20 %, 2 000 in propose at an overridden 60 %; and one
    // without a corporate amount.
    publish(&app, Deal::of(&ravi, "1000").at(1, QUALIFY, 20, "")).await;
    publish(&app, Deal::of(&ravi, "2000").at(1, PROPOSE, 60, "")).await;
    let unconverted = Deal {
        converted: false,
        ..Deal::of(&ravi, "5000")
    };
    publish(&app, unconverted.at(1, PROPOSE, 50, "")).await;
    handled(&app, 14).await;

    let mut statistics = client(&app).await;
    let rates = |minimum_sample: u32| {
        let mut statistics = statistics.clone();
        let token = app.token(&ravi);
        async move {
            statistics
                .get_win_rates(authorized(
                    pb::GetWinRatesRequest {
                        pipeline_id: PIPELINE.into(),
                        minimum_sample,
                        ..Default::default()
                    },
                    &token,
                ))
                .await
                .unwrap()
                .into_inner()
        }
    };
    // Qualify was reached by the first three (one won): 33.33 %; propose by the first, second
    // and fourth (two won): 66.67 %. The won and lost stages are not open stages.
    let at_three = rates(3).await;
    assert_eq!(
        at_three
            .stages
            .iter()
            .map(|stage| (
                stage.stage_name.clone(),
                stage.nominal_probability,
                stage.closed_deals,
                stage.won_deals,
                stage.learned_rate.clone(),
                stage.learned_rate_used
            ))
            .collect::<Vec<_>>(),
        vec![
            ("Qualify".to_owned(), 20, 3, 1, "33.33".to_owned(), true),
            ("Propose".to_owned(), 50, 3, 2, "66.67".to_owned(), true),
        ]
    );
    // Learned: 1 000 × 1/3 = 333.33 and 2 000 × 2/3 = 1 333.33; nominal 200 + 1 200.
    assert_eq!(amount(&at_three.expected_amount), "1666.66 CNY");
    assert_eq!(amount(&at_three.nominal_weighted_amount), "1400 CNY");
    assert_eq!(
        (
            at_three.open_deals,
            at_three.learned_deals,
            at_three.unconverted_deals
        ),
        (2, 2, 1)
    );
    // Three closed deals are too few for a minimum of 10 (the default): nominal throughout.
    let by_default = rates(0).await;
    assert_eq!(by_default.minimum_sample, 10);
    assert!(
        by_default
            .stages
            .iter()
            .all(|stage| !stage.learned_rate_used)
    );
    assert_eq!(amount(&by_default.expected_amount), "1400 CNY");
    assert_eq!(by_default.learned_deals, 0);

    // A rebuild of the read model from the stream learns the same rates, from the visits the
    // stream holds only (one it never showed is gone).
    let pool = app.pool("forecasting");
    sqlx::query("INSERT INTO deal_stage_visits VALUES ($1, $2, 1)")
        .bind(uuid::Uuid::now_v7())
        .bind(uuid::Uuid::now_v7())
        .execute(pool)
        .await
        .unwrap();
    let visits = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM deal_stage_visits")
            .fetch_one(pool)
            .await
            .unwrap()
    };
    let before = visits().await;
    let context = app.services.context("forecasting").unwrap();
    crm_forecasting::rebuild_read_model(&context.pool, &context.jetstream, &context.naming)
        .await
        .unwrap();
    assert_eq!(rates(3).await, at_three);
    assert_eq!(visits().await, before - 1);

    // Nora, Ravi's teammate, has closed nothing: her rates have no sample.
    let nora = user("rep", EAST_1);
    let hers = statistics
        .get_win_rates(authorized(
            pb::GetWinRatesRequest::default(),
            &app.token(&nora),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(
        hers.stages
            .iter()
            .all(|stage| stage.closed_deals == 0 && stage.learned_rate.is_empty())
    );
    assert_eq!(hers.open_deals, 0);
}

#[tokio::test]
async fn a_stage_is_shown_as_the_latest_deal_change_described_it() {
    let app = start().await;
    let ravi = user("rep", EAST_1);
    let at = |seconds: i64| {
        Some(crm_platform::time::to_timestamp(
            chrono::DateTime::from_timestamp(seconds, 0).unwrap(),
        ))
    };
    // The pipeline's designer renamed the stage and raised its probability; the deal changed
    // after that is heard first, the one changed before it after.
    let mut renamed = Deal::of(&ravi, "1000").at(1, PROPOSE, 55, "");
    let stage = renamed.stage.as_mut().unwrap();
    stage.name = "Proposal sent".into();
    stage.default_probability = 55;
    renamed.updated_at = at(1_800_000_000);
    publish(&app, renamed).await;
    let mut earlier = Deal::of(&ravi, "1000").at(1, PROPOSE, 50, "");
    earlier.updated_at = at(1_700_000_000);
    publish(&app, earlier).await;
    handled(&app, 2).await;

    let rates = client(&app)
        .await
        .get_win_rates(authorized(
            pb::GetWinRatesRequest::default(),
            &app.token(&ravi),
        ))
        .await
        .unwrap()
        .into_inner();
    let stages: Vec<_> = rates
        .stages
        .iter()
        .map(|stage| (stage.stage_name.as_str(), stage.nominal_probability))
        .collect();
    assert_eq!(stages, [("Proposal sent", 55)]);
}
