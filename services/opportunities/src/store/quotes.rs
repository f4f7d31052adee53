//! SQL for quotes: their versions (one row each, lines as jsonb) and the quote settings.

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::{
    access::{OWNER_COLUMNS, push_visibility},
    auth::Caller,
    money::{CurrencyCode, Money},
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, Postgres, QueryBuilder, types::Json};
use uuid::Uuid;

use super::{corrupt, deals::push_readable, stored_team};
use crate::domain::{
    opportunity::OpportunityStatus,
    quote::{
        Approval, Decision, Quote, QuoteLine, QuoteSettings, QuoteStatus, QuoteTerms, figures,
    },
};

/// A line as stored: decimals as strings (what `rust_decimal`'s serde writes), so nothing is
/// lost to floating point.
#[derive(Serialize, Deserialize)]
struct StoredLine {
    product_code: String,
    product_name: String,
    quantity: Decimal,
    list_price: Option<Decimal>,
    unit_price: Decimal,
    discount_percent: Decimal,
    tax_percent: Option<Decimal>,
}

fn stored_lines(lines: &[QuoteLine]) -> Json<Vec<StoredLine>> {
    Json(
        lines
            .iter()
            .map(|line| StoredLine {
                product_code: line.product_code.clone(),
                product_name: line.product_name.clone(),
                quantity: line.quantity,
                list_price: line.list_price.map(|price| price.amount),
                unit_price: line.unit_price.amount,
                discount_percent: line.discount_percent,
                tax_percent: line.tax_percent,
            })
            .collect(),
    )
}

#[derive(sqlx::FromRow)]
struct QuoteRow {
    id: Uuid,
    opportunity_id: Uuid,
    account_id: Option<Uuid>,
    owner_id: Uuid,
    owner_team_path: String,
    number: String,
    quote_version: i32,
    revised_from: Option<Uuid>,
    status: String,
    currency_code: String,
    price_list_id: Option<Uuid>,
    pricing_date: NaiveDate,
    discount_percent: Decimal,
    tax_percent: Decimal,
    lines: Json<Vec<StoredLine>>,
    valid_until: NaiveDate,
    notes: String,
    submitted_by: Option<Uuid>,
    submitted_at: Option<DateTime<Utc>>,
    threshold_percent: Option<Decimal>,
    approval_required: bool,
    decision: Option<String>,
    decided_by: Option<Uuid>,
    decided_at: Option<DateTime<Utc>>,
    decision_note: String,
    decline_reason: String,
    created_by: Uuid,
    created_at: DateTime<Utc>,
    updated_by: Uuid,
    updated_at: DateTime<Utc>,
    revision: i64,
}

impl TryFrom<QuoteRow> for Quote {
    type Error = sqlx::Error;

