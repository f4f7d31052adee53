//! Quotas and targets (F3) over real PostgreSQL and NATS, in an organisation whose fiscal year
//! starts in April (FY2026 = April 2026 – March 2027): the company's quota handed down to teams
//! and reps, the consistency report, attainment of every kind from won deals and the activity
//! log (the test standing in for the opportunities service), who may set what, and the
//! quota_set events. Every number is worked out by hand beside it.

use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use crm_platform::{
    auth::{Caller, Role, TeamPath},
    fiscal::{FiscalCalendar, FiscalYearNaming},
    money::CurrencyCode,
    org::{DirectoryUser, OrgDirectory, OrgSettings},
    time::to_timestamp,
};
use crm_proto::crm::{
    common::v1::{LifecycleStage, Money},
    forecasting::v1::{
        self as pb, ForecastScope, QuotaSet, quota_service_client::QuotaServiceClient,
        resolved_scope, target_value,
    },
    opportunities::v1::{
        Activity, ActivityKind, ActivityLogged, CloseOutcome, CorporateAmount, Opportunity,
        OpportunityStatus, OpportunityWon, StageSummary,
    },
};
use crm_test_support::{TestApp, authorized, eventually, nats_url};
use prost::Message;
use tonic::{Code, transport::Channel};
use tonic_types::StatusExt;
use uuid::Uuid;

struct Org {
    app: TestApp,
    quotas: QuotaServiceClient<Channel>,
    admin: Caller,
    manager: Caller,
    /// Reps of the east team, by id order: r1, r2, and r4 who started on 2026-03-15.
    r1: Caller,
    r2: Caller,
    r4: Caller,
    /// The west team's rep.
    r3: Caller,
}

fn team(path: &str) -> TeamPath {
    TeamPath::parse(path).unwrap()
}

fn person(id: u128, role: Role, path: &str) -> Caller {
    Caller::user(
        Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + id),
        role,
        team(path),
    )
}

