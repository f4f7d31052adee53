//! Expenses' use cases (O11): a rep records what they spent on a deal they read or an account
//! the service knows, rewrites and submits it; a manager above them (or an admin) approves or
//! rejects it — the discount's rule, `approval::check_approver`. Who reads an expense is decided
//! by its owner and their team, as for every owned record (NOT_FOUND for anyone else); a
//! summary sums every expense of the deal (or customer) for whoever reads the deal (account).

use chrono::NaiveDate;
use crm_platform::{
    auth::Caller,
    error::{FieldViolation, check_version, reasons::INCONSISTENT_FIELDS},
    org::OrgDirectory,
    paging::{Listing, Page, SortKey},
    time::to_timestamp,
};
use crm_proto::crm::opportunities::v1 as pb;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{
    Opportunities, Result, approvals, deals::usable_account, quotes::refused, to_corporate, visible,
};
use crate::{
    convert::{self, expenses as wire},
    domain::{
        approval::Decision,
        expense::{
            self, Expense, ExpenseAction, ExpenseContent, ExpenseDecision, ExpenseStatus,
            ExpenseSummary, SummedExpense,
        },
        opportunity::OpportunityStatus,
    },
    error::OpportunitiesError,
    store::{
        self,
        expenses::{self as store_expenses, ExpenseFilter},
    },
};

/// What an expense is on: a deal or an account, exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpenseOn {
    Deal(Uuid),
    Account(Uuid),
}

impl ExpenseOn {
    /// Exactly one of the two ids, or the refusal naming `opportunity_id`.
    pub fn exactly_one(
        opportunity_id: Option<Uuid>,
        account_id: Option<Uuid>,
    ) -> Result<ExpenseOn> {
        match (opportunity_id, account_id) {
            (Some(id), None) => Ok(ExpenseOn::Deal(id)),
            (None, Some(id)) => Ok(ExpenseOn::Account(id)),
            _ => Err(refusal(
                "opportunity_id",
                "give exactly one of opportunity_id and account_id",
            )),
        }
    }
}

fn refusal(field: &str, text: impl Into<String>) -> OpportunitiesError {
    refused(vec![FieldViolation::refusal(
        INCONSISTENT_FIELDS,
        field,
        text,
    )])
}

/// What the schema cannot say of an expense's content: above zero, no finer than the
/// currency's minor unit, not spent in the future.
fn check_content(content: &ExpenseContent, today: NaiveDate) -> Result<()> {
    let mut violations = Vec::new();
    let amount = &content.amount;
    if amount.amount <= Decimal::ZERO {
        violations.push(FieldViolation::refusal(
            INCONSISTENT_FIELDS,
            "expense.amount.amount",
            "must be above zero",
        ));
    } else if amount.amount.round_dp(amount.currency.minor_units()) != amount.amount {
        violations.push(FieldViolation::refusal(
            INCONSISTENT_FIELDS,
            "expense.amount.amount",
            format!(
                "has more decimals than {}'s {}",
                amount.currency,
                amount.currency.minor_units()
            ),
        ));
    }
    if content.incurred_on > today {
        violations.push(FieldViolation::refusal(
            INCONSISTENT_FIELDS,
            "expense.incurred_on",
            format!("is after today ({today}): record an expense once it is spent"),
        ));
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(refused(violations))
    }
}

fn readable(caller: &Caller, id: Uuid, expense: Option<Expense>) -> Result<Expense> {
    match expense {
        Some(expense) if caller.can_access(expense.owner_id, &expense.owner_team_path) => {
            Ok(expense)
        }
        _ => Err(OpportunitiesError::not_found("expense", id)),
    }
}

fn own(caller: &Caller, expense: &Expense) -> Result<()> {
    if caller.user_id == expense.owner_id {
        Ok(())
    } else {
        Err(OpportunitiesError::permission_denied(
            "only the expense's owner changes and submits it; their managers approve or reject it",
        ))
    }
}

