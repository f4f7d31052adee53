//! Quotes' use cases (O6): writing and reading a deal's quote versions, rendering them, and the
//! quote settings. The life after the draft (submission, approval, issue, the customer's
//! answer, revisions) is in `quote_flow.rs`.
//!
//! Whoever reads the deal reads its quotes (`visible`); whoever may change it writes them
//! (`locked`: in reach, open). Every write locks the deal before the quote, so writers of one
//! deal's quotes (and of the deal) queue in one order.

use chrono::{Datelike, Days, NaiveDate};
use crm_platform::{
    auth::Caller,
    error::{CommonError, FieldViolation, check_version, reasons::INCONSISTENT_FIELDS},
    money::{CurrencyCode, Money},
};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Opportunities, Result, visible};
use crate::{
    domain::{
        opportunity::Opportunity,
        price_book::{self, PriceList},
        quote::{self, Quote, QuoteAction, QuoteLine, QuoteStatus, QuoteTerms},
        quote_document,
    },
    error::OpportunitiesError,
    store::{self, price_book as book, quotes as store_quotes},
};

/// Days a quote is valid for when its writer names no day.
const DEFAULT_VALIDITY_DAYS: u64 = 30;

/// A line as the quote editor gives it: without a unit price, the list price applies.
#[derive(Debug, Clone, PartialEq)]
pub struct QuoteLineDraft {
    pub product_code: String,
    pub product_name: String,
    pub quantity: Decimal,
    pub unit_price: Option<Money>,
    pub discount_percent: Decimal,
    pub tax_percent: Option<Decimal>,
}

#[derive(Debug, Clone)]
pub struct NewQuote {
    pub id: Option<Uuid>,
    pub opportunity_id: Uuid,
    pub lines: Vec<QuoteLineDraft>,
    pub discount_percent: Decimal,
    /// `None`: the settings' default.
    pub tax_percent: Option<Decimal>,
    /// `None`: the default list of the deal's currency.
    pub price_list_id: Option<Uuid>,
    pub valid_until: Option<NaiveDate>,
    pub notes: String,
}

/// A draft's changes; only what is `Some` changes, lines replace every line.
#[derive(Debug, Clone, Default)]
pub struct QuoteChanges {
    pub lines: Option<Vec<QuoteLineDraft>>,
    pub discount_percent: Option<Decimal>,
    pub tax_percent: Option<Decimal>,
    pub valid_until: Option<NaiveDate>,
    pub notes: Option<String>,
}

/// Refusals for the data: FAILED_PRECONDITION with the first violation's reason.
pub(super) fn refused(violations: Vec<FieldViolation>) -> OpportunitiesError {
    let reason = violations
        .first()
        .and_then(|violation| violation.reason)
        .unwrap_or(INCONSISTENT_FIELDS);
    CommonError::Unusable { reason, violations }.into()
}

fn refusal(field: &str, text: impl Into<String>) -> OpportunitiesError {
    refused(vec![FieldViolation::refusal(
        INCONSISTENT_FIELDS,
        field,
        text,
    )])
}

/// The status after `action`, or QUOTE_STATUS_NOT_ALLOWED naming what was tried.
pub(super) fn next_status(
    quote: &Quote,
    action: QuoteAction,
    name: &'static str,
) -> Result<QuoteStatus> {
    quote
        .status
        .after(action)
        .map_err(|_| OpportunitiesError::QuoteNotAllowedInStatus {
            id: quote.id,
            status: quote.status,
            action: name,
        })
}

fn check_validity(valid_until: NaiveDate, today: NaiveDate) -> Result<()> {
    if valid_until < today {
        return Err(refusal(
            "valid_until",
            format!("must not be before today, {today}"),
        ));
    }
    Ok(())
}

