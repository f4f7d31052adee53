//! The calls' and snapshots' harness: the forecasting service on real PostgreSQL and NATS, the
//! test standing in for the opportunities service (publishing its deal events, whose deals the
//! read model keeps) and for the gateway (filing the organisation's people and corporate
//! currency in the service's directory, as its org events would).

#![allow(dead_code, reason = "each test file uses part of the harness")]

#[path = "../service_app/mod.rs"]
mod service_app;

use std::time::Duration;

use chrono::NaiveDate;
use crm_platform::{
    auth::Caller,
    fiscal::FiscalCalendar,
    org::{DirectoryUser, OrgDirectory},
};
use crm_proto::crm::{
    common::v1::{LifecycleStage, Money},
    forecasting::v1::{
        forecast_call_service_client::ForecastCallServiceClient,
        snapshot_service_client::SnapshotServiceClient,
    },
    opportunities::v1::{
        CloseOutcome, CorporateAmount, Opportunity, OpportunityStatus, OpportunityUpdated,
        OpportunityWon, StageSummary,
    },
};
use crm_test_support::{TestApp, authorized, eventually, user};
use tonic::transport::Channel;
use uuid::Uuid;

pub const EAST: &str = "/northwind/east/";
pub const EAST_1: &str = "/northwind/east/e1/";
pub const EAST_2: &str = "/northwind/east/e2/";
pub const WEST: &str = "/northwind/west/";

/// Forecast categories of the deals' stages (crm.opportunities.v1.ForecastCategory).
pub const PIPELINE: i32 = 1;
pub const BEST_CASE: i32 = 2;
pub const COMMIT: i32 = 3;

pub struct Harness {
    pub app: TestApp,
    pub calls: ForecastCallServiceClient<Channel>,
    pub snapshots: SnapshotServiceClient<Channel>,
}

/// A deal as the opportunities service would publish it, in CNY (its corporate amount too).
#[derive(Clone, Debug)]
pub struct Deal {
    pub id: Uuid,
    pub owner: Caller,
    pub version: u64,
    pub amount: &'static str,
    pub category: i32,
    pub close: &'static str,
    /// The day won, for a won deal.
    pub won_on: Option<&'static str>,
}

impl Deal {
    pub fn open(owner: &Caller, amount: &'static str, category: i32, close: &'static str) -> Self {
        Deal {
            id: Uuid::now_v7(),
            owner: owner.clone(),
            version: 1,
            amount,
            category,
            close,
            won_on: None,
        }
    }

    /// The deal's next version with `change` made.
    pub fn then(&self, change: impl FnOnce(&mut Deal)) -> Deal {
        let mut next = self.clone();
        next.version += 1;
        change(&mut next);
        next
    }

    fn opportunity(&self) -> Opportunity {
        let money = |amount: &str| Money {
            currency_code: "CNY".into(),
            amount: amount.into(),
        };
        Opportunity {
            id: self.id.to_string(),
            name: format!("Deal of {}", self.amount),
            account_id: "01900000-0000-7000-8000-0000000000a1".into(),
            owner_id: self.owner.user_id.to_string(),
            owner_team_path: self.owner.team_path.as_str().into(),
            pipeline_id: "01900000-0000-7000-8000-000000000001".into(),
            stage: Some(StageSummary {
                stage_id: format!("01900000-0000-7000-8000-0000000000{:02}", self.category),
                name: "Stage".into(),
                position: 1,
                forecast_category: self.category,
                ..Default::default()
            }),
            effective_probability: 50,
            amount: Some(money(self.amount)),
            corporate_amount: Some(CorporateAmount {
                amount: Some(money(self.amount)),
                rate: "1".into(),
                rate_date: "2026-12-01".into(),
            }),
            expected_close_date: self.close.into(),
            status: if self.won_on.is_some() {
                OpportunityStatus::Won
            } else {
                OpportunityStatus::Open
            } as i32,
            outcome: self.won_on.map(|day| CloseOutcome {
                closed_on: day.into(),
                ..Default::default()
            }),
            version: self.version,
            ..Default::default()
        }
    }
}

impl Harness {
    pub async fn start() -> Self {
        let app = service_app::start(FiscalCalendar::default(), &[]).await;
        let channel = app.channel().await;
        Harness {
            calls: ForecastCallServiceClient::new(channel.clone()),
            snapshots: SnapshotServiceClient::new(channel),
            app,
        }
    }

    /// A person of the organisation, filed in the service's directory.
    pub async fn person(&self, role: &str, team: &str) -> Caller {
        let person = user(role, team);
        let mut connection = self.app.pool("forecasting").acquire().await.unwrap();
        OrgDirectory::record(
            &mut connection,
            &DirectoryUser {
                user_id: person.user_id,
                team_path: person.team_path.clone(),
                role: person.role,
                display_name: format!("{role} of {team}"),
                active: true,
                stage: LifecycleStage::Established,
                started_on: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
                version: 1,
            },
        )
        .await
        .unwrap();
        person
    }

    pub fn request<T>(&self, caller: &Caller, message: T) -> tonic::Request<T> {
        authorized(message, &self.app.token(caller))
    }

    /// Publishes each deal's event and waits until the read model holds them all.
    pub async fn publish(&self, deals: &[&Deal]) {
        for deal in deals {
            let opportunity = Some(deal.opportunity());
            if deal.won_on.is_some() {
                let event = OpportunityWon {
                    opportunity,
                    ..Default::default()
                };
                self.app.publish_event("forecasting", &event).await;
            } else {
                let event = OpportunityUpdated {
                    opportunity,
                    ..Default::default()
                };
                self.app.publish_event("forecasting", &event).await;
            }
        }
        let pool = self.app.pool("forecasting");
        for deal in deals {
            let (id, version) = (deal.id, deal.version as i64);
            eventually(
                Duration::from_secs(15),
                "the deal in the read model",
                || async move {
                    sqlx::query_scalar::<_, i64>("SELECT version FROM deals WHERE id = $1")
                        .bind(id)
                        .fetch_optional(pool)
                        .await
                        .unwrap()
                        .is_some_and(|held| held >= version)
                },
            )
            .await;
        }
    }
}

/// `CNY <amount>` as the wire carries it.
pub fn cny(amount: &str) -> Option<Money> {
    Some(Money {
        currency_code: "CNY".into(),
        amount: amount.into(),
    })
}

/// A money field's amount, or "" when absent.
pub fn amount(money: &Option<Money>) -> String {
    money
        .as_ref()
        .map(|money| money.amount.clone())
        .unwrap_or_default()
}
