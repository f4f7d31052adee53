//! The harness of the rankings' and analysis' tests: the forecasting service on real
//! PostgreSQL and NATS, the test standing in for the opportunities and accounts services by
//! publishing their events, and for the gateway by filing the directory and the organisation's
//! settings the way the directory consumer would.

#![allow(dead_code, reason = "each test file uses its part of the harness")]

#[path = "../service_app/mod.rs"]
mod service_app;

pub mod november;

use chrono::NaiveDate;
use crm_platform::{
    auth::{Caller, Role, TeamPath},
    fiscal::FiscalCalendar,
    org::{DirectoryUser, OrgDirectory},
};
use crm_proto::crm::{
    common::v1::{LifecycleStage, Money},
    opportunities::v1::{
        CloseOutcome, CorporateAmount, ForecastCategory, LineItem, Opportunity, OpportunityLost,
        OpportunityStatus, OpportunityUpdated, OpportunityWon, StageSummary,
    },
};
use crm_test_support::{TestApp, authorized};
use uuid::Uuid;

pub struct Harness {
    pub app: TestApp,
    /// Events published so far, to wait for their handling.
    published: i64,
}

/// A deal of the test's data set.
pub struct Deal<'a> {
    pub owner: &'a Caller,
    pub account_id: Uuid,
    pub amount: &'a str,
    /// Open, won or lost.
    pub status: OpportunityStatus,
    /// The day won or lost; the expected close date of an open deal.
    pub day: &'a str,
    pub probability: u32,
    /// (product code, line total).
    pub lines: &'a [(&'a str, &'a str)],
}

impl Harness {
    /// The service with the organisation's corporate currency CNY and `calendar`; `overrides`
    /// are further `CRM_*` settings.
    pub async fn start(calendar: FiscalCalendar, overrides: &[(&str, &str)]) -> Harness {
        let app = service_app::start(calendar, overrides).await;
        Harness { app, published: 0 }
    }

    /// A person of the directory (as the gateway's user events would file them).
    pub async fn person(&self, name: &str, role: &str, team: &str) -> Caller {
        let caller = Caller::user(
            Uuid::now_v7(),
            role.parse::<Role>().unwrap(),
            TeamPath::parse(team).unwrap(),
        );
        let user = DirectoryUser {
            user_id: caller.user_id,
            team_path: caller.team_path.clone(),
            role: caller.role,
            display_name: name.to_owned(),
            active: true,
            stage: LifecycleStage::Established,
            started_on: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
            version: 1,
        };
        let mut connection = self.app.pool("forecasting").acquire().await.unwrap();
        OrgDirectory::record(&mut connection, &user).await.unwrap();
        caller
    }

    pub fn request<T>(&self, caller: &Caller, message: T) -> tonic::Request<T> {
        authorized(message, &self.app.token(caller))
    }

    pub async fn publish<E: crm_platform::events::DomainEvent>(&mut self, event: &E) {
        self.app.publish_event("forecasting", event).await;
        self.published += 1;
    }

    /// Publishes the deal's event at `version` (won, lost, or an update while open); returns
    /// its id.
    pub async fn deal(&mut self, deal: &Deal<'_>) -> Uuid {
        let id = Uuid::now_v7();
        self.deal_at(id, 1, deal).await;
        id
    }

    pub async fn deal_at(&mut self, id: Uuid, version: u64, deal: &Deal<'_>) {
        let opportunity = opportunity(id, version, deal);
        match deal.status {
            OpportunityStatus::Won => {
                self.publish(&OpportunityWon {
                    opportunity: Some(opportunity),
                    ..Default::default()
                })
                .await
            }
            OpportunityStatus::Lost => {
                self.publish(&OpportunityLost {
                    opportunity: Some(opportunity),
                    ..Default::default()
                })
                .await
            }
            _ => {
                self.publish(&OpportunityUpdated {
                    opportunity: Some(opportunity),
                    ..Default::default()
                })
                .await
            }
        }
    }

    /// Waits until every event published so far is handled.
    pub async fn settled(&self) {
        self.app.handled("forecasting", self.published).await;
    }
}

fn cny(amount: &str) -> Option<Money> {
    Some(Money {
        currency_code: "CNY".into(),
        amount: amount.into(),
    })
}

fn opportunity(id: Uuid, version: u64, deal: &Deal<'_>) -> Opportunity {
    let (category, position) = match deal.status {
        OpportunityStatus::Won => (ForecastCategory::Closed, 5),
        OpportunityStatus::Lost => (ForecastCategory::Omitted, 6),
        _ => (ForecastCategory::Pipeline, 2),
    };
    let closed = deal.status != OpportunityStatus::Open;
    Opportunity {
        id: id.to_string(),
        name: format!("{} deal of {}", deal.amount, deal.day),
        account_id: deal.account_id.to_string(),
        owner_id: deal.owner.user_id.to_string(),
        owner_team_path: deal.owner.team_path.as_str().into(),
        pipeline_id: "01900000-0000-7000-8000-000000000001".into(),
        stage: Some(StageSummary {
            stage_id: format!("01900000-0000-7000-8000-0000000000{position:02}"),
            name: format!("stage {position}"),
            position,
            forecast_category: category as i32,
            ..Default::default()
        }),
        effective_probability: deal.probability,
        amount: cny(deal.amount),
        corporate_amount: Some(CorporateAmount {
            amount: cny(deal.amount),
            rate: "1".into(),
            rate_date: "2026-01-01".into(),
        }),
        expected_close_date: deal.day.into(),
        line_items: deal
            .lines
            .iter()
            .map(|(code, total)| LineItem {
                product_code: (*code).into(),
                product_name: format!("{code} product"),
                quantity: "1".into(),
                total: cny(total),
                ..Default::default()
            })
            .collect(),
        status: deal.status as i32,
        outcome: closed.then(|| CloseOutcome {
            closed_on: deal.day.into(),
            ..Default::default()
        }),
        version,
        ..Default::default()
    }
}
