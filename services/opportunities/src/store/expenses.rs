//! SQL for expenses: one row each, the audit of the last submission and decision beside it.

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::{
    access::{OWNER_COLUMNS, push_visibility},
    auth::Caller,
    money::{CurrencyCode, Money},
    paging::Page,
};
use rust_decimal::Decimal;
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{corrupt, deals::push_readable, stored_team};
use crate::domain::expense::{
    Expense, ExpenseCategory, ExpenseContent, ExpenseDecision, ExpenseStatus,
};

#[derive(sqlx::FromRow)]
struct ExpenseRow {
    id: Uuid,
    opportunity_id: Option<Uuid>,
    account_id: Uuid,
    owner_id: Uuid,
    owner_team_path: String,
    incurred_on: NaiveDate,
    category: String,
    currency_code: String,
    amount: Decimal,
    note: String,
    receipt_reference: String,
    status: String,
    submitted_by: Option<Uuid>,
    submitted_at: Option<DateTime<Utc>>,
    decided_by: Option<Uuid>,
    decided_at: Option<DateTime<Utc>>,
    decision: Option<String>,
    decision_reason: String,
    created_by: Uuid,
    created_at: DateTime<Utc>,
    updated_by: Uuid,
    updated_at: DateTime<Utc>,
    revision: i64,
}

fn status(text: &str) -> sqlx::Result<ExpenseStatus> {
    ExpenseStatus::parse(text).ok_or_else(|| corrupt(format!("expense status {text}")))
}

impl TryFrom<ExpenseRow> for Expense {
    type Error = sqlx::Error;

    fn try_from(row: ExpenseRow) -> sqlx::Result<Self> {
        let currency: CurrencyCode = row
            .currency_code
            .parse()
            .map_err(|_| corrupt(format!("currency {}", row.currency_code)))?;
        let decision = match (row.decision, row.decided_by, row.decided_at) {
            (Some(decision), Some(decided_by), Some(decided_at)) => Some(ExpenseDecision {
                decision: status(&decision)?,
                decided_by,
                decided_at,
                reason: row.decision_reason,
            }),
            _ => None,
        };
        Ok(Expense {
            id: row.id,
            opportunity_id: row.opportunity_id,
            account_id: row.account_id,
            owner_id: row.owner_id,
            owner_team_path: stored_team(&row.owner_team_path)?,
            content: ExpenseContent {
                incurred_on: row.incurred_on,
                category: ExpenseCategory::parse(&row.category)
                    .ok_or_else(|| corrupt(format!("expense category {}", row.category)))?,
                amount: Money {
                    currency,
                    amount: row.amount,
                },
                note: row.note,
                receipt_reference: row.receipt_reference,
            },
            status: status(&row.status)?,
            submitted: row.submitted_by.zip(row.submitted_at),
            decision,
            created_by: row.created_by,
            created_at: row.created_at,
            updated_by: row.updated_by,
            updated_at: row.updated_at,
            revision: row.revision,
        })
    }
}

const COLUMNS: &str = "id, opportunity_id, account_id, owner_id, owner_team_path, incurred_on, \
     category, currency_code, amount, note, receipt_reference, status, submitted_by, \
     submitted_at, decided_by, decided_at, decision, decision_reason, created_by, created_at, \
     updated_by, updated_at, revision";

/// Inserts or rewrites an expense whole; `insert_only` makes a taken id answer `false`.
async fn write(
    connection: &mut PgConnection,
    expense: &Expense,
    insert_only: bool,
) -> sqlx::Result<bool> {
    let conflict = if insert_only {
        "DO NOTHING"
    } else {
        "DO UPDATE SET incurred_on = EXCLUDED.incurred_on, category = EXCLUDED.category, \
         currency_code = EXCLUDED.currency_code, amount = EXCLUDED.amount, note = EXCLUDED.note, \
         receipt_reference = EXCLUDED.receipt_reference, status = EXCLUDED.status, \
         submitted_by = EXCLUDED.submitted_by, submitted_at = EXCLUDED.submitted_at, \
         decided_by = EXCLUDED.decided_by, decided_at = EXCLUDED.decided_at, \
         decision = EXCLUDED.decision, decision_reason = EXCLUDED.decision_reason, \
         owner_team_path = EXCLUDED.owner_team_path, updated_by = EXCLUDED.updated_by, \
         updated_at = EXCLUDED.updated_at, revision = EXCLUDED.revision"
    };
    let content = &expense.content;
    let decision = expense.decision.as_ref();
    let written = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO expenses ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
         $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23) ON CONFLICT (id) {conflict}"
    )))
    .bind(expense.id)
    .bind(expense.opportunity_id)
    .bind(expense.account_id)
    .bind(expense.owner_id)
    .bind(expense.owner_team_path.as_str())
    .bind(content.incurred_on)
    .bind(content.category.as_str())
    .bind(content.amount.currency.as_str())
    .bind(content.amount.amount)
    .bind(&content.note)
    .bind(&content.receipt_reference)
    .bind(expense.status.as_str())
    .bind(expense.submitted.map(|(by, _)| by))
    .bind(expense.submitted.map(|(_, at)| at))
    .bind(decision.map(|d| d.decided_by))
    .bind(decision.map(|d| d.decided_at))
    .bind(decision.map(|d| d.decision.as_str()))
    .bind(decision.map_or("", |d| d.reason.as_str()))
    .bind(expense.created_by)
    .bind(expense.created_at)
    .bind(expense.updated_by)
    .bind(expense.updated_at)
    .bind(expense.revision)
    .execute(connection)
    .await?
    .rows_affected();
    Ok(written == 1)
}

