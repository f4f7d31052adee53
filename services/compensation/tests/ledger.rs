//! The credit ledger (C3) over real PostgreSQL and NATS, the test standing in for the
//! opportunities service by publishing its events: every won deal, reversal, payment, refund
//! and approved expense credited exactly once, whatever is delivered again.

mod support;

use crm_proto::crm::opportunities::v1::{
    CloseOutcome, Expense, ExpenseApproved, ExpenseContext, Opportunity, OpportunityLost,
    OpportunityReopened, OpportunityStatus, OpportunityWon, Payment, PaymentContext,
    PaymentReceived, PaymentRefunded, PaymentSchedule, Refund, RevenueSplit,
};
use crm_test_support::TestApp;
use rust_decimal::Decimal;
use support::{NORA, RAVI, cny, corporate, start, when};
use uuid::Uuid;

fn splits() -> Vec<RevenueSplit> {
    vec![
        RevenueSplit {
            user_id: RAVI.into(),
            percent: "60".into(),
        },
        RevenueSplit {
            user_id: NORA.into(),
            percent: "40".into(),
        },
    ]
}

/// Contoso's deal at `version`, `status`, shared 60/40 between Ravi and Nora.
fn contoso(id: Uuid, version: u64, status: OpportunityStatus) -> Opportunity {
    Opportunity {
        id: id.to_string(),
        name: "Contoso — Line 3 automation".into(),
        owner_id: RAVI.into(),
        owner_team_path: "/northwind/east/east-1/".into(),
        pipeline_id: "01900000-0000-7000-8000-000000000001".into(),
        amount: Some(cny("1150000.00")),
        corporate_amount: Some(corporate("1150000.00")),
        splits: splits(),
        status: status as i32,
        outcome: (status == OpportunityStatus::Won).then(|| CloseOutcome {
            closed_on: "2026-11-18".into(),
            ..Default::default()
        }),
        version,
        ..Default::default()
    }
}

/// (source, rep, kind, amount, reverses-something) of every entry, in ledger order.
async fn ledger(app: &TestApp) -> Vec<(String, String, String, Decimal, bool)> {
    sqlx::query_as::<_, (String, Uuid, String, Decimal, bool)>(
        "SELECT source, user_id, kind, amount, reverses IS NOT NULL FROM credits ORDER BY sequence",
    )
    .fetch_all(app.pool("compensation"))
    .await
    .unwrap()
    .into_iter()
    .map(|(source, user, kind, amount, reverses)| {
        let who = if user.to_string() == RAVI {
            "ravi"
        } else {
            "nora"
        };
        (
            source.split(':').next().unwrap().to_owned(),
            who.into(),
            kind,
            amount,
            reverses,
        )
    })
    .collect()
}

fn row(
    source: &str,
    who: &str,
    kind: &str,
    amount: &str,
    reverses: bool,
) -> (String, String, String, Decimal, bool) {
    (
        source.into(),
        who.into(),
        kind.into(),
        amount.parse().unwrap(),
        reverses,
    )
}