    fn try_from(row: QuoteRow) -> sqlx::Result<Self> {
        let currency: CurrencyCode = row.currency_code.parse().map_err(corrupt)?;
        let money = |amount| Money { currency, amount };
        let terms = QuoteTerms {
            currency,
            discount_percent: row.discount_percent,
            tax_percent: row.tax_percent,
        };
        let lines: Vec<QuoteLine> = row
            .lines
            .0
            .into_iter()
            .map(|line| QuoteLine {
                product_code: line.product_code,
                product_name: line.product_name,
                quantity: line.quantity,
                list_price: line.list_price.map(money),
                unit_price: money(line.unit_price),
                discount_percent: line.discount_percent,
                tax_percent: line.tax_percent,
            })
            .collect();
        let decision = match (row.decision.as_deref(), row.decided_by, row.decided_at) {
            (None, _, _) => None,
            (Some("approved"), Some(by), Some(at)) => Some((Decision::Approved, by, at)),
            (Some("rejected"), Some(by), Some(at)) => Some((Decision::Rejected, by, at)),
            (Some(other), _, _) => return Err(corrupt(format!("quote decision {other:?}"))),
        };
        let approval = match (row.submitted_by, row.submitted_at, row.threshold_percent) {
            (Some(submitted_by), Some(submitted_at), Some(threshold_percent)) => Some(Approval {
                submitted_by,
                submitted_at,
                threshold_percent,
                required: row.approval_required,
                decision,
                note: row.decision_note,
            }),
            _ => None,
        };
        Ok(Quote {
            id: row.id,
            opportunity_id: row.opportunity_id,
            account_id: row.account_id,
            owner_id: row.owner_id,
            owner_team_path: stored_team(&row.owner_team_path)?,
            number: row.number,
            quote_version: row.quote_version,
            revised_from: row.revised_from,
            status: QuoteStatus::parse(&row.status)
                .ok_or_else(|| corrupt(format!("quote status {:?}", row.status)))?,
            price_list_id: row.price_list_id,
            pricing_date: row.pricing_date,
            figures: figures(&lines, &terms),
            terms,
            lines,
            valid_until: row.valid_until,
            notes: row.notes,
            approval,
            decline_reason: row.decline_reason,
            created_by: row.created_by,
            created_at: row.created_at,
            updated_by: row.updated_by,
            updated_at: row.updated_at,
            revision: row.revision,
        })
    }
}

const QUOTE_COLUMNS: &str = "id, opportunity_id, account_id, owner_id, owner_team_path, number, \
     quote_version, revised_from, status, currency_code, price_list_id, pricing_date, \
     discount_percent, tax_percent, lines, valid_until, notes, submitted_by, submitted_at, \
     threshold_percent, approval_required, decision, decided_by, decided_at, decision_note, \
     decline_reason, created_by, created_at, updated_by, updated_at, revision";

/// The next quote number of `year`: "Q-2026-000123".
pub(crate) async fn next_number(connection: &mut PgConnection, year: i32) -> sqlx::Result<String> {
    let value: i64 = sqlx::query_scalar("SELECT nextval('quote_numbers')")
        .fetch_one(connection)
        .await?;
    Ok(format!("Q-{year:04}-{value:06}"))
}

/// One quote version; `lock` holds it for the transaction.
pub(crate) async fn get_quote(
    connection: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> sqlx::Result<Option<Quote>> {
    let row: Option<QuoteRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {QUOTE_COLUMNS} FROM quotes WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    )))
    .bind(id)
    .fetch_optional(connection)
    .await?;
    row.map(Quote::try_from).transpose()
}

/// Every quote version of a deal, newest first; `lock` holds them for the transaction.
pub(crate) async fn quotes_of_deal(
    connection: &mut PgConnection,
    opportunity_id: Uuid,
    lock: bool,
) -> sqlx::Result<Vec<Quote>> {
    let rows: Vec<QuoteRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {QUOTE_COLUMNS} FROM quotes WHERE opportunity_id = $1 \
         ORDER BY created_at DESC, id DESC{}",
        if lock { " FOR UPDATE" } else { "" }
    )))
    .bind(opportunity_id)
    .fetch_all(connection)
    .await?;
    rows.into_iter().map(Quote::try_from).collect()
}

/// The latest version of each quote of `account_id`'s deals that `reader` reads (archived
/// deals' left out), the newest latest version first, at most `limit` (the caller asks for one
/// more than it shows to know whether there are more).
pub(crate) async fn latest_quotes_of_account(
    connection: &mut PgConnection,
    reader: &Caller,
    account_id: Uuid,
    limit: i64,
) -> sqlx::Result<Vec<Quote>> {
    let mut query = QueryBuilder::<Postgres>::new(format!(
        "SELECT {QUOTE_COLUMNS} FROM (SELECT DISTINCT ON (number) {QUOTE_COLUMNS} FROM quotes \
         WHERE opportunity_id IN (SELECT id FROM opportunities WHERE status <> "
    ));
    query
        .push_bind(OpportunityStatus::Archived as i16)
        .push(" AND account_id = ")
        .push_bind(account_id);
    push_readable(&mut query, reader);
    query
        .push(
            ") ORDER BY number, quote_version DESC) latest \
             ORDER BY created_at DESC, id DESC LIMIT ",
        )
        .push_bind(limit);
    let rows: Vec<QuoteRow> = query.build_query_as().fetch_all(connection).await?;
    rows.into_iter().map(Quote::try_from).collect()
}

