//! Quotas (F3) over real PostgreSQL and NATS in an April fiscal year: the company's quota
//! handed down to teams and reps exactly, the consistency report, new reps' ramp, who may set
//! what, and the quota_set events. Every number is worked out by hand beside it.

mod quota_org;

use chrono::NaiveDate;
use crm_platform::org::{DirectoryUser, OrgDirectory};
use crm_proto::crm::{
    common::v1::{LifecycleStage, Money},
    forecasting::v1::{self as pb, QuotaSet, target_value},
};
use prost::Message;
use quota_org::{amount, cny, company, of_team, rep, shown, start, value};
use tonic::Code;
use tonic_types::StatusExt;
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
    // Without new_reps named, the directory's first days: r4 started on 1 March 2026 (the
    // directory says), so April is their second month again; r1 and r2 started in 2024.
    let mut connection = org.app.pool("forecasting").acquire().await.unwrap();
    let r4 = DirectoryUser {
        user_id: org.r4.user_id,
        team_path: org.r4.team_path.clone(),
        role: org.r4.role,
        display_name: String::new(),
        active: true,
        stage: LifecycleStage::Established,
        started_on: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        version: 2,
    };
    OrgDirectory::record(&mut connection, &r4).await.unwrap();
    drop(connection);
    let from_directory = pb::DecomposeQuotaRequest {
        parent: of_team("/northwind/east/"),
        kind: calls as i32,
        period: "FY2026-Q1".into(),
        basis: pb::DecompositionBasis::Evenly as i32,
        ramp_percents: vec![25, 50, 75],
        ..Default::default()
    };
    assert_eq!(
        org.decompose(&org.manager, from_directory).await.unwrap(),
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
    // A team nobody sits in is no team.
    assert_eq!(
        denied(
            org.set(
                &org.admin,
                of_team("/northwind/south/"),
                revenue,
                "FY2026",
                amount("1")
            )
            .await
        ),
        Code::FailedPrecondition
    );
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
