//! What each event the ledger reads credits (C3), before it is written: a won deal books its
//! corporate amount to each rep by the deal's splits; a payment or refund credits its corporate
//! amount by the splits the event carries; an approved expense credits its owner. Each entry
//! names its source — the event's own key, unique per rep — so a redelivered or replayed event
//! finds its entries already there and adds nothing. Reversals are made from the ledger itself
//! (the standing bookings of the deal), by the service.

use chrono::NaiveDate;
use crm_platform::{
    deals::read,
    money::{CurrencyCode, Money, Sign},
};
use crm_proto::crm::opportunities::v1::{
    CorporateAmount, ExpenseApproved, Opportunity, PaymentContext, PaymentReceived,
    PaymentRefunded, PaymentSchedule, RevenueSplit,
};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::credit::{CreditKind, DealLine, Split, split_amount};

/// A ledger entry to append.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCredit {
    /// What made it, unique per rep: `booking:<deal>:<version>`, `payment:<id>`, …
    pub source: String,
    pub user_id: Uuid,
    pub kind: CreditKind,
    pub deal_id: Option<Uuid>,
    pub deal_name: String,
    pub pipeline_id: Option<Uuid>,
    pub effective_on: NaiveDate,
    pub currency: CurrencyCode,
    pub amount: Decimal,
    pub share: Decimal,
    /// The booking a reversal takes back.
    pub reverses: Option<Uuid>,
    /// A booking's deal lines (the whole deal's shares of its corporate amount), for SPIFFs on
    /// products.
    pub lines: Vec<DealLine>,
}

fn uuid(field: &str, text: &str) -> Result<Uuid, String> {
    Uuid::parse_str(text.trim()).map_err(|_| format!("{field} {text:?} is not a UUID"))
}

fn splits(field: &str, splits: &[RevenueSplit]) -> Result<Vec<Split>, String> {
    splits
        .iter()
        .map(|split| {
            Ok(Split {
                user_id: uuid(&format!("{field}.user_id"), &split.user_id)?,
                percent: crm_platform::money::plain_decimal(&split.percent)
                    .map_err(|error| format!("{field}.percent {:?}: {error}", split.percent))?,
            })
        })
        .collect()
}

/// One entry per rep of `splits` (the owner alone without), each of the rep's exact share.
fn shared(
    template: &NewCredit,
    amount: Decimal,
    owner: Uuid,
    splits: &[Split],
) -> Result<Vec<NewCredit>, String> {
    Ok(split_amount(amount, owner, splits)
        .map_err(|problem| problem.to_string())?
        .into_iter()
        .map(|(user_id, amount, share)| NewCredit {
            user_id,
            amount,
            share,
            ..template.clone()
        })
        .collect())
}

/// The bookings of a won deal: its corporate amount by its splits, on the day it was won.
/// `None` while the deal has no corporate amount (no corporate currency or no rate): nothing
/// can be credited in the plans' currency.
pub fn bookings(opportunity: &Opportunity) -> Result<Option<Vec<NewCredit>>, String> {
    let Some(corporate) = read::corporate_amount(opportunity)? else {
        return Ok(None);
    };
    let deal_id = read::id("id", &opportunity.id)?;
    let version = read::version(opportunity)?;
    let effective_on =
        read::closed_on(opportunity)?.ok_or("a won deal's event carries outcome.closed_on")?;
    let template = NewCredit {
        source: format!("booking:{deal_id}:{version}"),
        user_id: Uuid::nil(),
        kind: CreditKind::Booking,
        deal_id: Some(deal_id),
        deal_name: opportunity.name.clone(),
        pipeline_id: (!opportunity.pipeline_id.is_empty())
            .then(|| read::id("pipeline_id", &opportunity.pipeline_id))
            .transpose()?,
        effective_on,
        currency: corporate.currency,
        amount: Decimal::ZERO,
        share: Decimal::ZERO,
        reverses: None,
        lines: crm_platform::deals::lines::lines_of(opportunity, Some(corporate))
            .into_iter()
            .filter(|line| !line.product_code.is_empty())
            .map(|line| DealLine {
                product_code: line.product_code,
                amount: line.corporate_amount.unwrap_or_default(),
            })
            .collect(),
    };
    let owner = read::id("owner_id", &opportunity.owner_id)?;
    shared(
        &template,
        corporate.amount.abs(),
        owner,
        &splits("opportunity.splits", &opportunity.splits)?,
    )
    .map(Some)
}