/// Inserts a new expense; `false` when its id is taken (a retried create, or someone else's).
pub(crate) async fn insert_expense(
    connection: &mut PgConnection,
    expense: &Expense,
) -> sqlx::Result<bool> {
    write(connection, expense, true).await
}

/// Writes an expense's state (what it is on and who owns it never change).
pub(crate) async fn save_expense(
    connection: &mut PgConnection,
    expense: &Expense,
) -> sqlx::Result<()> {
    write(connection, expense, false).await.map(drop)
}

/// One expense; `lock` holds it for the transaction.
pub(crate) async fn get_expense(
    connection: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> sqlx::Result<Option<Expense>> {
    let row: Option<ExpenseRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM expenses WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    )))
    .bind(id)
    .fetch_optional(connection)
    .await?;
    row.map(Expense::try_from).transpose()
}

/// What ListExpenses filters on.
#[derive(Debug, Clone, Default)]
pub(crate) struct ExpenseFilter {
    pub opportunity_id: Option<Uuid>,
    pub account_id: Option<Uuid>,
    pub status: Option<ExpenseStatus>,
    pub owner_id: Option<Uuid>,
}

/// One page of the expenses `reader` may read (owner, team subtree, admin).
pub(crate) async fn list_expenses(
    connection: &mut PgConnection,
    reader: &Caller,
    filter: &ExpenseFilter,
    page: &Page,
) -> sqlx::Result<Vec<Expense>> {
    let mut query =
        QueryBuilder::<Postgres>::new(format!("SELECT {COLUMNS} FROM expenses WHERE true"));
    push_visibility(&mut query, &reader.visibility(), OWNER_COLUMNS);
    if let Some(id) = filter.opportunity_id {
        query.push(" AND opportunity_id = ").push_bind(id);
    }
    if let Some(id) = filter.account_id {
        query.push(" AND account_id = ").push_bind(id);
    }
    if let Some(status) = filter.status {
        query.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some(id) = filter.owner_id {
        query.push(" AND owner_id = ").push_bind(id);
    }
    page.push_keyset(&mut query);
    let rows: Vec<ExpenseRow> = query.build_query_as().fetch_all(connection).await?;
    rows.into_iter().map(Expense::try_from).collect()
}

/// Every submitted or approved expense of a deal (`opportunity_id`) or a customer (the account's
/// own and its deals'): whoever owns them when `reader` is `None` (a summary sums them all),
/// else those `reader` reads (the account's deal desk sums what it lists).
pub(crate) async fn expenses_to_sum(
    connection: &mut PgConnection,
    opportunity_id: Option<Uuid>,
    account_id: Option<Uuid>,
    reader: Option<&Caller>,
) -> sqlx::Result<Vec<Expense>> {
    let mut query = QueryBuilder::<Postgres>::new(format!(
        "SELECT {COLUMNS} FROM expenses WHERE status IN ('submitted', 'approved') \
         AND (opportunity_id = "
    ));
    query
        .push_bind(opportunity_id)
        .push(" OR account_id = ")
        .push_bind(account_id)
        .push(")");
    if let Some(reader) = reader {
        push_visibility(&mut query, &reader.visibility(), OWNER_COLUMNS);
    }
    query.push(" ORDER BY incurred_on, id");
    let rows: Vec<ExpenseRow> = query.build_query_as().fetch_all(connection).await?;
    rows.into_iter().map(Expense::try_from).collect()
}

/// The corporate amounts of an account's won deals, in `corporate` (deals without one, or in
/// another corporate currency, add nothing): `None` when none has one. Every won deal when
/// `reader` is `None`, else those `reader` reads.
pub(crate) async fn won_corporate_of_account(
    connection: &mut PgConnection,
    account_id: Uuid,
    corporate: CurrencyCode,
    reader: Option<&Caller>,
) -> sqlx::Result<Option<Decimal>> {
    let mut query = QueryBuilder::<Postgres>::new(
        "SELECT sum(corporate_amount) FROM opportunities WHERE status = 2 AND account_id = ",
    );
    query
        .push_bind(account_id)
        .push(" AND corporate_currency = ")
        .push_bind(corporate.as_str().to_owned());
    if let Some(reader) = reader {
        push_readable(&mut query, reader);
    }
    query.build_query_scalar().fetch_one(connection).await
}
