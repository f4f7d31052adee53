//! Expenses' RPCs (`ExpenseService`): requests to domain inputs, every broken field named at
//! once. What the schema states (required, dates, money, ids, lengths) is INVALID_ARGUMENT here;
//! what only the expense can say (exactly one of deal and account, an amount above zero, a day
//! not in the future, its status) is the service's refusal.

use crm_platform::{
    error::{Violations, optional_text},
    money::{Money, Sign},
    paging::{KeyKind, Page, SortOrder},
};
use crm_proto::crm::{
    common::v1::PageResponse,
    opportunities::v1::{self as pb, expense_service_server::ExpenseService},
};
use tonic::{Request, Response, Status};

use super::{
    authenticated,
    deal_input::{id, version},
    decisions::decision_input,
};
use crate::{
    convert::expenses as wire,
    domain::{
        approval::Decision,
        expense::{ExpenseCategory, ExpenseContent, ExpenseStatus},
    },
    error::OpportunitiesError,
    service::{ExpenseOn, Opportunities},
    store::expenses::ExpenseFilter,
};

const MAX_NOTE: usize = 2000;
const MAX_RECEIPT: usize = 200;
const MAX_REASON: usize = 1000;
pub(crate) const EXPENSES_BY_DAY: SortOrder = SortOrder::new("incurred_on", KeyKind::Date, true);

pub(crate) struct ExpensesApi {
    opportunities: Opportunities,
}

impl ExpensesApi {
    pub(crate) fn new(opportunities: Opportunities) -> Self {
        Self { opportunities }
    }
}

fn invalid(violations: Violations) -> Result<(), OpportunitiesError> {
    violations.into_result().map_err(OpportunitiesError::from)
}

fn category(violations: &mut Violations, field: &str, value: i32) -> Option<ExpenseCategory> {
    match pb::ExpenseCategory::try_from(value) {
        Ok(pb::ExpenseCategory::Travel) => Some(ExpenseCategory::Travel),
        Ok(pb::ExpenseCategory::Meals) => Some(ExpenseCategory::Meals),
        Ok(pb::ExpenseCategory::Entertainment) => Some(ExpenseCategory::Entertainment),
        Ok(pb::ExpenseCategory::Lodging) => Some(ExpenseCategory::Lodging),
        Ok(pb::ExpenseCategory::Gifts) => Some(ExpenseCategory::Gifts),
        Ok(pb::ExpenseCategory::Samples) => Some(ExpenseCategory::Samples),
        Ok(pb::ExpenseCategory::Other) => Some(ExpenseCategory::Other),
        Ok(pb::ExpenseCategory::Unspecified) => {
            violations.add(field, "is required");
            None
        }
        Err(_) => {
            violations.add(field, format!("{value} is not an expense category"));
            None
        }
    }
}

fn status_filter(value: i32) -> Result<Option<ExpenseStatus>, OpportunitiesError> {
    Ok(match pb::ExpenseStatus::try_from(value) {
        Ok(pb::ExpenseStatus::Unspecified) => None,
        Ok(pb::ExpenseStatus::Draft) => Some(ExpenseStatus::Draft),
        Ok(pb::ExpenseStatus::Submitted) => Some(ExpenseStatus::Submitted),
        Ok(pb::ExpenseStatus::Approved) => Some(ExpenseStatus::Approved),
        Ok(pb::ExpenseStatus::Rejected) => Some(ExpenseStatus::Rejected),
        Err(_) => {
            return Err(OpportunitiesError::invalid(
                "status",
                format!("{value} is not an expense status"),
            ));
        }
    })
}

/// The expense's content as given under `expense`.
fn content(
    violations: &mut Violations,
    input: Option<&pb::ExpenseInput>,
) -> Option<ExpenseContent> {
    let Some(input) = input else {
        violations.add("expense", "is required");
        return None;
    };
    let incurred_on = violations.date("expense.incurred_on", &input.incurred_on);
    let category = category(violations, "expense.category", input.category);
    let amount = match &input.amount {
        Some(amount) => violations.take(Money::parse("expense.amount", amount, Sign::Any)),
        None => {
            violations.add("expense.amount", "is required");
            None
        }
    };
    let note = optional_text(violations, "expense.note", &input.note, MAX_NOTE);
    let receipt_reference = optional_text(
        violations,
        "expense.receipt_reference",
        &input.receipt_reference,
        MAX_RECEIPT,
    );
    Some(ExpenseContent {
        incurred_on: incurred_on?,
        category: category?,
        amount: amount?,
        note,
        receipt_reference,
    })
}

fn reply(expense: &crate::domain::expense::Expense) -> Option<pb::Expense> {
    Some(wire::expense(expense))
}

