use chrono::{NaiveDate, Utc};
use crm_platform::{
    auth::TeamPath,
    money::{CurrencyCode, Money},
};
use proptest::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::*;
use crate::domain::quote::{self, QuoteLine, QuoteStatus, QuoteTerms};

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn cny(amount: &str) -> Money {
    Money {
        currency: CurrencyCode::CNY,
        amount: dec(amount),
    }
}

fn quote_line(code: &str, quantity: &str, unit: &str, discount: &str) -> QuoteLine {
    QuoteLine {
        product_code: code.into(),
        product_name: code.into(),
        quantity: dec(quantity),
        list_price: Some(cny(unit)),
        unit_price: cny(unit),
        discount_percent: dec(discount),
        tax_percent: None,
    }
}

fn accepted(lines: Vec<QuoteLine>, discount: &str, tax: &str) -> Quote {
    let terms = QuoteTerms {
        currency: CurrencyCode::CNY,
        discount_percent: dec(discount),
        tax_percent: dec(tax),
    };
    let now = Utc::now();
    let user = Uuid::now_v7();
    Quote {
        id: Uuid::now_v7(),
        opportunity_id: Uuid::now_v7(),
        account_id: Some(Uuid::now_v7()),
        owner_id: user,
        owner_team_path: TeamPath::parse("/sales/").unwrap(),
        number: "Q-2026-000001".into(),
        quote_version: 2,
        revised_from: None,
        status: QuoteStatus::Accepted,
        price_list_id: None,
        pricing_date: now.date_naive(),
        figures: quote::figures(&lines, &terms),
        terms,
        lines,
        valid_until: now.date_naive(),
        notes: String::new(),
        approval: None,
        decline_reason: String::new(),
        created_by: user,
        created_at: now,
        updated_by: user,
        updated_at: now,
        revision: 5,
    }
}

/// The scenario's Contoso quote: two robots and the installation at list, 18% off, 13% VAT.
fn contoso() -> Quote {
    accepted(
        vec![
            quote_line("LINE3-ROBOT", "2", "500000.00", "0"),
            quote_line("LINE3-INSTALL", "1", "200000.00", "0"),
        ],
        "18",
        "13",
    )
}

fn delivery(lines: &[(u32, &str)]) -> Delivery {
    Delivery {
        delivered_on: NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
        lines: lines
            .iter()
            .map(|(line_number, quantity)| DeliveredLine {
                line_number: *line_number,
                quantity: dec(quantity),
            })
            .collect(),
        note: "by truck".into(),
        recorded_by: Uuid::now_v7(),
        recorded_at: Utc::now(),
    }
}

#[test]
fn an_order_copies_the_accepted_quotes_lines_and_totals_to_the_cent() {
    let quote = contoso();
    let order = from_quote(&quote, Uuid::now_v7(), "SO-2026-000001".into());
    assert_eq!(order.quote_id, quote.id);
    assert_eq!(order.quote_number, "Q-2026-000001");
    assert_eq!(order.quote_version, 2);
    assert_eq!(order.revision, 1);
    assert_eq!(order.lines.len(), 2);
    // 1,000,000.00 × 0.82 = 820,000.00, VAT 106,600.00; 200,000.00 × 0.82 = 164,000.00, VAT
    // 21,320.00.
    let robot = &order.lines[0];
    assert_eq!(robot.line_number, 1);
    assert_eq!(robot.product_code, "LINE3-ROBOT");
    assert_eq!(robot.quantity, dec("2"));
    assert_eq!(robot.delivered, Decimal::ZERO);
    assert_eq!(robot.net, dec("820000.00"));
    assert_eq!(robot.tax, dec("106600.00"));
    assert_eq!(robot.total, dec("926600.00"));
    assert_eq!(order.lines[1].line_number, 2);
    assert_eq!(order.lines[1].net, dec("164000.00"));
    assert_eq!(
        order.totals,
        OrderTotals {
            amount_before_tax: dec("984000.00"),
            tax: dec("127920.00"),
            total: dec("1111920.00"),
        }
    );
    assert_eq!(order.delivery_status(), DeliveryStatus::Open);
}

#[test]
fn deliveries_move_the_order_from_open_through_partly_delivered_to_delivered() {
    let order = from_quote(&contoso(), Uuid::now_v7(), "SO-2026-000001".into());
    let first = apply_delivery(&order, delivery(&[(1, "1")])).unwrap();
    assert_eq!(first.lines[0].delivered, dec("1"));
    assert_eq!(first.delivery_status(), DeliveryStatus::PartlyDelivered);
    assert_eq!(first.deliveries.len(), 1);
    let second = apply_delivery(&first, delivery(&[(1, "1"), (2, "1")])).unwrap();
    assert_eq!(second.delivery_status(), DeliveryStatus::Delivered);
    assert_eq!(second.deliveries.len(), 2);
    assert_eq!(second.totals, order.totals);
}

