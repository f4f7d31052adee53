//! Quotes with discount approval (`QuoteService`): the scenario's Contoso quote at 18% through
//! Mei's approval to the deal's amount, revisions, the threshold, rendering, retries and
//! refusals — over a real tonic client against real PostgreSQL and NATS.

mod support;

use crm_proto::crm::opportunities::v1 as pb;
use crm_test_support::user;
use support::{
    desk::{Desk, amount, status},
    *,
};
use tonic::Code;
use uuid::Uuid;

const WEST: &str = "/northwind/west/";

/// The scenario: Ravi quotes the Contoso deal at 18% off list (threshold 15%), so it waits for
/// a manager; neither Ravi, nor a rep beside him, nor West's manager decides; Mei does, with a
/// note; the issued quote, accepted, sets the deal's amount to its amount before tax exactly.
#[tokio::test]
async fn the_contoso_quote_at_18_percent_waits_for_mei_and_sets_the_deal_amount() {
    let desk = Desk::open().await;
    let ravi = desk.ravi.clone();
    let quote = desk.quote(&ravi, desk.create("18")).await.unwrap();
    assert_eq!(status(&quote), pb::QuoteStatus::Draft);
    assert!(quote.number.starts_with("Q-"), "{}", quote.number);
    assert_eq!((quote.quote_version, quote.version), (1, 1));
    assert_eq!(
        (quote.currency_code.as_str(), quote.tax_percent.as_str()),
        ("CNY", "13")
    );
    // The book's spelling and name, and its list price kept on the line.
    let robot = &quote.lines[0];
    assert_eq!(robot.product_code, "LINE3-ROBOT");
    assert_eq!(amount(&robot.list_price), "500000");
    // By hand: 2 × 500,000.00 + 200,000.00 = 1,200,000.00 at list; 18% off: 820,000.00 and
    // 164,000.00 = 984,000.00; 13% VAT: 106,600.00 + 21,320.00 = 127,920.00; 1,111,920.00.
    let figures = quote.figures.clone().unwrap();
    assert_eq!(amount(&figures.list_total), "1200000");
    assert_eq!(amount(&figures.amount_before_tax), "984000");
    assert_eq!(amount(&figures.tax), "127920");
    assert_eq!(amount(&figures.total), "1111920");
    assert_eq!(figures.discount_percent, "18.00");
    assert_eq!(amount(&quote.lines[1].discounted), "164000");

    let pending = desk.submit(&ravi, &quote.id).await.unwrap();
    assert_eq!(status(&pending), pb::QuoteStatus::PendingApproval);
    let approval = pending.approval.clone().unwrap();
    assert!(approval.required);
    assert_eq!(approval.threshold_percent, "15");
    // Ravi never approves his own; the quote cannot be issued meanwhile.
    let own = desk.approve(&ravi, &quote.id).await.unwrap_err();
    assert_eq!(own.code(), Code::PermissionDenied);
    assert!(own.message().contains("own"), "{}", own.message());
    let early = desk.issue_as(&ravi, &quote.id).await.unwrap_err();
    assert_eq!(
        (early.code(), reason(&early)),
        (Code::FailedPrecondition, "QUOTE_STATUS_NOT_ALLOWED".into())
    );
    // Another East rep and West's manager cannot see the deal: to them it does not exist.
    for other in [user("rep", EAST), user("manager", WEST)] {
        let refused = desk.approve(&other, &quote.id).await.unwrap_err();
        assert_eq!(refused.code(), Code::NotFound, "{:?}", other.role);
    }
    let approved = desk.approve(&desk.mei, &quote.id).await.unwrap();
    assert_eq!(status(&approved), pb::QuoteStatus::Approved);
    let decision = approved.approval.clone().unwrap();
    assert_eq!(decision.decision(), pb::QuoteDiscountDecision::Approved);
    assert_eq!(decision.decided_by, desk.mei.user_id.to_string());
    assert_eq!(decision.note, "strategic account, approved for Q4");
    assert!(decision.decided_at.is_some());
    let twice = desk.approve(&desk.mei, &quote.id).await.unwrap_err();
    assert_eq!(twice.code(), Code::FailedPrecondition);

    let issued = desk.issue_as(&ravi, &quote.id).await.unwrap();
    assert_eq!(status(&issued), pb::QuoteStatus::Issued);
    let request = pb::AcceptQuoteRequest {
        quote_id: quote.id.clone(),
        expected_version: issued.version,
    };
    let request = desk.harness.request(&ravi, request);
    let accepted = desk.harness.quotes.clone().accept_quote(request).await;
    let accepted = accepted.unwrap().into_inner();
    assert_eq!(
        status(accepted.quote.as_ref().unwrap()),
        pb::QuoteStatus::Accepted
    );
    let deal = accepted.opportunity.unwrap();
    assert_eq!(amount(&deal.amount), "984000");
    let totals: Vec<String> = deal
        .line_items
        .iter()
        .map(|item| amount(&item.total))
        .collect();
    assert_eq!(totals, ["820000", "164000"]);
    assert_eq!(deal.line_items[0].product_code, "LINE3-ROBOT");
    assert_eq!(deal.line_items[0].discount_percent, "18");
    // The deal's usual events and the quote's, in the outbox with the change.
    let deal_events = desk.events(&desk.deal_id).await;
    assert!(
        deal_events.contains(&"crm.opportunities.v1.OpportunityAmountChanged".to_owned()),
        "{deal_events:?}"
    );
    assert_eq!(
        desk.events(&quote.id).await,
        [
            "crm.opportunities.v1.QuoteIssued",
            "crm.opportunities.v1.QuoteAccepted"
        ]
    );
    // An accepted quote is the customer's answer: no second one.
    let again = desk.decline_as(&ravi, &quote.id).await.unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition);
}