#[derive(sqlx::FromRow)]
struct AwaitingRow {
    #[sqlx(flatten)]
    quote: QuoteRow,
    opportunity_name: String,
}

/// The quotes waiting for a discount decision among those `reader` reaches, their own left
/// out (nobody decides on their own), the longest-waiting first, at most `limit`, each with its
/// deal's name.
pub(crate) async fn awaiting_approval(
    connection: &mut PgConnection,
    reader: &Caller,
    limit: i64,
) -> sqlx::Result<Vec<(Quote, String)>> {
    let mut query = QueryBuilder::<Postgres>::new(format!(
        "SELECT {QUOTE_COLUMNS}, (SELECT name FROM opportunities WHERE opportunities.id = \
         quotes.opportunity_id) AS opportunity_name FROM quotes WHERE status = "
    ));
    query
        .push_bind(QuoteStatus::PendingApproval.as_str())
        .push(" AND owner_id <> ")
        .push_bind(reader.user_id);
    push_visibility(&mut query, &reader.visibility(), OWNER_COLUMNS);
    query
        .push(" ORDER BY submitted_at, id LIMIT ")
        .push_bind(limit);
    let rows: Vec<AwaitingRow> = query.build_query_as().fetch_all(connection).await?;
    rows.into_iter()
        .map(|row| Ok((Quote::try_from(row.quote)?, row.opportunity_name)))
        .collect()
}

/// Inserts a quote version unless its id is taken (`false`).
pub(crate) async fn insert_quote(
    connection: &mut PgConnection,
    quote: &Quote,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO quotes ({QUOTE_COLUMNS}, list_total, subtotal, quote_discount, \
         amount_before_tax, tax, total, off_list_percent) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, \
         $31, $32, $33, $34, $35, $36, $37, $38) ON CONFLICT (id) DO NOTHING"
    )))
    .bind(quote.id)
    .bind(quote.opportunity_id)
    .bind(quote.account_id)
    .bind(quote.owner_id)
    .bind(quote.owner_team_path.as_str())
    .bind(&quote.number)
    .bind(quote.quote_version)
    .bind(quote.revised_from);
    let inserted = bind_state(inserted, quote)
        .bind(quote.created_by)
        .bind(quote.created_at)
        .bind(quote.updated_by)
        .bind(quote.updated_at)
        .bind(quote.revision);
    let inserted = bind_figures(inserted, quote).execute(connection).await?;
    Ok(inserted.rows_affected() == 1)
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

/// Binds the columns from `status` to `decline_reason`, in [`QUOTE_COLUMNS`]' order.
fn bind_state<'q>(query: Query<'q>, quote: &'q Quote) -> Query<'q> {
    let approval = quote.approval.as_ref();
    let decision = approval.and_then(|approval| approval.decision);
    query
        .bind(quote.status.as_str())
        .bind(quote.terms.currency.as_str())
        .bind(quote.price_list_id)
        .bind(quote.pricing_date)
        .bind(quote.terms.discount_percent)
        .bind(quote.terms.tax_percent)
        .bind(stored_lines(&quote.lines))
        .bind(quote.valid_until)
        .bind(&quote.notes)
        .bind(approval.map(|approval| approval.submitted_by))
        .bind(approval.map(|approval| approval.submitted_at))
        .bind(approval.map(|approval| approval.threshold_percent))
        .bind(approval.is_some_and(|approval| approval.required))
        .bind(decision.map(|(decision, _, _)| match decision {
            Decision::Approved => "approved",
            Decision::Rejected => "rejected",
        }))
        .bind(decision.map(|(_, by, _)| by))
        .bind(decision.map(|(_, _, at)| at))
        .bind(approval.map_or("", |approval| approval.note.as_str()))
        .bind(&quote.decline_reason)
}

