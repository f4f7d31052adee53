//! The weighted pipeline (F1) and its categories (F2) over real PostgreSQL and NATS, against a
//! data set computed by hand, in a fiscal year that starts in April (FY2026 = April 2026 to
//! March 2027, its Q3 October to December 2026). The test stands in for the opportunities
//! service by publishing its deal events, and for the gateway by filing the directory.
//!
//! | deal | owner (team)        | status | category  | prob. | CNY       | counts on  |
//! |------|---------------------|--------|-----------|-------|-----------|------------|
//! | 1    | Ravi (east-1)       | open   | commit    | 90    | 500,000   | 2026-11-20 |
//! | 2    | Ravi (east-1)       | open   | best case | 60    | 1,000,000 | 2026-12-05 |
//! | 3    | Nora (east-2)       | open   | pipeline  | 20    | 200,000   | 2026-10-31 |
//! | 4    | Nora (east-2)       | won    | closed    | —     | 250,000   | 2026-10-15 |
//! | 5    | Wes (west)          | open   | commit    | 90    | 400,000   | 2026-11-01 |
//! | 6    | Ravi (east-1)       | open   | pipeline  | 20    | 300,000   | 2027-01-15 |
//! | 7    | Ravi (east-1)       | open   | commit    | 90    | no rate   | 2026-11-11 |
//! | 8    | Mei (east, manager) | open   | best case | 50    | 100,000   | 2026-12-20 |
//!
//! East's FY2026-Q3: commit 500,000 (weighted 450,000), best case 1,100,000 (650,000),
//! pipeline 200,000 (40,000), closed 250,000, one unconverted deal; commit total 750,000, best
//! case total 1,850,000, weighted total 250,000 + 1,140,000 = 1,390,000. The company adds
//! Wes's 400,000 commit (360,000): weighted total 1,750,000.

mod service_app;

use std::time::Duration;

use chrono::NaiveDate;
use crm_platform::{
    auth::{Caller, Role, TeamPath},
    fiscal::{FiscalCalendar, FiscalYearNaming},
    org::{DirectoryUser, OrgDirectory},
};
use crm_proto::crm::{
    common::v1::{LifecycleStage, Money},
    forecasting::v1::{
        self as pb, forecast_service_client::ForecastServiceClient, resolved_scope, roll_up_line,
    },
    opportunities::v1::{
        CloseOutcome, CorporateAmount, ForecastCategory, Opportunity, OpportunityStageChanged,
        OpportunityStatus, StageSummary,
    },
};
use crm_test_support::{TestApp, authorized, eventually};
use tonic::{Code, transport::Channel};
use uuid::Uuid;

const RAVI: &str = "01900000-0000-7000-8000-0000000000b1";
const NORA: &str = "01900000-0000-7000-8000-0000000000b2";
const WES: &str = "01900000-0000-7000-8000-0000000000b3";
const MEI: &str = "01900000-0000-7000-8000-0000000000b4";
const EAST: &str = "/northwind/east/";
const EAST_1: &str = "/northwind/east/east-1/";
const EAST_2: &str = "/northwind/east/east-2/";
const WEST: &str = "/northwind/west/";

struct Harness {
    app: TestApp,
    client: ForecastServiceClient<Channel>,
}

fn caller(id: &str, role: Role, team: &str) -> Caller {
    Caller::user(id.parse().unwrap(), role, TeamPath::parse(team).unwrap())
}

fn mei() -> Caller {
    caller(MEI, Role::Manager, EAST)
}

fn ravi() -> Caller {
    caller(RAVI, Role::Rep, EAST_1)
}

fn admin() -> Caller {
    caller(
        "01900000-0000-7000-8000-0000000000a9",
        Role::Admin,
        "/northwind/",
    )
}