async fn start() -> Org {
    let app = TestApp::spawn_with(&[crm_forecasting::module()], &nats_url(), &[]).await;
    app.stand_in_for("forecasting", "opportunities").await;
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
    let settings = OrgSettings {
        corporate_currency: Some(CurrencyCode::CNY),
        fiscal_calendar: FiscalCalendar::new(4, FiscalYearNaming::StartingYear).unwrap(),
        version: 1,
        ..OrgSettings::default()
    };
    OrgDirectory::record_settings(&mut connection, &settings)
        .await
        .unwrap();
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

fn cny(amount: &str) -> Money {
    Money {
        currency_code: "CNY".into(),
        amount: amount.into(),
    }
}

fn amount(value: &str) -> Option<pb::TargetValue> {
    Some(pb::TargetValue {
        of: Some(target_value::Of::Amount(cny(value))),
    })
}

fn value(value: &str) -> Option<pb::TargetValue> {
    Some(pb::TargetValue {
        of: Some(target_value::Of::Value(value.into())),
    })
}

fn shown(target: &Option<pb::TargetValue>) -> String {
    match target.as_ref().and_then(|target| target.of.as_ref()) {
        Some(target_value::Of::Amount(money)) => money.amount.clone(),
        Some(target_value::Of::Value(value)) => value.clone(),
        None => "-".into(),
    }
}

fn rep(caller: &Caller) -> Option<ForecastScope> {
    Some(ForecastScope {
        user_id: caller.user_id.to_string(),
        ..Default::default()
    })
}

fn of_team(path: &str) -> Option<ForecastScope> {
    Some(ForecastScope {
        team_path: path.into(),
        ..Default::default()
    })
}

fn company() -> Option<ForecastScope> {
    Some(ForecastScope {
        company: true,
        ..Default::default()
    })
}

fn holder_name(holder: &Option<pb::ResolvedScope>, org: &Org) -> String {
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
    fn request<T>(&self, caller: &Caller, message: T) -> tonic::Request<T> {
        authorized(message, &self.app.token(caller))
    }

    async fn set(
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

    async fn decompose(
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
    async fn check(
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
    async fn won(&self, owner: &Caller, account: u128, closed_on: &str, amount: &str) {
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

    async fn activity(&self, id: Uuid, version: u64, kind: ActivityKind, day: (u32, u32)) {
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

    async fn handled(&self, count: i64) {
        let pool = self.app.pool("forecasting");
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
}

#[tokio::test]
async fn the_companys_quota_is_handed_down_exactly_and_the_check_names_what_does_not_add_up() {
    let org = start().await;
    // Last year's bookings of FY2026's counterpart, FY2025 (April 2025 – March 2026): r1
    // 200,000, r2 100,000 (on the fiscal year's last day); r2's deal of 1 April 2026 is FY2026.
    org.won(&org.r1, 1, "2025-05-10", "200000").await;
    org.won(&org.r2, 2, "2026-03-31", "100000").await;
    org.won(&org.r2, 3, "2026-04-01", "900000").await;
    org.handled(3).await;

    let revenue = pb::TargetKind::Revenue;
    let quota = org
        .set(&org.admin, company(), revenue, "FY2026", amount("1000000"))
        .await
        .unwrap();
    let period = quota.period.as_ref().unwrap();
    assert_eq!(
        (
            period.label.as_str(),
            period.start_date.as_str(),
            period.end_date.as_str()
        ),
        ("FY2026", "2026-04-01", "2027-03-31")
    );
    let split = |parent, basis: pb::DecompositionBasis, weights: Vec<pb::ChildWeight>| {
        pb::DecomposeQuotaRequest {
            parent,
            kind: revenue as i32,
            period: "FY2026".into(),
            basis: basis as i32,
            weights,
            ..Default::default()
        }
    };
    // The company's one top-level team takes all of it.
    let evenly = split(company(), pb::DecompositionBasis::Evenly, vec![]);
    assert_eq!(
        org.decompose(&org.admin, evenly).await.unwrap(),
        [("/northwind/".to_owned(), "1000000".to_owned())]
    );
    // East 3 : west 1 of 1,000,000.
    let weight = |path: &str, weight: &str| pb::ChildWeight {
        child: of_team(path),
        weight: weight.into(),
    };
    let by_weights = split(
        of_team("/northwind/"),
        pb::DecompositionBasis::Weights,
        vec![
            weight("/northwind/east/", "3"),
            weight("/northwind/west/", "1"),
        ],
    );
    assert_eq!(
        org.decompose(&org.admin, by_weights).await.unwrap(),
        [
            ("/northwind/east/".to_owned(), "750000".to_owned()),
            ("/northwind/west/".to_owned(), "250000".to_owned()),
        ]
    );
    // The east manager splits the east's 750,000 by last year's bookings, 200,000 : 100,000 :
    // nothing (r4 had not started): 500,000, 250,000 and 0.
    let by_bookings = split(
        of_team("/northwind/east/"),
        pb::DecompositionBasis::LastYearBookings,
        vec![],
    );
    assert_eq!(
        org.decompose(&org.manager, by_bookings).await.unwrap(),
        [
            ("r1".to_owned(), "500000".to_owned()),
            ("r2".to_owned(), "250000".to_owned()),
            ("r4".to_owned(), "0".to_owned()),
        ]
    );
    // Nobody in the west booked last year: a refusal, not a division by zero.
    let nobody_booked = split(
        of_team("/northwind/west/"),
        pb::DecompositionBasis::LastYearBookings,
        vec![],
    );
    let refused = org.decompose(&org.admin, nobody_booked).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    let details = refused.get_error_details();
    let violation = &details.bad_request().unwrap().field_violations[0];
    assert_eq!(violation.field, "basis");
    assert!(
        violation.description.contains("booked"),
        "{}",
        violation.description
    );

    // Consistent but for the west, whose 250,000 nobody below holds.
    assert_eq!(
        org.check(&org.admin, company(), "FY2026").await,
        [(
            "/northwind/west/".to_owned(),
            "250000".to_owned(),
            "-".to_owned(),
            "-".to_owned(),
            true
        )]
    );
    // r1 raised to 510,000: the east's reps now hold 760,000 of its 750,000.
    org.set(
        &org.admin,
        rep(&org.r1),
        revenue,
        "FY2026",
        amount("510000"),
    )
    .await
    .unwrap();
    let east = (
        "/northwind/east/".to_owned(),
        "750000".to_owned(),
        "760000".to_owned(),
        "10000".to_owned(),
        false,
    );
    let findings = org.check(&org.admin, company(), "FY2026").await;
    assert_eq!(findings.len(), 2, "{findings:?}");
    assert_eq!(findings[0], east);
    // The manager's own report holds their subtree only.
    assert_eq!(org.check(&org.manager, None, "FY2026").await, [east]);

    // Every write published quota_set with the quota's version: r1 at 1 (split), then 2.
    let events: Vec<(i64, Vec<u8>)> = sqlx::query_as(
        "SELECT aggregate_version, payload FROM outbox WHERE aggregate_type = 'quota' \
         AND subject = 'crm.forecasting.v1.quota_set' ORDER BY seq",
    )
    .fetch_all(org.app.pool("forecasting"))
    .await
    .unwrap();
    assert_eq!(events.len(), 1 + 1 + 2 + 3 + 1);
    let (version, payload) = events.last().unwrap();
    let last = QuotaSet::decode(payload.as_slice()).unwrap();
    let quota = last.quota.unwrap();
    assert_eq!(*version, 2);
    assert_eq!(quota.version, 2);
    assert_eq!(quota.holder_team_path, "/northwind/east/");
    assert_eq!(quota.kind, revenue as i32);
    assert_eq!(shown(&quota.target), "510000");
    let target = quota.target.unwrap().of.unwrap();
    assert_eq!(
        target,
        target_value::Of::Amount(cny("510000")),
        "the amount carries its currency"
    );
    assert_eq!(quota.period.unwrap().end_date, "2027-03-31");
}

#[tokio::test]
async fn a_new_reps_ramp_scales_their_share_of_an_activity_target() {
    let org = start().await;
    let calls = pb::TargetKind::CallsPerWeek;
    org.set(
        &org.admin,
        of_team("/northwind/east/"),
        calls,
        "FY2026-Q1",
        value("35"),
    )
    .await
    .unwrap();
    // r4 started on 15 March: April, the quarter's first month, is their second month, 50 %
    // of [25, 50, 75]. Weights 1, 1, 0.5: 35 / 2.5 = 14 a full share.
    let request = pb::DecomposeQuotaRequest {
        parent: of_team("/northwind/east/"),
        kind: calls as i32,
        period: "FY2026-Q1".into(),
        basis: pb::DecompositionBasis::Evenly as i32,
        ramp_percents: vec![25, 50, 75],
        new_reps: vec![pb::NewRep {
            user_id: org.r4.user_id.to_string(),
            started_on: "2026-03-15".into(),
        }],
        ..Default::default()
    };
    assert_eq!(
        org.decompose(&org.manager, request).await.unwrap(),
        [
            ("r1".to_owned(), "14".to_owned()),
            ("r2".to_owned(), "14".to_owned()),
            ("r4".to_owned(), "7".to_owned()),
        ]
    );
    // An average does not add up, so it is not split.
    let average = pb::DecomposeQuotaRequest {
        parent: of_team("/northwind/east/"),
        kind: pb::TargetKind::AverageDealSize as i32,
        period: "FY2026-Q1".into(),
        basis: pb::DecompositionBasis::Evenly as i32,
        ..Default::default()
    };
    let refused = org.decompose(&org.manager, average).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
}

#[tokio::test]
async fn attainment_counts_every_kind_in_the_fiscal_quarter() {
    let org = start().await;
    // FY2026-Q1 is April – June 2026 (91 days, over by now). r1 won 30,000 (account 1, first
    // won in May 2025) and 45,000 (account 2, new); 20,000 on 1 July is the next quarter.
    org.won(&org.r1, 1, "2025-05-01", "60000").await;
    org.won(&org.r1, 1, "2026-04-15", "30000").await;
    org.won(&org.r1, 2, "2026-06-30", "45000").await;
    org.won(&org.r1, 3, "2026-07-01", "20000").await;
    // 13 calls in the quarter, one in March (before it); a visit whose older version (a call)
    // arrives late changes nothing.
    for week in 0..13 {
        let day = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap() + chrono::Days::new(7 * week);
        let (month, day) = (chrono::Datelike::month(&day), chrono::Datelike::day(&day));
        org.activity(Uuid::now_v7(), 1, ActivityKind::Call, (month, day))
            .await;
    }
    org.activity(Uuid::now_v7(), 1, ActivityKind::Call, (3, 31))
        .await;
    let visit = Uuid::now_v7();
    org.activity(visit, 2, ActivityKind::Visit, (5, 5)).await;
    org.activity(visit, 1, ActivityKind::Call, (5, 5)).await;
    org.handled(4 + 13 + 1 + 2).await;

    let period = "FY2026-Q1";
    let targets = [
        (pb::TargetKind::Revenue, amount("100000")),
        (pb::TargetKind::CallsPerWeek, value("2")),
        (pb::TargetKind::VisitsPerWeek, value("1")),
        (pb::TargetKind::NewAccounts, value("2")),
        (pb::TargetKind::AverageDealSize, amount("50000")),
        (pb::TargetKind::Growth, value("10")),
    ];
    for (kind, target) in targets {
        org.set(&org.manager, rep(&org.r1), kind, period, target)
            .await
            .unwrap();
    }
    let request = pb::GetAttainmentRequest {
        scope: None,
        period: period.into(),
    };
    let attainment = org
        .quotas
        .clone()
        .get_attainment(org.request(&org.r1, request))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(attainment.days_counted, 91);
    assert_eq!(attainment.currency_code, "CNY");
    let rows: Vec<(i32, String, String, String)> = attainment
        .kinds
        .iter()
        .map(|kind| {
            (
                kind.kind,
                shown(&kind.target),
                shown(&kind.actual),
                kind.attainment_percent.clone(),
            )
        })
        .collect();
    let row = |kind: pb::TargetKind, target: &str, actual: &str, percent: &str| {
        (
            kind as i32,
            target.to_owned(),
            actual.to_owned(),
            percent.to_owned(),
        )
    };
    assert_eq!(
        rows,
        [
            // 75,000 of 100,000.
            row(pb::TargetKind::Revenue, "100000", "75000", "75.00"),
            // 13 calls × 7 / 91 days = 1 a week, of 2.
            row(pb::TargetKind::CallsPerWeek, "2", "1", "50.00"),
            // No target set: the actual all the same.
            row(pb::TargetKind::MeetingsPerWeek, "-", "0", ""),
            // 7 / 91 = 0.0769… a week, of 1: 7.69 %.
            row(pb::TargetKind::VisitsPerWeek, "1", "0.08", "7.69"),
            // Account 2 only: account 1's first win was a year earlier.
            row(pb::TargetKind::NewAccounts, "2", "1", "50.00"),
            // 75,000 / 2 = 37,500 of 50,000.
            row(pb::TargetKind::AverageDealSize, "50000", "37500", "75.00"),
            // (75,000 − 60,000) / 60,000 = 25 %, of a 10 % target.
            row(pb::TargetKind::Growth, "10", "25", "250.00"),
        ]
    );
}

#[tokio::test]
async fn only_admins_set_the_company_and_managers_set_strictly_below_themselves() {
    let org = start().await;
    let revenue = pb::TargetKind::Revenue;
    let denied = |result: Result<pb::Quota, tonic::Status>| result.unwrap_err().code();
    assert_eq!(
        denied(
            org.set(&org.manager, company(), revenue, "FY2026", amount("1"))
                .await
        ),
        Code::PermissionDenied
    );
    assert_eq!(
        denied(
            org.set(
                &org.manager,
                of_team("/northwind/east/"),
                revenue,
                "FY2026",
                amount("1")
            )
            .await
        ),
        Code::PermissionDenied
    );
    assert_eq!(
        denied(
            org.set(&org.manager, rep(&org.r3), revenue, "FY2026", amount("1"))
                .await
        ),
        Code::PermissionDenied
    );
    assert_eq!(
        denied(
            org.set(&org.r1, rep(&org.r1), revenue, "FY2026", amount("1"))
                .await
        ),
        Code::PermissionDenied
    );
    org.set(&org.manager, rep(&org.r1), revenue, "FY2026", amount("1"))
        .await
        .unwrap();
    // Money targets are in the corporate currency; a count is a value.
    let euros = Some(pb::TargetValue {
        of: Some(target_value::Of::Amount(Money {
            currency_code: "EUR".into(),
            amount: "1".into(),
        })),
    });
    assert_eq!(
        denied(
            org.set(&org.admin, rep(&org.r1), revenue, "FY2026", euros)
                .await
        ),
        Code::FailedPrecondition
    );
    assert_eq!(
        denied(
            org.set(
                &org.admin,
                rep(&org.r1),
                pb::TargetKind::NewAccounts,
                "FY2026",
                value("2.5")
            )
            .await
        ),
        Code::FailedPrecondition
    );
    // A rep reads their own quotas, not a colleague's.
    let list = |scope| pb::ListQuotasRequest {
        scope,
        period: "FY2026".into(),
        kind: 0,
    };
    let own = org
        .quotas
        .clone()
        .list_quotas(org.request(&org.r1, list(None)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.quotas.len(), 1);
    let other = org
        .quotas
        .clone()
        .list_quotas(org.request(&org.r1, list(rep(&org.r2))))
        .await
        .unwrap_err();
    assert_eq!(other.code(), Code::PermissionDenied);
}