#[tonic::async_trait]
impl ExpenseService for ExpensesApi {
    async fn create_expense(
        &self,
        request: Request<pb::CreateExpenseRequest>,
    ) -> Result<Response<pb::CreateExpenseResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let requested_id = violations.optional_id("expense_id", &request.expense_id);
        let opportunity_id = violations.optional_id("opportunity_id", &request.opportunity_id);
        let account_id = violations.optional_id("account_id", &request.account_id);
        let content = content(&mut violations, request.expense.as_ref());
        invalid(violations)?;
        let on = ExpenseOn::exactly_one(opportunity_id, account_id)?;
        let Some(content) = content else {
            return Err(OpportunitiesError::invalid("expense", "is required").into());
        };
        let expense = self
            .opportunities
            .create_expense(&caller, requested_id, on, content)
            .await?;
        Ok(Response::new(pb::CreateExpenseResponse {
            expense: reply(&expense),
        }))
    }

    async fn update_expense(
        &self,
        request: Request<pb::UpdateExpenseRequest>,
    ) -> Result<Response<pb::UpdateExpenseResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let expense_id = violations.take(crm_platform::ids::parse_id(
            "expense_id",
            &request.expense_id,
        ));
        let content = content(&mut violations, request.expense.as_ref());
        invalid(violations)?;
        let (Some(expense_id), Some(content)) = (expense_id, content) else {
            return Err(OpportunitiesError::invalid("expense", "is required").into());
        };
        let expected = version(request.expected_version)?;
        let expense = self
            .opportunities
            .update_expense(&caller, expense_id, content, expected)
            .await?;
        Ok(Response::new(pb::UpdateExpenseResponse {
            expense: reply(&expense),
        }))
    }

    async fn submit_expense(
        &self,
        request: Request<pb::SubmitExpenseRequest>,
    ) -> Result<Response<pb::SubmitExpenseResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let expense_id = id("expense_id", &request.expense_id)?;
        let expected = version(request.expected_version)?;
        let expense = self
            .opportunities
            .submit_expense(&caller, expense_id, expected)
            .await?;
        Ok(Response::new(pb::SubmitExpenseResponse {
            expense: reply(&expense),
        }))
    }

    async fn approve_expense(
        &self,
        request: Request<pb::ApproveExpenseRequest>,
    ) -> Result<Response<pb::ApproveExpenseResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let input = decision_input(
            Decision::Approved,
            ("expense_id", &request.expense_id),
            ("note", &request.note),
            MAX_REASON,
            request.expected_version,
        )?;
        let expense = self
            .opportunities
            .decide_expense(
                &caller,
                input.id,
                input.decision,
                input.text,
                input.expected_version,
            )
            .await?;
        Ok(Response::new(pb::ApproveExpenseResponse {
            expense: reply(&expense),
        }))
    }

    async fn reject_expense(
        &self,
        request: Request<pb::RejectExpenseRequest>,
    ) -> Result<Response<pb::RejectExpenseResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let input = decision_input(
            Decision::Rejected,
            ("expense_id", &request.expense_id),
            ("reason", &request.reason),
            MAX_REASON,
            request.expected_version,
        )?;
        let expense = self
            .opportunities
            .decide_expense(
                &caller,
                input.id,
                input.decision,
                input.text,
                input.expected_version,
            )
            .await?;
        Ok(Response::new(pb::RejectExpenseResponse {
            expense: reply(&expense),
        }))
    }

    async fn get_expense(
        &self,
        request: Request<pb::GetExpenseRequest>,
    ) -> Result<Response<pb::GetExpenseResponse>, Status> {
        let caller = authenticated(&request)?;
        let expense_id = id("expense_id", &request.get_ref().expense_id)?;
        let expense = self.opportunities.get_expense(&caller, expense_id).await?;
        Ok(Response::new(pb::GetExpenseResponse {
            expense: reply(&expense),
        }))
    }

    async fn list_expenses(
        &self,
        request: Request<pb::ListExpensesRequest>,
    ) -> Result<Response<pb::ListExpensesResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let opportunity_id = violations.optional_id("opportunity_id", &request.opportunity_id);
        let account_id = violations.optional_id("account_id", &request.account_id);
        let owner_id = violations.optional_id("owner_id", &request.owner_id);
        invalid(violations)?;
        let status = status_filter(request.status)?;
        let page = Page::parse(request.page.as_ref(), EXPENSES_BY_DAY)
            .map_err(OpportunitiesError::from)?;
        let filter = ExpenseFilter {
            opportunity_id,
            account_id,
            status,
            owner_id,
        };
        let listing = self
            .opportunities
            .list_expenses(&caller, &filter, &page)
            .await?;
        Ok(Response::new(pb::ListExpensesResponse {
            expenses: listing.records.iter().map(wire::expense).collect(),
            page: Some(PageResponse {
                next_page_token: listing.next_page_token,
            }),
        }))
    }

    async fn get_expense_summary(
        &self,
        request: Request<pb::GetExpenseSummaryRequest>,
    ) -> Result<Response<pb::GetExpenseSummaryResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let opportunity_id = violations.optional_id("opportunity_id", &request.opportunity_id);
        let account_id = violations.optional_id("account_id", &request.account_id);
        invalid(violations)?;
        let on = ExpenseOn::exactly_one(opportunity_id, account_id)?;
        let summary = self.opportunities.expense_summary(&caller, on).await?;
        Ok(Response::new(pb::GetExpenseSummaryResponse {
            summary: Some(wire::summary(&summary)),
        }))
    }
}
