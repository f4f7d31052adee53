//! Collections (O8): a won deal's payment schedule — instalments adding up to the deal's (or
//! its order's) total exactly — the payments allocated to it and refunds taken back, and how
//! late what is open is (docs/adr/0014-deal-desk-in-opportunities.md).
//!
//! The rules, stated once:
//! - A schedule's instalments are all by percent or all by amount; a mix is refused (which
//!   one takes the remainder would be a guess). Percents sum to exactly 100, amounts to
//!   exactly the total; every instalment is above zero; due dates never go back.
//! - A percent instalment is the total × percent rounded half to even to the currency's minor
//!   unit (ADR 0014's rule), except the last, which takes the remainder: the sum is the total
//!   to the cent. 30/70 of CNY 123,456.79: 37,037.04 and 86,419.75.
//! - A payment pays the open instalments oldest due first (by number among equal days); what
//!   is left over is the schedule's credit balance (overpaid), never lost.
//! - A refund takes back the credit balance first (money the customer paid beyond what was
//!   due), then from the newest instalment with money on it backwards — the oldest debts stay
//!   settled longest, so the ageing of what is reopened is the least.
//! - A replacement schedule re-allocates what the instalments held paid oldest due first over
//!   its new instalments (the credit balance stays); one whose total is below that is refused.

use chrono::NaiveDate;
use crm_platform::{
    error::{FieldViolation, reasons::INCONSISTENT_FIELDS},
    money::{CurrencyCode, round_half_even},
};
use rust_decimal::Decimal;

/// How an instalment's share of the total is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Share {
    /// Percent of the total, e.g. 30.
    Percent(Decimal),
    /// An amount in the schedule's currency.
    Amount(Decimal),
}

/// An instalment as the schedule's author gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct InstalmentInput {
    pub due_date: NaiveDate,
    pub share: Share,
    pub note: String,
}

/// An instalment of a schedule: its amount to the cent and what is paid of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Instalment {
    /// 1, 2, … in due order.
    pub number: u32,
    pub due_date: NaiveDate,
    /// The percent it was given as, if it was.
    pub percent: Option<Decimal>,
    pub amount: Decimal,
    /// 0..=amount.
    pub paid: Decimal,
    pub note: String,
}

impl Instalment {
    pub fn open(&self) -> Decimal {
        self.amount - self.paid
    }

    pub fn status(&self) -> InstalmentStatus {
        if self.paid.is_zero() {
            InstalmentStatus::Open
        } else if self.paid < self.amount {
            InstalmentStatus::PartlyPaid
        } else {
            InstalmentStatus::Paid
        }
    }
}

/// How far an instalment is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InstalmentStatus {
    Open,
    PartlyPaid,
    Paid,
}

/// A schedule's figures: the total, what instalments hold paid, what is open, the credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduleTotals {
    pub total: Decimal,
    pub paid: Decimal,
    pub open: Decimal,
    pub overpaid: Decimal,
}

/// The totals of `instalments` with credit balance `overpaid`.
pub fn totals(instalments: &[Instalment], overpaid: Decimal) -> ScheduleTotals {
    let total = instalments.iter().map(|i| i.amount).sum();
    let paid = instalments.iter().map(|i| i.paid).sum();
    ScheduleTotals {
        total,
        paid,
        open: total - paid,
        overpaid,
    }
}

fn refusal(field: String, text: String) -> FieldViolation {
    FieldViolation::refusal(INCONSISTENT_FIELDS, field, text)
}