fn step(expense: &Expense, action: ExpenseAction) -> Result<ExpenseStatus> {
    expense::next_status(expense.status, action).ok_or(
        OpportunitiesError::ExpenseNotAllowedInStatus {
            id: expense.id,
            status: expense.status,
            action: action.done(),
        },
    )
}

fn expense_key(expense: &Expense) -> (SortKey, Uuid) {
    (SortKey::Date(expense.content.incurred_on), expense.id)
}

impl Opportunities {
    /// Records a draft expense of the caller. A retry with the same id by its creator answers
    /// what was recorded; the id taken by someone else's is ALREADY_EXISTS.
    pub async fn create_expense(
        &self,
        caller: &Caller,
        requested_id: Option<Uuid>,
        on: ExpenseOn,
        content: ExpenseContent,
    ) -> Result<Expense> {
        let now = crm_platform::time::now();
        check_content(&content, now.date_naive())?;
        let mut transaction = self.pool.begin().await?;
        self.remember(&mut transaction, caller).await?;
        let (opportunity_id, account_id) = match on {
            ExpenseOn::Deal(deal_id) => {
                let deal = store::deals::get_deal(&mut transaction, deal_id, false)
                    .await?
                    .map(|(deal, _)| deal);
                let deal = visible(caller, deal_id, deal).map_err(|_| {
                    OpportunitiesError::unusable_reference(
                        "opportunity_id",
                        "is not a deal you can see",
                    )
                })?;
                (Some(deal_id), deal.account_id)
            }
            ExpenseOn::Account(account_id) => {
                usable_account(&mut transaction, Some(caller), account_id, "account_id").await?;
                (None, account_id)
            }
        };
        let (owner_id, owner_team_path) = self
            .resolve_owner(&mut transaction, caller, None, "owner_id")
            .await?;
        let expense = Expense {
            id: requested_id.unwrap_or_else(Uuid::now_v7),
            opportunity_id,
            account_id,
            owner_id,
            owner_team_path,
            content,
            status: ExpenseStatus::Draft,
            submitted: None,
            decision: None,
            created_by: caller.user_id,
            created_at: now,
            updated_by: caller.user_id,
            updated_at: now,
            revision: 1,
        };
        if !store_expenses::insert_expense(&mut transaction, &expense).await? {
            let existing = store_expenses::get_expense(&mut transaction, expense.id, false).await?;
            return match existing {
                Some(existing) if existing.created_by == caller.user_id => Ok(existing),
                _ => Err(OpportunitiesError::IdTaken {
                    kind: "expense",
                    id: expense.id,
                }),
            };
        }
        transaction.commit().await?;
        Ok(expense)
    }

    /// The expense locked, readable by the caller, at the expected version.
    async fn locked_expense(
        &self,
        connection: &mut PgConnection,
        caller: &Caller,
        id: Uuid,
        expected_version: Option<i64>,
    ) -> Result<Expense> {
        let expense = store_expenses::get_expense(connection, id, true).await?;
        let expense = readable(caller, id, expense)?;
        check_version("expense", id, expected_version, expense.revision)?;
        Ok(expense)
    }

    /// Rewrites a draft or rejected expense (its owner only); no event.
    pub async fn update_expense(
        &self,
        caller: &Caller,
        id: Uuid,
        content: ExpenseContent,
        expected_version: Option<i64>,
    ) -> Result<Expense> {
        let now = crm_platform::time::now();
        check_content(&content, now.date_naive())?;
        let mut transaction = self.pool.begin().await?;
        let current = self
            .locked_expense(&mut transaction, caller, id, expected_version)
            .await?;
        own(caller, &current)?;
        let status = step(&current, ExpenseAction::Update)?;
        let next = Expense {
            content,
            status,
            updated_by: caller.user_id,
            updated_at: now,
            revision: current.revision + 1,
            ..current
        };
        store_expenses::save_expense(&mut transaction, &next).await?;
        transaction.commit().await?;
        Ok(next)
    }

