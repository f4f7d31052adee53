//! What the compensation tests start from: the service alone on real PostgreSQL and NATS, the
//! test standing in for the producers it consumes (the opportunities and forecasting services,
//! by publishing their events) and for the gateway (filing the organisation's settings and
//! people the way the directory consumer would), and builders of the events.
#![allow(dead_code)] // each test file uses part of it

use chrono::NaiveDate;
use crm_platform::{
    auth::{Caller, Role, TeamPath},
    money::CurrencyCode,
    org::{DirectoryUser, OrgDirectory, OrgSettings},
};
use crm_proto::crm::{
    common::v1::{LifecycleStage, Money},
    forecasting::v1::{
        FiscalPeriod, Quota, QuotaSet, ResolvedScope, TargetKind, TargetValue, resolved_scope,
        target_value,
    },
    opportunities::v1::{
        ChangeContext, CloseOutcome, CorporateAmount, Opportunity, OpportunityStatus, Payment,
        PaymentContext, PaymentReceived, PaymentSchedule, RevenueSplit,
    },
};
use crm_test_support::{TestApp, nats_url};
use uuid::Uuid;

pub const RAVI: &str = "01900000-0000-7000-8000-0000000000b1";
pub const NORA: &str = "01900000-0000-7000-8000-0000000000b2";
pub const MEI: &str = "01900000-0000-7000-8000-0000000000a2";
pub const ADA: &str = "01900000-0000-7000-8000-0000000000a1";
pub const WES: &str = "01900000-0000-7000-8000-0000000000c1";

/// Who is who: (id, role, team).
const PEOPLE: [(&str, Role, &str, &str); 5] = [
    (ADA, Role::Admin, "/northwind/", "Ada"),
    (MEI, Role::Manager, "/northwind/east/", "Mei"),
    (RAVI, Role::Rep, "/northwind/east/east-1/", "Ravi"),
    (NORA, Role::Rep, "/northwind/east/east-1/", "Nora"),
    (WES, Role::Rep, "/northwind/west/", "Wes"),
];

pub fn caller(id: &str) -> Caller {
    let (_, role, team, _) = PEOPLE
        .iter()
        .find(|person| person.0 == id)
        .expect("a person");
    Caller::user(id.parse().unwrap(), *role, TeamPath::parse(team).unwrap())
}

/// The service with Northwind's people, reporting in CNY on the calendar year (without a
/// corporate currency when `currency` is false).
pub async fn start_with(currency: bool) -> TestApp {
    let app = TestApp::spawn_with(&[crm_compensation::module()], &nats_url(), &[]).await;
    app.stand_in_for("compensation", "opportunities").await;
    app.stand_in_for("compensation", "forecasting").await;
    let mut connection = app.pool("compensation").acquire().await.unwrap();
    let settings = OrgSettings {
        corporate_currency: currency.then_some(CurrencyCode::CNY),
        version: 1,
        ..OrgSettings::default()
    };
    OrgDirectory::record_settings(&mut connection, &settings)
        .await
        .unwrap();
    for (id, role, team, name) in PEOPLE {
        OrgDirectory::record(
            &mut connection,
            &DirectoryUser {
                user_id: id.parse().unwrap(),
                team_path: TeamPath::parse(team).unwrap(),
                role,
                display_name: name.into(),
                active: true,
                stage: LifecycleStage::Unspecified,
                started_on: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
                version: 1,
            },
        )
        .await
        .unwrap();
    }
    app
}

pub async fn start() -> TestApp {
    start_with(true).await
}

pub fn cny(amount: &str) -> Money {
    Money {
        currency_code: "CNY".into(),
        amount: amount.into(),
    }
}

pub fn corporate(amount: &str) -> CorporateAmount {
    CorporateAmount {
        amount: Some(cny(amount)),
        rate: "1".into(),
        rate_date: "2026-10-01".into(),
    }
}

/// A change on `day` at 10:00 UTC.
pub fn when(day: &str) -> Option<ChangeContext> {
    let at = chrono::DateTime::parse_from_rfc3339(&format!("{day}T10:00:00Z")).unwrap();
    Some(ChangeContext {
        changed_by: RAVI.into(),
        occurred_at: Some(prost_types::Timestamp {
            seconds: at.timestamp(),
            nanos: 0,
        }),
    })
}

pub fn split(user: &str, percent: &str) -> RevenueSplit {
    RevenueSplit {
        user_id: user.into(),
        percent: percent.into(),
    }
}

/// A deal of Ravi's at `version`, `status` (won on `closed_on`), of `amount` CNY.
pub fn deal(
    id: Uuid,
    name: &str,
    amount: &str,
    version: u64,
    status: OpportunityStatus,
    closed_on: &str,
) -> Opportunity {
    Opportunity {
        id: id.to_string(),
        name: name.into(),
        owner_id: RAVI.into(),
        owner_team_path: "/northwind/east/east-1/".into(),
        pipeline_id: "01900000-0000-7000-8000-000000000001".into(),
        amount: Some(cny(amount)),
        corporate_amount: Some(corporate(amount)),
        status: status as i32,
        outcome: (status == OpportunityStatus::Won).then(|| CloseOutcome {
            closed_on: closed_on.into(),
            ..Default::default()
        }),
        version,
        ..Default::default()
    }
}

/// A payment of `amount` CNY on `deal` (Ravi's alone), received on `day`.
pub fn payment(deal: Uuid, amount: &str, day: &str) -> PaymentReceived {
    PaymentReceived {
        schedule: Some(PaymentSchedule {
            id: Uuid::now_v7().to_string(),
            opportunity_id: deal.to_string(),
            owner_id: RAVI.into(),
            version: 2,
            ..Default::default()
        }),
        payment: Some(Payment {
            id: Uuid::now_v7().to_string(),
            amount: Some(cny(amount)),
            received_on: day.into(),
            ..Default::default()
        }),
        context: Some(PaymentContext {
            corporate_amount: Some(corporate(amount)),
            splits: Vec::new(),
        }),
        ..Default::default()
    }
}

/// Forecasting's revenue quota of `amount` CNY for a rep and a month.
pub fn quota(user: &str, month: &str, amount: &str, version: u64) -> QuotaSet {
    QuotaSet {
        quota: Some(Quota {
            // One quota per rep and month, as forecasting keeps it.
            quota_id: {
                use std::hash::{Hash, Hasher};
                let mut hasher = std::hash::DefaultHasher::new();
                (user, month).hash(&mut hasher);
                Uuid::from_u64_pair(hasher.finish(), 7).to_string()
            },
            holder: Some(ResolvedScope {
                of: Some(resolved_scope::Of::UserId(user.into())),
            }),
            kind: TargetKind::Revenue as i32,
            period: Some(FiscalPeriod {
                label: month.into(),
                ..Default::default()
            }),
            target: Some(TargetValue {
                of: Some(target_value::Of::Amount(cny(amount))),
            }),
            version,
            ..Default::default()
        }),
        ..Default::default()
    }
}