/// The instalments `inputs` make of `total` in `currency`, nothing paid, or every refusal at
/// once naming `instalments[i].…` (or `instalments` for the sum): a mix of percents and
/// amounts, a share not above zero, an amount finer than the currency's minor unit, percents
/// not summing to 100, amounts not summing to the total, a due date before the one above it.
pub fn split(
    total: Decimal,
    currency: CurrencyCode,
    inputs: &[InstalmentInput],
) -> Result<Vec<Instalment>, Vec<FieldViolation>> {
    let places = currency.minor_units();
    let mut violations = Vec::new();
    let by_percent = matches!(inputs.first().map(|i| i.share), Some(Share::Percent(_)));
    let mut sum = Decimal::ZERO;
    for (index, input) in inputs.iter().enumerate() {
        let at = |field: &str| format!("instalments[{index}].{field}");
        if index > 0 && input.due_date < inputs[index - 1].due_date {
            violations.push(refusal(
                at("due_date"),
                format!(
                    "is before the due date above it ({})",
                    inputs[index - 1].due_date
                ),
            ));
        }
        match input.share {
            Share::Percent(_) if !by_percent => violations.push(refusal(
                at("percent"),
                "the schedule's instalments are by amount: give every one an amount".into(),
            )),
            Share::Amount(_) if by_percent => violations.push(refusal(
                at("amount"),
                "the schedule's instalments are by percent: give every one a percent".into(),
            )),
            Share::Percent(percent) | Share::Amount(percent) if percent <= Decimal::ZERO => {
                let field = if by_percent { "percent" } else { "amount" };
                violations.push(refusal(at(field), "must be above zero".into()));
            }
            Share::Amount(amount) if amount.round_dp(places) != amount => {
                violations.push(refusal(
                    at("amount"),
                    format!("has more decimals than {currency}'s {places}"),
                ));
            }
            Share::Percent(share) | Share::Amount(share) => sum += share,
        }
    }
    if !violations.is_empty() {
        return Err(violations);
    }
    if by_percent && sum != Decimal::ONE_HUNDRED {
        return Err(vec![refusal(
            "instalments".into(),
            format!("percents sum to {}, not 100", sum.normalize()),
        )]);
    }
    if !by_percent && sum != total {
        return Err(vec![refusal(
            "instalments".into(),
            format!(
                "amounts sum to {} {currency}, not the total {} {currency}",
                sum.normalize(),
                total.normalize()
            ),
        )]);
    }
    let mut instalments = Vec::with_capacity(inputs.len());
    let mut allotted = Decimal::ZERO;
    for (index, input) in inputs.iter().enumerate() {
        let (percent, amount) = match input.share {
            Share::Amount(amount) => (None, amount),
            Share::Percent(percent) if index + 1 == inputs.len() => {
                (Some(percent), total - allotted)
            }
            Share::Percent(percent) => (
                Some(percent),
                round_half_even(total * percent / Decimal::ONE_HUNDRED, places),
            ),
        };
        if amount <= Decimal::ZERO {
            let field = format!("instalments[{index}].percent");
            let text = format!(
                "gives {} of {}: too small a share",
                amount,
                total.normalize()
            );
            return Err(vec![refusal(field, text)]);
        }
        allotted += amount;
        instalments.push(Instalment {
            number: u32::try_from(index).unwrap_or(u32::MAX).saturating_add(1),
            due_date: input.due_date,
            percent,
            amount,
            paid: Decimal::ZERO,
            note: input.note.clone(),
        });
    }
    Ok(instalments)
}

/// What a payment or refund did to one instalment (positive for a payment, negative for a
/// refund).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allocation {
    pub instalment_number: u32,
    pub amount: Decimal,
}

/// The open instalments in the order payments pay them: oldest due first, by number on a day.
fn oldest_first(instalments: &[Instalment]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..instalments.len()).collect();
    order.sort_by_key(|&i| (instalments[i].due_date, instalments[i].number));
    order
}

/// Pays `amount` (above zero) into `instalments` oldest due first: the allocations, and what is
/// left over (the credit the schedule gains).
pub fn allocate(instalments: &mut [Instalment], amount: Decimal) -> (Vec<Allocation>, Decimal) {
    let mut left = amount;
    let mut allocations = Vec::new();
    for index in oldest_first(instalments) {
        if left.is_zero() {
            break;
        }
        let instalment = &mut instalments[index];
        let part = left.min(instalment.open());
        if part > Decimal::ZERO {
            instalment.paid += part;
            left -= part;
            allocations.push(Allocation {
                instalment_number: instalment.number,
                amount: part,
            });
        }
    }
    (allocations, left)
}

/// Takes `amount` back: the credit balance `overpaid` first, then the newest instalments with
/// money on them backwards. The allocations (negative) and the credit balance after. `amount`
/// is at most what was paid (a payment's unrefunded amount), so it never runs out.
pub fn deallocate(
    instalments: &mut [Instalment],
    overpaid: Decimal,
    amount: Decimal,
) -> (Vec<Allocation>, Decimal) {
    let from_credit = amount.min(overpaid);
    let mut left = amount - from_credit;
    let mut allocations = Vec::new();
    for index in oldest_first(instalments).into_iter().rev() {
        if left.is_zero() {
            break;
        }
        let instalment = &mut instalments[index];
        let part = left.min(instalment.paid);
        if part > Decimal::ZERO {
            instalment.paid -= part;
            left -= part;
            allocations.push(Allocation {
                instalment_number: instalment.number,
                amount: -part,
            });
        }
    }
    (allocations, overpaid - from_credit)
}

/// A replacement schedule's instalments carrying `paid` (what the old instalments held paid)
/// oldest due first, or the refusal naming `instalments` when its total is below it.
pub fn carry_paid(
    mut instalments: Vec<Instalment>,
    paid: Decimal,
) -> Result<Vec<Instalment>, Vec<FieldViolation>> {
    let total: Decimal = instalments.iter().map(|i| i.amount).sum();
    if total < paid {
        return Err(vec![refusal(
            "instalments".into(),
            format!(
                "total {} is below the {} paid already",
                total.normalize(),
                paid.normalize()
            ),
        )]);
    }
    allocate(&mut instalments, paid);
    Ok(instalments)
}

#[cfg(test)]
#[path = "collection_tests.rs"]
mod tests;
