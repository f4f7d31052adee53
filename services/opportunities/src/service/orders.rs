//! Orders' use cases (O6): the order an accepted quote version becomes (written by
//! `accept_quote`, in its transaction), reading and listing orders, and recording deliveries.
//!
//! Whoever reads the deal reads its orders (`visible`); whoever may change the deal records
//! deliveries (`changeable`: in reach), whatever the deal's status but archived — an order is
//! delivered after the deal is won, which is the normal case.

use chrono::{Datelike, NaiveDate};
use crm_platform::{
    auth::Caller,
    error::check_version,
    paging::{Listing, Page, SortKey},
    time::to_timestamp,
};
use crm_proto::crm::opportunities::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Opportunities, Result, changeable, quotes::refused, visible};
use crate::{
    convert,
    domain::{
        opportunity::{Opportunity, OpportunityStatus},
        order::{self, Cancellation, DeliveredLine, Delivery, Order},
        quote::Quote,
    },
    error::OpportunitiesError,
    store::{self, orders as store_orders},
};

/// The deal statuses whose orders take deliveries: all but archived.
const DELIVERABLE: [OpportunityStatus; 3] = [
    OpportunityStatus::Open,
    OpportunityStatus::Won,
    OpportunityStatus::Lost,
];

/// A delivery as the order page gives it.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub lines: Vec<DeliveredLine>,
    /// `None`: today (UTC).
    pub delivered_on: Option<NaiveDate>,
    pub note: String,
}

/// The sort key of an order in a listing (newest first).
fn order_key(order: &Order) -> (SortKey, Uuid) {
    (SortKey::Time(order.created_at), order.id)
}

impl Opportunities {
    /// Writes the order `quote` (just accepted, of `deal`) becomes, with event order_created:
    /// numbered in the year of acceptance, owned as the deal is.
    pub(super) async fn create_order(
        &self,
        connection: &mut PgConnection,
        quote: &Quote,
        deal: &Opportunity,
    ) -> Result<Order> {
        let number = store_orders::next_number(connection, quote.updated_at.year()).await?;
        let mut order = order::from_quote(quote, Uuid::now_v7(), number);
        order.owner_id = deal.owner_id;
        order.owner_team_path = deal.owner_team_path.clone();
        order.account_id = quote.account_id.or(Some(deal.account_id));
        store_orders::insert_order(connection, &order).await?;
        let message = pb::OrderCreated {
            order: Some(convert::orders::order(&order)),
            change: Some(change_context(&order)),
        };
        self.outbox
            .enqueue_for(connection, "order", order.id, order.revision, &message)
            .await?;
        Ok(order)
    }

    /// An order and its deal, if the caller may read the deal (NOT_FOUND otherwise, as for an
    /// order that does not exist).
    async fn readable_order(
        &self,
        connection: &mut PgConnection,
        caller: &Caller,
        id: Uuid,
    ) -> Result<(Order, Opportunity)> {
        let order = store_orders::get_order(connection, id, false)
            .await?
            .ok_or_else(|| OpportunitiesError::not_found("order", id))?;
        let deal = store::deals::get_deal(connection, order.opportunity_id, false)
            .await?
            .map(|(deal, _)| deal);
        let deal = visible(caller, order.opportunity_id, deal)
            .map_err(|_| OpportunitiesError::not_found("order", id))?;
        Ok((order, deal))
    }

    pub async fn get_order(&self, caller: &Caller, id: Uuid) -> Result<Order> {
        let mut connection = self.pool.acquire().await?;
        let (order, _) = self.readable_order(&mut connection, caller, id).await?;
        Ok(order)
    }

    /// A page of the orders the caller may read, newest first.
    pub async fn list_orders(
        &self,
        caller: &Caller,
        filter: &store_orders::OrderFilter,
        page: &Page,
    ) -> Result<Listing<Order>> {
        let mut connection = self.pool.acquire().await?;
        let rows = store_orders::list_orders(&mut connection, caller, filter, page).await?;
        Ok(Listing::from_rows(rows, page, order_key))
    }