#[test]
fn a_delivery_above_what_remains_is_refused_naming_its_quantity() {
    let order = from_quote(&contoso(), Uuid::now_v7(), "SO-2026-000001".into());
    let first = apply_delivery(&order, delivery(&[(1, "1.5")])).unwrap();
    let violations = apply_delivery(&first, delivery(&[(2, "1"), (1, "0.6")])).unwrap_err();
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].field, "lines[1].quantity");
    assert_eq!(violations[0].reason, Some(INCONSISTENT_FIELDS));
}

#[test]
fn unknown_repeated_lines_and_quantities_not_above_zero_are_refused_at_once() {
    let order = from_quote(&contoso(), Uuid::now_v7(), "SO-2026-000001".into());
    let violations =
        apply_delivery(&order, delivery(&[(3, "1"), (1, "0"), (2, "-1"), (2, "1")])).unwrap_err();
    let fields: Vec<&str> = violations
        .iter()
        .map(|violation| violation.field.as_str())
        .collect();
    assert_eq!(
        fields,
        [
            "lines[0].line_number",
            "lines[1].quantity",
            "lines[2].quantity",
            "lines[3].line_number",
        ]
    );
}

fn cancellation() -> Cancellation {
    Cancellation {
        reason: "the customer withdrew".into(),
        cancelled_by: Uuid::now_v7(),
        cancelled_at: Utc::now(),
    }
}

#[test]
fn an_open_unpaid_order_is_cancelled_once_and_then_takes_no_delivery() {
    let order = from_quote(&contoso(), Uuid::now_v7(), "SO-2026-000001".into());
    let by = cancellation();
    let cancelled = cancel(&order, by.clone(), Decimal::ZERO).unwrap();
    assert_eq!(cancelled.cancellation, Some(by.clone()));
    assert_eq!(cancelled.updated_by, by.cancelled_by);
    assert_eq!(cancelled.delivery_status(), DeliveryStatus::Open);
    let again = cancel(&cancelled, cancellation(), Decimal::ZERO).unwrap_err();
    assert_eq!(again[0].field, "order_id");
    let delivered = apply_delivery(&cancelled, delivery(&[(1, "1")])).unwrap_err();
    assert_eq!(delivered[0].field, "order_id");
}

#[test]
fn an_order_with_a_delivery_or_money_kept_is_not_cancelled() {
    let order = from_quote(&contoso(), Uuid::now_v7(), "SO-2026-000001".into());
    let partly = apply_delivery(&order, delivery(&[(2, "0.5")])).unwrap();
    let refused = cancel(&partly, cancellation(), Decimal::ZERO).unwrap_err();
    assert_eq!(refused[0].field, "order_id");
    assert_eq!(refused[0].reason, Some(INCONSISTENT_FIELDS));
    assert!(cancel(&order, cancellation(), dec("0.01")).is_err());
}

#[test]
fn statuses_have_stable_names() {
    let names = [
        DeliveryStatus::Open,
        DeliveryStatus::PartlyDelivered,
        DeliveryStatus::Delivered,
    ]
    .map(DeliveryStatus::as_str);
    assert_eq!(names, ["open", "partly_delivered", "delivered"]);
}

proptest! {
    /// Whatever deliveries are tried, each line's delivered quantity stays within 0..=ordered,
    /// an accepted delivery adds exactly its quantities, a refused one changes nothing, the
    /// totals never move, and the status is what the lines say.
    #[test]
    fn deliveries_never_exceed_the_order(
        quantities in prop::collection::vec(1_u32..20, 1..4),
        tries in prop::collection::vec((1_u32..5, 0_u32..30), 1..12),
    ) {
        let lines = quantities
            .iter()
            .enumerate()
            .map(|(index, quantity)| {
                quote_line(&format!("P{index}"), &format!("{quantity}.5"), "10.00", "0")
            })
            .collect();
        let mut order = from_quote(&accepted(lines, "5", "13"), Uuid::now_v7(), "SO-2026-000001".into());
        let totals = order.totals;
        for (line_number, tenths) in tries {
            let quantity = Decimal::new(i64::from(tenths), 1).to_string();
            let before = order.clone();
            match apply_delivery(&order, delivery(&[(line_number, &quantity)])) {
                Ok(next) => {
                    let index = (line_number - 1) as usize;
                    prop_assert_eq!(
                        next.lines[index].delivered,
                        before.lines[index].delivered + Decimal::new(i64::from(tenths), 1)
                    );
                    order = next;
                }
                Err(violations) => {
                    prop_assert!(!violations.is_empty());
                    prop_assert_eq!(&order, &before);
                }
            }
            for line in &order.lines {
                prop_assert!(line.delivered >= Decimal::ZERO && line.delivered <= line.quantity);
            }
            prop_assert_eq!(order.totals, totals);
            let expected = if order.lines.iter().all(|line| line.delivered == line.quantity) {
                DeliveryStatus::Delivered
            } else if order.lines.iter().all(|line| line.delivered.is_zero()) {
                DeliveryStatus::Open
            } else {
                DeliveryStatus::PartlyDelivered
            };
            prop_assert_eq!(order.delivery_status(), expected);
        }
    }
}