#[tokio::test]
async fn a_shared_deal_is_booked_reversed_and_booked_again_each_exactly_once() {
    let app = start().await;
    let deal = Uuid::now_v7();
    let won = OpportunityWon {
        opportunity: Some(contoso(deal, 3, OpportunityStatus::Won)),
        change: when("2026-11-18"),
        ..Default::default()
    };
    let won_id = Uuid::now_v7();
    app.publish_event_as("compensation", &won, won_id, &won_id.to_string())
        .await;
    // Delivered again (another message id), and published again as a new event (a replay).
    app.publish_event_as("compensation", &won, won_id, "again")
        .await;
    app.publish_event("compensation", &won).await;
    app.handled("compensation", 2).await;
    let reopened = OpportunityReopened {
        opportunity: Some(contoso(deal, 4, OpportunityStatus::Open)),
        change: when("2027-01-12"),
        previous_status: OpportunityStatus::Won as i32,
        ..Default::default()
    };
    app.publish_event("compensation", &reopened).await;
    app.publish_event("compensation", &reopened).await;
    // Lost after the reopening: nothing stands to take back.
    app.publish_event(
        "compensation",
        &OpportunityLost {
            opportunity: Some(contoso(deal, 5, OpportunityStatus::Lost)),
            change: when("2027-01-20"),
            ..Default::default()
        },
    )
    .await;
    app.handled("compensation", 5).await;
    let expected = vec![
        row("booking", "ravi", "booking", "690000", false),
        row("booking", "nora", "booking", "460000", false),
        row("reversal", "ravi", "booking_reversal", "690000", true),
        row("reversal", "nora", "booking_reversal", "460000", true),
    ];
    assert_eq!(ledger(&app).await, expected);
    // Each reversal takes back its own booking, on the day of the reopening.
    let pairs: Vec<(Decimal, Decimal, chrono::NaiveDate)> = sqlx::query_as(
        "SELECT b.amount, r.amount, r.effective_on FROM credits r JOIN credits b ON b.id = r.reverses ORDER BY r.sequence",
    )
    .fetch_all(app.pool("compensation"))
    .await
    .unwrap();
    assert!(
        pairs
            .iter()
            .all(|(booked, reversed, day)| booked == reversed && day.to_string() == "2027-01-12")
    );
    // Won again later: booked again.
    app.publish_event(
        "compensation",
        &OpportunityWon {
            opportunity: Some(contoso(deal, 7, OpportunityStatus::Won)),
            change: when("2027-02-02"),
            ..Default::default()
        },
    )
    .await;
    app.handled("compensation", 6).await;
    assert_eq!(ledger(&app).await.len(), 6);
    // The ledger is append-only.
    let changed = sqlx::query("UPDATE credits SET amount = 0")
        .execute(app.pool("compensation"))
        .await;
    assert!(changed.unwrap_err().to_string().contains("append-only"));
}

#[tokio::test]
async fn payments_refunds_and_expenses_are_credited_by_their_splits_once() {
    let app = start().await;
    let deal = Uuid::now_v7();
    let schedule = PaymentSchedule {
        id: Uuid::now_v7().to_string(),
        opportunity_id: deal.to_string(),
        owner_id: RAVI.into(),
        version: 2,
        ..Default::default()
    };
    let payment = Payment {
        id: Uuid::now_v7().to_string(),
        amount: Some(cny("345000.00")),
        received_on: "2026-12-10".into(),
        ..Default::default()
    };
    let context = |amount: &str| PaymentContext {
        corporate_amount: Some(corporate(amount)),
        splits: splits(),
    };
    let received = PaymentReceived {
        schedule: Some(schedule.clone()),
        payment: Some(payment.clone()),
        context: Some(context("345000.00")),
        ..Default::default()
    };
    app.publish_event("compensation", &received).await;
    app.publish_event("compensation", &received).await;
    let recorded = chrono::DateTime::parse_from_rfc3339("2027-01-05T09:00:00Z").unwrap();
    app.publish_event(
        "compensation",
        &PaymentRefunded {
            schedule: Some(schedule),
            payment: Some(payment),
            refund: Some(Refund {
                id: Uuid::now_v7().to_string(),
                amount: Some(cny("100000.00")),
                recorded_at: Some(prost_types::Timestamp {
                    seconds: recorded.timestamp(),
                    nanos: 0,
                }),
                ..Default::default()
            }),
            context: Some(context("100000.00")),
            ..Default::default()
        },
    )
    .await;
    app.publish_event(
        "compensation",
        &ExpenseApproved {
            expense: Some(Expense {
                id: Uuid::now_v7().to_string(),
                opportunity_id: deal.to_string(),
                owner_id: NORA.into(),
                incurred_on: "2026-12-01".into(),
                amount: Some(cny("1800.40")),
                ..Default::default()
            }),
            context: Some(ExpenseContext {
                corporate_amount: Some(corporate("1800.40")),
            }),
            ..Default::default()
        },
    )
    .await;
    app.handled("compensation", 4).await;
    assert_eq!(
        ledger(&app).await,
        vec![
            row("payment", "ravi", "payment", "207000", false),
            row("payment", "nora", "payment", "138000", false),
            row("refund", "ravi", "refund", "60000", false),
            row("refund", "nora", "refund", "40000", false),
            row("expense", "nora", "expense", "1800.40", false),
        ]
    );
}
