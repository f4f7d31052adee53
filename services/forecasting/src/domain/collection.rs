//! What was collected on a deal (F7's collection rate): a payment, or a refund taking part of
//! one back, in the corporate currency as the opportunities service converted it on the day.

use chrono::NaiveDate;
use crm_platform::money::{CurrencyCode, Money, Sign};
use crm_proto::crm::opportunities::v1::{PaymentContext, PaymentReceived, PaymentRefunded};
use rust_decimal::Decimal;
use uuid::Uuid;

/// One payment (positive) or refund (negative) of a deal, in the corporate currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Collection {
    /// The payment's or the refund's id.
    pub entry_id: Uuid,
    pub deal_id: Uuid,
    pub schedule_id: Uuid,
    pub entry_on: NaiveDate,
    pub currency: CurrencyCode,
    pub amount: Decimal,
}

fn uuid(field: &str, text: &str) -> Result<Uuid, String> {
    Uuid::parse_str(text.trim()).map_err(|_| format!("{field} {text:?} is not a UUID"))
}

/// The corporate amount of a payment's context; `None` when the payment could not be
/// converted (no corporate currency or no rate on the day): it counts in no corporate figure.
fn corporate(context: Option<&PaymentContext>) -> Result<Option<Money>, String> {
    context
        .and_then(|context| context.corporate_amount.as_ref())
        .and_then(|corporate| corporate.amount.as_ref())
        .map(|amount| {
            Money::parse("context.corporate_amount.amount", amount, Sign::NonNegative)
                .map_err(|violation| violation.to_string())
        })
        .transpose()
}

impl Collection {
    /// The payment a payment_received event records; `None` when it has no corporate amount.
    pub fn of_payment(event: &PaymentReceived) -> Result<Option<Collection>, String> {
        let schedule = event.schedule.as_ref().ok_or("event carries no schedule")?;
        let payment = event.payment.as_ref().ok_or("event carries no payment")?;
        let Some(corporate) = corporate(event.context.as_ref())? else {
            return Ok(None);
        };
        let entry_on =
            NaiveDate::parse_from_str(payment.received_on.trim(), "%Y-%m-%d").map_err(|_| {
                format!(
                    "payment.received_on {:?} is not a date",
                    payment.received_on
                )
            })?;
        Ok(Some(Collection {
            entry_id: uuid("payment.id", &payment.id)?,
            deal_id: uuid("schedule.opportunity_id", &schedule.opportunity_id)?,
            schedule_id: uuid("schedule.id", &schedule.id)?,
            entry_on,
            currency: corporate.currency,
            amount: corporate.amount,
        }))
    }

    /// The refund a payment_refunded event records, as a negative collection; `None` when it
    /// has no corporate amount.
    pub fn of_refund(event: &PaymentRefunded) -> Result<Option<Collection>, String> {
        let schedule = event.schedule.as_ref().ok_or("event carries no schedule")?;
        let refund = event.refund.as_ref().ok_or("event carries no refund")?;
        let Some(corporate) = corporate(event.context.as_ref())? else {
            return Ok(None);
        };
        let recorded_at = refund
            .recorded_at
            .as_ref()
            .ok_or("refund.recorded_at is missing")?;
        let entry_on = crm_platform::time::from_timestamp(recorded_at)
            .ok_or("refund.recorded_at is out of range")?
            .date_naive();
        Ok(Some(Collection {
            entry_id: uuid("refund.id", &refund.id)?,
            deal_id: uuid("schedule.opportunity_id", &schedule.opportunity_id)?,
            schedule_id: uuid("schedule.id", &schedule.id)?,
            entry_on,
            currency: corporate.currency,
            amount: -corporate.amount,
        }))
    }
}
