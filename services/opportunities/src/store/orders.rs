//! SQL for orders: one row each, lines and deliveries as jsonb.

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::{
    access::{OWNER_COLUMNS, push_visibility},
    auth::{Caller, Visibility},
    money::{CurrencyCode, Money},
    paging::Page,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, Postgres, QueryBuilder, types::Json};
use uuid::Uuid;

use super::{corrupt, stored_team};
use crate::domain::{
    opportunity::OpportunityStatus,
    order::{Cancellation, DeliveredLine, Delivery, DeliveryStatus, Order, OrderLine, OrderTotals},
};

/// A line as stored: decimals as strings (what `rust_decimal`'s serde writes).
#[derive(Serialize, Deserialize)]
struct StoredLine {
    line_number: u32,
    product_code: String,
    product_name: String,
    quantity: Decimal,
    delivered: Decimal,
    unit_price: Decimal,
    net: Decimal,
    tax: Decimal,
    total: Decimal,
}

#[derive(Serialize, Deserialize)]
struct StoredDeliveredLine {
    line_number: u32,
    quantity: Decimal,
}

#[derive(Serialize, Deserialize)]
struct StoredDelivery {
    delivered_on: NaiveDate,
    lines: Vec<StoredDeliveredLine>,
    note: String,
    recorded_by: Uuid,
    recorded_at: DateTime<Utc>,
}

fn stored_lines(lines: &[OrderLine]) -> Json<Vec<StoredLine>> {
    Json(
        lines
            .iter()
            .map(|line| StoredLine {
                line_number: line.line_number,
                product_code: line.product_code.clone(),
                product_name: line.product_name.clone(),
                quantity: line.quantity,
                delivered: line.delivered,
                unit_price: line.unit_price.amount,
                net: line.net,
                tax: line.tax,
                total: line.total,
            })
            .collect(),
    )
}

fn stored_deliveries(deliveries: &[Delivery]) -> Json<Vec<StoredDelivery>> {
    Json(
        deliveries
            .iter()
            .map(|delivery| StoredDelivery {
                delivered_on: delivery.delivered_on,
                lines: delivery
                    .lines
                    .iter()
                    .map(|line| StoredDeliveredLine {
                        line_number: line.line_number,
                        quantity: line.quantity,
                    })
                    .collect(),
                note: delivery.note.clone(),
                recorded_by: delivery.recorded_by,
                recorded_at: delivery.recorded_at,
            })
            .collect(),
    )
}

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: Uuid,
    number: String,
    opportunity_id: Uuid,
    account_id: Option<Uuid>,
    owner_id: Uuid,
    owner_team_path: String,
    quote_id: Uuid,
    quote_number: String,
    quote_version: i32,
    currency_code: String,
    lines: Json<Vec<StoredLine>>,
    deliveries: Json<Vec<StoredDelivery>>,
    amount_before_tax: Decimal,
    tax: Decimal,
    total: Decimal,
    created_by: Uuid,
    created_at: DateTime<Utc>,
    updated_by: Uuid,
    updated_at: DateTime<Utc>,
    revision: i64,
    cancel_reason: Option<String>,
    cancelled_by: Option<Uuid>,
    cancelled_at: Option<DateTime<Utc>>,
}

impl TryFrom<OrderRow> for Order {
    type Error = sqlx::Error;

    fn try_from(row: OrderRow) -> sqlx::Result<Self> {
        let currency: CurrencyCode = row.currency_code.parse().map_err(corrupt)?;
        let cancellation = match (row.cancel_reason, row.cancelled_by, row.cancelled_at) {
            (Some(reason), Some(cancelled_by), Some(cancelled_at)) => Some(Cancellation {
                reason,
                cancelled_by,
                cancelled_at,
            }),
            (None, None, None) => None,
            _ => return Err(corrupt("an order's cancellation is partly stored")),
        };
        let lines = row
            .lines
            .0
            .into_iter()
            .map(|line| OrderLine {
                line_number: line.line_number,
                product_code: line.product_code,
                product_name: line.product_name,
                quantity: line.quantity,
                delivered: line.delivered,
                unit_price: Money {
                    currency,
                    amount: line.unit_price,
                },
                net: line.net,
                tax: line.tax,
                total: line.total,
            })
            .collect();
        let deliveries = row
            .deliveries
            .0
            .into_iter()
            .map(|delivery| Delivery {
                delivered_on: delivery.delivered_on,
                lines: delivery
                    .lines
                    .into_iter()
                    .map(|line| DeliveredLine {
                        line_number: line.line_number,
                        quantity: line.quantity,
                    })
                    .collect(),
                note: delivery.note,
                recorded_by: delivery.recorded_by,
                recorded_at: delivery.recorded_at,
            })
            .collect();
        Ok(Order {
            id: row.id,
            number: row.number,
            opportunity_id: row.opportunity_id,
            account_id: row.account_id,
            owner_id: row.owner_id,
            owner_team_path: stored_team(&row.owner_team_path)?,
            quote_id: row.quote_id,
            quote_number: row.quote_number,
            quote_version: row.quote_version,
            currency,
            lines,
            totals: OrderTotals {
                amount_before_tax: row.amount_before_tax,
                tax: row.tax,
                total: row.total,
            },
            deliveries,
            created_by: row.created_by,
            created_at: row.created_at,
            updated_by: row.updated_by,
            updated_at: row.updated_at,
            revision: row.revision,
            cancellation,
        })
    }
}

