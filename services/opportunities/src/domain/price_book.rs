//! The price book (O6, docs/adr/0014-deal-desk-in-opportunities.md): products, price lists in
//! one currency each (one list per currency its default), and dated prices — the price of a
//! product on a day is the one with the latest `effective_from` on or before it, so a price
//! change is a new entry and what was quoted last month keeps last month's price.
//!
//! Deals' line items take their product's code and name from the book, and, when they give no
//! unit price, the default list's price of the deal's currency on the day ([`price_line_items`]).

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::{
    error::{FieldViolation, Violations, reasons::INCONSISTENT_FIELDS},
    money::{CurrencyCode, Money},
};
use rust_decimal::Decimal;
use uuid::Uuid;

/// The kit's text checks, as the book's fields use them.
pub use crm_platform::error::{optional_text, required_text};

use super::opportunity::LineItem;

/// A product's unit when none is given.
pub const DEFAULT_UNIT: &str = "each";

/// The longest texts (the proto's field rules).
pub const MAX_CODE: usize = 64;
pub const MAX_NAME: usize = 200;
pub const MAX_FAMILY: usize = 100;
pub const MAX_UNIT: usize = 32;
pub const MAX_DESCRIPTION: usize = 4000;

/// Something the organisation sells. Its code is unique without regard to case and never
/// changes; it is kept as first given, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    /// Empty: none.
    pub family: String,
    pub unit: String,
    pub description: String,
    /// Inactive: no longer offered; deals and quotes that name it keep it.
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Product {
    /// Whether `code` names this product (codes are compared without regard to case).
    pub fn has_code(&self, code: &str) -> bool {
        same_code(&self.code, code)
    }
}

/// Whether two product codes are one (compared without regard to case, as the unique index on
/// `lower(code)` compares them).
pub fn same_code(left: &str, right: &str) -> bool {
    left.to_lowercase() == right.to_lowercase()
}

/// A product as an admin creates it (checked in form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProduct {
    /// A caller-chosen id makes a retried create return the first result.
    pub id: Option<Uuid>,
    pub code: String,
    pub name: String,
    pub family: String,
    pub unit: String,
    pub description: String,
}

/// A partial change of a product: `None` keeps a field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductChanges {
    pub name: Option<String>,
    pub family: Option<String>,
    pub unit: Option<String>,
    pub description: Option<String>,
    pub active: Option<bool>,
}

impl ProductChanges {
    /// The product with the changes applied (same version and times).
    pub fn apply(&self, product: &Product) -> Product {
        Product {
            name: self.name.clone().unwrap_or_else(|| product.name.clone()),
            family: self
                .family
                .clone()
                .unwrap_or_else(|| product.family.clone()),
            unit: self.unit.clone().unwrap_or_else(|| product.unit.clone()),
            description: self
                .description
                .clone()
                .unwrap_or_else(|| product.description.clone()),
            active: self.active.unwrap_or(product.active),
            ..product.clone()
        }
    }
}

/// Prices in one currency. The default list of a currency is active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceList {
    pub id: Uuid,
    pub name: String,
    pub currency: CurrencyCode,
    pub description: String,
    pub is_default: bool,
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A price list as an admin creates it (checked in form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPriceList {
    pub id: Option<Uuid>,
    pub name: String,
    pub currency: CurrencyCode,
    pub description: String,
    /// Make it its currency's default (the first list of a currency is in any case).
    pub make_default: bool,
}

/// A partial change of a price list: `None` keeps a field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PriceListChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub active: Option<bool>,
    pub make_default: bool,
}

/// Why a price list's change cannot apply to the list as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PriceListProblem {
    /// The list is its currency's default: another must be made the default first.
    RetiringTheDefault,
    /// Form and consistency of the request's fields (refusals).
    Invalid(Vec<FieldViolation>),
}

impl PriceListChanges {
    /// The list with the changes applied (same version and times; `is_default` set when the
    /// change makes it the default — the service moves the flag off the previous one).
    pub fn apply(&self, list: &PriceList) -> Result<PriceList, PriceListProblem> {
        let active = self.active.unwrap_or(list.active);
        if !active && list.is_default {
            return Err(PriceListProblem::RetiringTheDefault);
        }
        if !active && self.make_default {
            return Err(PriceListProblem::Invalid(vec![FieldViolation::refusal(
                INCONSISTENT_FIELDS,
                "make_default",
                "an inactive list cannot be its currency's default",
            )]));
        }
        Ok(PriceList {
            name: self.name.clone().unwrap_or_else(|| list.name.clone()),
            description: self
                .description
                .clone()
                .unwrap_or_else(|| list.description.clone()),
            active,
            is_default: list.is_default || self.make_default,
            ..list.clone()
        })
    }
}