/// A corporate amount an event carries; `None` when it has none (no corporate currency or no
/// rate on the day): nothing can be credited in the plans' currency.
fn corporate(amount: Option<&CorporateAmount>) -> Result<Option<Money>, String> {
    amount
        .and_then(|corporate| corporate.amount.as_ref())
        .map(|amount| {
            Money::parse("context.corporate_amount.amount", amount, Sign::NonNegative)
                .map_err(|violation| violation.to_string())
        })
        .transpose()
}

/// A payment's or refund's entries (`source`, on `day`) by the splits its context carries,
/// the schedule's owner alone without; `None` without a corporate amount.
fn collected(
    kind: CreditKind,
    source: String,
    schedule: &PaymentSchedule,
    day: NaiveDate,
    context: Option<&PaymentContext>,
) -> Result<Option<Vec<NewCredit>>, String> {
    let Some(amount) = corporate(context.and_then(|context| context.corporate_amount.as_ref()))?
    else {
        return Ok(None);
    };
    let template = NewCredit {
        source,
        user_id: Uuid::nil(),
        kind,
        deal_id: Some(uuid("schedule.opportunity_id", &schedule.opportunity_id)?),
        deal_name: String::new(),
        pipeline_id: None,
        effective_on: day,
        currency: amount.currency,
        amount: Decimal::ZERO,
        share: Decimal::ZERO,
        reverses: None,
        lines: Vec::new(),
    };
    let owner = uuid("schedule.owner_id", &schedule.owner_id)?;
    let context_splits = context.map_or(&[][..], |context| &context.splits);
    shared(
        &template,
        amount.amount.abs(),
        owner,
        &splits("context.splits", context_splits)?,
    )
    .map(Some)
}

/// A payment's entries by the splits its context carries; `None` without a corporate amount.
pub fn payment(event: &PaymentReceived) -> Result<Option<Vec<NewCredit>>, String> {
    let schedule = event.schedule.as_ref().ok_or("event carries no schedule")?;
    let payment = event.payment.as_ref().ok_or("event carries no payment")?;
    let received_on =
        NaiveDate::parse_from_str(payment.received_on.trim(), "%Y-%m-%d").map_err(|_| {
            format!(
                "payment.received_on {:?} is not a date",
                payment.received_on
            )
        })?;
    collected(
        CreditKind::Payment,
        format!("payment:{}", uuid("payment.id", &payment.id)?),
        schedule,
        received_on,
        event.context.as_ref(),
    )
}

/// A refund's entries (positive amounts, taken back), by the splits its context carries.
pub fn refund(event: &PaymentRefunded) -> Result<Option<Vec<NewCredit>>, String> {
    let schedule = event.schedule.as_ref().ok_or("event carries no schedule")?;
    let refund = event.refund.as_ref().ok_or("event carries no refund")?;
    let recorded_at = refund
        .recorded_at
        .as_ref()
        .ok_or("refund.recorded_at is missing")?;
    let recorded_on = crm_platform::time::from_timestamp(recorded_at)
        .ok_or("refund.recorded_at is out of range")?
        .date_naive();
    collected(
        CreditKind::Refund,
        format!("refund:{}", uuid("refund.id", &refund.id)?),
        schedule,
        recorded_on,
        event.context.as_ref(),
    )
}

/// An approved expense's entry for its owner, in the corporate currency on the day incurred.
pub fn expense(event: &ExpenseApproved) -> Result<Option<NewCredit>, String> {
    let expense = event.expense.as_ref().ok_or("event carries no expense")?;
    let Some(amount) = corporate(
        event
            .context
            .as_ref()
            .and_then(|context| context.corporate_amount.as_ref()),
    )?
    else {
        return Ok(None);
    };
    let incurred_on =
        NaiveDate::parse_from_str(expense.incurred_on.trim(), "%Y-%m-%d").map_err(|_| {
            format!(
                "expense.incurred_on {:?} is not a date",
                expense.incurred_on
            )
        })?;
    Ok(Some(NewCredit {
        source: format!("expense:{}", uuid("expense.id", &expense.id)?),
        user_id: uuid("expense.owner_id", &expense.owner_id)?,
        kind: CreditKind::Expense,
        deal_id: (!expense.opportunity_id.is_empty())
            .then(|| uuid("expense.opportunity_id", &expense.opportunity_id))
            .transpose()?,
        deal_name: String::new(),
        pipeline_id: None,
        effective_on: incurred_on,
        currency: amount.currency,
        amount: amount.amount,
        share: Decimal::ONE_HUNDRED,
        reverses: None,
        lines: Vec::new(),
    }))
}
