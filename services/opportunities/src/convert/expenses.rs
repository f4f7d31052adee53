//! Expenses, domain → wire: what ExpenseService returns and the expense events carry.

use crm_platform::time::to_timestamp;
use crm_proto::crm::opportunities::v1 as pb;

use crate::domain::expense::{Expense, ExpenseCategory, ExpenseStatus, ExpenseSummary};

pub(crate) fn category(category: ExpenseCategory) -> pb::ExpenseCategory {
    match category {
        ExpenseCategory::Travel => pb::ExpenseCategory::Travel,
        ExpenseCategory::Meals => pb::ExpenseCategory::Meals,
        ExpenseCategory::Entertainment => pb::ExpenseCategory::Entertainment,
        ExpenseCategory::Lodging => pb::ExpenseCategory::Lodging,
        ExpenseCategory::Gifts => pb::ExpenseCategory::Gifts,
        ExpenseCategory::Samples => pb::ExpenseCategory::Samples,
        ExpenseCategory::Other => pb::ExpenseCategory::Other,
    }
}

pub(crate) fn status(status: ExpenseStatus) -> pb::ExpenseStatus {
    match status {
        ExpenseStatus::Draft => pb::ExpenseStatus::Draft,
        ExpenseStatus::Submitted => pb::ExpenseStatus::Submitted,
        ExpenseStatus::Approved => pb::ExpenseStatus::Approved,
        ExpenseStatus::Rejected => pb::ExpenseStatus::Rejected,
    }
}

pub(crate) fn expense(expense: &Expense) -> pb::Expense {
    let content = &expense.content;
    let decision = expense.decision.as_ref();
    pb::Expense {
        id: expense.id.to_string(),
        opportunity_id: expense
            .opportunity_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        account_id: expense.account_id.to_string(),
        owner_id: expense.owner_id.to_string(),
        owner_team_path: expense.owner_team_path.to_string(),
        incurred_on: content.incurred_on.to_string(),
        category: category(content.category).into(),
        amount: Some(content.amount.to_message()),
        note: content.note.clone(),
        receipt_reference: content.receipt_reference.clone(),
        status: status(expense.status).into(),
        audit: Some(pb::ExpenseAudit {
            submitted_by: expense
                .submitted
                .map(|(by, _)| by.to_string())
                .unwrap_or_default(),
            submitted_at: expense.submitted.map(|(_, at)| to_timestamp(at)),
            decided_by: decision
                .map(|d| d.decided_by.to_string())
                .unwrap_or_default(),
            decided_at: decision.map(|d| to_timestamp(d.decided_at)),
            decision: decision
                .map_or(pb::ExpenseStatus::Unspecified, |d| status(d.decision))
                .into(),
            reason: decision.map(|d| d.reason.clone()).unwrap_or_default(),
        }),
        created_by: expense.created_by.to_string(),
        created_at: Some(to_timestamp(expense.created_at)),
        updated_by: expense.updated_by.to_string(),
        updated_at: Some(to_timestamp(expense.updated_at)),
        version: u64::try_from(expense.revision).unwrap_or_default(),
    }
}

pub(crate) fn summary(summary: &ExpenseSummary) -> pb::ExpenseSummary {
    pb::ExpenseSummary {
        approved: summary.approved.iter().map(|m| m.to_message()).collect(),
        submitted: summary.submitted.iter().map(|m| m.to_message()).collect(),
        approved_corporate: summary.approved_corporate.as_ref().map(|m| m.to_message()),
        unconverted: summary.unconverted,
        won_corporate: summary.won_corporate.as_ref().map(|m| m.to_message()),
        cost_of_sale_percent: summary
            .cost_of_sale_percent
            .map(|percent| percent.to_string())
            .unwrap_or_default(),
    }
}