/// Mei rejects a 20% quote with a reason; Ravi revises it into version 2 at 15.00%, which needs
/// no approval; version 1 stays as it was, superseded; edits are for drafts only and checked
/// against the version.
#[tokio::test]
async fn a_rejected_quote_is_revised_into_a_second_version_within_the_threshold() {
    let desk = Desk::open().await;
    let ravi = desk.ravi.clone();
    let first = desk.quote(&ravi, desk.create("20")).await.unwrap();
    desk.submit(&ravi, &first.id).await.unwrap();
    let no_reason = desk.reject(&desk.mei, &first.id, " ").await.unwrap_err();
    assert_eq!(no_reason.code(), Code::InvalidArgument);
    assert_eq!(fields(&no_reason), ["reason"]);
    let rejected = desk
        .reject(&desk.mei, &first.id, "20% is beyond this quarter's room")
        .await
        .unwrap();
    assert_eq!(status(&rejected), pb::QuoteStatus::Rejected);
    let decision = rejected.approval.clone().unwrap();
    assert_eq!(decision.decision(), pb::QuoteDiscountDecision::Rejected);
    assert_eq!(decision.note, "20% is beyond this quarter's room");
    // A rejected version is read-only.
    let edit = |id: &str, version: u64| pb::UpdateQuoteRequest {
        quote_id: id.into(),
        discount_percent: Some("15".into()),
        expected_version: version,
        ..Default::default()
    };
    let refused = desk.update(edit(&first.id, 0)).await.unwrap_err();
    assert_eq!(
        (refused.code(), reason(&refused)),
        (Code::FailedPrecondition, "QUOTE_STATUS_NOT_ALLOWED".into())
    );

    let request = pb::ReviseQuoteRequest {
        quote_id: first.id.clone(),
        expected_version: rejected.version,
        new_quote_id: String::new(),
    };
    let request = desk.harness.request(&ravi, request);
    let revision = desk.harness.quotes.clone().revise_quote(request).await;
    let revision = revision.unwrap().into_inner();
    let second = revision.quote.unwrap();
    assert_eq!(
        (second.number.as_str(), second.quote_version),
        (first.number.as_str(), 2)
    );
    assert_eq!(status(&second), pb::QuoteStatus::Draft);
    assert_eq!(second.revised_from, first.id);
    assert!(second.approval.is_none());
    let old = revision.revised.unwrap();
    assert_eq!(status(&old), pb::QuoteStatus::Superseded);
    // Versions: a stale expected version is ABORTED.
    let stale = desk.update(edit(&second.id, 7)).await.unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);
    let edited = desk.update(edit(&second.id, second.version)).await.unwrap();
    assert_eq!(edited.version, second.version + 1);
    let figures = edited.figures.clone().unwrap();
    assert_eq!(figures.discount_percent, "15.00");
    assert_eq!(amount(&figures.amount_before_tax), "1020000");
    // 15.00% is at the threshold, not above: approved at once.
    let submitted = desk.submit(&ravi, &second.id).await.unwrap();
    assert_eq!(status(&submitted), pb::QuoteStatus::Approved);
    assert!(!submitted.approval.unwrap().required);
    // Version 1 is as it was: its lines, its discount, its rejection.
    let v1 = desk.get(&first.id).await;
    assert_eq!(v1.discount_percent, "20");
    assert_eq!(v1.lines, first.lines);
    assert_eq!(
        v1.approval.unwrap().note,
        "20% is beyond this quarter's room"
    );
    // The deal's quotes, newest first.
    let request = pb::ListQuotesRequest {
        opportunity_id: desk.deal_id.clone(),
    };
    let request = desk.harness.request(&ravi, request);
    let listed = desk.harness.quotes.clone().list_quotes(request).await;
    let ids: Vec<String> = listed
        .unwrap()
        .into_inner()
        .quotes
        .into_iter()
        .map(|quote| quote.id)
        .collect();
    assert_eq!(ids, [second.id.clone(), first.id.clone()]);
}

