//! Orders (`OrderService`): the scenario's accepted Contoso quote as an order to the cent, its
//! deliveries in two parts of a won deal, the refusals, who reads and who records, and the
//! listing's filters and pages — over a real tonic client against real PostgreSQL and NATS.

mod support;

use crm_proto::crm::opportunities::v1 as pb;
use crm_test_support::user;
use support::{
    desk::{Desk, amount},
    *,
};
use tonic::Code;
use uuid::Uuid;

const WON_FOR_PRICE: &str = "01900000-0000-7000-8000-000000000102";

/// Ravi's Contoso quote at 18% (approved by Mei), accepted: in the same transaction an order
/// with the quote's lines and totals to the cent; the deal is won and the order delivered in
/// two parts, an over-delivery and an unknown line refused on the fields that say so.
#[tokio::test]
async fn the_accepted_contoso_quote_becomes_an_order_delivered_in_two_parts() {
    let desk = Desk::open().await;
    let ravi = desk.ravi.clone();
    let accepted = desk.accepted("18").await;
    let quote = accepted.quote.unwrap();
    let order = accepted.order.unwrap();
    assert!(order.number.starts_with("SO-2"), "{}", order.number);
    assert_eq!(
        (order.quote_id.as_str(), order.quote_number.as_str()),
        (quote.id.as_str(), quote.number.as_str())
    );
    assert_eq!((order.quote_version, order.version), (1, 1));
    assert_eq!(order.opportunity_id, desk.deal_id);
    assert_eq!(order.owner_id, ravi.user_id.to_string());
    assert_eq!(order.currency_code, "CNY");
    assert_eq!(order.delivery_status(), pb::DeliveryStatus::Open);
    // By hand: 2 × 500,000.00 and 1 × 200,000.00, 18% off: 820,000.00 and 164,000.00; 13% VAT:
    // 106,600.00 and 21,320.00; 984,000.00 + 127,920.00 = 1,111,920.00.
    let lines: Vec<(u32, &str, &str, String, String, String)> = order
        .lines
        .iter()
        .map(|line| {
            (
                line.line_number,
                line.product_code.as_str(),
                line.quantity.as_str(),
                amount(&line.net),
                amount(&line.tax),
                amount(&line.total),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            (
                1,
                "LINE3-ROBOT",
                "2",
                "820000".into(),
                "106600".into(),
                "926600".into()
            ),
            (
                2,
                "LINE3-INSTALL",
                "1",
                "164000".into(),
                "21320".into(),
                "185320".into()
            ),
        ]
    );
    let totals = order.totals.clone().unwrap();
    assert_eq!(amount(&totals.amount_before_tax), "984000");
    assert_eq!(amount(&totals.tax), "127920");
    assert_eq!(amount(&totals.total), "1111920");
    assert_eq!(desk.order(&ravi, &order.id).await.unwrap(), order);
    assert_eq!(
        desk.events(&order.id).await,
        ["crm.opportunities.v1.OrderCreated"]
    );

    // Won is the normal case for an order still to be delivered.
    let win = pb::MarkWonRequest {
        opportunity_id: desk.deal_id.clone(),
        close_reason_id: WON_FOR_PRICE.into(),
        ..Default::default()
    };
    let request = desk.harness.request(&ravi, win);
    desk.harness.deals.clone().mark_won(request).await.unwrap();

    let first = desk
        .deliver(&ravi, &order.id, &[(1, "1")], 1)
        .await
        .unwrap();
    assert_eq!(first.delivery_status(), pb::DeliveryStatus::PartlyDelivered);
    assert_eq!(first.version, 2);
    assert_eq!(first.lines[0].quantity_delivered, "1");
    assert_eq!(first.lines[1].quantity_delivered, "0");
    let delivery = &first.deliveries[0];
    assert_eq!(delivery.recorded_by, ravi.user_id.to_string());
    assert_eq!(delivery.note, "first truck");

    // One robot remains: 1.5 more is refused on its quantity, line 3 on its number; schema
    // problems are the request's.
    let over = desk
        .deliver(&ravi, &order.id, &[(2, "1"), (1, "1.5")], 0)
        .await
        .unwrap_err();
    assert_eq!(over.code(), Code::FailedPrecondition, "{over:?}");
    assert_eq!(fields(&over), ["lines[1].quantity"]);
    let unknown = desk.deliver(&ravi, &order.id, &[(3, "1")], 0).await;
    let unknown = unknown.unwrap_err();
    assert_eq!(unknown.code(), Code::FailedPrecondition);
    assert_eq!(fields(&unknown), ["lines[0].line_number"]);
    let zero = desk.deliver(&ravi, &order.id, &[(1, "0")], 0).await;
    assert_eq!(fields(&zero.unwrap_err()), ["lines[0].quantity"]);
    let malformed = desk
        .deliver(&ravi, &order.id, &[(0, "one")], 0)
        .await
        .unwrap_err();
    assert_eq!(malformed.code(), Code::InvalidArgument);
    assert_eq!(fields(&malformed), ["lines[0].quantity"]);
    // Line 0 is schema-valid (an integer): the order has no such line.
    let none = desk
        .deliver(&ravi, &order.id, &[(0, "1")], 0)
        .await
        .unwrap_err();
    assert_eq!(none.code(), Code::FailedPrecondition);
    assert_eq!(fields(&none), ["lines[0].line_number"]);
    let stale = desk.deliver(&ravi, &order.id, &[(1, "1")], 1).await;
    assert_eq!(stale.unwrap_err().code(), Code::Aborted);

    let last = desk
        .deliver(&ravi, &order.id, &[(1, "1"), (2, "1")], 2)
        .await
        .unwrap();
    assert_eq!(last.delivery_status(), pb::DeliveryStatus::Delivered);
    assert_eq!(last.deliveries.len(), 2);
    assert_eq!(last.totals, order.totals);
    let more = desk.deliver(&ravi, &order.id, &[(2, "0.5")], 0).await;
    assert_eq!(fields(&more.unwrap_err()), ["lines[0].quantity"]);
    assert_eq!(
        desk.events(&order.id).await,
        [
            "crm.opportunities.v1.OrderCreated",
            "crm.opportunities.v1.OrderDelivered",
            "crm.opportunities.v1.OrderDelivered"
        ]
    );
}

/// A member of the deal's team reads its orders and records nothing (PERMISSION_DENIED); Mei,
/// Ravi's manager, records; someone outside the deal sees no order at all.
#[tokio::test]
async fn whoever_reads_the_deal_reads_its_orders_and_whoever_changes_it_records_deliveries() {
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
    let mut deals = desk.harness.deals.clone();
    deals.set_deal_team(request).await.unwrap();
    let order = desk.accepted("0").await.order.unwrap();

    assert_eq!(desk.order(&engineer, &order.id).await.unwrap().id, order.id);
    let refused = desk.deliver(&engineer, &order.id, &[(1, "1")], 0).await;
    assert_eq!(refused.unwrap_err().code(), Code::PermissionDenied);
    let listed = pb::ListOrdersRequest::default();
    assert_eq!(
        desk.order_numbers(&engineer, listed.clone()).await,
        [order.number.as_str()]
    );

    let stranger = user("rep", EAST);
    let hidden = desk.order(&stranger, &order.id).await.unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    let hidden = desk.deliver(&stranger, &order.id, &[(1, "1")], 0).await;
    assert_eq!(hidden.unwrap_err().code(), Code::NotFound);
    assert!(desk.order_numbers(&stranger, listed).await.is_empty());
    let missing = desk.order(&ravi, &Uuid::now_v7().to_string()).await;
    assert_eq!(missing.unwrap_err().code(), Code::NotFound);

    let by_mei = desk.deliver(&desk.mei, &order.id, &[(2, "1")], 0).await;
    let by_mei = by_mei.unwrap();
    assert_eq!(
        by_mei.delivery_status(),
        pb::DeliveryStatus::PartlyDelivered
    );
    assert_eq!(by_mei.updated_by, desk.mei.user_id.to_string());
}

/// Three accepted quotes of the deal make three orders, listed newest first two a page, by deal,
/// account and delivery status.
#[tokio::test]
async fn orders_are_listed_by_deal_account_and_delivery_status() {
    let desk = Desk::open().await;
    let ravi = desk.ravi.clone();
    let mut orders = Vec::new();
    for discount in ["0", "10", "5"] {
        orders.push(desk.accepted(discount).await.order.unwrap());
    }
    desk.deliver(&ravi, &orders[0].id, &[(1, "2"), (2, "1")], 0)
        .await
        .unwrap();
    desk.deliver(&ravi, &orders[1].id, &[(2, "1")], 0)
        .await
        .unwrap();
    let numbers = |indexes: &[usize]| -> Vec<String> {
        indexes.iter().map(|i| orders[*i].number.clone()).collect()
    };
    let of_deal = pb::ListOrdersRequest {
        opportunity_id: desk.deal_id.clone(),
        ..Default::default()
    };
    assert_eq!(
        desk.order_numbers(&ravi, of_deal.clone()).await,
        numbers(&[2, 1, 0])
    );
    let of_account = pb::ListOrdersRequest {
        account_id: orders[0].account_id.clone(),
        ..Default::default()
    };
    assert_eq!(
        desk.order_numbers(&ravi, of_account).await,
        numbers(&[2, 1, 0])
    );
    for (status, expected) in [
        (pb::DeliveryStatus::Delivered, numbers(&[0])),
        (pb::DeliveryStatus::PartlyDelivered, numbers(&[1])),
        (pb::DeliveryStatus::Open, numbers(&[2])),
    ] {
        let request = pb::ListOrdersRequest {
            delivery_status: status.into(),
            ..of_deal.clone()
        };
        assert_eq!(desk.order_numbers(&ravi, request).await, expected);
    }
    let elsewhere = pb::ListOrdersRequest {
        opportunity_id: Uuid::now_v7().to_string(),
        ..Default::default()
    };
    assert!(desk.order_numbers(&ravi, elsewhere).await.is_empty());
    let request = desk.harness.request(
        &ravi,
        pb::ListOrdersRequest {
            account_id: "not-an-id".into(),
            delivery_status: 9,
            ..Default::default()
        },
    );
    let malformed = desk.harness.orders.clone().list_orders(request).await;
    let malformed = malformed.unwrap_err();
    assert_eq!(malformed.code(), Code::InvalidArgument);
    assert_eq!(fields(&malformed), ["account_id"]);
}

/// Ravi cancels an open order with a reason (event order_cancelled); a cancelled order takes
/// no delivery and is not cancelled twice; an order with a delivery is not cancelled; a member
/// of the deal's team may not cancel, and without a reason the request is the caller's fault.
#[tokio::test]
async fn an_open_order_is_cancelled_with_a_reason_and_then_takes_no_delivery() {
    let desk = Desk::open().await;
    let ravi = desk.ravi.clone();
    let order = desk.accepted("0").await.order.unwrap();
    let cancel = |caller: &crm_platform::auth::Caller, reason: &str, version: u64| {
        let request = pb::CancelOrderRequest {
            order_id: order.id.clone(),
            reason: reason.into(),
            expected_version: version,
        };
        let request = desk.harness.request(caller, request);
        let mut orders = desk.harness.orders.clone();
        async move { orders.cancel_order(request).await.map(|r| r.into_inner()) }
    };
    let blank = cancel(&ravi, " ", 0).await.unwrap_err();
    assert_eq!(blank.code(), Code::InvalidArgument);
    assert_eq!(fields(&blank), ["reason"]);
    let stranger = user("rep", EAST);
    let hidden = cancel(&stranger, "mine now", 0).await.unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    let stale = cancel(&ravi, "the customer withdrew", 7).await.unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);

    let cancelled = cancel(&ravi, "the customer withdrew", 1).await.unwrap();
    let cancelled = cancelled.order.unwrap();
    assert_eq!(cancelled.version, 2);
    assert_eq!(cancelled.delivery_status(), pb::DeliveryStatus::Open);
    let cancellation = cancelled.cancellation.clone().unwrap();
    assert_eq!(cancellation.reason, "the customer withdrew");
    assert_eq!(cancellation.cancelled_by, ravi.user_id.to_string());
    assert_eq!(desk.order(&ravi, &order.id).await.unwrap(), cancelled);
    let again = cancel(&ravi, "twice", 0).await.unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition);
    assert_eq!(fields(&again), ["order_id"]);
    let delivered = desk.deliver(&ravi, &order.id, &[(1, "1")], 0).await;
    let delivered = delivered.unwrap_err();
    assert_eq!(delivered.code(), Code::FailedPrecondition);
    assert_eq!(fields(&delivered), ["order_id"]);
    assert_eq!(
        desk.events(&order.id).await,
        [
            "crm.opportunities.v1.OrderCreated",
            "crm.opportunities.v1.OrderCancelled"
        ]
    );

    let second = desk.accepted("10").await.order.unwrap();
    desk.deliver(&ravi, &second.id, &[(2, "1")], 0)
        .await
        .unwrap();
    let request = pb::CancelOrderRequest {
        order_id: second.id.clone(),
        reason: "too late".into(),
        expected_version: 0,
    };
    let request = desk.harness.request(&ravi, request);
    let refused = desk.harness.orders.clone().cancel_order(request).await;
    let refused = refused.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(fields(&refused), ["order_id"]);
}
