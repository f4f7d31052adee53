//! Expenses (O11): what a rep spends on a deal or an account, its approval, and the sums the
//! deal and account pages show as the cost of sale (docs/adr/0014-deal-desk-in-opportunities.md).
//!
//! The rules, stated once:
//! - An expense is written by its owner while DRAFT or REJECTED, submitted from either, and
//!   decided (approved or rejected) only while SUBMITTED; an approved expense is final.
//! - Who decides is [`super::approval::check_approver`]'s rule, the discount's.
//! - A summary sums approved and submitted expenses per currency exactly; the approved ones in
//!   the corporate currency (each converted on its incurred_on) are summed too, those without a
//!   rate counted as unconverted; the cost of sale is approved corporate / won corporate × 100,
//!   rounded commercially (half away from zero, `round_commercial`, the kit's rule of ratios
//!   and reports) to 2 places.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::{
    auth::TeamPath,
    money::{CurrencyCode, Money, fixed},
};
use rust_decimal::Decimal;
use uuid::Uuid;

/// What an expense was spent on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpenseCategory {
    Travel,
    Meals,
    Entertainment,
    Lodging,
    Gifts,
    Samples,
    Other,
}

impl ExpenseCategory {
    pub const ALL: [ExpenseCategory; 7] = [
        ExpenseCategory::Travel,
        ExpenseCategory::Meals,
        ExpenseCategory::Entertainment,
        ExpenseCategory::Lodging,
        ExpenseCategory::Gifts,
        ExpenseCategory::Samples,
        ExpenseCategory::Other,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ExpenseCategory::Travel => "travel",
            ExpenseCategory::Meals => "meals",
            ExpenseCategory::Entertainment => "entertainment",
            ExpenseCategory::Lodging => "lodging",
            ExpenseCategory::Gifts => "gifts",
            ExpenseCategory::Samples => "samples",
            ExpenseCategory::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|category| category.as_str() == text)
    }
}

/// Where an expense is in its approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpenseStatus {
    Draft,
    Submitted,
    Approved,
    Rejected,
}

impl ExpenseStatus {
    pub const ALL: [ExpenseStatus; 4] = [
        ExpenseStatus::Draft,
        ExpenseStatus::Submitted,
        ExpenseStatus::Approved,
        ExpenseStatus::Rejected,
    ];

    /// The stored name (and the one refusals show).
    pub fn as_str(self) -> &'static str {
        match self {
            ExpenseStatus::Draft => "draft",
            ExpenseStatus::Submitted => "submitted",
            ExpenseStatus::Approved => "approved",
            ExpenseStatus::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }
}

impl std::fmt::Display for ExpenseStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an owner does to an expense, or a manager decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpenseAction {
    Update,
    Submit,
    Approve,
    Reject,
}

impl ExpenseAction {
    /// The past participle refusals name ("cannot be approved").
    pub fn done(self) -> &'static str {
        match self {
            ExpenseAction::Update => "changed",
            ExpenseAction::Submit => "submitted",
            ExpenseAction::Approve => "approved",
            ExpenseAction::Reject => "rejected",
        }
    }
}

/// The status after `action` from `status`, or `None` when the status rules it out.
pub fn next_status(status: ExpenseStatus, action: ExpenseAction) -> Option<ExpenseStatus> {
    use ExpenseStatus::*;
    match (status, action) {
        (Draft | Rejected, ExpenseAction::Update) => Some(status),
        (Draft | Rejected, ExpenseAction::Submit) => Some(Submitted),
        (Submitted, ExpenseAction::Approve) => Some(Approved),
        (Submitted, ExpenseAction::Reject) => Some(Rejected),
        _ => None,
    }
}

/// What an expense says, as its owner writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpenseContent {
    pub incurred_on: NaiveDate,
    pub category: ExpenseCategory,
    pub amount: Money,
    pub note: String,
    pub receipt_reference: String,
}