/// A product's price in a list from a day on, until the product's next dated price there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceEntry {
    pub price_list_id: Uuid,
    pub product_id: Uuid,
    /// The product's code and name, as the book has them now.
    pub product_code: String,
    pub product_name: String,
    pub effective_from: NaiveDate,
    /// In the list's currency.
    pub unit_price: Money,
    pub set_at: DateTime<Utc>,
    pub set_by: Option<Uuid>,
}

/// The price in force on `day` among one product's dated prices: the one with the latest
/// `effective_from` on or before it; `None` before the first. Entries of other products are
/// the caller's to leave out.
pub fn price_on<'a>(
    entries: impl IntoIterator<Item = &'a PriceEntry>,
    day: NaiveDate,
) -> Option<&'a PriceEntry> {
    entries
        .into_iter()
        .filter(|entry| entry.effective_from <= day)
        .max_by_key(|entry| entry.effective_from)
}

/// Checks a price for `list`: in the list's currency (a refusal naming
/// `unit_price.currency_code`, as the schema cannot say which currency a list has) and not
/// negative (the wire's parser checked the digits).
pub fn check_price(list: &PriceList, price: &Money) -> Result<(), Vec<FieldViolation>> {
    let mut violations = Violations::new();
    if price.currency != list.currency {
        violations.push(FieldViolation::refusal(
            INCONSISTENT_FIELDS,
            "unit_price.currency_code",
            format!(
                "must be the price list's currency, {}",
                list.currency.as_str()
            ),
        ));
    }
    if price.amount < Decimal::ZERO {
        violations.push(FieldViolation::refusal(
            INCONSISTENT_FIELDS,
            "unit_price.amount",
            crm_platform::money::NEGATIVE_MESSAGE,
        ));
    }
    violations.into_result()
}

/// A line item as a request gives it: the unit price may be left to the price book.
#[derive(Debug, Clone, PartialEq)]
pub struct LineItemDraft {
    pub product_code: String,
    pub product_name: String,
    pub quantity: Decimal,
    pub unit_price: Option<Money>,
    pub discount_percent: Decimal,
}

/// What the book says of the products line items name: the products found by code, and each
/// one's price in force in the default list of the deal's currency on the day.
#[derive(Debug, Clone, Default)]
pub struct BookPrices {
    pub products: Vec<Product>,
    /// (product id, its list price); products without a price that day are absent.
    pub list_prices: Vec<(Uuid, Money)>,
    /// The day the list prices are in force (named in a refusal).
    pub day: NaiveDate,
}

/// Which inactive products line items may name.
#[derive(Debug, Clone, Copy)]
pub enum InactiveProducts<'a> {
    /// Any: a deal's history being imported names what was sold then.
    Allowed,
    /// Only those the deal's current lines name already: a retired product is sold no more,
    /// but a deal that has it keeps it through later changes of its lines.
    Kept(&'a [LineItem]),
}

/// The line items of a deal in `currency` (`field` names the list): a line whose code names a
/// product of the book takes the product's code spelling and name and, without a unit price of
/// its own, the product's list price; a code the book does not list is an unlisted item, which
/// keeps its name and must carry its price. A line left without a price, or naming an inactive
/// product `inactive` does not allow, is refused (FAILED_PRECONDITION, naming
/// `<field>[i].unit_price` or `<field>[i].product_code`): the schema cannot tell which products
/// the book prices and sells.
pub fn price_line_items(
    field: &str,
    currency: CurrencyCode,
    drafts: Vec<LineItemDraft>,
    book: &BookPrices,
    inactive: InactiveProducts<'_>,
) -> Result<Vec<LineItem>, Vec<FieldViolation>> {
    let mut violations = Violations::new();
    let mut items = Vec::with_capacity(drafts.len());
    for (index, draft) in drafts.into_iter().enumerate() {
        let product = book
            .products
            .iter()
            .find(|product| product.has_code(&draft.product_code));
        if let Some(product) = product
            && !product.active
            && let InactiveProducts::Kept(current) = inactive
            && !current
                .iter()
                .any(|item| product.has_code(&item.product_code))
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
            book.list_prices
                .iter()
                .find(|(id, _)| *id == product.id)
                .map(|(_, price)| *price)
        });
        let Some(unit_price) = draft.unit_price.or(list_price) else {
            let why = match product {
                Some(product) => format!(
                    "is required: {} has no price in the default {} price list on {}",
                    product.code,
                    currency.as_str(),
                    book.day
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
        let (product_code, product_name) = match product {
            Some(product) => (product.code.clone(), product.name.clone()),
            None => (draft.product_code, draft.product_name),
        };
        items.push(LineItem {
            product_code,
            product_name,
            quantity: draft.quantity,
            unit_price,
            discount_percent: draft.discount_percent,
        });
    }
    violations.into_result()?;
    Ok(items)
}

#[cfg(test)]
#[path = "price_book_tests.rs"]
mod tests;