fn bind_figures<'q>(query: Query<'q>, quote: &Quote) -> Query<'q> {
    let figures = &quote.figures;
    query
        .bind(figures.list_total)
        .bind(figures.subtotal)
        .bind(figures.quote_discount)
        .bind(figures.amount_before_tax)
        .bind(figures.tax)
        .bind(figures.total)
        .bind(figures.discount_percent)
}

/// Writes a quote version's new state (its number, deal and creation never change).
pub(crate) async fn update_quote(connection: &mut PgConnection, quote: &Quote) -> sqlx::Result<()> {
    let query = sqlx::query(
        "UPDATE quotes SET status = $1, currency_code = $2, price_list_id = $3, \
         pricing_date = $4, discount_percent = $5, tax_percent = $6, lines = $7, \
         valid_until = $8, notes = $9, submitted_by = $10, submitted_at = $11, \
         threshold_percent = $12, approval_required = $13, decision = $14, decided_by = $15, \
         decided_at = $16, decision_note = $17, decline_reason = $18, list_total = $19, \
         subtotal = $20, quote_discount = $21, amount_before_tax = $22, tax = $23, \
         total = $24, off_list_percent = $25, owner_id = $26, owner_team_path = $27, \
         updated_by = $28, updated_at = $29, revision = $30 WHERE id = $31",
    );
    bind_figures(bind_state(query, quote), quote)
        .bind(quote.owner_id)
        .bind(quote.owner_team_path.as_str())
        .bind(quote.updated_by)
        .bind(quote.updated_at)
        .bind(quote.revision)
        .bind(quote.id)
        .execute(connection)
        .await
        .map(drop)
}

/// The highest version number of the quote numbered `number`.
pub(crate) async fn latest_version(
    connection: &mut PgConnection,
    number: &str,
) -> sqlx::Result<i32> {
    sqlx::query_scalar("SELECT coalesce(max(quote_version), 0) FROM quotes WHERE number = $1")
        .bind(number)
        .fetch_one(connection)
        .await
}

#[derive(sqlx::FromRow)]
struct SettingsRow {
    discount_approval_threshold_percent: Decimal,
    default_tax_percent: Decimal,
    company_name: String,
    version: i64,
    updated_at: DateTime<Utc>,
    updated_by: Option<Uuid>,
}

/// The quote settings; `lock` holds them for the transaction.
pub(crate) async fn settings(
    connection: &mut PgConnection,
    lock: bool,
) -> sqlx::Result<QuoteSettings> {
    let row: SettingsRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT discount_approval_threshold_percent, default_tax_percent, company_name, \
         version, updated_at, updated_by FROM quote_settings{}",
        if lock { " FOR UPDATE" } else { "" }
    )))
    .fetch_one(connection)
    .await?;
    Ok(QuoteSettings {
        discount_approval_threshold_percent: row.discount_approval_threshold_percent,
        default_tax_percent: row.default_tax_percent,
        company_name: row.company_name,
        version: row.version,
        updated_at: row.updated_at,
        updated_by: row.updated_by,
    })
}

pub(crate) async fn update_settings(
    connection: &mut PgConnection,
    settings: &QuoteSettings,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE quote_settings SET discount_approval_threshold_percent = $1, \
         default_tax_percent = $2, company_name = $3, version = $4, updated_at = $5, \
         updated_by = $6",
    )
    .bind(settings.discount_approval_threshold_percent)
    .bind(settings.default_tax_percent)
    .bind(&settings.company_name)
    .bind(settings.version)
    .bind(settings.updated_at)
    .bind(settings.updated_by)
    .execute(connection)
    .await
    .map(drop)
}