impl Harness {
    async fn start() -> Self {
        let app = service_app::start(
            FiscalCalendar::new(4, FiscalYearNaming::StartingYear).unwrap(),
            &[],
        )
        .await;
        let mut connection = app.pool("forecasting").acquire().await.unwrap();
        for (id, team, role) in [
            (RAVI, EAST_1, Role::Rep),
            (NORA, EAST_2, Role::Rep),
            (WES, WEST, Role::Rep),
            (MEI, EAST, Role::Manager),
        ] {
            let user = DirectoryUser {
                user_id: id.parse().unwrap(),
                team_path: TeamPath::parse(team).unwrap(),
                role,
                display_name: id.into(),
                active: true,
                stage: LifecycleStage::Established,
                started_on: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
                version: 1,
            };
            OrgDirectory::record(&mut connection, &user).await.unwrap();
        }
        let client = ForecastServiceClient::new(app.channel().await);
        Harness { app, client }
    }

    /// Publishes the deal's state at `version` and waits until the read model holds it.
    async fn publish(&self, deal: &Opportunity) {
        self.app
            .publish_event(
                "forecasting",
                &OpportunityStageChanged {
                    opportunity: Some(deal.clone()),
                    ..Default::default()
                },
            )
            .await;
        let pool = self.app.pool("forecasting");
        let (id, version) = (deal.id.parse::<Uuid>().unwrap(), deal.version as i64);
        eventually(
            Duration::from_secs(10),
            "the deal in the read model",
            || async move {
                sqlx::query_scalar::<_, i64>("SELECT version FROM deals WHERE id = $1")
                    .bind(id)
                    .fetch_optional(pool)
                    .await
                    .unwrap()
                    == Some(version)
            },
        )
        .await;
    }

    async fn forecast(
        &self,
        who: &Caller,
        scope: Option<pb::ForecastScope>,
        period: &str,
    ) -> Result<pb::GetPipelineForecastResponse, tonic::Status> {
        let request = pb::GetPipelineForecastRequest {
            scope,
            period: period.into(),
        };
        let mut client = self.client.clone();
        Ok(client
            .get_pipeline_forecast(authorized(request, &self.app.token(who)))
            .await?
            .into_inner())
    }

    async fn team_forecast(&self, team: &str, period: &str) -> pb::PipelineForecast {
        let scope = pb::ForecastScope {
            team_path: team.into(),
            ..Default::default()
        };
        self.forecast(&admin(), Some(scope), period)
            .await
            .unwrap()
            .forecast
            .unwrap()
    }
}

/// Deal `n` of the table: `(owner, team, category, probability, amount, close day)`.
fn deal(
    n: u8,
    owner: &str,
    team: &str,
    stage: (ForecastCategory, u32),
    amount: Option<&str>,
    day: &str,
) -> Opportunity {
    let cny = |amount: &str| Money {
        currency_code: "CNY".into(),
        amount: amount.into(),
    };
    Opportunity {
        id: format!("01900000-0000-7000-8000-0000000001{n:02}"),
        name: format!("Deal {n}"),
        account_id: "01900000-0000-7000-8000-0000000000c1".into(),
        owner_id: owner.into(),
        owner_team_path: team.into(),
        pipeline_id: "01900000-0000-7000-8000-000000000001".into(),
        stage: Some(StageSummary {
            stage_id: format!("01900000-0000-7000-8000-0000000000{:02}", stage.0 as i32),
            name: format!("{:?}", stage.0),
            forecast_category: stage.0 as i32,
            ..Default::default()
        }),
        effective_probability: stage.1,
        amount: Some(match amount {
            Some(amount) => cny(amount),
            None => Money {
                currency_code: "USD".into(),
                amount: "10000".into(),
            },
        }),
        corporate_amount: amount.map(|amount| CorporateAmount {
            amount: Some(cny(amount)),
            rate: "1".into(),
            rate_date: "2026-10-01".into(),
        }),
        expected_close_date: day.into(),
        status: OpportunityStatus::Open as i32,
        version: 1,
        ..Default::default()
    }
}

