//! An account's deal desk (A5): one read of everything the deal desk holds about a customer,
//! each family through its own store query and its own visibility — quotes, schedules and won
//! amounts as the caller reads the deals; activities and expenses as the caller reads those;
//! plans as the plans listing shows them. Nothing is decided here that the families' own reads
//! would not decide.

use chrono::NaiveDate;
use crm_platform::{auth::Caller, paging::Page};
use uuid::Uuid;

use super::{Opportunities, PlanView, Result, expenses::customer_expense_summary};
use crate::{
    domain::{
        account_desk::{self, DESK_LIMIT, DeskPayment, OpenFigures},
        activity::Activity,
        expense::{Expense, ExpenseSummary},
        quote::Quote,
        receivable,
    },
    store::{
        activities::{self as store_activities, ActivityFilter},
        collections as store_collections,
        expenses::{self as store_expenses, ExpenseFilter},
        plans as store_plans, quotes as store_quotes,
    },
};

/// The account's deal desk on a day, each list at most [`DESK_LIMIT`] long.
#[derive(Debug, Clone)]
pub struct AccountDesk {
    pub account_id: Uuid,
    pub as_of: NaiveDate,
    pub quotes: Vec<Quote>,
    pub quotes_truncated: bool,
    pub activities: Vec<Activity>,
    pub activities_truncated: bool,
    pub payments: Vec<DeskPayment>,
    pub payments_truncated: bool,
    pub receivables: Vec<OpenFigures>,
    pub expenses: Vec<Expense>,
    pub expenses_truncated: bool,
    pub expense_summary: ExpenseSummary,
    pub plans: Vec<PlanView>,
    pub plans_truncated: bool,
}

/// The first pages the desk reads of the listings it shares with ListActivities and
/// ListExpenses (their sort orders are the API's).
#[derive(Debug, Clone)]
pub struct DeskPages {
    pub activities: Page,
    pub expenses: Page,
}

impl Opportunities {
    /// The deal desk of `account_id` as `caller` reads it on `as_of` (`None`: today, UTC). Read
    /// in one read-only snapshot, so its parts agree with each other (a payment listed is in
    /// the receivables, an approved expense listed is in the summary).
    pub async fn account_desk(
        &self,
        caller: &Caller,
        account_id: Uuid,
        as_of: Option<NaiveDate>,
        pages: &DeskPages,
    ) -> Result<AccountDesk> {
        let as_of = as_of.unwrap_or_else(|| crm_platform::time::now().date_naive());
        let mut transaction = self.pool.begin().await?;
        crm_platform::db::read_one_snapshot(&mut transaction).await?;
        let one_more = DESK_LIMIT as i64 + 1;

        let quotes =
            store_quotes::latest_quotes_of_account(&mut transaction, caller, account_id, one_more)
                .await?;
        let (quotes, quotes_truncated) = account_desk::bounded(quotes, DESK_LIMIT);

        let activity_filter = ActivityFilter {
            customer: Some(account_id),
            ..ActivityFilter::default()
        };
        let activities = store_activities::list_activities(
            &mut transaction,
            caller,
            &activity_filter,
            &pages.activities,
        )
        .await?;
        let (activities, activities_truncated) =
            account_desk::bounded(activities, pages.activities.size as usize);

        let schedules =
            store_collections::visible_schedules(&mut transaction, caller, Some(account_id))
                .await?;
        let receivables = account_desk::open_figures(&receivable::receivables(&schedules, as_of));
        let mut paid = Vec::with_capacity(schedules.len());
        for schedule in schedules {
            let payments = store_collections::payments_of(&mut transaction, schedule.id).await?;
            paid.push((schedule, payments));
        }
        let (payments, payments_truncated) = account_desk::newest_payments(paid, DESK_LIMIT);

        let expense_filter = ExpenseFilter {
            account_id: Some(account_id),
            ..ExpenseFilter::default()
        };
        let expenses = store_expenses::list_expenses(
            &mut transaction,
            caller,
            &expense_filter,
            &pages.expenses,
        )
        .await?;
        let (expenses, expenses_truncated) =
            account_desk::bounded(expenses, pages.expenses.size as usize);
        let expense_summary =
            customer_expense_summary(&mut transaction, account_id, Some(caller)).await?;

        let plans = store_plans::list_plans(
            &mut transaction,
            caller,
            Some(account_id),
            as_of,
            false,
            DESK_LIMIT as u32 + 1,
        )
        .await?;
        let plans = plans
            .into_iter()
            .map(|(plan, deal)| PlanView { plan, deal, as_of })
            .collect();
        let (plans, plans_truncated) = account_desk::bounded(plans, DESK_LIMIT);
        // Nothing was written: the snapshot ends here rather than when the pool gets round to
        // the dropped connection.
        transaction.commit().await?;
        Ok(AccountDesk {
            account_id,
            as_of,
            quotes,
            quotes_truncated,
            activities,
            activities_truncated,
            payments,
            payments_truncated,
            receivables,
            expenses,
            expenses_truncated,
            expense_summary,
            plans,
            plans_truncated,
        })
    }
}
