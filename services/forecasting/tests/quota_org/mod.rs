//! The organisation the quota tests run in: an April fiscal year (FY2026 = April 2026 – March
//! 2027), CNY as the corporate currency, an admin, the east team's manager and reps, a west rep;
//! the test standing in for the opportunities service by publishing won deals and activities.
#![allow(dead_code, reason = "each test file uses part of the organisation")]

#[path = "../service_app/mod.rs"]
mod service_app;

use chrono::{NaiveDate, TimeZone, Utc};
use crm_platform::{
    auth::{Caller, Role, TeamPath},
    fiscal::{FiscalCalendar, FiscalYearNaming},
    org::{DirectoryUser, OrgDirectory},
    time::to_timestamp,
};
use crm_proto::crm::{
    common::v1::{LifecycleStage, Money},
    forecasting::v1::{
        self as pb, ForecastScope, quota_service_client::QuotaServiceClient, resolved_scope,
        target_value,
    },
    opportunities::v1::{
        Activity, ActivityKind, ActivityLogged, CloseOutcome, CorporateAmount, Opportunity,
        OpportunityStatus, OpportunityWon, StageSummary,
    },
};
use crm_test_support::{TestApp, authorized};
use tonic::transport::Channel;
use uuid::Uuid;

pub struct Org {
    pub app: TestApp,
    pub quotas: QuotaServiceClient<Channel>,
    pub admin: Caller,
    pub manager: Caller,
    /// Reps of the east team, by id order: r1, r2, and r4 who started on 2026-03-15.
    pub r1: Caller,
    pub r2: Caller,
    pub r4: Caller,
    /// The west team's rep.
    pub r3: Caller,
}

pub fn team(path: &str) -> TeamPath {
    TeamPath::parse(path).unwrap()
}

pub fn person(id: u128, role: Role, path: &str) -> Caller {
    Caller::user(
        Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + id),
        role,
        team(path),
    )
}

pub async fn start() -> Org {
    let app = service_app::start(
        FiscalCalendar::new(4, FiscalYearNaming::StartingYear).unwrap(),
        &[],
    )
    .await;
    let org = Org {
        quotas: QuotaServiceClient::new(app.channel().await),
        admin: person(1, Role::Admin, "/northwind/"),
        manager: person(2, Role::Manager, "/northwind/east/"),
        r1: person(11, Role::Rep, "/northwind/east/"),
        r2: person(12, Role::Rep, "/northwind/east/"),
        r4: person(14, Role::Rep, "/northwind/east/"),
        r3: person(13, Role::Rep, "/northwind/west/"),
        app,
    };
    let mut connection = org.app.pool("forecasting").acquire().await.unwrap();
    for caller in [&org.admin, &org.manager, &org.r1, &org.r2, &org.r3, &org.r4] {
        let user = DirectoryUser {
            user_id: caller.user_id,
            team_path: caller.team_path.clone(),
            role: caller.role,
            display_name: String::new(),
            active: true,
            stage: LifecycleStage::Established,
            started_on: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
            version: 1,
        };
        OrgDirectory::record(&mut connection, &user).await.unwrap();
    }
    org
}

pub fn cny(amount: &str) -> Money {
    Money {
        currency_code: "CNY".into(),
        amount: amount.into(),
    }
}

pub fn amount(value: &str) -> Option<pb::TargetValue> {
    Some(pb::TargetValue {
        of: Some(target_value::Of::Amount(cny(value))),
    })
}

pub fn value(value: &str) -> Option<pb::TargetValue> {
    Some(pb::TargetValue {
        of: Some(target_value::Of::Value(value.into())),
    })
}

pub fn shown(target: &Option<pb::TargetValue>) -> String {
    match target.as_ref().and_then(|target| target.of.as_ref()) {
        Some(target_value::Of::Amount(money)) => money.amount.clone(),
        Some(target_value::Of::Value(value)) => value.clone(),
        None => "-".into(),
    }
}

pub fn rep(caller: &Caller) -> Option<ForecastScope> {
    Some(ForecastScope {
        user_id: caller.user_id.to_string(),
        ..Default::default()
    })
}

pub fn of_team(path: &str) -> Option<ForecastScope> {
    Some(ForecastScope {
        team_path: path.into(),
        ..Default::default()
    })
}

pub fn company() -> Option<ForecastScope> {
    Some(ForecastScope {
        company: true,
        ..Default::default()
    })
}