/// The lines priced from `list` on `day` (`field` names them as the request does): a product
/// of the book takes its code spelling, name and list price; a unit price given overrides the
/// list price but the list price is kept (the discount below list counts from it); an unlisted
/// item keeps its name and must carry a price. An inactive product is sold no more: refused on
/// its `product_code` unless `kept` (the draft's current lines) names it already, as for deals.
async fn priced_lines(
    connection: &mut PgConnection,
    field: &str,
    currency: CurrencyCode,
    list: Option<&PriceList>,
    drafts: Vec<QuoteLineDraft>,
    day: NaiveDate,
    kept: &[QuoteLine],
) -> Result<Vec<QuoteLine>> {
    let codes: Vec<String> = drafts.iter().map(|d| d.product_code.clone()).collect();
    let products = book::products_by_code(connection, &codes).await?;
    let entries = match list {
        Some(list) => {
            let ids: Vec<Uuid> = products.iter().map(|product| product.id).collect();
            book::prices_up_to(connection, list, &ids, day).await?
        }
        None => Vec::new(),
    };
    let mut violations = Vec::new();
    let mut lines = Vec::with_capacity(drafts.len());
    for (index, draft) in drafts.into_iter().enumerate() {
        let product = products.iter().find(|p| p.has_code(&draft.product_code));
        if let Some(product) = product
            && !product.active
            && !kept.iter().any(|line| product.has_code(&line.product_code))
        {
            violations.push(FieldViolation::refusal(
                INCONSISTENT_FIELDS,
                format!("{field}[{index}].product_code"),
                format!(
                    "{} is no longer sold (inactive in the price book)",
                    product.code
                ),
            ));
            continue;
        }
        let list_price = product.and_then(|product| {
            let dated = entries
                .iter()
                .filter(|entry| entry.product_id == product.id);
            price_book::price_on(dated, day).map(|entry| entry.unit_price)
        });
        let Some(unit_price) = draft.unit_price.or(list_price) else {
            let why = match product {
                Some(product) => format!(
                    "is required: {} has no price in the quote's {} price list on {day}",
                    product.code, currency
                ),
                None => format!(
                    "is required: the price book does not list {:?}",
                    draft.product_code
                ),
            };
            violations.push(FieldViolation::refusal(
                INCONSISTENT_FIELDS,
                format!("{field}[{index}].unit_price"),
                why,
            ));
            continue;
        };
        let (code, name) = match product {
            Some(product) => (product.code.clone(), product.name.clone()),
            None => (draft.product_code, draft.product_name),
        };
        lines.push(QuoteLine {
            product_code: code,
            product_name: name,
            quantity: draft.quantity,
            list_price,
            unit_price,
            discount_percent: draft.discount_percent,
            tax_percent: draft.tax_percent,
        });
    }
    if !violations.is_empty() {
        return Err(refused(violations));
    }
    Ok(lines)
}

/// The list a new quote of a deal in `currency` prices from: the one named (in the currency,
/// active), else the currency's default (none: only lines with their own prices).
async fn price_list_for(
    connection: &mut PgConnection,
    currency: CurrencyCode,
    requested: Option<Uuid>,
) -> Result<Option<PriceList>> {
    let Some(id) = requested else {
        return Ok(book::default_price_list(connection, currency).await?);
    };
    let Some((list, _)) = book::get_price_list(connection, id, false).await? else {
        return Err(OpportunitiesError::unusable_reference(
            "price_list_id",
            "is not a price list",
        ));
    };
    if list.currency != currency {
        return Err(refusal(
            "price_list_id",
            format!(
                "must be a list in the deal's currency, {currency}, not {}",
                list.currency
            ),
        ));
    }
    if !list.active {
        return Err(refusal("price_list_id", "is a retired price list"));
    }
    Ok(Some(list))
}

/// The quote version locked, at the expected version (its deal locked first by the caller).
pub(super) async fn locked_quote(
    connection: &mut PgConnection,
    id: Uuid,
    expected_version: Option<i64>,
) -> Result<Quote> {
    let quote = store_quotes::get_quote(connection, id, true)
        .await?
        .ok_or_else(|| OpportunitiesError::not_found("quote", id))?;
    check_version("quote", id, expected_version, quote.revision)?;
    Ok(quote)
}