const ORDER_COLUMNS: &str = "id, number, opportunity_id, account_id, owner_id, owner_team_path, \
     quote_id, quote_number, quote_version, currency_code, lines, deliveries, amount_before_tax, \
     tax, total, created_by, created_at, updated_by, updated_at, revision, cancel_reason, \
     cancelled_by, cancelled_at";

/// The next order number of `year`: "SO-2026-000001".
pub(crate) async fn next_number(connection: &mut PgConnection, year: i32) -> sqlx::Result<String> {
    let value: i64 = sqlx::query_scalar("SELECT nextval('order_numbers')")
        .fetch_one(connection)
        .await?;
    Ok(format!("SO-{year:04}-{value:06}"))
}

/// One order; `lock` holds it for the transaction.
pub(crate) async fn get_order(
    connection: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> sqlx::Result<Option<Order>> {
    let row: Option<OrderRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    )))
    .bind(id)
    .fetch_optional(connection)
    .await?;
    row.map(Order::try_from).transpose()
}

/// Inserts an order.
pub(crate) async fn insert_order(connection: &mut PgConnection, order: &Order) -> sqlx::Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO orders ({ORDER_COLUMNS}, delivery_status) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         $18, $19, $20, $21, $22, $23, $24)"
    )))
    .bind(order.id)
    .bind(&order.number)
    .bind(order.opportunity_id)
    .bind(order.account_id)
    .bind(order.owner_id)
    .bind(order.owner_team_path.as_str())
    .bind(order.quote_id)
    .bind(&order.quote_number)
    .bind(order.quote_version)
    .bind(order.currency.as_str())
    .bind(stored_lines(&order.lines))
    .bind(stored_deliveries(&order.deliveries))
    .bind(order.totals.amount_before_tax)
    .bind(order.totals.tax)
    .bind(order.totals.total)
    .bind(order.created_by)
    .bind(order.created_at)
    .bind(order.updated_by)
    .bind(order.updated_at)
    .bind(order.revision)
    .bind(order.cancellation.as_ref().map(|c| c.reason.clone()))
    .bind(order.cancellation.as_ref().map(|c| c.cancelled_by))
    .bind(order.cancellation.as_ref().map(|c| c.cancelled_at))
    .bind(order.delivery_status().as_str())
    .execute(connection)
    .await
    .map(drop)
}

/// Writes an order's new state (its number, deal, quote and totals never change).
pub(crate) async fn update_order(connection: &mut PgConnection, order: &Order) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE orders SET lines = $1, deliveries = $2, delivery_status = $3, owner_id = $4, \
         owner_team_path = $5, updated_by = $6, updated_at = $7, revision = $8, \
         cancel_reason = $10, cancelled_by = $11, cancelled_at = $12 WHERE id = $9",
    )
    .bind(stored_lines(&order.lines))
    .bind(stored_deliveries(&order.deliveries))
    .bind(order.delivery_status().as_str())
    .bind(order.owner_id)
    .bind(order.owner_team_path.as_str())
    .bind(order.updated_by)
    .bind(order.updated_at)
    .bind(order.revision)
    .bind(order.id)
    .bind(order.cancellation.as_ref().map(|c| c.reason.clone()))
    .bind(order.cancellation.as_ref().map(|c| c.cancelled_by))
    .bind(order.cancellation.as_ref().map(|c| c.cancelled_at))
    .execute(connection)
    .await
    .map(drop)
}

/// What ListOrders filters on.
#[derive(Debug, Clone, Default)]
pub(crate) struct OrderFilter {
    pub opportunity_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub delivery_status: Option<DeliveryStatus>,
}

/// One page of the orders the caller may read: those of deals they may see (in their reach, or
/// naming them on the team or splits), archived deals' left out as the deals are.
pub(crate) async fn list_orders(
    connection: &mut PgConnection,
    reader: &Caller,
    filter: &OrderFilter,
    page: &Page,
) -> sqlx::Result<Vec<Order>> {
    let mut query = QueryBuilder::<Postgres>::new(format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE opportunity_id IN \
         (SELECT id FROM opportunities WHERE status <> "
    ));
    query.push_bind(OpportunityStatus::Archived as i16);
    let visibility = reader.visibility();
    if !matches!(visibility, Visibility::All) {
        query.push(" AND ((true");
        push_visibility(&mut query, &visibility, OWNER_COLUMNS);
        query
            .push(") OR member_ids @> jsonb_build_array(")
            .push_bind(reader.user_id.to_string())
            .push("::text))");
    }
    query.push(")");
    if let Some(opportunity_id) = filter.opportunity_id {
        query
            .push(" AND opportunity_id = ")
            .push_bind(opportunity_id);
    }
    if let Some(account_id) = filter.account_id {
        query.push(" AND account_id = ").push_bind(account_id);
    }
    if let Some(status) = filter.delivery_status {
        query
            .push(" AND delivery_status = ")
            .push_bind(status.as_str());
    }
    page.push_keyset(&mut query);
    let rows: Vec<OrderRow> = query.build_query_as().fetch_all(connection).await?;
    rows.into_iter().map(Order::try_from).collect()
}

/// What the order's payment schedule holds paid, net of refunds: an order with money kept is
/// not cancelled.
pub(crate) async fn paid_on_order(
    connection: &mut PgConnection,
    order_id: Uuid,
) -> sqlx::Result<Decimal> {
    sqlx::query_scalar(
        "SELECT COALESCE(SUM(p.amount - p.refunded), 0) FROM payments p \
         JOIN payment_schedules s ON s.id = p.schedule_id WHERE s.order_id = $1",
    )
    .bind(order_id)
    .fetch_one(connection)
    .await
}