/// A create retried with its id returns the first quote; someone else's retry is ID_TAKEN.
/// What the schema cannot say is a refusal, never a 400 or a panic.
#[tokio::test]
async fn quotes_are_retried_by_id_and_refuse_what_the_book_cannot_price() {
    let desk = Desk::open().await;
    let ravi = desk.ravi.clone();
    let request = pb::CreateQuoteRequest {
        quote_id: Uuid::now_v7().to_string(),
        ..desk.create("5")
    };
    let first = desk.quote(&ravi, request.clone()).await.unwrap();
    let again = desk.quote(&ravi, request.clone()).await.unwrap();
    assert_eq!(again, first);
    let taken = desk.quote(&desk.mei, request).await.unwrap_err();
    assert_eq!(
        (taken.code(), reason(&taken)),
        (Code::AlreadyExists, "ID_TAKEN".into())
    );

    let with_line = |line: pb::QuoteLineInput| pb::CreateQuoteRequest {
        lines: vec![line],
        ..desk.create("0")
    };
    let unlisted = pb::QuoteLineInput {
        product_code: "CUSTOM-JIG".into(),
        quantity: "1".into(),
        ..Default::default()
    };
    let refused = desk
        .quote(&ravi, with_line(unlisted.clone()))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(fields(&refused), ["lines[0].unit_price"]);
    let huge = pb::QuoteLineInput {
        quantity: "99999999999999999999".into(),
        unit_price: money("CNY", "99999999999999999999.99"),
        discount_percent: "101".into(),
        ..unlisted.clone()
    };
    let refused = desk.quote(&ravi, with_line(huge)).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(
        fields(&refused),
        ["lines[0].discount_percent", "lines[0].quantity"]
    );
    let euro = pb::QuoteLineInput {
        unit_price: money("EUR", "10.00"),
        ..unlisted.clone()
    };
    let refused = desk.quote(&ravi, with_line(euro)).await.unwrap_err();
    assert_eq!(fields(&refused), ["lines[0].unit_price.currency_code"]);
    let malformed = pb::QuoteLineInput {
        quantity: "two".into(),
        ..unlisted
    };
    let refused = desk.quote(&ravi, with_line(malformed)).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(fields(&refused), ["lines[0].quantity"]);
    // A retired product is sold no more, but a draft that has it keeps it.
    let draft = desk.quote(&ravi, desk.create("0")).await.unwrap();
    let request = pb::ListProductsRequest {
        text: "ROBOT".into(),
        ..Default::default()
    };
    let request = desk.harness.request(&desk.harness.admin, request);
    let listed = desk.harness.book.clone().list_products(request).await;
    let robot_id = listed.unwrap().into_inner().products[0].id.clone();
    let retire = pb::UpdateProductRequest {
        product_id: robot_id,
        active: Some(false),
        ..Default::default()
    };
    let admin = desk.harness.admin.clone();
    desk.harness.update_product(&admin, retire).await.unwrap();
    let refused = desk.quote(&ravi, desk.create("0")).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(fields(&refused), ["lines[0].product_code"]);
    let same_lines = pb::UpdateQuoteRequest {
        quote_id: draft.id.clone(),
        lines: Some(pb::QuoteLineInputList {
            lines: desk.create("0").lines,
        }),
        ..Default::default()
    };
    let kept = desk.update(same_lines).await.unwrap();
    assert_eq!(kept.lines[0].product_code, "LINE3-ROBOT");
}

