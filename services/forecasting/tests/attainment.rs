//! Attainment (F3) over real PostgreSQL and NATS in an April fiscal year: every target kind
//! against won deals and the activity log the test publishes as the opportunities service
//! would. Every number is worked out by hand beside it.

mod quota_org;

use chrono::NaiveDate;
use crm_proto::crm::{forecasting::v1 as pb, opportunities::v1::ActivityKind};
use quota_org::{amount, rep, shown, start, value};
use uuid::Uuid;
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
