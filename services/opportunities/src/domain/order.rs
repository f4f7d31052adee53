//! Orders (O6): what an accepted quote version becomes — its lines and totals copied exactly,
//! so the order is worth what the customer accepted to the cent — and their delivery, line by
//! line, from which the order's delivery status follows
//! (docs/adr/0014-deal-desk-in-opportunities.md).
//!
//! Deliveries are counted in quantities only: an order reports what is delivered of each line,
//! never a delivered value (which would need a rounding rule of its own for part of a line).

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::{
    auth::TeamPath,
    error::{FieldViolation, reasons::INCONSISTENT_FIELDS},
    money::{CurrencyCode, Money},
};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::quote::Quote;

/// A line of an order: the accepted quote line's product, quantity and figures.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderLine {
    /// 1, 2, … in the quote's order of lines.
    pub line_number: u32,
    pub product_code: String,
    pub product_name: String,
    /// Ordered; positive.
    pub quantity: Decimal,
    /// Delivered so far: 0..=quantity.
    pub delivered: Decimal,
    pub unit_price: Money,
    /// The quote line's net after the line's and the quote's discounts.
    pub net: Decimal,
    pub tax: Decimal,
    /// Net + tax.
    pub total: Decimal,
}

impl OrderLine {
    /// What is still to be delivered.
    pub fn remaining(&self) -> Decimal {
        self.quantity - self.delivered
    }
}

/// The order's totals: the accepted version's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderTotals {
    pub amount_before_tax: Decimal,
    pub tax: Decimal,
    pub total: Decimal,
}

/// How far an order is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Nothing delivered.
    Open,
    /// Something delivered, not every line in full.
    PartlyDelivered,
    /// Every line delivered in full.
    Delivered,
}

impl DeliveryStatus {
    /// The stored and logged name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Open => "open",
            DeliveryStatus::PartlyDelivered => "partly_delivered",
            DeliveryStatus::Delivered => "delivered",
        }
    }
}

/// A quantity of one line delivered at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveredLine {
    pub line_number: u32,
    pub quantity: Decimal,
}

/// One recorded delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub delivered_on: NaiveDate,
    pub lines: Vec<DeliveredLine>,
    pub note: String,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
}

/// Who cancelled an order, when and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Cancellation {
    pub reason: String,
    pub cancelled_by: Uuid,
    pub cancelled_at: DateTime<Utc>,
}

/// An order.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: Uuid,
    /// "SO-2026-000001".
    pub number: String,
    pub opportunity_id: Uuid,
    pub account_id: Option<Uuid>,
    pub owner_id: Uuid,
    pub owner_team_path: TeamPath,
    pub quote_id: Uuid,
    pub quote_number: String,
    pub quote_version: i32,
    pub currency: CurrencyCode,
    pub lines: Vec<OrderLine>,
    pub totals: OrderTotals,
    /// Oldest first.
    pub deliveries: Vec<Delivery>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_by: Uuid,
    pub updated_at: DateTime<Utc>,
    /// The row's version (expected_version, the events' aggregate version).
    pub revision: i64,
    /// Set once cancelled: the order then takes no delivery and no payment schedule.
    pub cancellation: Option<Cancellation>,
}

impl Order {
    /// The status the lines say.
    pub fn delivery_status(&self) -> DeliveryStatus {
        delivery_status(&self.lines)
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancellation.is_some()
    }
}

/// The order cancelled, or the refusal (FAILED_PRECONDITION, INCONSISTENT_FIELDS, naming
/// `order_id`): an order cancelled already, one with anything delivered, or one with payments
/// kept (`paid`, net of refunds, above zero — goods or money moved, so cancelling would lose
/// them; refund the payments first).
pub fn cancel(
    order: &Order,
    cancellation: Cancellation,
    paid: Decimal,
) -> Result<Order, Vec<FieldViolation>> {
    let refuse = |text: String| {
        vec![FieldViolation::refusal(
            INCONSISTENT_FIELDS,
            "order_id",
            text,
        )]
    };
    if order.is_cancelled() {
        return Err(refuse(format!(
            "order {} is cancelled already",
            order.number
        )));
    }
    if order.delivery_status() != DeliveryStatus::Open {
        return Err(refuse(format!(
            "order {} is {}: an order with deliveries cannot be cancelled",
            order.number,
            order.delivery_status().as_str()
        )));
    }
    if paid > Decimal::ZERO {
        return Err(refuse(format!(
            "order {} has {} {} paid: refund the payments before cancelling it",
            order.number,
            paid.normalize(),
            order.currency
        )));
    }
    let mut next = order.clone();
    next.updated_by = cancellation.cancelled_by;
    next.updated_at = cancellation.cancelled_at;
    next.cancellation = Some(cancellation);
    Ok(next)
}

