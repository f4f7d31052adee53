//! Orders, domain → wire: what OrderService and AcceptQuote return and the order events carry.

use crm_platform::{
    money::{CurrencyCode, Money},
    time::to_timestamp,
};
use crm_proto::crm::opportunities::v1 as pb;
use rust_decimal::Decimal;

use crate::domain::order::{Delivery, DeliveryStatus, Order};

pub(crate) fn delivery_status(status: DeliveryStatus) -> pb::DeliveryStatus {
    match status {
        DeliveryStatus::Open => pb::DeliveryStatus::Open,
        DeliveryStatus::PartlyDelivered => pb::DeliveryStatus::PartlyDelivered,
        DeliveryStatus::Delivered => pb::DeliveryStatus::Delivered,
    }
}

fn money(currency: CurrencyCode, amount: Decimal) -> Option<crm_proto::crm::common::v1::Money> {
    Some(Money { currency, amount }.to_message())
}

pub(crate) fn delivery(delivery: &Delivery) -> pb::Delivery {
    pb::Delivery {
        delivered_on: delivery.delivered_on.to_string(),
        lines: delivery
            .lines
            .iter()
            .map(|line| pb::DeliveredLine {
                line_number: line.line_number,
                quantity: line.quantity.normalize().to_string(),
            })
            .collect(),
        note: delivery.note.clone(),
        recorded_by: delivery.recorded_by.to_string(),
        recorded_at: Some(to_timestamp(delivery.recorded_at)),
    }
}

pub(crate) fn order(order: &Order) -> pb::Order {
    let at = |amount: Decimal| money(order.currency, amount);
    pb::Order {
        id: order.id.to_string(),
        number: order.number.clone(),
        opportunity_id: order.opportunity_id.to_string(),
        account_id: order
            .account_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        owner_id: order.owner_id.to_string(),
        owner_team_path: order.owner_team_path.to_string(),
        quote_id: order.quote_id.to_string(),
        quote_number: order.quote_number.clone(),
        quote_version: order.quote_version.unsigned_abs(),
        currency_code: order.currency.to_string(),
        lines: order
            .lines
            .iter()
            .map(|line| pb::OrderLine {
                line_number: line.line_number,
                product_code: line.product_code.clone(),
                product_name: line.product_name.clone(),
                quantity: line.quantity.normalize().to_string(),
                quantity_delivered: line.delivered.normalize().to_string(),
                unit_price: Some(line.unit_price.to_message()),
                net: at(line.net),
                tax: at(line.tax),
                total: at(line.total),
            })
            .collect(),
        totals: Some(pb::OrderTotals {
            amount_before_tax: at(order.totals.amount_before_tax),
            tax: at(order.totals.tax),
            total: at(order.totals.total),
        }),
        delivery_status: delivery_status(order.delivery_status()).into(),
        deliveries: order.deliveries.iter().map(delivery).collect(),
        created_by: order.created_by.to_string(),
        created_at: Some(to_timestamp(order.created_at)),
        updated_by: order.updated_by.to_string(),
        updated_at: Some(to_timestamp(order.updated_at)),
        version: order.revision.unsigned_abs(),
        cancellation: order
            .cancellation
            .as_ref()
            .map(|cancellation| pb::OrderCancellation {
                reason: cancellation.reason.clone(),
                cancelled_by: cancellation.cancelled_by.to_string(),
                cancelled_at: Some(to_timestamp(cancellation.cancelled_at)),
            }),
    }
}