    /// Submits a draft or rejected expense (event expense_submitted); a resubmission clears the
    /// last decision.
    pub async fn submit_expense(
        &self,
        caller: &Caller,
        id: Uuid,
        expected_version: Option<i64>,
    ) -> Result<Expense> {
        let now = crm_platform::time::now();
        let mut transaction = self.pool.begin().await?;
        let current = self
            .locked_expense(&mut transaction, caller, id, expected_version)
            .await?;
        own(caller, &current)?;
        let status = step(&current, ExpenseAction::Submit)?;
        let next = Expense {
            status,
            submitted: Some((caller.user_id, now)),
            decision: None,
            updated_by: caller.user_id,
            updated_at: now,
            revision: current.revision + 1,
            ..current
        };
        self.save_with_event(&mut transaction, &next).await?;
        self.outbox.commit(transaction).await?;
        Ok(next)
    }

    /// Approves (event expense_approved) or rejects (event expense_rejected, `reason` given) a
    /// submitted expense: the caller must read it (NOT_FOUND otherwise) and pass
    /// `check_approver` — an admin or a manager above the owner, never the owner
    /// (PERMISSION_DENIED).
    pub async fn decide_expense(
        &self,
        caller: &Caller,
        id: Uuid,
        decision: Decision,
        reason: String,
        expected_version: Option<i64>,
    ) -> Result<Expense> {
        let now = crm_platform::time::now();
        let mut transaction = self.pool.begin().await?;
        let current = store_expenses::get_expense(&mut transaction, id, true).await?;
        let current = readable(caller, id, current)?;
        let request = approvals::Request {
            what: "expense",
            owner: "expense owner",
        };
        approvals::check_approver(caller, current.owner_id, &current.owner_team_path, request)?;
        check_version("expense", id, expected_version, current.revision)?;
        let action = match decision {
            Decision::Approved => ExpenseAction::Approve,
            Decision::Rejected => ExpenseAction::Reject,
        };
        let status = step(&current, action)?;
        let next = Expense {
            status,
            decision: Some(ExpenseDecision {
                decision: status,
                decided_by: caller.user_id,
                decided_at: now,
                reason,
            }),
            updated_by: caller.user_id,
            updated_at: now,
            revision: current.revision + 1,
            ..current
        };
        self.save_with_event(&mut transaction, &next).await?;
        self.outbox.commit(transaction).await?;
        Ok(next)
    }

    /// Writes the expense and enqueues the event of its new status, with its corporate amount.
    async fn save_with_event(
        &self,
        connection: &mut PgConnection,
        expense: &Expense,
    ) -> Result<()> {
        store_expenses::save_expense(connection, expense).await?;
        let amount = &expense.content.amount;
        let corporate = to_corporate(connection, amount, expense.content.incurred_on).await?;
        let message = wire::expense(expense);
        let context = Some(pb::ExpenseContext {
            corporate_amount: corporate.as_ref().map(convert::corporate_amount),
        });
        let change = Some(pb::ChangeContext {
            changed_by: expense.updated_by.to_string(),
            occurred_at: Some(to_timestamp(expense.updated_at)),
        });
        let (kind, id, revision) = ("expense", expense.id, expense.revision);
        match expense.status {
            ExpenseStatus::Submitted => {
                let event = pb::ExpenseSubmitted {
                    expense: Some(message),
                    context,
                    change,
                };
                self.outbox
                    .enqueue_for(connection, kind, id, revision, &event)
                    .await?;
            }
            ExpenseStatus::Approved => {
                let event = pb::ExpenseApproved {
                    expense: Some(message),
                    context,
                    change,
                };
                self.outbox
                    .enqueue_for(connection, kind, id, revision, &event)
                    .await?;
            }
            ExpenseStatus::Rejected => {
                let event = pb::ExpenseRejected {
                    expense: Some(message),
                    context,
                    change,
                };
                self.outbox
                    .enqueue_for(connection, kind, id, revision, &event)
                    .await?;
            }
            ExpenseStatus::Draft => {}
        }
        Ok(())
    }