/// Nothing delivered: OPEN; every line in full: DELIVERED; anything between: PARTLY_DELIVERED.
pub fn delivery_status(lines: &[OrderLine]) -> DeliveryStatus {
    if lines.iter().all(|line| line.delivered >= line.quantity) {
        DeliveryStatus::Delivered
    } else if lines.iter().all(|line| line.delivered.is_zero()) {
        DeliveryStatus::Open
    } else {
        DeliveryStatus::PartlyDelivered
    }
}

/// The order an accepted quote version becomes, nothing delivered: its lines numbered from 1
/// in the quote's order, each with the quote line's product, quantity, unit price and figures
/// (net after both discounts, tax, total), and the quote's totals — copied, not recomputed.
/// The owner, account and times are the caller's to set after.
pub fn from_quote(quote: &Quote, id: Uuid, number: String) -> Order {
    let lines = quote
        .lines
        .iter()
        .zip(&quote.figures.lines)
        .zip(1_u32..)
        .map(|((line, figures), line_number)| OrderLine {
            line_number,
            product_code: line.product_code.clone(),
            product_name: line.product_name.clone(),
            quantity: line.quantity,
            delivered: Decimal::ZERO,
            unit_price: line.unit_price,
            net: figures.discounted,
            tax: figures.tax,
            total: figures.total,
        })
        .collect();
    Order {
        id,
        number,
        opportunity_id: quote.opportunity_id,
        account_id: quote.account_id,
        owner_id: quote.owner_id,
        owner_team_path: quote.owner_team_path.clone(),
        quote_id: quote.id,
        quote_number: quote.number.clone(),
        quote_version: quote.quote_version,
        currency: quote.terms.currency,
        lines,
        totals: OrderTotals {
            amount_before_tax: quote.figures.amount_before_tax,
            tax: quote.figures.tax,
            total: quote.figures.total,
        },
        deliveries: Vec::new(),
        created_by: quote.updated_by,
        created_at: quote.updated_at,
        updated_by: quote.updated_by,
        updated_at: quote.updated_at,
        revision: 1,
        cancellation: None,
    }
}

/// The order after `delivery`, or every refusal at once (FAILED_PRECONDITION,
/// INCONSISTENT_FIELDS), each naming the field as the request spells it (`lines[i].…`): a line
/// number the order lacks or named twice, a quantity not above zero, or one above what remains
/// of the line; a cancelled order takes none (naming `order_id`). Nothing changes on a refusal.
pub fn apply_delivery(order: &Order, delivery: Delivery) -> Result<Order, Vec<FieldViolation>> {
    if order.is_cancelled() {
        return Err(vec![FieldViolation::refusal(
            INCONSISTENT_FIELDS,
            "order_id",
            format!("order {} is cancelled: it takes no delivery", order.number),
        )]);
    }
    let mut violations = Vec::new();
    let mut lines = order.lines.clone();
    let mut seen = Vec::new();
    for (index, delivered) in delivery.lines.iter().enumerate() {
        let at = format!("lines[{index}]");
        let refuse = |violations: &mut Vec<FieldViolation>, field: &str, text: String| {
            violations.push(FieldViolation::refusal(
                INCONSISTENT_FIELDS,
                format!("{at}.{field}"),
                text,
            ));
        };
        if seen.contains(&delivered.line_number) {
            refuse(
                &mut violations,
                "line_number",
                format!("names line {} twice", delivered.line_number),
            );
            continue;
        }
        seen.push(delivered.line_number);
        let Some(line) = lines
            .iter_mut()
            .find(|line| line.line_number == delivered.line_number)
        else {
            refuse(
                &mut violations,
                "line_number",
                format!(
                    "the order has no line {} (it has 1 to {})",
                    delivered.line_number,
                    order.lines.len()
                ),
            );
            continue;
        };
        if delivered.quantity <= Decimal::ZERO {
            refuse(&mut violations, "quantity", "must be above zero".into());
        } else if delivered.quantity > line.remaining() {
            refuse(
                &mut violations,
                "quantity",
                format!(
                    "is more than the {} of line {} still to deliver ({} ordered, {} delivered)",
                    line.remaining().normalize(),
                    line.line_number,
                    line.quantity.normalize(),
                    line.delivered.normalize()
                ),
            );
        } else {
            // Within the remaining quantity: the sum cannot overflow.
            line.delivered += delivered.quantity;
        }
    }
    if !violations.is_empty() {
        return Err(violations);
    }
    let mut next = order.clone();
    next.lines = lines;
    next.updated_by = delivery.recorded_by;
    next.updated_at = delivery.recorded_at;
    next.deliveries.push(delivery);
    Ok(next)
}

#[cfg(test)]
#[path = "order_tests.rs"]
mod tests;
