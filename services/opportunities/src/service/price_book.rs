//! The price book's use cases (O6): products, price lists and dated prices. Every role reads
//! them (reps price deals and quotes from them); admins change them.
//!
//! None of them publishes an event: deals carry the prices they took, and nothing outside this
//! service keeps a price book of its own. The transactions still end in the outbox commit,
//! which keeps a keyed call's reply with the write.

use chrono::NaiveDate;
use crm_platform::{
    auth::{Caller, Role},
    error::{CommonError, FieldViolation, check_version},
    money::{CurrencyCode, Money},
    paging::{Listing, Page, SortKey},
};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Opportunities, Result};
use crate::{
    domain::{
        opportunity::LineItem,
        price_book::{
            self, BookPrices, InactiveProducts, LineItemDraft, NewPriceList, NewProduct,
            PriceEntry, PriceList, PriceListChanges, PriceListProblem, Product, ProductChanges,
        },
    },
    error::OpportunitiesError,
    store::{catalog::violates_unique, price_book as store},
};

fn require_admin(caller: &Caller, what: &str) -> Result<()> {
    if caller.role != Role::Admin {
        return Err(OpportunitiesError::permission_denied(format!(
            "only admins {what}"
        )));
    }
    Ok(())
}

/// Refusals for the data (FAILED_PRECONDITION with their reason): fields of a valid form that
/// this book's records rule out.
fn refused(violations: Vec<FieldViolation>) -> OpportunitiesError {
    let reason = violations
        .first()
        .and_then(|violation| violation.reason)
        .unwrap_or(crm_platform::error::reasons::INCONSISTENT_FIELDS);
    CommonError::Unusable { reason, violations }.into()
}

/// A write that took a code or name another record has, as its unique index says: the same
/// refusal as a check's would be.
fn name_clash(
    index: &'static str,
    kind: &'static str,
    name: &str,
) -> impl FnOnce(sqlx::Error) -> OpportunitiesError {
    let name = name.to_owned();
    move |error| {
        if violates_unique(&error, index) {
            OpportunitiesError::NameTaken { kind, name }
        } else {
            error.into()
        }
    }
}

/// A create retried with an id: the record if the caller made it, ID_TAKEN if someone else did.
fn retried<T>(
    caller: &Caller,
    kind: &'static str,
    id: Uuid,
    existing: Option<(T, Option<Uuid>)>,
) -> Result<Option<T>> {
    match existing {
        None => Ok(None),
        Some((record, Some(creator))) if creator == caller.user_id => Ok(Some(record)),
        Some(_) => Err(OpportunitiesError::IdTaken { kind, id }),
    }
}

/// The page of prices: the sort key is the day (all dated prices) or the product's code (the
/// prices in force on a day), the id the product's.
fn price_key(entry: &PriceEntry, on: Option<NaiveDate>) -> (SortKey, Uuid) {
    let key = match on {
        None => SortKey::Date(entry.effective_from),
        Some(_) => SortKey::Text(entry.product_code.clone()),
    };
    (key, entry.product_id)
}

