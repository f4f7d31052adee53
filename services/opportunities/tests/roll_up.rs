//! The funnel's roll-up kept by each move's transaction equals the one rebuilt from the stage
//! history and the deals (`rebuild_funnel_roll_up`, what an operator runs after a bulk load):
//! forward and backward moves, a reassignment in the middle of a stay, wins, losses, a reopen and
//! an archive.

use std::time::Duration;

use crm_platform::{auth::Caller, events};
use crm_proto::crm::{
    common::v1::Money,
    leads::v1::LeadConverted,
    opportunities::v1::{self as pb, opportunity_service_client::OpportunityServiceClient},
};
use crm_test_support::{TestApp, authorized, eventually, user};
use tonic::transport::Channel;
use uuid::Uuid;

const EAST_1: &str = "/northwind/east/east-1/";
const DEVELOP: &str = "01900000-0000-7000-8000-000000000012";
const PROPOSE: &str = "01900000-0000-7000-8000-000000000013";
const WON_FOR_PRICE: &str = "01900000-0000-7000-8000-000000000102";
const LOST_ON_PRICE: &str = "01900000-0000-7000-8000-000000000111";

type Row = (String, String, String, String, i64, i64, i64, i64, String);

/// The roll-up's rows as text, without those that add up to nothing (a reopen or archive can
/// leave a row of zeros the rebuild would not write).
async fn roll_up(app: &TestApp) -> (Vec<Row>, Vec<Row>) {
    let pool = app.pool("opportunities");
    let stages: Vec<Row> = sqlx::query_as(
        "SELECT pipeline_id::text, stage_id::text, owner_id::text, month::text, entered, exited, \
         advanced, lost, seconds_in_stage::text FROM funnel_stage_months \
         WHERE (entered, exited, advanced, lost, seconds_in_stage) <> (0, 0, 0, 0, 0) \
         ORDER BY 1, 2, 3, 4",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let outcomes: Vec<Row> = sqlx::query_as(
        "SELECT pipeline_id::text, owner_id::text, owner_team_path, month::text, won, lost, \
         won_with_amount, 0::bigint, won_amount::text || '/' || cycle_seconds::text \
         FROM funnel_outcome_months \
         WHERE (won, lost, won_amount, won_with_amount, cycle_seconds) <> (0, 0, 0, 0, 0) \
         ORDER BY 1, 2, 4",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    (stages, outcomes)
}

async fn converted_deal(app: &TestApp, owner: &Caller) -> String {
    let conversion = LeadConverted {
        account_id: Uuid::now_v7().to_string(),
        account_name: "Contoso Ltd".into(),
        opportunity_id: Uuid::now_v7().to_string(),
        opportunity_amount: Some(Money {
            currency_code: "CNY".into(),
            amount: "500000".into(),
        }),
        owner_id: owner.user_id.to_string(),
        owner_team_path: owner.team_path.to_string(),
        ..Default::default()
    };
    app.publish_event("opportunities", &conversion).await;
    let id = conversion.opportunity_id;
    eventually(Duration::from_secs(15), "the deal exists", || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM opportunities WHERE id = $1::uuid")
            .bind(&id)
            .fetch_one(app.pool("opportunities"))
            .await
            .unwrap()
            == 1
    })
    .await;
    id
}

async fn move_to(
    client: &mut OpportunityServiceClient<Channel>,
    token: &str,
    id: &str,
    stage: &str,
) {
    client
        .change_stage(authorized(
            pb::ChangeStageRequest {
                opportunity_id: id.into(),
                stage_id: stage.into(),
                expected_version: 0,
            },
            token,
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_roll_up_kept_by_every_move_equals_the_one_rebuilt_from_history() {
    let app = TestApp::spawn(&[crm_opportunities::module()]).await;
    let context = app.services.context("opportunities").unwrap();
    events::ensure_stream(
        &context.jetstream,
        &context.naming,
        "leads",
        Duration::from_secs(120),
    )
    .await
    .unwrap();
    let mut client = OpportunityServiceClient::new(app.channel().await);
    let ravi = user("rep", EAST_1);
    let nora = user("rep", EAST_1);
    let mei = user("manager", "/northwind/east/");
    let (ravi_token, mei_token) = (app.token(&ravi), app.token(&mei));
    // Nora must be known to the service before a deal can be given to her (as the org
    // directory's events would make her).
    sqlx::query("INSERT INTO org_users (user_id, team_path, from_directory) VALUES ($1, $2, true)")
        .bind(nora.user_id)
        .bind(nora.team_path.as_str())
        .execute(app.pool("opportunities"))
        .await
        .unwrap();

    // Won after moving forward, back and forward again.
    let won = converted_deal(&app, &ravi).await;
    for stage in [DEVELOP, PROPOSE, DEVELOP, PROPOSE] {
        move_to(&mut client, &ravi_token, &won, stage).await;
    }
    client
        .mark_won(authorized(
            pb::MarkWonRequest {
                opportunity_id: won.clone(),
                close_reason_id: WON_FOR_PRICE.into(),
                ..Default::default()
            },
            &ravi_token,
        ))
        .await
        .unwrap();
    // Reassigned in the middle of its stay in Develop, then lost, reopened and lost again.
    let lost = converted_deal(&app, &ravi).await;
    move_to(&mut client, &ravi_token, &lost, DEVELOP).await;
    client
        .reassign_opportunity(authorized(
            pb::ReassignOpportunityRequest {
                opportunity_id: lost.clone(),
                owner_id: nora.user_id.to_string(),
                expected_version: 0,
            },
            &mei_token,
        ))
        .await
        .unwrap();
    let lose = || {
        authorized(
            pb::MarkLostRequest {
                opportunity_id: lost.clone(),
                close_reason_id: LOST_ON_PRICE.into(),
                ..Default::default()
            },
            &mei_token,
        )
    };
    client.mark_lost(lose()).await.unwrap();
    client
        .reopen_opportunity(authorized(
            pb::ReopenOpportunityRequest {
                opportunity_id: lost.clone(),
                reason: "budget found".into(),
                ..Default::default()
            },
            &mei_token,
        ))
        .await
        .unwrap();
    client.mark_lost(lose()).await.unwrap();
    // Moved, then archived: it leaves the funnel altogether.
    let archived = converted_deal(&app, &ravi).await;
    move_to(&mut client, &ravi_token, &archived, PROPOSE).await;
    client
        .archive_opportunity(authorized(
            pb::ArchiveOpportunityRequest {
                opportunity_id: archived.clone(),
                expected_version: 0,
            },
            &ravi_token,
        ))
        .await
        .unwrap();
    // Still open in Develop.
    let open = converted_deal(&app, &ravi).await;
    move_to(&mut client, &ravi_token, &open, DEVELOP).await;

    let kept = roll_up(&app).await;
    crm_opportunities::rebuild_funnel_roll_up(app.pool("opportunities"))
        .await
        .unwrap();
    let rebuilt = roll_up(&app).await;
    assert_eq!(kept, rebuilt);
    // And the figures are the ones the moves made: one win, one loss (the first was reopened).
    let outcomes = &rebuilt.1;
    assert_eq!(outcomes.iter().map(|row| row.4).sum::<i64>(), 1);
    assert_eq!(outcomes.iter().map(|row| row.5).sum::<i64>(), 1);
    let entered: i64 = rebuilt.0.iter().map(|row| row.4).sum();
    // won: Qualify, Develop, Propose, Develop, Propose; lost: Qualify, Develop, then reopened
    // into Develop; open: Qualify, Develop — the archived deal's two stays are gone.
    assert_eq!(entered, 5 + 3 + 2);
}
