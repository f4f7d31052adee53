//! Quotes beyond the happy path's figures: what their events carry, what a deal's team members
//! may do with its quotes, and an issued version that keeps its prices when the book changes —
//! over a real tonic client against real PostgreSQL and NATS.

mod support;

use crm_proto::crm::opportunities::v1 as pb;
use crm_test_support::user;
use prost::Message;
use support::{
    desk::{Desk, amount, status},
    *,
};
use tonic::Code;

/// The quote_issued event in the outbox carries the version's full state and its version as
/// the aggregate version; a price the book sets later never reaches the version.
#[tokio::test]
async fn an_issued_quote_keeps_its_prices_and_its_event_carries_its_state() {
    let desk = Desk::open().await;
    let ravi = desk.ravi.clone();
    let quote = desk.quote(&ravi, desk.create("5")).await.unwrap();
    let approved = desk.submit(&ravi, &quote.id).await.unwrap();
    assert_eq!(status(&approved), pb::QuoteStatus::Approved);
    // The robot costs more from today on: the version keeps the price it was quoted at.
    let admin = desk.harness.admin.clone();
    let lists = pb::ListPriceListsRequest {
        currency_code: "CNY".into(),
        include_inactive: false,
    };
    let lists = desk.harness.request(&admin, lists);
    let lists = desk.harness.book.clone().list_price_lists(lists).await;
    let list_id = lists.unwrap().into_inner().price_lists[0].id.clone();
    let products = pb::ListProductsRequest {
        text: "LINE3-ROBOT".into(),
        ..Default::default()
    };
    let products = desk.harness.request(&admin, products);
    let products = desk.harness.book.clone().list_products(products).await;
    let robot_id = products.unwrap().into_inner().products[0].id.clone();
    let dearer = money("CNY", "600000.00");
    desk.harness
        .set_price(&admin, &list_id, &robot_id, &day(0), dearer)
        .await
        .unwrap();
    let issued = desk.issue_as(&ravi, &quote.id).await.unwrap();
    assert_eq!(amount(&issued.lines[0].list_price), "500000");
    assert_eq!(issued.figures, quote.figures);
    assert_eq!(desk.get(&quote.id).await.lines, quote.lines);

    let (payload, aggregate_version): (Vec<u8>, i64) = sqlx::query_as(
        "SELECT payload, aggregate_version FROM outbox \
         WHERE aggregate_type = 'quote' AND aggregate_id = $1 \
         AND event_type = 'crm.opportunities.v1.QuoteIssued'",
    )
    .bind(&quote.id)
    .fetch_one(desk.harness.app.pool("opportunities"))
    .await
    .unwrap();
    let event = pb::QuoteIssued::decode(payload.as_slice()).unwrap();
    let carried = event.quote.unwrap();
    assert_eq!(carried, issued);
    assert_eq!(aggregate_version, issued.version as i64);
    assert_eq!(carried.opportunity_id, desk.deal_id);
    assert_eq!(carried.owner_id, ravi.user_id.to_string());
    assert_eq!(carried.owner_team_path, EAST_1);
    assert_eq!((carried.quote_version, carried.lines.len()), (1, 2));
    let figures = carried.figures.unwrap();
    // 1,200,000.00 × 0.95.
    assert_eq!(amount(&figures.amount_before_tax), "1140000");
    let change = event.change.unwrap();
    assert_eq!(change.changed_by, ravi.user_id.to_string());
}

