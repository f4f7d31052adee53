//! Orders' RPCs (`OrderService`): requests to domain inputs, every broken field named at once,
//! as the request spells it. What the schema states (required, lengths, decimals, dates, ids)
//! is INVALID_ARGUMENT here; what only the order can say (its line numbers, what remains of a
//! line, a quantity above zero) is the service's refusal.

use crm_platform::{
    error::{Violations, required_text},
    paging::{KeyKind, Page, SortOrder},
};
use crm_proto::crm::{
    common::v1::PageResponse,
    opportunities::v1::{self as pb, order_service_server::OrderService},
};
use tonic::{Request, Response, Status};

use super::{
    authenticated,
    deal_input::{decimal, id, version},
};
use crate::{
    convert::orders::order as order_message,
    domain::{
        order::{DeliveredLine, DeliveryStatus},
        price_book::optional_text,
    },
    error::OpportunitiesError,
    service::{NewDelivery, Opportunities},
    store::orders::OrderFilter,
};

const MAX_LINES: usize = 200;
const MAX_NOTE: usize = 1000;
const ORDERS_BY_TIME: SortOrder = SortOrder::new("created_at", KeyKind::Time, true);

pub(crate) struct OrdersApi {
    opportunities: Opportunities,
}

impl OrdersApi {
    pub(crate) fn new(opportunities: Opportunities) -> Self {
        Self { opportunities }
    }
}

fn delivery_status(value: i32) -> Result<Option<DeliveryStatus>, OpportunitiesError> {
    Ok(match pb::DeliveryStatus::try_from(value) {
        Ok(pb::DeliveryStatus::Unspecified) => None,
        Ok(pb::DeliveryStatus::Open) => Some(DeliveryStatus::Open),
        Ok(pb::DeliveryStatus::PartlyDelivered) => Some(DeliveryStatus::PartlyDelivered),
        Ok(pb::DeliveryStatus::Delivered) => Some(DeliveryStatus::Delivered),
        Err(_) => {
            return Err(OpportunitiesError::invalid(
                "delivery_status",
                format!("{value} is not a delivery status"),
            ));
        }
    })
}

/// The delivered lines as the request gives them: at least one, at most [`MAX_LINES`], each
/// with a decimal quantity. A line number the order lacks (0 among them, which the schema
/// allows) is the service's refusal.
fn delivered_lines(
    violations: &mut Violations,
    inputs: &[pb::DeliveredLineInput],
) -> Vec<DeliveredLine> {
    if inputs.is_empty() {
        violations.add("lines", "must have at least one line");
    }
    if inputs.len() > MAX_LINES {
        violations.add("lines", format!("must have at most {MAX_LINES} lines"));
    }
    inputs
        .iter()
        .enumerate()
        .filter_map(|(index, input)| {
            let at = format!("lines[{index}]");
            let quantity = decimal(violations, &format!("{at}.quantity"), &input.quantity);
            Some(DeliveredLine {
                line_number: input.line_number,
                quantity: quantity?,
            })
        })
        .collect()
}

#[tonic::async_trait]
impl OrderService for OrdersApi {
    async fn get_order(
        &self,
        request: Request<pb::GetOrderRequest>,
    ) -> Result<Response<pb::GetOrderResponse>, Status> {
        let caller = authenticated(&request)?;
        let order_id = id("order_id", &request.get_ref().order_id)?;
        let order = self.opportunities.get_order(&caller, order_id).await?;
        Ok(Response::new(pb::GetOrderResponse {
            order: Some(order_message(&order)),
        }))
    }

    async fn list_orders(
        &self,
        request: Request<pb::ListOrdersRequest>,
    ) -> Result<Response<pb::ListOrdersResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let opportunity_id = violations.optional_id("opportunity_id", &request.opportunity_id);
        let account_id = violations.optional_id("account_id", &request.account_id);
        violations.into_result().map_err(OpportunitiesError::from)?;
        let page =
            Page::parse(request.page.as_ref(), ORDERS_BY_TIME).map_err(OpportunitiesError::from)?;
        let filter = OrderFilter {
            opportunity_id,
            account_id,
            delivery_status: delivery_status(request.delivery_status)?,
        };
        let listing = self
            .opportunities
            .list_orders(&caller, &filter, &page)
            .await?;
        Ok(Response::new(pb::ListOrdersResponse {
            orders: listing.records.iter().map(order_message).collect(),
            page: Some(PageResponse {
                next_page_token: listing.next_page_token,
            }),
        }))
    }

    async fn record_delivery(
        &self,
        request: Request<pb::RecordDeliveryRequest>,
    ) -> Result<Response<pb::RecordDeliveryResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let order_id = violations.take(crm_platform::ids::parse_id("order_id", &request.order_id));
        let lines = delivered_lines(&mut violations, &request.lines);
        let delivered_on = violations.optional_date("delivered_on", &request.delivered_on);
        let note = optional_text(&mut violations, "note", &request.note, MAX_NOTE);
        violations.into_result().map_err(OpportunitiesError::from)?;
        let expected = version(request.expected_version)?;
        let order = self
            .opportunities
            .record_delivery(
                &caller,
                order_id.unwrap_or_default(),
                NewDelivery {
                    lines,
                    delivered_on,
                    note,
                },
                expected,
            )
            .await?;
        Ok(Response::new(pb::RecordDeliveryResponse {
            order: Some(order_message(&order)),
        }))
    }

    async fn cancel_order(
        &self,
        request: Request<pb::CancelOrderRequest>,
    ) -> Result<Response<pb::CancelOrderResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let order_id = violations.take(crm_platform::ids::parse_id("order_id", &request.order_id));
        let reason = required_text(&mut violations, "reason", &request.reason, MAX_NOTE);
        violations.into_result().map_err(OpportunitiesError::from)?;
        let expected = version(request.expected_version)?;
        let order = self
            .opportunities
            .cancel_order(&caller, order_id.unwrap_or_default(), reason, expected)
            .await?;
        Ok(Response::new(pb::CancelOrderResponse {
            order: Some(order_message(&order)),
        }))
    }
}
