//! Campaign funnel and ROI (L7): leads captured for a campaign and converted through leads'
//! own conversion, the deals they became published as the opportunities service publishes them
//! (won, lost, reopened after a win, archived, delivered twice, an older version after a newer
//! one), and the funnel's numbers computed by hand.

mod support;

use std::time::Duration;

use crm_platform::{
    auth::Caller,
    events::{self, DomainEvent},
};
use crm_proto::crm::{
    common::v1::Money,
    leads::v1 as pb,
    opportunities::v1::{
        CloseOutcome, CorporateAmount, Opportunity, OpportunityAmountChanged, OpportunityArchived,
        OpportunityCreated, OpportunityLost, OpportunityReopened, OpportunityStatus,
        OpportunityWon,
    },
};
use crm_test_support::{eventually, user};
use support::{EAST_1, Harness};
use tonic::Code;
use uuid::Uuid;

const CONSUMER: &str = "leads-campaign-deals";

fn money(currency: &str, amount: &str) -> Money {
    Money {
        currency_code: currency.into(),
        amount: amount.into(),
    }
}

async fn create_campaign(harness: &Harness, admin: &Caller, name: &str, cost: Money) -> String {
    harness
        .admin
        .clone()
        .create_campaign(harness.auth(
            admin,
            pb::CreateCampaignRequest {
                campaign: Some(pb::Campaign {
                    name: name.into(),
                    channel: pb::SourceChannel::Campaign as i32,
                    cost: Some(cost),
                    ..Default::default()
                }),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .campaign
        .unwrap()
        .id
}

/// A lead of the campaign, owned by `rep`; `n` keeps each one a distinct person and company.
async fn capture(harness: &Harness, rep: &Caller, campaign_id: &str, n: usize) -> String {
    harness
        .create(
            rep,
            pb::LeadInput {
                first_name: format!("Visitor{n}"),
                last_name: "Expo".into(),
                email: format!("visitor{n}@company{n}.example"),
                company: format!("Company {n}"),
                campaign_id: campaign_id.into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .lead
        .unwrap()
        .id
}

/// The first follow-up starts the work.
async fn work(harness: &Harness, rep: &Caller, id: &str) {
    harness
        .leads
        .clone()
        .log_lead_activity(harness.auth(
            rep,
            pb::LogLeadActivityRequest {
                lead_id: id.into(),
                kind: pb::ActivityKind::Call as i32,
                note: "met at the booth".into(),
            },
        ))
        .await
        .unwrap();
}

async fn qualify(harness: &Harness, rep: &Caller, id: &str) {
    work(harness, rep, id).await;
    harness
        .leads
        .clone()
        .qualify_lead(harness.auth(rep, pb::QualifyLeadRequest { lead_id: id.into() }))
        .await
        .unwrap();
}

/// Qualifies and converts the lead; the id of the opportunity its conversion named.
async fn convert(harness: &Harness, rep: &Caller, id: &str) -> String {
    qualify(harness, rep, id).await;
    harness
        .leads
        .clone()
        .convert_lead(harness.auth(
            rep,
            pb::ConvertLeadRequest {
                lead_id: id.into(),
                opportunity_amount: Some(money("CNY", "100000.00")),
                expected_close_date: "2027-03-31".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .opportunity_id
}

/// The deal's state as an opportunities event carries it. `corporate`: the amount in CNY, the
/// corporate currency (`None`: no rate, so no corporate amount).
fn deal(
    id: &str,
    campaign_id: &str,
    source_lead_id: &str,
    status: OpportunityStatus,
    corporate: Option<&str>,
    version: u64,
) -> Option<Opportunity> {
    let closed = matches!(status, OpportunityStatus::Won | OpportunityStatus::Lost);
    Some(Opportunity {
        id: id.into(),
        name: "Line automation".into(),
        campaign_id: campaign_id.into(),
        source_lead_id: source_lead_id.into(),
        status: status as i32,
        amount: corporate.map(|amount| money("CNY", amount)),
        corporate_amount: corporate.map(|amount| CorporateAmount {
            amount: Some(money("CNY", amount)),
            rate: "1".into(),
            rate_date: "2026-12-01".into(),
        }),
        outcome: closed.then(|| CloseOutcome {
            closed_on: "2026-12-18".into(),
            ..Default::default()
        }),
        version,
        ..Default::default()
    })
}

/// Publishes `event` on the opportunities stream as a distinct event (its own event id).
async fn publish<E: DomainEvent>(harness: &Harness, event: &E, message_id: &str) {
    harness
        .app
        .publish_event_as("leads", event, Uuid::now_v7(), message_id)
        .await;
}

async fn funnel(
    harness: &Harness,
    caller: &Caller,
    campaign_id: &str,
) -> Result<pb::GetCampaignFunnelResponse, tonic::Status> {
    harness
        .admin
        .clone()
        .get_campaign_funnel(harness.auth(
            caller,
            pb::GetCampaignFunnelRequest {
                campaign_id: campaign_id.into(),
            },
        ))
        .await
        .map(|response| response.into_inner())
}

#[tokio::test]
async fn won_revenue_comes_back_through_the_deals_campaign_or_its_lead() {
    let harness = Harness::start().await;
    let context = harness.app.services.context("leads").unwrap();
    // The opportunities service would create its stream; here the test stands in for it.
    events::ensure_stream(
        &context.jetstream,
        &context.naming,
        "opportunities",
        Duration::from_secs(120),
    )
    .await
    .unwrap();
    let ada = user("admin", "/northwind");
    let ravi = user("rep", EAST_1);
    let expo = create_campaign(&harness, &ada, "Spring Expo", money("CNY", "120000.00")).await;
    let fair = create_campaign(&harness, &ada, "Trade Fair", money("USD", "10000.00")).await;

    // Eight leads: five converted, one qualified, one being worked, one new.
    let mut leads = Vec::new();
    for n in 0..8 {
        leads.push(capture(&harness, &ravi, &expo, n).await);
    }
    let mut deals = Vec::new();
    for lead in &leads[..5] {
        deals.push(convert(&harness, &ravi, lead).await);
    }
    qualify(&harness, &ravi, &leads[5]).await;
    work(&harness, &ravi, &leads[6]).await;
    let [a, b, c, d, e] = [0, 1, 2, 3, 4].map(|i| deals[i].clone());
    let (x, z, y) = (
        Uuid::now_v7().to_string(),
        Uuid::now_v7().to_string(),
        Uuid::now_v7().to_string(),
    );

    use OpportunityStatus::{Archived, Lost, Open, Won};
    let app = &harness.app;
    // A: won for 250,000 (was 200,000 open); the win is delivered twice with one event id,
    // and once more as a replay under a new id.
    let a_won = OpportunityWon {
        opportunity: deal(&a, &expo, &leads[0], Won, Some("250000.00"), 2),
        ..Default::default()
    };
    let a_won_id = Uuid::now_v7();
    let created = |id: &str, campaign: &str, lead: &str, amount: &str| OpportunityCreated {
        opportunity: deal(id, campaign, lead, Open, Some(amount), 1),
        ..Default::default()
    };
    publish(
        &harness,
        &created(&a, &expo, &leads[0], "200000.00"),
        "a-created",
    )
    .await;
    // One event id under two message ids: the broker keeps both, the inbox takes one.
    for message_id in ["a-won", "a-won-redelivered"] {
        app.publish_event_as("leads", &a_won, a_won_id, message_id)
            .await;
    }
    publish(&harness, &a_won, "a-won-replayed").await;
    // B: names no campaign, so it counts for its lead's; won for 150,000.
    publish(
        &harness,
        &created(&b, "", &leads[1], "150000.00"),
        "b-created",
    )
    .await;
    let b_won = OpportunityWon {
        opportunity: deal(&b, "", &leads[1], Won, Some("150000.00"), 2),
        ..Default::default()
    };
    publish(&harness, &b_won, "b-won").await;
    // C: won, then reopened: open again at 120,000.
    publish(
        &harness,
        &created(&c, &expo, &leads[2], "120000.00"),
        "c-created",
    )
    .await;
    let c_won = OpportunityWon {
        opportunity: deal(&c, &expo, &leads[2], Won, Some("120000.00"), 2),
        ..Default::default()
    };
    publish(&harness, &c_won, "c-won").await;
    let c_reopened = OpportunityReopened {
        opportunity: deal(&c, &expo, &leads[2], Open, Some("120000.00"), 3),
        previous_status: Won as i32,
        reason: "the customer's board did not sign".into(),
        ..Default::default()
    };
    publish(&harness, &c_reopened, "c-reopened").await;
    // D: lost.
    publish(
        &harness,
        &created(&d, &expo, &leads[3], "90000.00"),
        "d-created",
    )
    .await;
    let d_lost = OpportunityLost {
        opportunity: deal(&d, &expo, &leads[3], Lost, Some("90000.00"), 2),
        ..Default::default()
    };
    publish(&harness, &d_lost, "d-lost").await;
    // E: archived (entered by mistake): counts nowhere.
    publish(
        &harness,
        &created(&e, &expo, &leads[4], "70000.00"),
        "e-created",
    )
    .await;
    let e_archived = OpportunityArchived {
        opportunity: deal(&e, &expo, &leads[4], Archived, Some("70000.00"), 2),
        previous_status: Open as i32,
        ..Default::default()
    };
    publish(&harness, &e_archived, "e-archived").await;
    // X: names the expo without a lead; version 3 (open at 60,000) arrives before the older
    // version 2 (won at 999,999), which changes nothing.
    let x_newer = OpportunityAmountChanged {
        opportunity: deal(&x, &expo, "", Open, Some("60000.00"), 3),
        ..Default::default()
    };
    publish(&harness, &x_newer, "x-v3").await;
    let x_older = OpportunityWon {
        opportunity: deal(&x, &expo, "", Won, Some("999999.00"), 2),
        ..Default::default()
    };
    publish(&harness, &x_older, "x-v2").await;
    // Z: the expo's, open, no corporate amount (no rate for its currency yet).
    publish(
        &harness,
        &OpportunityCreated {
            opportunity: deal(&z, &expo, "", Open, None, 1),
            ..Default::default()
        },
        "z-created",
    )
    .await;
    // Y: from the expo's lead B, but it names the trade fair: the fair's, won at 500,000 CNY.
    let y_won = OpportunityWon {
        opportunity: deal(&y, &fair, &leads[1], Won, Some("500000.00"), 1),
        ..Default::default()
    };
    publish(&harness, &y_won, "y-won").await;

    // 16 distinct event ids (the redelivered win shares one); all handled, in order.
    eventually(
        Duration::from_secs(30),
        "every deal event was handled",
        || async {
            harness
                .count(
                    "leads",
                    &format!("SELECT count(*) FROM inbox WHERE consumer = '{CONSUMER}'"),
                )
                .await
                == 16
        },
    )
    .await;
    let (status, version): (String, i64) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT status, version FROM campaign_deals WHERE opportunity_id = '{x}'"
    )))
    .fetch_one(app.pool("leads"))
    .await
    .unwrap();
    assert_eq!(
        (status.as_str(), version),
        ("open", 3),
        "the older version was ignored"
    );

    let report = funnel(&harness, &ada, &expo).await.unwrap();
    assert_eq!(
        (report.leads, report.qualified, report.converted),
        (8, 6, 5)
    );
    // Won: A 250,000 + B 150,000 = 400,000 CNY.
    assert_eq!((report.won, report.lost, report.open_pipeline), (2, 1, 3));
    assert_eq!(report.won_revenue, Some(money("CNY", "400000")));
    assert_eq!(report.won_unpriced, 0);
    // Open: C 120,000 + X 60,000; Z has no corporate amount.
    assert_eq!(report.open_pipeline_amount, Some(money("CNY", "180000")));
    assert_eq!(report.open_pipeline_unpriced, 1);
    // 120,000 / 8 leads.
    assert_eq!(report.cost_per_lead, Some(money("CNY", "15000")));
    // (400,000 − 120,000) / 120,000 = 2.3333…
    assert_eq!(report.roi, "2.3333");
    assert_eq!(report.roi_unavailable_reason, None);
    // 6/8, 5/6 = 0.8333…, 2/5.
    assert_eq!(report.lead_to_qualified_rate, "0.75");
    assert_eq!(report.qualified_to_converted_rate, "0.8333");
    assert_eq!(report.converted_to_won_rate, "0.4");

    // The fair's cost is in USD, its won deal's corporate amount in CNY: no ROI, and why.
    let fair_report = funnel(&harness, &ada, &fair).await.unwrap();
    assert_eq!((fair_report.leads, fair_report.won), (0, 1));
    assert_eq!(fair_report.won_revenue, Some(money("USD", "0")));
    assert_eq!(fair_report.won_unpriced, 1);
    assert_eq!(fair_report.roi, "");
    let reason = fair_report.roi_unavailable_reason.unwrap();
    assert_eq!(reason.code, "leads.campaign_roi.won_deals_unpriced");
    assert_eq!(
        (
            reason.params["count"].as_str(),
            reason.params["currency"].as_str()
        ),
        ("1", "USD")
    );
    assert_eq!(fair_report.cost_per_lead, None);
    assert_eq!(fair_report.converted_to_won_rate, "", "nothing converted");
}

#[tokio::test]
async fn the_campaign_report_is_for_managers_and_admins() {
    let harness = Harness::start().await;
    let ada = user("admin", "/northwind");
    let expo = create_campaign(&harness, &ada, "Spring Expo", money("CNY", "0")).await;
    let rep = user("rep", EAST_1);
    let status = funnel(&harness, &rep, &expo).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    // A manager of any team reads it, as before.
    let manager = user("manager", "/northwind/west");
    let report = funnel(&harness, &manager, &expo).await.unwrap();
    assert_eq!(report.won, 0);
    // A campaign that cost nothing has no ROI, and says so.
    assert_eq!(report.roi, "");
    assert_eq!(
        report.roi_unavailable_reason.unwrap().code,
        "leads.campaign_roi.no_cost"
    );
    let unknown = funnel(&harness, &ada, &Uuid::now_v7().to_string())
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
}