    /// Records a delivery (event order_delivered): the deal locked (in the caller's reach, not
    /// archived: a deal team member reads the order but records nothing, PERMISSION_DENIED),
    /// then the order at the expected version; quantities above what remains, unknown or
    /// repeated lines are refusals naming the field.
    pub async fn record_delivery(
        &self,
        caller: &Caller,
        id: Uuid,
        new: NewDelivery,
        expected_version: Option<i64>,
    ) -> Result<Order> {
        let mut transaction = self.pool.begin().await?;
        let (unlocked, _) = self.readable_order(&mut transaction, caller, id).await?;
        let deal = store::deals::get_deal(&mut transaction, unlocked.opportunity_id, true)
            .await?
            .map(|(deal, _)| deal);
        let deal = changeable(
            caller,
            unlocked.opportunity_id,
            deal,
            None,
            &DELIVERABLE,
            "delivered",
        )?;
        let current = store_orders::get_order(&mut transaction, id, true)
            .await?
            .ok_or_else(|| OpportunitiesError::not_found("order", id))?;
        check_version("order", id, expected_version, current.revision)?;
        let now = crm_platform::time::now();
        let delivery = Delivery {
            delivered_on: new.delivered_on.unwrap_or_else(|| now.date_naive()),
            lines: new.lines,
            note: new.note,
            recorded_by: caller.user_id,
            recorded_at: now,
        };
        let mut next = order::apply_delivery(&current, delivery.clone()).map_err(refused)?;
        next.revision += 1;
        next.owner_id = deal.owner_id;
        next.owner_team_path = deal.owner_team_path.clone();
        store_orders::update_order(&mut transaction, &next).await?;
        let message = pb::OrderDelivered {
            order: Some(convert::orders::order(&next)),
            change: Some(change_context(&next)),
            delivery: Some(convert::orders::delivery(&delivery)),
        };
        self.outbox
            .enqueue_for(&mut transaction, "order", next.id, next.revision, &message)
            .await?;
        self.outbox.commit(transaction).await?;
        Ok(next)
    }
}

impl Opportunities {
    /// Cancels an order (event order_cancelled), with a reason: the deal locked and in the
    /// caller's reach (not archived), the order at the expected version, nothing delivered and
    /// nothing paid net of refunds (refusals naming `order_id`).
    pub async fn cancel_order(
        &self,
        caller: &Caller,
        id: Uuid,
        reason: String,
        expected_version: Option<i64>,
    ) -> Result<Order> {
        let mut transaction = self.pool.begin().await?;
        let (unlocked, _) = self.readable_order(&mut transaction, caller, id).await?;
        let deal = store::deals::get_deal(&mut transaction, unlocked.opportunity_id, true)
            .await?
            .map(|(deal, _)| deal);
        let deal = changeable(
            caller,
            unlocked.opportunity_id,
            deal,
            None,
            &DELIVERABLE,
            "changed",
        )?;
        let current = store_orders::get_order(&mut transaction, id, true)
            .await?
            .ok_or_else(|| OpportunitiesError::not_found("order", id))?;
        check_version("order", id, expected_version, current.revision)?;
        let paid = store_orders::paid_on_order(&mut transaction, id).await?;
        let cancellation = Cancellation {
            reason,
            cancelled_by: caller.user_id,
            cancelled_at: crm_platform::time::now(),
        };
        let mut next = order::cancel(&current, cancellation, paid).map_err(refused)?;
        next.revision += 1;
        next.owner_id = deal.owner_id;
        next.owner_team_path = deal.owner_team_path.clone();
        store_orders::update_order(&mut transaction, &next).await?;
        let message = pb::OrderCancelled {
            order: Some(convert::orders::order(&next)),
            change: Some(change_context(&next)),
        };
        self.outbox
            .enqueue_for(&mut transaction, "order", next.id, next.revision, &message)
            .await?;
        self.outbox.commit(transaction).await?;
        Ok(next)
    }
}

fn change_context(order: &Order) -> pb::ChangeContext {
    pb::ChangeContext {
        changed_by: order.updated_by.to_string(),
        occurred_at: Some(to_timestamp(order.updated_at)),
    }
}