    pub async fn get_expense(&self, caller: &Caller, id: Uuid) -> Result<Expense> {
        let mut connection = self.pool.acquire().await?;
        let expense = store_expenses::get_expense(&mut connection, id, false).await?;
        readable(caller, id, expense)
    }

    /// A page of the expenses the caller reads, newest incurred first.
    pub async fn list_expenses(
        &self,
        caller: &Caller,
        filter: &ExpenseFilter,
        page: &Page,
    ) -> Result<Listing<Expense>> {
        let mut connection = self.pool.acquire().await?;
        let rows = store_expenses::list_expenses(&mut connection, caller, filter, page).await?;
        Ok(Listing::from_rows(rows, page, expense_key))
    }

    /// The deal's (whoever reads it) or the customer's (whoever sees the account) expenses
    /// summed beside the won amount in the corporate currency.
    pub async fn expense_summary(&self, caller: &Caller, on: ExpenseOn) -> Result<ExpenseSummary> {
        let mut connection = self.pool.acquire().await?;
        match on {
            ExpenseOn::Deal(deal_id) => {
                let corporate = OrgDirectory::settings(&mut *connection)
                    .await?
                    .corporate_currency;
                let deal = store::deals::get_deal(&mut connection, deal_id, false)
                    .await?
                    .map(|(deal, _)| deal);
                let deal = visible(caller, deal_id, deal)?;
                let won = match (deal.status, deal.corporate) {
                    (OpportunityStatus::Won, Some(corporate)) => Some(corporate.amount),
                    _ => None,
                };
                let expenses =
                    store_expenses::expenses_to_sum(&mut connection, Some(deal_id), None, None)
                        .await?;
                summed_up(&mut connection, expenses, corporate, won).await
            }
            ExpenseOn::Account(account_id) => {
                usable_account(&mut connection, Some(caller), account_id, "account_id").await?;
                customer_expense_summary(&mut connection, account_id, None).await
            }
        }
    }
}

/// A customer's submitted and approved expenses (on the account and on its deals) summed beside
/// its won deals' corporate amount: every one of them when `reader` is `None` (the account's
/// summary, for whoever sees the account), else only the expenses and won deals `reader` reads
/// (the account's deal desk, which sums what its lists would show).
pub(super) async fn customer_expense_summary(
    connection: &mut PgConnection,
    account_id: Uuid,
    reader: Option<&Caller>,
) -> Result<ExpenseSummary> {
    let corporate = OrgDirectory::settings(&mut *connection)
        .await?
        .corporate_currency;
    let won = match corporate {
        Some(currency) => {
            store_expenses::won_corporate_of_account(connection, account_id, currency, reader)
                .await?
                .map(|amount| crm_platform::money::Money { currency, amount })
        }
        None => None,
    };
    let expenses =
        store_expenses::expenses_to_sum(connection, None, Some(account_id), reader).await?;
    summed_up(connection, expenses, corporate, won).await
}

/// `expenses` summed, the approved ones converted on their incurred day.
async fn summed_up(
    connection: &mut PgConnection,
    expenses: Vec<Expense>,
    corporate: Option<crm_platform::money::CurrencyCode>,
    won: Option<crm_platform::money::Money>,
) -> Result<ExpenseSummary> {
    let mut summed = Vec::with_capacity(expenses.len());
    for expense in expenses {
        let amount = expense.content.amount;
        let corporate = if expense.status == ExpenseStatus::Approved {
            to_corporate(connection, &amount, expense.content.incurred_on)
                .await?
                .map(|converted| converted.amount)
        } else {
            None
        };
        summed.push(SummedExpense {
            status: expense.status,
            amount,
            corporate,
        });
    }
    Ok(expense::summarise(&summed, corporate, won))
}