/// The rendered quote names the account, the lines and the totals, every text escaped.
#[tokio::test]
async fn a_rendered_quote_is_a_document_with_every_text_escaped() {
    let desk = Desk::open().await;
    let ravi = desk.ravi.clone();
    let settings = pb::UpdateQuoteSettingsRequest {
        company_name: Some("Northwind <Robotics> & Co".into()),
        ..Default::default()
    };
    let request = desk.harness.request(&desk.harness.admin, settings.clone());
    let updated = desk
        .harness
        .quotes
        .clone()
        .update_quote_settings(request)
        .await;
    let updated = updated.unwrap().into_inner().settings.unwrap();
    assert_eq!(
        (updated.version, updated.default_tax_percent.as_str()),
        (2, "13")
    );
    let request = desk.harness.request(&desk.mei, settings);
    let denied = desk
        .harness
        .quotes
        .clone()
        .update_quote_settings(request)
        .await;
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied);
    let mut create = desk.create("18");
    create.lines.push(pb::QuoteLineInput {
        product_code: "JIG-1".into(),
        product_name: "Tom's \"jig\" <b>".into(),
        quantity: "1".into(),
        unit_price: money("CNY", "100.00"),
        ..Default::default()
    });
    create.notes = "Delivery <2 weeks>".into();
    let quote = desk.quote(&ravi, create).await.unwrap();
    let request = pb::RenderQuoteRequest {
        quote_id: quote.id.clone(),
    };
    let request = desk.harness.request(&ravi, request);
    let html = desk.harness.quotes.clone().render_quote(request).await;
    let html = html.unwrap().into_inner().html;
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    for part in [
        "Northwind &lt;Robotics&gt; &amp; Co",
        "Contoso",
        "Tom&#39;s &quot;jig&quot; &lt;b&gt;",
        "Delivery &lt;2 weeks&gt;",
        "Installation &amp; commissioning",
        "CNY 984082.00",
        "CNY 1112012.66",
        &quote.number,
    ] {
        assert!(html.contains(part), "{part} in {html}");
    }
    assert!(!html.contains("<b>"), "{html}");
}

/// The approval queue: Ravi's pending quote waits in Mei's queue (East holds East-1) and the
/// admin's, not in West's manager's, not in Ravi's own (nobody decides on their own), and not in
/// a rep's; a quote approved leaves it; a limit above 200 is refused by name.
#[tokio::test]
async fn the_approval_queue_holds_the_discounts_each_manager_decides() {
    let desk = Desk::open().await;
    let ravi = desk.ravi.clone();
    let queue = |caller: crm_platform::auth::Caller, limit: u32| {
        let request = desk
            .harness
            .request(&caller, pb::ListQuotesAwaitingApprovalRequest { limit });
        let mut client = desk.harness.quotes.clone();
        async move {
            client
                .list_quotes_awaiting_approval(request)
                .await
                .map(|response| response.into_inner())
        }
    };
    let first = desk.quote(&ravi, desk.create("18")).await.unwrap();
    let second = desk.quote(&ravi, desk.create("20")).await.unwrap();
    // A draft waits for nobody; within the threshold nothing waits.
    let within = desk.quote(&ravi, desk.create("10")).await.unwrap();
    desk.submit(&ravi, &within.id).await.unwrap();
    assert!(queue(desk.mei.clone(), 0).await.unwrap().quotes.is_empty());
    desk.submit(&ravi, &first.id).await.unwrap();
    desk.submit(&ravi, &second.id).await.unwrap();

    let mei = queue(desk.mei.clone(), 0).await.unwrap();
    let ids: Vec<&str> = mei
        .quotes
        .iter()
        .map(|waiting| waiting.quote.as_ref().unwrap().id.as_str())
        .collect();
    // The longest-waiting first, with the deal's name for the row.
    assert_eq!(ids, [first.id.as_str(), second.id.as_str()]);
    assert_eq!(mei.quotes[0].opportunity_name, "Line 3 automation");
    assert!(!mei.more);
    let admin = queue(desk.harness.admin.clone(), 0).await.unwrap();
    assert_eq!(admin.quotes.len(), 2);
    for outside in [user("manager", WEST), ravi.clone(), user("rep", EAST_1)] {
        assert!(queue(outside, 0).await.unwrap().quotes.is_empty());
    }
    // The limit, and whether more wait.
    let one = queue(desk.mei.clone(), 1).await.unwrap();
    assert_eq!((one.quotes.len(), one.more), (1, true));
    let refused = queue(desk.mei.clone(), 201).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(fields(&refused), ["limit"]);

    desk.approve(&desk.mei, &first.id).await.unwrap();
    let after = queue(desk.mei.clone(), 0).await.unwrap();
    assert_eq!(after.quotes.len(), 1);
    assert_eq!(after.quotes[0].quote.as_ref().unwrap().id, second.id);
}