fn won(mut deal: Opportunity, on: &str) -> Opportunity {
    deal.status = OpportunityStatus::Won as i32;
    deal.stage = Some(StageSummary {
        stage_id: "01900000-0000-7000-8000-000000000099".into(),
        name: "Closed Won".into(),
        forecast_category: ForecastCategory::Closed as i32,
        ..Default::default()
    });
    deal.effective_probability = 100;
    deal.outcome = Some(CloseOutcome {
        closed_on: on.into(),
        ..Default::default()
    });
    deal.version = 2;
    deal
}

fn table() -> Vec<Opportunity> {
    use ForecastCategory::{BestCase, Commit, Pipeline};
    vec![
        deal(1, RAVI, EAST_1, (Commit, 90), Some("500000"), "2026-11-20"),
        deal(
            2,
            RAVI,
            EAST_1,
            (BestCase, 60),
            Some("1000000"),
            "2026-12-05",
        ),
        deal(
            3,
            NORA,
            EAST_2,
            (Pipeline, 20),
            Some("200000"),
            "2026-10-31",
        ),
        won(
            deal(4, NORA, EAST_2, (Commit, 90), Some("250000"), "2026-12-31"),
            "2026-10-15",
        ),
        deal(5, WES, WEST, (Commit, 90), Some("400000"), "2026-11-01"),
        deal(
            6,
            RAVI,
            EAST_1,
            (Pipeline, 20),
            Some("300000"),
            "2027-01-15",
        ),
        deal(7, RAVI, EAST_1, (Commit, 90), None, "2026-11-11"),
        deal(8, MEI, EAST, (BestCase, 50), Some("100000"), "2026-12-20"),
    ]
}

fn amount(money: &Option<Money>) -> String {
    let money = money.as_ref().expect("an amount");
    format!("{} {}", money.currency_code, money.amount)
}

fn category(forecast: &pb::PipelineForecast, category: ForecastCategory) -> (u32, String, String) {
    let totals = forecast
        .open_by_category
        .iter()
        .find(|totals| totals.category == category as i32)
        .and_then(|totals| totals.totals.clone())
        .unwrap();
    (
        totals.deal_count,
        amount(&totals.amount),
        amount(&totals.weighted_amount),
    )
}

fn assert_east_q3(east: &pb::PipelineForecast) {
    assert_eq!(east.period.as_ref().unwrap().start_date, "2026-10-01");
    assert_eq!(east.period.as_ref().unwrap().end_date, "2026-12-31");
    assert_eq!(
        category(east, ForecastCategory::Commit),
        (1, "CNY 500000".into(), "CNY 450000".into())
    );
    assert_eq!(
        category(east, ForecastCategory::BestCase),
        (2, "CNY 1100000".into(), "CNY 650000".into())
    );
    assert_eq!(
        category(east, ForecastCategory::Pipeline),
        (1, "CNY 200000".into(), "CNY 40000".into())
    );
    let closed = east.closed.as_ref().unwrap();
    assert_eq!(
        (closed.deal_count, amount(&closed.amount)),
        (1, "CNY 250000".into())
    );
    assert_eq!(east.unconverted_deals, 1);
    assert_eq!(amount(&east.commit_total), "CNY 750000");
    assert_eq!(amount(&east.best_case_total), "CNY 1850000");
    assert_eq!(amount(&east.weighted_total), "CNY 1390000");
}

