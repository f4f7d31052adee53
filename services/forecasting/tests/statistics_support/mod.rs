//! The statistics tests' harness: the service with the organisation's settings, deals of a
//! pipeline at a version in a stage, published as the opportunities service would.
#![allow(dead_code, reason = "each test file uses its part")]

#[path = "../service_app/mod.rs"]
mod service_app;

use crm_platform::{
    auth::Caller,
    fiscal::{FiscalCalendar, FiscalYearNaming},
};
use crm_proto::crm::{
    common::v1::Money,
    forecasting::v1::{self as pb, statistics_service_client::StatisticsServiceClient},
    opportunities::v1::{
        CloseOutcome, CorporateAmount, Opportunity, OpportunityLost, OpportunityStageChanged,
        OpportunityStatus, OpportunityWon, StageKind, StageSummary,
    },
};
use crm_test_support::TestApp;
use uuid::Uuid;

pub const EAST_1: &str = "/northwind/east/east-1/";
pub const WEST: &str = "/northwind/west/";
pub const PIPELINE: &str = "01900000-0000-7000-8000-000000000001";

/// The service with the organisation's settings: CNY, fiscal years from April named by the
/// year they end in (April 2026 – March 2027 is FY2027).
pub async fn start() -> TestApp {
    service_app::start(
        FiscalCalendar::new(4, FiscalYearNaming::EndingYear).unwrap(),
        &[],
    )
    .await
}

/// A stage of the pipeline: (id's last digits, name, position, kind, default probability).
pub type Stage = (u32, &'static str, u32, StageKind, u32);
pub const QUALIFY: Stage = (11, "Qualify", 1, StageKind::Open, 20);
pub const PROPOSE: Stage = (12, "Propose", 2, StageKind::Open, 50);
pub const WON: Stage = (18, "Won", 8, StageKind::Won, 100);
pub const LOST: Stage = (19, "Lost", 9, StageKind::Lost, 0);

pub fn stage_id(stage: Stage) -> String {
    format!("01900000-0000-7000-8000-0000000000{:02}", stage.0)
}

pub fn cny(amount: &str) -> Money {
    Money {
        currency_code: "CNY".into(),
        amount: amount.into(),
    }
}

/// A deal of `owner` at `version` in `stage`, worth `amount` CNY (converted unless
/// `converted` is false), closed on `closed_on` when the stage is won or lost.
pub struct Deal {
    pub id: Uuid,
    pub owner: Uuid,
    pub team: &'static str,
    pub amount: &'static str,
    pub converted: bool,
}

impl Deal {
    pub fn of(owner: &Caller, amount: &'static str) -> Deal {
        Deal {
            id: Uuid::now_v7(),
            owner: owner.user_id,
            team: if owner.team_path.as_str() == WEST {
                WEST
            } else {
                EAST_1
            },
            amount,
            converted: true,
        }
    }

    pub fn at(&self, version: u64, stage: Stage, probability: u32, closed_on: &str) -> Opportunity {
        let status = match stage.3 {
            StageKind::Won => OpportunityStatus::Won,
            StageKind::Lost => OpportunityStatus::Lost,
            _ => OpportunityStatus::Open,
        };
        Opportunity {
            id: self.id.to_string(),
            name: "Contoso — Line 3 automation".into(),
            account_id: "01900000-0000-7000-8000-0000000000a1".into(),
            owner_id: self.owner.to_string(),
            owner_team_path: self.team.into(),
            pipeline_id: PIPELINE.into(),
            stage: Some(StageSummary {
                stage_id: stage_id(stage),
                name: stage.1.into(),
                position: stage.2,
                kind: stage.3 as i32,
                forecast_category: match stage.3 {
                    StageKind::Won => 4,
                    StageKind::Lost => 5,
                    _ => 1,
                },
                default_probability: stage.4,
            }),
            effective_probability: probability,
            amount: Some(cny(self.amount)),
            corporate_amount: self.converted.then(|| CorporateAmount {
                amount: Some(cny(self.amount)),
                rate: "1".into(),
                rate_date: "2026-01-01".into(),
            }),
            expected_close_date: "2027-01-30".into(),
            status: status as i32,
            outcome: (!closed_on.is_empty()).then(|| CloseOutcome {
                closed_on: closed_on.into(),
                ..Default::default()
            }),
            version,
            ..Default::default()
        }
    }
}

pub async fn publish(app: &TestApp, opportunity: Opportunity) {
    let status = opportunity.status;
    let opportunity = Some(opportunity);
    if status == OpportunityStatus::Won as i32 {
        let event = OpportunityWon {
            opportunity,
            ..Default::default()
        };
        app.publish_event("forecasting", &event).await;
    } else if status == OpportunityStatus::Lost as i32 {
        let event = OpportunityLost {
            opportunity,
            ..Default::default()
        };
        app.publish_event("forecasting", &event).await;
    } else {
        let event = OpportunityStageChanged {
            opportunity,
            ..Default::default()
        };
        app.publish_event("forecasting", &event).await;
    }
}

/// Waits until the forecasting consumer has handled `count` events in all.
pub async fn handled(app: &TestApp, count: i64) {
    app.handled("forecasting", count).await;
}

pub async fn client(app: &TestApp) -> StatisticsServiceClient<tonic::transport::Channel> {
    StatisticsServiceClient::new(app.channel().await)
}

pub fn amount(money: &Option<Money>) -> String {
    money
        .as_ref()
        .map(|money| format!("{} {}", money.amount, money.currency_code))
        .unwrap_or_default()
}

pub fn labels<'a>(periods: impl Iterator<Item = &'a Option<pb::FiscalPeriod>>) -> Vec<String> {
    periods
        .map(|period| period.as_ref().unwrap().label.clone())
        .collect()
}
