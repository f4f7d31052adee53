//! Deals' line items priced from the book: a line naming a product takes the book's spelling,
//! name and list price; an unlisted line carries its own — over a real tonic client against
//! real PostgreSQL and NATS.

mod support;

use crm_proto::crm::{common::v1::Money, opportunities::v1 as pb};
use crm_test_support::user;
use support::*;
use tonic::Code;

/// A line naming a product of the book takes its spelling, name and today's list price of the
/// deal's currency (a price dated later does not apply yet); an unlisted line keeps its own
/// name and must carry a price.
#[tokio::test]
async fn a_deal_line_item_takes_its_list_price_from_the_book() {
    let harness = Harness::start().await;
    let admin = harness.admin.clone();
    let ravi = user("rep", EAST_1);
    let account_id = harness.publish_account(&ravi).await;
    let list = harness
        .create_list(&admin, price_list("China", "CNY"))
        .await
        .unwrap();
    let robot = product("LINE3-ROBOT", "Line 3 robot cell", "Robotics");
    let robot = harness.create_product(&admin, robot).await.unwrap();
    let set = |from: String, amount: &'static str| {
        let (harness, admin, list, robot) = (&harness, &admin, &list, &robot);
        async move {
            let price = money("CNY", amount);
            harness
                .set_price(admin, &list.id, &robot.id, &from, price)
                .await
        }
    };
    set(day(-30), "120000.00").await.unwrap();
    set(day(-1), "125000.00").await.unwrap();
    set(day(10), "130000.00").await.unwrap();
    let line = |code: &str, price: Option<Money>| pb::LineItem {
        product_code: code.into(),
        product_name: "as the rep wrote it".into(),
        quantity: "2".into(),
        unit_price: price,
        ..Default::default()
    };
    let create = |items: Vec<pb::LineItem>| pb::CreateOpportunityRequest {
        opportunity: Some(pb::OpportunityInput {
            name: "Line 3 automation".into(),
            account_id: account_id.clone(),
            amount: money("CNY", "0"),
            expected_close_date: day(60),
            line_items: items,
            ..Default::default()
        }),
        opportunity_id: String::new(),
    };
    let jig = pb::LineItem {
        quantity: "2.5".into(),
        ..line("CUSTOM-JIG", money("CNY", "0.05"))
    };
    let items = vec![line("line3-robot", None), jig];
    let request = harness.request(&ravi, create(items));
    let deal = harness
        .deals
        .clone()
        .create_opportunity(request)
        .await
        .unwrap();
    let deal = deal.into_inner().opportunity.unwrap();
    let listed = &deal.line_items[0];
    assert_eq!(
        (listed.product_code.as_str(), listed.product_name.as_str()),
        ("LINE3-ROBOT", "Line 3 robot cell")
    );
    assert_eq!(listed.unit_price, money("CNY", "125000"));
    assert_eq!(listed.total, money("CNY", "250000"));
    let unlisted = &deal.line_items[1];
    assert_eq!(unlisted.product_name, "as the rep wrote it");
    // 2.5 × 0.05 = 0.125, rounded half to even; the amount is the sum of the rounded lines.
    assert_eq!(unlisted.total, money("CNY", "0.12"));
    assert_eq!(deal.amount, money("CNY", "250000.12"));
    // An unlisted line without a price is refused, naming the field (422 over HTTP).
    let items = vec![line("LINE3-ROBOT", None), line("CUSTOM-JIG", None)];
    let refused = harness
        .deals
        .clone()
        .create_opportunity(harness.request(&ravi, create(items)))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(fields(&refused), ["opportunity.line_items[1].unit_price"]);
    // An update's lines are priced alike; a currency without a default list has no prices.
    let patch = |currency: &str, items: Vec<pb::LineItem>| pb::UpdateOpportunityRequest {
        opportunity_id: deal.id.clone(),
        patch: Some(pb::OpportunityPatch {
            amount: money(currency, "0"),
            line_items: Some(pb::LineItemList { line_items: items }),
            ..Default::default()
        }),
        expected_version: 0,
    };
    let request = harness.request(&ravi, patch("CNY", vec![line("Line3-Robot", None)]));
    let updated = harness
        .deals
        .clone()
        .update_opportunity(request)
        .await
        .unwrap();
    let updated = updated.into_inner().opportunity.unwrap();
    assert_eq!(updated.amount, money("CNY", "250000"));
    let request = harness.request(&ravi, patch("USD", vec![line("LINE3-ROBOT", None)]));
    let refused = harness
        .deals
        .clone()
        .update_opportunity(request)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(
        fields(&refused),
        ["patch.line_items.line_items[0].unit_price"]
    );

    // Retired, the robot is sold no more: a new deal naming it is refused; this deal, which
    // has it, keeps it through a change of its lines.
    harness
        .update_product(
            &admin,
            pb::UpdateProductRequest {
                product_id: robot.id.clone(),
                active: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let items = vec![line("LINE3-ROBOT", money("CNY", "100000"))];
    let refused = harness
        .deals
        .clone()
        .create_opportunity(harness.request(&ravi, create(items)))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(fields(&refused), ["opportunity.line_items[0].product_code"]);
    let lines = vec![
        line("LINE3-ROBOT", None),
        line("CUSTOM-JIG", money("CNY", "1")),
    ];
    let request = harness.request(&ravi, patch("CNY", lines));
    let kept = harness
        .deals
        .clone()
        .update_opportunity(request)
        .await
        .unwrap()
        .into_inner()
        .opportunity
        .unwrap();
    assert_eq!(kept.line_items[0].product_name, "Line 3 robot cell");
    assert_eq!(kept.amount, money("CNY", "250002"));
}
