//! Collections' use cases (O8): a won deal's payment schedule, payments received against it
//! and refunds. Whoever reads the deal reads its schedule (`visible`); whoever may change the
//! deal (`changeable`: in reach, not archived) sets the schedule (of a WON deal) and records
//! payments and refunds. Each write locks the deal, then the schedule, so two payments of one
//! schedule are allocated one after the other.

use crm_platform::{
    auth::Caller,
    error::{FieldViolation, check_version, reasons::INCONSISTENT_FIELDS},
    money::Money,
    time::to_timestamp,
};
use crm_proto::crm::opportunities::v1 as pb;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Opportunities, Result, changeable, quotes::refused, to_corporate, visible};
use crate::{
    convert::{self, collections as wire},
    domain::{
        collection::{self, InstalmentInput},
        opportunity::{Opportunity, OpportunityStatus},
        payment::{Payment, PaymentMethod, PaymentSchedule, Refund},
    },
    error::OpportunitiesError,
    store::{self, collections as store_collections, orders as store_orders},
};

/// The deal statuses whose schedules take payments and refunds: all but archived (a won deal
/// reopened still receives the customer's money).
const PAYABLE: [OpportunityStatus; 3] = [
    OpportunityStatus::Open,
    OpportunityStatus::Won,
    OpportunityStatus::Lost,
];

/// A payment as the deal page or a finance integration gives it.
#[derive(Debug, Clone)]
pub struct NewPayment {
    /// The client's id: a retry answers the payment recorded under it.
    pub id: Uuid,
    pub amount: Money,
    /// `None`: today (UTC).
    pub received_on: Option<chrono::NaiveDate>,
    pub method: PaymentMethod,
    pub reference: String,
}

fn refusal(field: &str, text: String) -> OpportunitiesError {
    refused(vec![FieldViolation::refusal(
        INCONSISTENT_FIELDS,
        field,
        text,
    )])
}

impl Opportunities {
    /// The deal locked, in the caller's reach, in one of `allowed`.
    async fn deal_to_collect(
        &self,
        connection: &mut PgConnection,
        caller: &Caller,
        opportunity_id: Uuid,
        allowed: &[OpportunityStatus],
        action: &'static str,
    ) -> Result<Opportunity> {
        let deal = store::deals::get_deal(connection, opportunity_id, true)
            .await?
            .map(|(deal, _)| deal);
        changeable(caller, opportunity_id, deal, None, allowed, action)
    }

    /// Sets or replaces the schedule of a WON deal: the total is the order's (with tax) when
    /// one is named (of this deal, not cancelled), else the deal's amount; what the old
    /// instalments held paid is carried over oldest due first (a total below it is refused),
    /// the credit balance stays.
    pub async fn set_payment_schedule(
        &self,
        caller: &Caller,
        opportunity_id: Uuid,
        order_id: Option<Uuid>,
        inputs: Vec<InstalmentInput>,
        expected_version: Option<i64>,
    ) -> Result<(PaymentSchedule, Vec<Payment>)> {
        let mut transaction = self.pool.begin().await?;
        let deal = self
            .deal_to_collect(
                &mut transaction,
                caller,
                opportunity_id,
                &[OpportunityStatus::Won],
                "given a payment schedule",
            )
            .await?;
        let total = match order_id {
            None => deal.amount,
            Some(order_id) => {
                let order = store_orders::get_order(&mut transaction, order_id, false).await?;
                let order = order
                    .filter(|order| order.opportunity_id == opportunity_id)
                    .ok_or_else(|| {
                        refusal("order_id", format!("the deal has no order {order_id}"))
                    })?;
                if order.is_cancelled() {
                    return Err(refusal(
                        "order_id",
                        format!("order {} is cancelled", order.number),
                    ));
                }
                Money {
                    currency: order.currency,
                    amount: order.totals.total,
                }
            }
        };
        let current =
            store_collections::schedule_of_deal(&mut transaction, opportunity_id, true).await?;
        if let Some(current) = &current {
            check_version(
                "payment_schedule",
                current.id,
                expected_version,
                current.revision,
            )?;
            if current.currency != total.currency {
                return Err(refusal(
                    "order_id",
                    format!(
                        "the schedule holds payments in {}: its total stays in {}",
                        current.currency, current.currency
                    ),
                ));
            }
        }
        let instalments =
            collection::split(total.amount, total.currency, &inputs).map_err(refused)?;
        let paid = current
            .as_ref()
            .map(|current| current.totals().paid)
            .unwrap_or_default();
        let instalments = collection::carry_paid(instalments, paid).map_err(refused)?;
        let now = crm_platform::time::now();
        let schedule = PaymentSchedule {
            id: current.as_ref().map_or_else(Uuid::now_v7, |c| c.id),
            opportunity_id,
            order_id,
            account_id: Some(deal.account_id),
            owner_id: deal.owner_id,
            owner_team_path: deal.owner_team_path.clone(),
            currency: total.currency,
            instalments,
            overpaid: current.as_ref().map(|c| c.overpaid).unwrap_or_default(),
            created_by: current.as_ref().map_or(caller.user_id, |c| c.created_by),
            created_at: current.as_ref().map_or(now, |c| c.created_at),
            updated_by: caller.user_id,
            updated_at: now,
            revision: current.as_ref().map_or(1, |c| c.revision + 1),
        };
        store_collections::save_schedule(&mut transaction, &schedule).await?;
        let payments = store_collections::payments_of(&mut transaction, schedule.id).await?;
        transaction.commit().await?;
        Ok((schedule, payments))
    }