impl Opportunities {
    /// Adds a product (admins). A retry with the same id by the same admin returns the product
    /// as it is; anyone else's id is ID_TAKEN; a code the book has (in any case) is NAME_TAKEN.
    pub async fn create_product(&self, caller: &Caller, new: NewProduct) -> Result<Product> {
        require_admin(caller, "add products")?;
        let mut transaction = self.pool.begin().await?;
        let id = new.id.unwrap_or_else(Uuid::now_v7);
        let existing = store::get_product(&mut transaction, id, false).await?;
        if let Some(product) = retried(caller, "product", id, existing)? {
            return Ok(product);
        }
        let now = crm_platform::time::now();
        let product = Product {
            id,
            code: new.code,
            name: new.name,
            family: new.family,
            unit: new.unit,
            description: new.description,
            active: true,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let inserted = store::insert_product(&mut transaction, &product, caller.user_id)
            .await
            .map_err(name_clash(
                store::PRODUCT_CODE_INDEX,
                "product",
                &product.code,
            ))?;
        if !inserted {
            // A create with this id committed since the check: answer as its retry.
            let existing = store::get_product(&mut transaction, id, false).await?;
            return retried(caller, "product", id, existing)?.ok_or(OpportunitiesError::IdTaken {
                kind: "product",
                id,
            });
        }
        self.outbox.commit(transaction).await?;
        Ok(product)
    }

    /// One product (every role).
    pub async fn get_product(&self, _caller: &Caller, id: Uuid) -> Result<Product> {
        let mut connection = self.pool.acquire().await?;
        store::get_product(&mut connection, id, false)
            .await?
            .map(|(product, _)| product)
            .ok_or_else(|| OpportunitiesError::not_found("product", id))
    }

    /// A page of products by code (every role).
    pub async fn list_products(
        &self,
        _caller: &Caller,
        filter: &store::ProductFilter,
        page: &Page,
    ) -> Result<Listing<Product>> {
        let mut connection = self.pool.acquire().await?;
        let rows = store::list_products(&mut connection, filter, page).await?;
        Ok(Listing::from_rows(rows, page, |product| {
            (SortKey::Text(product.code.clone()), product.id)
        }))
    }

    /// Changes a product (admins), at `expected_version` when given; a change that changes
    /// nothing is not a new version.
    pub async fn update_product(
        &self,
        caller: &Caller,
        id: Uuid,
        changes: ProductChanges,
        expected_version: Option<i64>,
    ) -> Result<Product> {
        require_admin(caller, "change products")?;
        let mut transaction = self.pool.begin().await?;
        let (current, _) = store::get_product(&mut transaction, id, true)
            .await?
            .ok_or_else(|| OpportunitiesError::not_found("product", id))?;
        check_version("product", id, expected_version, current.version)?;
        let mut updated = changes.apply(&current);
        if updated == current {
            return Ok(current);
        }
        updated.version += 1;
        updated.updated_at = crm_platform::time::now();
        store::update_product(&mut transaction, &updated).await?;
        self.outbox.commit(transaction).await?;
        Ok(updated)
    }

    /// Adds a price list (admins); the first list of a currency, or one made so, becomes its
    /// default (the previous default stays, as a list of its own). Retries as for products.
    pub async fn create_price_list(&self, caller: &Caller, new: NewPriceList) -> Result<PriceList> {
        require_admin(caller, "add price lists")?;
        let mut transaction = self.pool.begin().await?;
        let id = new.id.unwrap_or_else(Uuid::now_v7);
        let existing = store::get_price_list(&mut transaction, id, false).await?;
        if let Some(list) = retried(caller, "price list", id, existing)? {
            return Ok(list);
        }
        store::lock_currency(&mut transaction, new.currency).await?;
        let now = crm_platform::time::now();
        let current_default = store::default_price_list(&mut transaction, new.currency).await?;
        let is_default = new.make_default || current_default.is_none();
        if is_default && current_default.is_some() {
            store::clear_default(&mut transaction, new.currency, now).await?;
        }
        let list = PriceList {
            id,
            name: new.name,
            currency: new.currency,
            description: new.description,
            is_default,
            active: true,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let inserted = store::insert_price_list(&mut transaction, &list, caller.user_id)
            .await
            .map_err(name_clash(
                store::PRICE_LIST_NAME_INDEX,
                "price list",
                &list.name,
            ))?;
        if !inserted {
            let existing = store::get_price_list(&mut transaction, id, false).await?;
            return retried(caller, "price list", id, existing)?.ok_or(
                OpportunitiesError::IdTaken {
                    kind: "price list",
                    id,
                },
            );
        }
        self.outbox.commit(transaction).await?;
        Ok(list)
    }

    /// Price lists by currency, the default first, then by name (every role).
    pub async fn list_price_lists(
        &self,
        _caller: &Caller,
        currency: Option<CurrencyCode>,
        include_inactive: bool,
    ) -> Result<Vec<PriceList>> {
        let mut connection = self.pool.acquire().await?;
        Ok(store::list_price_lists(&mut connection, currency, include_inactive).await?)
    }

    /// Changes a price list (admins): renames, describes, retires it (never the default:
    /// DEFAULT_PRICE_LIST) or makes it its currency's default, taking the flag off the previous
    /// default in the same transaction.
    pub async fn update_price_list(
        &self,
        caller: &Caller,
        id: Uuid,
        changes: PriceListChanges,
        expected_version: Option<i64>,
    ) -> Result<PriceList> {
        require_admin(caller, "change price lists")?;
        let mut transaction = self.pool.begin().await?;
        // The currency never changes, so its lock can be taken before the list's own.
        let (unlocked, _) = store::get_price_list(&mut transaction, id, false)
            .await?
            .ok_or_else(|| OpportunitiesError::not_found("price list", id))?;
        store::lock_currency(&mut transaction, unlocked.currency).await?;
        let (current, _) = store::get_price_list(&mut transaction, id, true)
            .await?
            .ok_or_else(|| OpportunitiesError::not_found("price list", id))?;
        check_version("price list", id, expected_version, current.version)?;
        let mut updated = changes.apply(&current).map_err(|problem| match problem {
            PriceListProblem::RetiringTheDefault => OpportunitiesError::DefaultPriceList {
                name: current.name.clone(),
                currency: current.currency.to_string(),
            },
            PriceListProblem::Invalid(violations) => refused(violations),
        })?;
        if updated == current {
            return Ok(current);
        }
        let now = crm_platform::time::now();
        if updated.is_default && !current.is_default {
            store::clear_default(&mut transaction, current.currency, now).await?;
        }
        updated.version += 1;
        updated.updated_at = now;
        store::update_price_list(&mut transaction, &updated)
            .await
            .map_err(name_clash(
                store::PRICE_LIST_NAME_INDEX,
                "price list",
                &updated.name,
            ))?;
        self.outbox.commit(transaction).await?;
        Ok(updated)
    }

    /// Sets a product's price in a list from a day on (admins); set again for the same day, it
    /// replaces that day's price. The price is in the list's currency.
    pub async fn set_price(
        &self,
        caller: &Caller,
        price_list_id: Uuid,
        product_id: Uuid,
        effective_from: NaiveDate,
        unit_price: Money,
    ) -> Result<PriceEntry> {
        require_admin(caller, "set prices")?;
        let mut transaction = self.pool.begin().await?;
        let (list, _) = store::get_price_list(&mut transaction, price_list_id, false)
            .await?
            .ok_or_else(|| OpportunitiesError::not_found("price list", price_list_id))?;
        let (product, _) = store::get_product(&mut transaction, product_id, false)
            .await?
            .ok_or_else(|| OpportunitiesError::not_found("product", product_id))?;
        price_book::check_price(&list, &unit_price).map_err(refused)?;
        let entry = PriceEntry {
            price_list_id,
            product_id,
            product_code: product.code,
            product_name: product.name,
            effective_from,
            unit_price,
            set_at: crm_platform::time::now(),
            set_by: Some(caller.user_id),
        };
        store::upsert_price(&mut transaction, &entry).await?;
        self.outbox.commit(transaction).await?;
        Ok(entry)
    }

    /// A page of a list's prices (every role): every dated price, newest day first, or with
    /// `on` the one in force that day per product, by code.
    pub async fn list_prices(
        &self,
        _caller: &Caller,
        price_list_id: Uuid,
        product_id: Option<Uuid>,
        on: Option<NaiveDate>,
        page: &Page,
    ) -> Result<Listing<PriceEntry>> {
        let mut connection = self.pool.acquire().await?;
        let (list, _) = store::get_price_list(&mut connection, price_list_id, false)
            .await?
            .ok_or_else(|| OpportunitiesError::not_found("price list", price_list_id))?;
        let rows = store::list_prices(&mut connection, &list, product_id, on, page).await?;
        Ok(Listing::from_rows(rows, page, |entry| price_key(entry, on)))
    }
}

/// A deal's line items in `currency` with what the book says of them (`field` names the list):
/// the products their codes name, and for a line without a unit price the default list's
/// price of the currency on `day`; inactive products only as `inactive` allows.
pub(crate) async fn priced_line_items(
    connection: &mut PgConnection,
    field: &str,
    currency: CurrencyCode,
    drafts: Vec<LineItemDraft>,
    day: NaiveDate,
    inactive: InactiveProducts<'_>,
) -> Result<Vec<LineItem>> {
    if drafts.is_empty() {
        return Ok(Vec::new());
    }
    let codes: Vec<String> = drafts.iter().map(|d| d.product_code.clone()).collect();
    let products = store::products_by_code(connection, &codes).await?;
    let unpriced: Vec<Uuid> = products
        .iter()
        .filter(|product| {
            drafts
                .iter()
                .any(|draft| draft.unit_price.is_none() && product.has_code(&draft.product_code))
        })
        .map(|product| product.id)
        .collect();
    let mut list_prices = Vec::new();
    if !unpriced.is_empty()
        && let Some(list) = store::default_price_list(connection, currency).await?
    {
        let entries = store::prices_up_to(connection, &list, &unpriced, day).await?;
        for product_id in unpriced {
            let dated = entries
                .iter()
                .filter(|entry| entry.product_id == product_id);
            if let Some(entry) = price_book::price_on(dated, day) {
                list_prices.push((product_id, entry.unit_price));
            }
        }
    }
    let book = BookPrices {
        products,
        list_prices,
        day,
    };
    price_book::price_line_items(field, currency, drafts, &book, inactive).map_err(refused)
}