impl Opportunities {
    /// A quote version and its deal, if the caller may read the deal.
    pub(super) async fn readable_quote(
        &self,
        connection: &mut PgConnection,
        caller: &Caller,
        id: Uuid,
    ) -> Result<(Quote, Opportunity)> {
        let quote = store_quotes::get_quote(connection, id, false)
            .await?
            .ok_or_else(|| OpportunitiesError::not_found("quote", id))?;
        let deal = store::deals::get_deal(connection, quote.opportunity_id, false)
            .await?
            .map(|(deal, _)| deal);
        let deal = visible(caller, quote.opportunity_id, deal)
            .map_err(|_| OpportunitiesError::not_found("quote", id))?;
        Ok((quote, deal))
    }

    /// For a write: the deal locked (in the caller's reach, open), then the quote locked at
    /// the expected version.
    pub(super) async fn writable_quote(
        &self,
        connection: &mut PgConnection,
        caller: &Caller,
        id: Uuid,
        expected_version: Option<i64>,
        action: &'static str,
    ) -> Result<(Quote, Opportunity)> {
        let (quote, _) = self.readable_quote(connection, caller, id).await?;
        let deal = self
            .locked(connection, caller, quote.opportunity_id, None, action)
            .await?;
        let quote = locked_quote(connection, id, expected_version).await?;
        Ok((quote, deal))
    }

    /// Writes version 1 of a new quote of an open deal the caller may change: a draft in the
    /// deal's currency, its lines priced from the list on today's date (kept on the lines, so
    /// later price changes never reach it). A retry with the same id by its creator returns the
    /// quote as it is; anyone else's id is ID_TAKEN.
    pub async fn create_quote(&self, caller: &Caller, new: NewQuote) -> Result<Quote> {
        let mut transaction = self.pool.begin().await?;
        let id = new.id.unwrap_or_else(Uuid::now_v7);
        if let Some(existing) = store_quotes::get_quote(&mut transaction, id, false).await? {
            return self.retried(&mut transaction, caller, existing).await;
        }
        let deal = self
            .locked(&mut transaction, caller, new.opportunity_id, None, "quoted")
            .await?;
        let now = crm_platform::time::now();
        let today = now.date_naive();
        let valid_until = new
            .valid_until
            .unwrap_or(today + Days::new(DEFAULT_VALIDITY_DAYS));
        check_validity(valid_until, today)?;
        let currency = deal.amount.currency;
        let list = price_list_for(&mut transaction, currency, new.price_list_id).await?;
        let lines = priced_lines(
            &mut transaction,
            "lines",
            currency,
            list.as_ref(),
            new.lines,
            today,
            &[],
        )
        .await?;
        let settings = store_quotes::settings(&mut transaction, false).await?;
        let terms = QuoteTerms {
            currency,
            discount_percent: new.discount_percent,
            tax_percent: new.tax_percent.unwrap_or(settings.default_tax_percent),
        };
        quote::check_quote("lines", "", &lines, &terms).map_err(refused)?;
        let quote = Quote {
            id,
            opportunity_id: deal.id,
            account_id: Some(deal.account_id),
            owner_id: deal.owner_id,
            owner_team_path: deal.owner_team_path.clone(),
            number: store_quotes::next_number(&mut transaction, today.year()).await?,
            quote_version: 1,
            revised_from: None,
            status: QuoteStatus::Draft,
            price_list_id: list.map(|list| list.id),
            pricing_date: today,
            figures: quote::figures(&lines, &terms),
            terms,
            lines,
            valid_until,
            notes: new.notes,
            approval: None,
            decline_reason: String::new(),
            created_by: caller.user_id,
            created_at: now,
            updated_by: caller.user_id,
            updated_at: now,
            revision: 1,
        };
        if !store_quotes::insert_quote(&mut transaction, &quote).await? {
            // A create with this id committed since the check: answer as its retry.
            let existing = store_quotes::get_quote(&mut transaction, id, false)
                .await?
                .ok_or(OpportunitiesError::IdTaken { kind: "quote", id })?;
            return self.retried(&mut transaction, caller, existing).await;
        }
        self.outbox.commit(transaction).await?;
        Ok(quote)
    }