    /// The deal's schedule with its payments, if the caller reads the deal.
    pub async fn get_payment_schedule(
        &self,
        caller: &Caller,
        opportunity_id: Uuid,
    ) -> Result<(PaymentSchedule, Vec<Payment>)> {
        let mut connection = self.pool.acquire().await?;
        let deal = store::deals::get_deal(&mut connection, opportunity_id, false)
            .await?
            .map(|(deal, _)| deal);
        visible(caller, opportunity_id, deal)?;
        let schedule = store_collections::schedule_of_deal(&mut connection, opportunity_id, false)
            .await?
            .ok_or_else(|| OpportunitiesError::not_found("payment_schedule", opportunity_id))?;
        let payments = store_collections::payments_of(&mut connection, schedule.id).await?;
        Ok((schedule, payments))
    }

    /// Records a payment (event payment_received), allocated oldest due first, the rest to the
    /// credit balance. A retry under the same id answers the payment recorded; the id taken by
    /// another schedule's payment is ALREADY_EXISTS.
    pub async fn record_payment(
        &self,
        caller: &Caller,
        opportunity_id: Uuid,
        new: NewPayment,
    ) -> Result<(PaymentSchedule, Vec<Payment>, Payment)> {
        let mut transaction = self.pool.begin().await?;
        let deal = self
            .deal_to_collect(&mut transaction, caller, opportunity_id, &PAYABLE, "paid")
            .await?;
        let mut schedule =
            store_collections::schedule_of_deal(&mut transaction, opportunity_id, true)
                .await?
                .ok_or_else(|| OpportunitiesError::not_found("payment_schedule", opportunity_id))?;
        if let Some(recorded) =
            store_collections::get_payment(&mut transaction, new.id, false).await?
        {
            if recorded.schedule_id != schedule.id {
                return Err(OpportunitiesError::IdTaken {
                    kind: "payment",
                    id: new.id,
                });
            }
            let payments = store_collections::payments_of(&mut transaction, schedule.id).await?;
            return Ok((schedule, payments, recorded));
        }
        if new.amount.currency != schedule.currency {
            return Err(refusal(
                "amount.currency_code",
                format!("the schedule is in {}", schedule.currency),
            ));
        }
        if new.amount.amount <= Decimal::ZERO {
            return Err(refusal("amount.amount", "must be above zero".into()));
        }
        let now = crm_platform::time::now();
        let (allocations, to_credit) =
            collection::allocate(&mut schedule.instalments, new.amount.amount);
        schedule.overpaid += to_credit;
        schedule.revision += 1;
        schedule.updated_by = caller.user_id;
        schedule.updated_at = now;
        schedule.owner_id = deal.owner_id;
        schedule.owner_team_path = deal.owner_team_path.clone();
        let payment = Payment {
            id: new.id,
            schedule_id: schedule.id,
            amount: new.amount.amount,
            refunded: Decimal::ZERO,
            received_on: new.received_on.unwrap_or_else(|| now.date_naive()),
            method: new.method,
            reference: new.reference,
            allocations,
            to_credit,
            refunds: Vec::new(),
            recorded_by: caller.user_id,
            recorded_at: now,
        };
        store_collections::save_schedule(&mut transaction, &schedule).await?;
        store_collections::save_payment(&mut transaction, &payment).await?;
        let payments = store_collections::payments_of(&mut transaction, schedule.id).await?;
        let corporate = to_corporate(&mut transaction, &new.amount, payment.received_on).await?;
        let message = pb::PaymentReceived {
            schedule: Some(wire::schedule(&schedule, &payments)),
            payment: Some(wire::payment(schedule.currency, &payment)),
            context: Some(pb::PaymentContext {
                corporate_amount: corporate.as_ref().map(convert::corporate_amount),
                splits: convert::splits(&deal.splits),
            }),
            change: Some(change_context(&schedule)),
        };
        self.outbox
            .enqueue_for(
                &mut transaction,
                "payment_schedule",
                schedule.id,
                schedule.revision,
                &message,
            )
            .await?;
        self.outbox.commit(transaction).await?;
        Ok((schedule, payments, payment))
    }