pub fn holder_name(holder: &Option<pb::ResolvedScope>, org: &Org) -> String {
    match holder.as_ref().and_then(|holder| holder.of.as_ref()) {
        Some(resolved_scope::Of::Company(_)) => "company".into(),
        Some(resolved_scope::Of::TeamPath(path)) => path.clone(),
        Some(resolved_scope::Of::UserId(id)) => {
            let names = [
                ("r1", &org.r1),
                ("r2", &org.r2),
                ("r3", &org.r3),
                ("r4", &org.r4),
            ];
            names
                .iter()
                .find(|(_, caller)| caller.user_id.to_string() == *id)
                .map_or(id.clone(), |(name, _)| (*name).to_owned())
        }
        None => "-".into(),
    }
}

impl Org {
    pub fn request<T>(&self, caller: &Caller, message: T) -> tonic::Request<T> {
        authorized(message, &self.app.token(caller))
    }

    pub async fn set(
        &self,
        caller: &Caller,
        holder: Option<ForecastScope>,
        kind: pb::TargetKind,
        period: &str,
        target: Option<pb::TargetValue>,
    ) -> Result<pb::Quota, tonic::Status> {
        let request = pb::SetQuotaRequest {
            holder,
            kind: kind as i32,
            period: period.into(),
            target,
        };
        let response = self
            .quotas
            .clone()
            .set_quota(self.request(caller, request))
            .await?;
        Ok(response.into_inner().quota.unwrap())
    }

    pub async fn decompose(
        &self,
        caller: &Caller,
        request: pb::DecomposeQuotaRequest,
    ) -> Result<Vec<(String, String)>, tonic::Status> {
        let response = self
            .quotas
            .clone()
            .decompose_quota(self.request(caller, request))
            .await?
            .into_inner();
        Ok(response
            .children
            .iter()
            .map(|child| (holder_name(&child.holder, self), shown(&child.target)))
            .collect())
    }

    /// (parent, quota, children's sum, difference, no child quotas) of each finding.
    pub async fn check(
        &self,
        caller: &Caller,
        scope: Option<ForecastScope>,
        period: &str,
    ) -> Vec<(String, String, String, String, bool)> {
        let request = pb::CheckQuotasRequest {
            scope,
            period: period.into(),
            kind: pb::TargetKind::Revenue as i32,
        };
        let response = self
            .quotas
            .clone()
            .check_quotas(self.request(caller, request))
            .await
            .unwrap()
            .into_inner();
        response
            .findings
            .iter()
            .map(|finding| {
                (
                    holder_name(&finding.parent, self),
                    shown(&finding.quota),
                    shown(&finding.children_sum),
                    shown(&finding.difference),
                    finding.no_child_quotas,
                )
            })
            .collect()
    }

    /// Publishes `owner`'s deal on `account` won on `closed_on` for `amount` CNY.
    pub async fn won(&self, owner: &Caller, account: u128, closed_on: &str, amount: &str) {
        let deal = Opportunity {
            id: Uuid::now_v7().to_string(),
            name: "won deal".into(),
            account_id: Uuid::from_u128(account).to_string(),
            owner_id: owner.user_id.to_string(),
            owner_team_path: owner.team_path.as_str().into(),
            pipeline_id: Uuid::now_v7().to_string(),
            stage: Some(StageSummary {
                stage_id: Uuid::now_v7().to_string(),
                name: "Won".into(),
                position: 6,
                forecast_category: 4,
                ..Default::default()
            }),
            effective_probability: 100,
            amount: Some(cny(amount)),
            corporate_amount: Some(CorporateAmount {
                amount: Some(cny(amount)),
                rate: "1".into(),
                rate_date: closed_on.into(),
            }),
            expected_close_date: closed_on.into(),
            status: OpportunityStatus::Won as i32,
            outcome: Some(CloseOutcome {
                closed_on: closed_on.into(),
                ..Default::default()
            }),
            version: 2,
            ..Default::default()
        };
        self.app
            .publish_event(
                "forecasting",
                &OpportunityWon {
                    opportunity: Some(deal),
                    ..Default::default()
                },
            )
            .await;
    }

    pub async fn activity(&self, id: Uuid, version: u64, kind: ActivityKind, day: (u32, u32)) {
        let starts_at = Utc.with_ymd_and_hms(2026, day.0, day.1, 9, 0, 0).unwrap();
        let activity = Activity {
            id: id.to_string(),
            kind: kind as i32,
            starts_at: Some(to_timestamp(starts_at)),
            owner_id: self.r1.user_id.to_string(),
            owner_team_path: self.r1.team_path.as_str().into(),
            version,
            ..Default::default()
        };
        self.app
            .publish_event(
                "forecasting",
                &ActivityLogged {
                    activity: Some(activity),
                    ..Default::default()
                },
            )
            .await;
    }

    pub async fn handled(&self, count: i64) {
        self.app.handled("forecasting", count).await;
    }
}