    /// A create retried with a quote's id: the quote if the caller made it (and may still read
    /// it), ID_TAKEN otherwise.
    pub(super) async fn retried(
        &self,
        connection: &mut PgConnection,
        caller: &Caller,
        existing: Quote,
    ) -> Result<Quote> {
        if existing.created_by != caller.user_id {
            return Err(OpportunitiesError::IdTaken {
                kind: "quote",
                id: existing.id,
            });
        }
        let (quote, _) = self.readable_quote(connection, caller, existing.id).await?;
        Ok(quote)
    }

    pub async fn get_quote(&self, caller: &Caller, id: Uuid) -> Result<Quote> {
        let mut connection = self.pool.acquire().await?;
        Ok(self.readable_quote(&mut connection, caller, id).await?.0)
    }

    /// Every quote version of a deal the caller may read, newest first.
    pub async fn list_quotes(&self, caller: &Caller, opportunity_id: Uuid) -> Result<Vec<Quote>> {
        let mut connection = self.pool.acquire().await?;
        let deal = store::deals::get_deal(&mut connection, opportunity_id, false)
            .await?
            .map(|(deal, _)| deal);
        visible(caller, opportunity_id, deal)?;
        Ok(store_quotes::quotes_of_deal(&mut connection, opportunity_id, false).await?)
    }

    /// Changes a draft (QUOTE_STATUS_NOT_ALLOWED otherwise); new lines are priced from the
    /// quote's list on today's date, which becomes its pricing date.
    pub async fn update_quote(
        &self,
        caller: &Caller,
        id: Uuid,
        changes: QuoteChanges,
        expected_version: Option<i64>,
    ) -> Result<Quote> {
        let mut transaction = self.pool.begin().await?;
        let (current, deal) = self
            .writable_quote(&mut transaction, caller, id, expected_version, "quoted")
            .await?;
        next_status(&current, QuoteAction::Edit, "edited")?;
        let now = crm_platform::time::now();
        let today = now.date_naive();
        let mut next = current.clone();
        if let Some(drafts) = changes.lines {
            let list = match current.price_list_id {
                Some(list_id) => book::get_price_list(&mut transaction, list_id, false)
                    .await?
                    .map(|(list, _)| list),
                None => None,
            };
            let field = "lines.lines";
            next.lines = priced_lines(
                &mut transaction,
                field,
                current.terms.currency,
                list.as_ref(),
                drafts,
                today,
                &current.lines,
            )
            .await?;
            next.pricing_date = today;
        }
        if let Some(discount) = changes.discount_percent {
            next.terms.discount_percent = discount;
        }
        if let Some(tax) = changes.tax_percent {
            next.terms.tax_percent = tax;
        }
        if let Some(valid_until) = changes.valid_until {
            check_validity(valid_until, today)?;
            next.valid_until = valid_until;
        }
        if let Some(notes) = changes.notes {
            next.notes = notes;
        }
        quote::check_quote("lines.lines", "", &next.lines, &next.terms).map_err(refused)?;
        next.figures = quote::figures(&next.lines, &next.terms);
        if next == current {
            return Ok(current);
        }
        next.owner_id = deal.owner_id;
        next.owner_team_path = deal.owner_team_path;
        next.revision += 1;
        next.updated_by = caller.user_id;
        next.updated_at = now;
        store_quotes::update_quote(&mut transaction, &next).await?;
        self.outbox.commit(transaction).await?;
        Ok(next)
    }

    /// The quote as an HTML document for its customer.
    pub async fn render_quote(&self, caller: &Caller, id: Uuid) -> Result<String> {
        let mut connection = self.pool.acquire().await?;
        let (quote, deal) = self.readable_quote(&mut connection, caller, id).await?;
        let account = store::replicas::get_account(&mut connection, deal.account_id).await?;
        let settings = store_quotes::settings(&mut connection, false).await?;
        let account_name = account.map(|account| account.name).unwrap_or_default();
        Ok(quote_document::render(
            &quote,
            &settings.company_name,
            &account_name,
        ))
    }
}
