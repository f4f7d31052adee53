//! The period review (F7) over real PostgreSQL and NATS, from deal events the test publishes
//! for the opportunities service, against hand-computed figures — the data set of
//! `review_support/november.rs`.

mod review_support;

use crm_proto::crm::forecasting::v1::{self as pb, ForecastScope};
use crm_proto::crm::{
    common::v1::Money,
    opportunities::v1::{
        CorporateAmount, Payment, PaymentContext, PaymentReceived, PaymentRefunded,
        PaymentSchedule, Refund,
    },
};
use review_support::november::{amount, call_of, organisation};
use tonic::Code;
use uuid::Uuid;

#[tokio::test]
async fn the_period_review_counts_the_teams_result_win_rates_top_deals_and_reps_against_the_average()
 {
    let org = organisation(&[]).await;
    let request = org.harness.request(
        &org.manager,
        pb::GetPeriodReviewRequest {
            period: "2026-11".into(),
            top: 2,
            ..Default::default()
        },
    );
    let review = org
        .client()
        .await
        .get_period_review(request)
        .await
        .unwrap()
        .into_inner();
    // East won 300000 + 250000 + 300000 + 120000 in November; 4 of 6 closed deals,
    // 970000 of 1470000 closed.
    assert_eq!(amount(&review.result), "970000");
    let rate = review.win_rate.as_ref().unwrap();
    assert_eq!((rate.won, rate.lost), (4, 2));
    assert_eq!(amount(&rate.lost_amount), "500000");
    assert_eq!(
        (
            rate.by_count_percent.as_str(),
            rate.by_amount_percent.as_str()
        ),
        ("66.67", "65.99")
    );
    // No quotas or forecast calls; nothing collected of the month's bookings.
    assert_eq!(review.target, None);
    assert_eq!(review.attainment_percent, "");
    assert_eq!(review.forecast_accuracy, None);
    assert_eq!(review.collection_rate_percent, "0.00");
    // The two largest of each: the 300000s by the earlier close.
    let amounts = |deals: &[pb::ReviewDeal]| {
        deals
            .iter()
            .map(|deal| (amount(&deal.amount), deal.closed_on.clone()))
            .collect::<Vec<_>>()
    };
    let deal = |amount: &str, day: &str| (amount.to_owned(), day.to_owned());
    assert_eq!(
        amounts(&review.top_wins),
        [deal("300000", "2026-11-05"), deal("300000", "2026-11-06")]
    );
    assert_eq!(
        amounts(&review.top_losses),
        [deal("400000", "2026-11-25"), deal("100000", "2026-11-20")]
    );
    // 970000 over East's three reps = 323333.33.
    assert_eq!(amount(&review.team_average_result), "323333.33");
    let reps: Vec<_> = review
        .reps
        .iter()
        .map(|rep| {
            (
                rep.rank,
                rep.display_name.clone(),
                amount(&rep.result),
                amount(&rep.result_against_average),
                rep.result_against_average_percent.clone(),
                rep.win_rate.as_ref().unwrap().by_count_percent.clone(),
                rep.win_rate_against_team_points.clone(),
            )
        })
        .collect();
    let rep =
        |rank, name: &str, result: &str, against: &str, percent: &str, rate: &str, points: &str| {
            (
                rank,
                name.to_owned(),
                result.to_owned(),
                against.to_owned(),
                percent.to_owned(),
                rate.to_owned(),
                points.to_owned(),
            )
        };
    assert_eq!(
        reps,
        [
            // 550000 − 323333.33 = 226666.67, 70.10 % of the average; 2 of 3 won.
            rep(1, "Ravi", "550000", "226666.67", "70.10", "66.67", "0.00"),
            rep(2, "Mei", "300000", "-23333.33", "-7.22", "50.00", "-16.67"),
            rep(
                3,
                "Tom",
                "120000",
                "-203333.33",
                "-62.89",
                "100.00",
                "33.33"
            ),
        ]
    );

    // A rep reviews their own period, not the team's, with their current call (the later of
    // two) judged against what they booked: commit 100000 for 120000 is 20000 low, 16.67 %.
    for (commit, at) in [
        ("90000", "2026-11-02T09:00:00Z"),
        ("100000", "2026-11-20T09:00:00Z"),
    ] {
        call_of(&org, &org.tom, commit, at).await;
    }
    let own = org.harness.request(
        &org.tom,
        pb::GetPeriodReviewRequest {
            period: "2026-11".into(),
            ..Default::default()
        },
    );
    let own = org
        .client()
        .await
        .get_period_review(own)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(amount(&own.result), "120000");
    assert_eq!(own.reps.len(), 1);
    let accuracy = own.forecast_accuracy.unwrap();
    assert_eq!(
        (
            amount(&accuracy.forecast),
            amount(&accuracy.error),
            accuracy.absolute_percentage_error.as_str()
        ),
        ("100000".into(), "-20000".into(), "16.67")
    );
    let team = org.harness.request(
        &org.tom,
        pb::GetPeriodReviewRequest {
            scope: Some(ForecastScope {
                team_path: "/northwind/east/".into(),
                ..Default::default()
            }),
            period: "2026-11".into(),
            ..Default::default()
        },
    );
    let refused = org
        .client()
        .await
        .get_period_review(team)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
}