#[tokio::test]
async fn a_teams_quarter_adds_up_to_the_hand_computed_forecast_in_an_april_fiscal_year() {
    let harness = Harness::start().await;
    for deal in table() {
        harness.publish(&deal).await;
    }
    assert_east_q3(&harness.team_forecast(EAST, "FY2026-Q3").await);

    // The company adds Wes's commit; the quarter's parts are its three months.
    let company = harness.forecast(&admin(), None, "FY2026-Q3").await.unwrap();
    let whole = company.forecast.unwrap();
    assert_eq!(
        whole.scope.unwrap().of,
        Some(resolved_scope::Of::Company(true))
    );
    assert_eq!(amount(&whole.weighted_total), "CNY 1750000");
    assert_eq!(
        company
            .parts
            .iter()
            .map(|part| (
                part.period.as_ref().unwrap().label.clone(),
                amount(&part.weighted_total)
            ))
            .collect::<Vec<_>>(),
        [
            ("2026-10".to_owned(), "CNY 290000".to_owned()),
            ("2026-11".to_owned(), "CNY 810000".to_owned()),
            ("2026-12".to_owned(), "CNY 650000".to_owned()),
        ]
    );
    // The fiscal year holds January 2027 too (deal 6: 300,000 at 20 %), in four quarters.
    let year = harness.forecast(&admin(), None, "FY2026").await.unwrap();
    assert_eq!(
        amount(&year.forecast.unwrap().weighted_total),
        "CNY 1810000"
    );
    assert_eq!(year.parts.len(), 4);
    assert_eq!(year.parts[0].period.as_ref().unwrap().label, "FY2026-Q1");
    assert_eq!(
        year.parts[0].period.as_ref().unwrap().start_date,
        "2026-04-01"
    );

    // Ravi's own: deals 1 and 2 (and 7, unconverted) in the quarter.
    let own = harness.forecast(&ravi(), None, "FY2026-Q3").await.unwrap();
    let own = own.forecast.unwrap();
    assert_eq!(amount(&own.weighted_total), "CNY 1050000");
    assert_eq!(own.unconverted_deals, 1);
    // Out of his reach: Nora's numbers.
    let nora = pb::ForecastScope {
        user_id: NORA.into(),
        ..Default::default()
    };
    let refused = harness.forecast(&ravi(), Some(nora), "FY2026-Q3").await;
    assert_eq!(refused.unwrap_err().code(), Code::PermissionDenied);
}

#[tokio::test]
async fn a_roll_up_splits_the_team_into_sub_teams_and_its_own_reps_and_follows_a_team_move() {
    let harness = Harness::start().await;
    for deal in table() {
        harness.publish(&deal).await;
    }
    let roll_up = |harness: &Harness| {
        let mut client = harness.client.clone();
        let token = harness.app.token(&mei());
        async move {
            let request = pb::GetPipelineRollUpRequest {
                team_path: String::new(),
                period: "FY2026-Q3".into(),
            };
            client
                .get_pipeline_roll_up(authorized(request, &token))
                .await
                .unwrap()
                .into_inner()
        }
    };
    let lines = |response: &pb::GetPipelineRollUpResponse| {
        response
            .lines
            .iter()
            .map(|line| {
                let name = match line.of.clone().unwrap() {
                    roll_up_line::Of::TeamPath(team) => team,
                    roll_up_line::Of::UserId(user) => user,
                };
                (
                    name,
                    amount(&line.forecast.as_ref().unwrap().weighted_total),
                )
            })
            .collect::<Vec<_>>()
    };
    let before = roll_up(&harness).await;
    assert_east_q3(before.total.as_ref().unwrap());
    assert_eq!(
        lines(&before),
        [
            (EAST_1.to_owned(), "CNY 1050000".to_owned()),
            (EAST_2.to_owned(), "CNY 290000".to_owned()),
            (MEI.to_owned(), "CNY 50000".to_owned()),
        ]
    );
    // Nora moves to east-1: the opportunities service re-publishes her deals with her new
    // team, and the roll-up follows.
    for mut moved in table().into_iter().filter(|deal| deal.owner_id == NORA) {
        moved.owner_team_path = EAST_1.into();
        moved.version += 1;
        harness.publish(&moved).await;
    }
    let after = roll_up(&harness).await;
    assert_east_q3(after.total.as_ref().unwrap());
    assert_eq!(
        lines(&after),
        [
            (EAST_1.to_owned(), "CNY 1340000".to_owned()),
            (MEI.to_owned(), "CNY 50000".to_owned()),
        ]
    );
}