/// A member of the deal's team reads its quotes wherever their own team is, and neither
/// changes them nor decides on their discounts (PERMISSION_DENIED: the deal is no secret to
/// them).
#[tokio::test]
async fn a_deal_team_member_reads_its_quotes_and_changes_nothing() {
    let desk = Desk::open().await;
    let ravi = desk.ravi.clone();
    let engineer = user("rep", "/northwind/west/");
    let team = pb::SetDealTeamRequest {
        opportunity_id: desk.deal_id.clone(),
        team: vec![pb::DealTeamMember {
            user_id: engineer.user_id.to_string(),
            role: pb::DealTeamRole::SalesEngineer.into(),
        }],
        splits: Vec::new(),
        expected_version: 0,
    };
    let request = desk.harness.request(&ravi, team);
    desk.harness
        .deals
        .clone()
        .set_deal_team(request)
        .await
        .unwrap();
    let quote = desk.quote(&ravi, desk.create("20")).await.unwrap();
    desk.submit(&ravi, &quote.id).await.unwrap();

    let request = pb::GetQuoteRequest {
        quote_id: quote.id.clone(),
    };
    let request = desk.harness.request(&engineer, request);
    let read = desk.harness.quotes.clone().get_quote(request).await;
    assert_eq!(read.unwrap().into_inner().quote.unwrap().id, quote.id);
    let refused = desk.approve(&engineer, &quote.id).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    let created = desk.quote(&engineer, desk.create("0")).await.unwrap_err();
    assert_eq!(created.code(), Code::PermissionDenied);
    // Someone outside the deal does not see its quotes at all.
    let stranger = user("rep", "/northwind/west/");
    let request = pb::ListQuotesRequest {
        opportunity_id: desk.deal_id.clone(),
    };
    let request = desk.harness.request(&stranger, request);
    let listed = desk.harness.quotes.clone().list_quotes(request).await;
    assert_eq!(listed.unwrap_err().code(), Code::NotFound);
}

/// Accepting one issued quote supersedes the deal's other open versions; once the deal is
/// closed, its quotes are answered no more (OPPORTUNITY_STATUS_NOT_ALLOWED).
#[tokio::test]
async fn an_accepted_quote_supersedes_the_others_and_a_closed_deal_takes_none() {
    let desk = Desk::open().await;
    let ravi = desk.ravi.clone();
    let mut issued = Vec::new();
    for discount in ["0", "10"] {
        let quote = desk.quote(&ravi, desk.create(discount)).await.unwrap();
        desk.submit(&ravi, &quote.id).await.unwrap();
        issued.push(desk.issue_as(&ravi, &quote.id).await.unwrap());
    }
    let draft = desk.quote(&ravi, desk.create("0")).await.unwrap();
    let accept = |id: &str| pb::AcceptQuoteRequest {
        quote_id: id.into(),
        expected_version: 0,
    };
    let request = desk.harness.request(&ravi, accept(&issued[1].id));
    let accepted = desk.harness.quotes.clone().accept_quote(request).await;
    let deal = accepted.unwrap().into_inner().opportunity.unwrap();
    // 1,200,000.00 × 0.90.
    assert_eq!(amount(&deal.amount), "1080000");
    for other in [&issued[0].id, &draft.id] {
        assert_eq!(status(&desk.get(other).await), pb::QuoteStatus::Superseded);
    }
    // Lost: a new quote, or an answer to one, is refused for the deal's status.
    let lose = pb::MarkLostRequest {
        opportunity_id: desk.deal_id.clone(),
        close_reason_id: "01900000-0000-7000-8000-000000000111".into(),
        ..Default::default()
    };
    let request = desk.harness.request(&ravi, lose);
    desk.harness.deals.clone().mark_lost(request).await.unwrap();
    let refused = desk.quote(&ravi, desk.create("0")).await.unwrap_err();
    assert_eq!(
        (refused.code(), reason(&refused)),
        (
            Code::FailedPrecondition,
            "OPPORTUNITY_STATUS_NOT_ALLOWED".into()
        )
    );
    let revise = pb::ReviseQuoteRequest {
        quote_id: issued[0].id.clone(),
        ..Default::default()
    };
    let request = desk.harness.request(&ravi, revise);
    let refused = desk.harness.quotes.clone().revise_quote(request).await;
    assert_eq!(refused.unwrap_err().code(), Code::FailedPrecondition);
}