/// A rep's forecast call for November 2026 as the calls family stores it (the period is over,
/// so it cannot be submitted through the API any more): `commit`, submitted `at`.
fn payment(deal: Uuid, payment_id: Uuid, corporate: Option<&str>) -> PaymentReceived {
    PaymentReceived {
        schedule: Some(PaymentSchedule {
            id: Uuid::now_v7().to_string(),
            opportunity_id: deal.to_string(),
            version: 1,
            ..Default::default()
        }),
        payment: Some(Payment {
            id: payment_id.to_string(),
            received_on: "2026-11-28".into(),
            ..Default::default()
        }),
        context: Some(PaymentContext {
            corporate_amount: corporate.map(|amount| CorporateAmount {
                amount: Some(Money {
                    currency_code: "CNY".into(),
                    amount: amount.into(),
                }),
                rate: "1".into(),
                rate_date: "2026-11-28".into(),
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[tokio::test]
async fn the_period_review_counts_what_was_collected_of_the_periods_bookings() {
    let mut org = organisation(&[]).await;
    let [d1, _, _, d4, _, _, d7, d8, _] = org.deals[..] else {
        panic!("nine deals");
    };
    let first = Uuid::now_v7();
    for event in [
        // d1: 200,000 of its 300,000 — sent twice, counted once.
        payment(d1, first, Some("200000")),
        payment(d1, first, Some("200000")),
        // d4: all 300,000, of which 50,000 refunded below.
        payment(d4, Uuid::now_v7(), Some("300000")),
        // d7 is the west's; d8 was booked in October: neither counts for the east's November.
        payment(d7, Uuid::now_v7(), Some("900000")),
        payment(d8, Uuid::now_v7(), Some("500000")),
        // Not convertible to the corporate currency: in no corporate figure.
        payment(d1, Uuid::now_v7(), None),
    ] {
        org.harness.publish(&event).await;
    }
    let of_d4 = payment(d4, Uuid::now_v7(), Some("50000"));
    let refund = PaymentRefunded {
        schedule: of_d4.schedule,
        payment: of_d4.payment,
        refund: Some(Refund {
            id: Uuid::now_v7().to_string(),
            recorded_at: Some(crm_platform::time::to_timestamp(
                "2026-12-02T10:00:00Z".parse().unwrap(),
            )),
            ..Default::default()
        }),
        context: of_d4.context,
        ..Default::default()
    };
    org.harness.publish(&refund).await;
    org.harness.settled().await;

    // The east booked 970,000 in November; collected 200,000 + 300,000 − 50,000 = 450,000 of
    // it: 46.39 %.
    let east = org.review(&org.manager, "2026-11").await;
    assert_eq!(east.collection_rate_percent, "46.39");
    // Ravi booked 550,000 (d1, d2) and collected 200,000 of it: 36.36 %.
    let ravi = org.review(&org.ravi, "2026-11").await;
    assert_eq!(ravi.collection_rate_percent, "36.36");
}