/// A decision on a submitted expense.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpenseDecision {
    /// Approved or Rejected.
    pub decision: ExpenseStatus,
    pub decided_by: Uuid,
    pub decided_at: DateTime<Utc>,
    /// The rejection's reason or the approval's note.
    pub reason: String,
}

/// An expense.
#[derive(Debug, Clone, PartialEq)]
pub struct Expense {
    pub id: Uuid,
    pub opportunity_id: Option<Uuid>,
    /// The account given, or the deal's.
    pub account_id: Uuid,
    pub owner_id: Uuid,
    pub owner_team_path: TeamPath,
    pub content: ExpenseContent,
    pub status: ExpenseStatus,
    /// The last submission: who, when.
    pub submitted: Option<(Uuid, DateTime<Utc>)>,
    /// The last decision (cleared by a resubmission).
    pub decision: Option<ExpenseDecision>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_by: Uuid,
    pub updated_at: DateTime<Utc>,
    pub revision: i64,
}

/// One expense as a summary reads it: its status, amount and (approved ones) its amount in the
/// corporate currency, `None` without a rate.
#[derive(Debug, Clone, PartialEq)]
pub struct SummedExpense {
    pub status: ExpenseStatus,
    pub amount: Money,
    pub corporate: Option<Money>,
}

/// A deal's or a customer's expenses summed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExpenseSummary {
    /// Per currency, sorted by code.
    pub approved: Vec<Money>,
    pub submitted: Vec<Money>,
    /// `None` without a corporate currency.
    pub approved_corporate: Option<Money>,
    pub unconverted: u32,
    pub won_corporate: Option<Money>,
    /// Two decimals, e.g. 0.17.
    pub cost_of_sale_percent: Option<Decimal>,
}

fn per_currency<'a>(amounts: impl Iterator<Item = &'a Money>) -> Vec<Money> {
    let mut sums: BTreeMap<&'static str, Money> = BTreeMap::new();
    for amount in amounts {
        sums.entry(amount.currency.as_str())
            .or_insert_with(|| Money::zero(amount.currency))
            .amount += amount.amount;
    }
    sums.into_values().collect()
}

/// Sums `expenses` (drafts and rejected ones count for nothing) beside the won amount, with the
/// corporate currency `corporate` (`None`: none is set, so no corporate figures).
pub fn summarise(
    expenses: &[SummedExpense],
    corporate: Option<CurrencyCode>,
    won_corporate: Option<Money>,
) -> ExpenseSummary {
    let approved: Vec<&SummedExpense> = expenses
        .iter()
        .filter(|expense| expense.status == ExpenseStatus::Approved)
        .collect();
    let submitted = expenses
        .iter()
        .filter(|expense| expense.status == ExpenseStatus::Submitted)
        .map(|expense| &expense.amount);
    let approved_corporate = corporate.map(|currency| Money {
        currency,
        amount: approved
            .iter()
            .filter_map(|expense| expense.corporate.as_ref())
            .filter(|converted| converted.currency == currency)
            .map(|converted| converted.amount)
            .sum(),
    });
    let unconverted = approved
        .iter()
        .filter(|expense| {
            !matches!((&expense.corporate, corporate), (Some(c), Some(currency)) if c.currency == currency)
        })
        .count();
    let cost_of_sale_percent = match (&approved_corporate, &won_corporate) {
        (Some(spent), Some(won))
            if won.amount > Decimal::ZERO && spent.currency == won.currency =>
        {
            Some(fixed(spent.amount / won.amount * Decimal::ONE_HUNDRED, 2))
        }
        _ => None,
    };
    ExpenseSummary {
        approved: per_currency(approved.iter().map(|expense| &expense.amount)),
        submitted: per_currency(submitted),
        approved_corporate,
        unconverted: u32::try_from(unconverted).unwrap_or(u32::MAX),
        won_corporate,
        cost_of_sale_percent,
    }
}

#[cfg(test)]
#[path = "expense_tests.rs"]
mod tests;