#[tokio::test]
async fn a_reps_category_override_holds_until_the_deal_changes_stage_and_a_rebuild_keeps_it() {
    let harness = Harness::start().await;
    for deal in table() {
        harness.publish(&deal).await;
    }
    let set = |category: ForecastCategory, who: Caller, deal: u8| {
        let mut client = harness.client.clone();
        let token = harness.app.token(&who);
        async move {
            let request = pb::SetDealCategoryRequest {
                opportunity_id: format!("01900000-0000-7000-8000-0000000001{deal:02}"),
                category: category as i32,
                note: "Budget approved by the CFO".into(),
            };
            client.set_deal_category(authorized(request, &token)).await
        }
    };
    // Ravi commits deal 2: East's commit gains 1,000,000 (weighted stays 600,000).
    let answered = set(ForecastCategory::Commit, ravi(), 2)
        .await
        .unwrap()
        .into_inner();
    let deal = answered.deal.unwrap();
    assert!(deal.category_overridden);
    assert_eq!(deal.category, ForecastCategory::Commit as i32);
    assert_eq!(deal.stage_category, ForecastCategory::BestCase as i32);
    assert_eq!(answered.category_override.unwrap().set_by, RAVI);
    let east = harness.team_forecast(EAST, "FY2026-Q3").await;
    assert_eq!(category(&east, ForecastCategory::Commit).1, "CNY 1500000");
    assert_eq!(amount(&east.weighted_total), "CNY 1390000");
    // Closed comes only from winning; a won deal's category is not chosen; Nora's deal is out
    // of Ravi's reach.
    let closed = set(ForecastCategory::Closed, ravi(), 2).await.unwrap_err();
    assert_eq!(closed.code(), Code::FailedPrecondition);
    let won = set(ForecastCategory::Commit, mei(), 4).await.unwrap_err();
    assert_eq!(won.code(), Code::FailedPrecondition);
    let theirs = set(ForecastCategory::Commit, ravi(), 3).await.unwrap_err();
    assert_eq!(theirs.code(), Code::NotFound);

    // A rebuild from the stream gives the same numbers, the override included.
    let before = harness.forecast(&admin(), None, "FY2026").await.unwrap();
    let context = harness.app.services.context("forecasting").unwrap();
    let report =
        crm_forecasting::rebuild_read_model(&context.pool, &context.jetstream, &context.naming)
            .await
            .unwrap();
    assert_eq!(report[0].1.applied, 8);
    let after = harness.forecast(&admin(), None, "FY2026").await.unwrap();
    assert_eq!(before, after);
    let east = harness.team_forecast(EAST, "FY2026-Q3").await;
    assert_eq!(category(&east, ForecastCategory::Commit).1, "CNY 1500000");

    // Deal 2 moves on to a stage of category pipeline: its stage's category applies again.
    let mut moved = table().remove(1);
    moved.stage = Some(StageSummary {
        stage_id: "01900000-0000-7000-8000-000000000077".into(),
        name: "Re-qualify".into(),
        forecast_category: ForecastCategory::Pipeline as i32,
        ..Default::default()
    });
    moved.version = 2;
    harness.publish(&moved).await;
    let east = harness.team_forecast(EAST, "FY2026-Q3").await;
    assert_eq!(category(&east, ForecastCategory::Commit).1, "CNY 500000");
    assert_eq!(category(&east, ForecastCategory::Pipeline).0, 2);

    // Deal 1's amount rises to 600,000 within its sum: the sum's amounts move, its count not.
    let mut raised = table().remove(0);
    raised.amount = Some(Money {
        currency_code: "CNY".into(),
        amount: "600000".into(),
    });
    raised.corporate_amount = Some(CorporateAmount {
        amount: raised.amount.clone(),
        rate: "1".into(),
        rate_date: "2026-10-01".into(),
    });
    raised.version = 2;
    harness.publish(&raised).await;
    let east = harness.team_forecast(EAST, "FY2026-Q3").await;
    assert_eq!(
        category(&east, ForecastCategory::Commit),
        (1, "CNY 600000".into(), "CNY 540000".into())
    );
}