    /// Records a refund of a payment (event payment_refunded): at most what of it is not
    /// refunded yet (a refusal naming `amount.amount`); the credit balance is taken back first,
    /// then the newest instalments' payments.
    pub async fn record_refund(
        &self,
        caller: &Caller,
        payment_id: Uuid,
        amount: Money,
        reason: String,
    ) -> Result<(PaymentSchedule, Vec<Payment>, Payment)> {
        let mut transaction = self.pool.begin().await?;
        let not_found = || OpportunitiesError::not_found("payment", payment_id);
        let opportunity_id = store_collections::schedule_of_payment(&mut transaction, payment_id)
            .await?
            .ok_or_else(not_found)?;
        let deal = store::deals::get_deal(&mut transaction, opportunity_id, true)
            .await?
            .map(|(deal, _)| deal);
        let deal = visible(caller, opportunity_id, deal).map_err(|_| not_found())?;
        let deal = changeable(
            caller,
            opportunity_id,
            Some(deal),
            None,
            &PAYABLE,
            "refunded",
        )?;
        let mut schedule =
            store_collections::schedule_of_deal(&mut transaction, opportunity_id, true)
                .await?
                .ok_or_else(not_found)?;
        let mut payment = store_collections::get_payment(&mut transaction, payment_id, true)
            .await?
            .ok_or_else(not_found)?;
        if amount.currency != schedule.currency {
            return Err(refusal(
                "amount.currency_code",
                format!("the payment is in {}", schedule.currency),
            ));
        }
        if amount.amount <= Decimal::ZERO {
            return Err(refusal("amount.amount", "must be above zero".into()));
        }
        if amount.amount > payment.unrefunded() {
            return Err(refusal(
                "amount.amount",
                format!(
                    "is more than the {} {} of the payment not refunded yet",
                    payment.unrefunded().normalize(),
                    schedule.currency
                ),
            ));
        }
        let now = crm_platform::time::now();
        let before = schedule.overpaid;
        let (allocations, overpaid) =
            collection::deallocate(&mut schedule.instalments, schedule.overpaid, amount.amount);
        schedule.overpaid = overpaid;
        schedule.revision += 1;
        schedule.updated_by = caller.user_id;
        schedule.updated_at = now;
        schedule.owner_id = deal.owner_id;
        schedule.owner_team_path = deal.owner_team_path.clone();
        let refund = Refund {
            id: Uuid::now_v7(),
            amount: amount.amount,
            reason,
            allocations,
            from_credit: before - overpaid,
            recorded_by: caller.user_id,
            recorded_at: now,
        };
        payment.refunded += amount.amount;
        payment.refunds.push(refund.clone());
        store_collections::save_schedule(&mut transaction, &schedule).await?;
        store_collections::save_payment(&mut transaction, &payment).await?;
        let payments = store_collections::payments_of(&mut transaction, schedule.id).await?;
        let corporate = to_corporate(&mut transaction, &amount, payment.received_on).await?;
        let message = pb::PaymentRefunded {
            schedule: Some(wire::schedule(&schedule, &payments)),
            payment: Some(wire::payment(schedule.currency, &payment)),
            refund: Some(wire::refund(schedule.currency, &refund)),
            context: Some(pb::PaymentContext {
                corporate_amount: corporate.as_ref().map(convert::corporate_amount),
                splits: convert::splits(&deal.splits),
            }),
            change: Some(change_context(&schedule)),
        };
        self.outbox
            .enqueue_for(
                &mut transaction,
                "payment_schedule",
                schedule.id,
                schedule.revision,
                &message,
            )
            .await?;
        self.outbox.commit(transaction).await?;
        Ok((schedule, payments, payment))
    }
}

fn change_context(schedule: &PaymentSchedule) -> pb::ChangeContext {
    pb::ChangeContext {
        changed_by: schedule.updated_by.to_string(),
        occurred_at: Some(to_timestamp(schedule.updated_at)),
    }
}
