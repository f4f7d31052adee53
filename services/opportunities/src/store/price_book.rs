//! SQL for the price book: products, price lists and their dated prices.

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::{
    access::contains_pattern,
    money::{CurrencyCode, Money},
    paging::Page,
};
use rust_decimal::Decimal;
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use super::corrupt;
use crate::domain::price_book::{PriceEntry, PriceList, Product};

/// The unique index on a product's lower-cased code.
pub(crate) const PRODUCT_CODE_INDEX: &str = "products_code";
/// The unique index on a price list's lower-cased name.
pub(crate) const PRICE_LIST_NAME_INDEX: &str = "price_lists_name";

#[derive(sqlx::FromRow)]
struct ProductRow {
    id: Uuid,
    code: String,
    name: String,
    family: String,
    unit: String,
    description: String,
    active: bool,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<ProductRow> for Product {
    fn from(row: ProductRow) -> Self {
        Product {
            id: row.id,
            code: row.code,
            name: row.name,
            family: row.family,
            unit: row.unit,
            description: row.description,
            active: row.active,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

const PRODUCT_COLUMNS: &str =
    "id, code, name, family, unit, description, active, version, created_at, updated_at";

/// One product and who created it; `lock` holds it for the transaction.
pub(crate) async fn get_product(
    connection: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> sqlx::Result<Option<(Product, Option<Uuid>)>> {
    #[derive(sqlx::FromRow)]
    struct Created {
        #[sqlx(flatten)]
        product: ProductRow,
        created_by: Option<Uuid>,
    }
    let row: Option<Created> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PRODUCT_COLUMNS}, created_by FROM products WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    )))
    .bind(id)
    .fetch_optional(connection)
    .await?;
    Ok(row.map(|row| (Product::from(row.product), row.created_by)))
}

/// Inserts a product unless its id is taken (`false`); a code the book has already fails on
/// [`PRODUCT_CODE_INDEX`].
pub(crate) async fn insert_product(
    connection: &mut PgConnection,
    product: &Product,
    created_by: Uuid,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO products (id, code, name, family, unit, description, active, version, \
         created_at, updated_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(product.id)
    .bind(&product.code)
    .bind(&product.name)
    .bind(&product.family)
    .bind(&product.unit)
    .bind(&product.description)
    .bind(product.active)
    .bind(product.version)
    .bind(product.created_at)
    .bind(product.updated_at)
    .bind(created_by)
    .execute(connection)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Writes a product's changeable fields (its code never changes).
pub(crate) async fn update_product(
    connection: &mut PgConnection,
    product: &Product,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE products SET name = $2, family = $3, unit = $4, description = $5, active = $6, \
         version = $7, updated_at = $8 WHERE id = $1",
    )
    .bind(product.id)
    .bind(&product.name)
    .bind(&product.family)
    .bind(&product.unit)
    .bind(&product.description)
    .bind(product.active)
    .bind(product.version)
    .bind(product.updated_at)
    .execute(connection)
    .await
    .map(drop)
}

/// What the product listing filters by.
#[derive(Debug, Default)]
pub(crate) struct ProductFilter {
    /// Exactly this family, without regard to case.
    pub family: Option<String>,
    pub include_inactive: bool,
    /// Code or name containing this, without regard to case.
    pub text: Option<String>,
}

/// One page of products, by code (the page's order is `code`, then id).
pub(crate) async fn list_products(
    connection: &mut PgConnection,
    filter: &ProductFilter,
    page: &Page,
) -> sqlx::Result<Vec<Product>> {
    let mut query =
        QueryBuilder::<Postgres>::new(format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE true"));
    if !filter.include_inactive {
        query.push(" AND active");
    }
    if let Some(family) = &filter.family {
        query
            .push(" AND lower(family) = lower(")
            .push_bind(family.clone())
            .push(")");
    }
    if let Some(text) = &filter.text {
        let pattern = contains_pattern(text);
        query
            .push(" AND (code ILIKE ")
            .push_bind(pattern.clone())
            .push(" OR name ILIKE ")
            .push_bind(pattern)
            .push(")");
    }
    page.push_keyset(&mut query);
    let rows: Vec<ProductRow> = query.build_query_as().fetch_all(connection).await?;
    Ok(rows.into_iter().map(Product::from).collect())
}

/// The products with these codes (compared without regard to case).
pub(crate) async fn products_by_code(
    connection: &mut PgConnection,
    codes: &[String],
) -> sqlx::Result<Vec<Product>> {
    let rows: Vec<ProductRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PRODUCT_COLUMNS} FROM products \
         WHERE lower(code) IN (SELECT lower(code) FROM unnest($1::text[]) AS given (code))"
    )))
    .bind(codes)
    .fetch_all(connection)
    .await?;
    Ok(rows.into_iter().map(Product::from).collect())
}

#[derive(sqlx::FromRow)]
struct PriceListRow {
    id: Uuid,
    name: String,
    currency_code: String,
    description: String,
    is_default: bool,
    active: bool,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<PriceListRow> for PriceList {
    type Error = sqlx::Error;

    fn try_from(row: PriceListRow) -> sqlx::Result<Self> {
        Ok(PriceList {
            id: row.id,
            name: row.name,
            currency: row.currency_code.parse().map_err(corrupt)?,
            description: row.description,
            is_default: row.is_default,
            active: row.active,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

const PRICE_LIST_COLUMNS: &str = "id, name, currency_code, description, is_default, active, \
                                  version, created_at, updated_at";

/// Holds the currency's price lists for the transaction: every write that may add, move or
/// check a currency's default takes this one lock first, so two of them never interleave (two
/// first lists of a currency, a move racing a retirement) and never wait on each other in a
/// cycle.
pub(crate) async fn lock_currency(
    connection: &mut PgConnection,
    currency: CurrencyCode,
) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('crm.price_lists.' || $1, 0))")
        .bind(currency.as_str())
        .execute(connection)
        .await
        .map(drop)
}

/// One price list and who created it; `lock` holds it for the transaction.
pub(crate) async fn get_price_list(
    connection: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> sqlx::Result<Option<(PriceList, Option<Uuid>)>> {
    #[derive(sqlx::FromRow)]
    struct Created {
        #[sqlx(flatten)]
        list: PriceListRow,
        created_by: Option<Uuid>,
    }
    let row: Option<Created> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PRICE_LIST_COLUMNS}, created_by FROM price_lists WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    )))
    .bind(id)
    .fetch_optional(connection)
    .await?;
    row.map(|row| Ok((PriceList::try_from(row.list)?, row.created_by)))
        .transpose()
}

/// The default list of a currency, if it has one.
pub(crate) async fn default_price_list(
    connection: &mut PgConnection,
    currency: CurrencyCode,
) -> sqlx::Result<Option<PriceList>> {
    let row: Option<PriceListRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PRICE_LIST_COLUMNS} FROM price_lists WHERE currency_code = $1 AND is_default"
    )))
    .bind(currency.as_str())
    .fetch_optional(connection)
    .await?;
    row.map(PriceList::try_from).transpose()
}

/// Price lists by currency, the default first, then by name.
pub(crate) async fn list_price_lists(
    connection: &mut PgConnection,
    currency: Option<CurrencyCode>,
    include_inactive: bool,
) -> sqlx::Result<Vec<PriceList>> {
    let rows: Vec<PriceListRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PRICE_LIST_COLUMNS} FROM price_lists \
         WHERE ($1::text IS NULL OR currency_code = $1) AND ($2 OR active) \
         ORDER BY currency_code, is_default DESC, lower(name), id"
    )))
    .bind(currency.map(|currency| currency.as_str()))
    .bind(include_inactive)
    .fetch_all(connection)
    .await?;
    rows.into_iter().map(PriceList::try_from).collect()
}

/// Inserts a price list unless its id is taken (`false`); a name another list has fails on
/// [`PRICE_LIST_NAME_INDEX`].
pub(crate) async fn insert_price_list(
    connection: &mut PgConnection,
    list: &PriceList,
    created_by: Uuid,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO price_lists (id, name, currency_code, description, is_default, active, \
         version, created_at, updated_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING",
    )
    .bind(list.id)
    .bind(&list.name)
    .bind(list.currency.as_str())
    .bind(&list.description)
    .bind(list.is_default)
    .bind(list.active)
    .bind(list.version)
    .bind(list.created_at)
    .bind(list.updated_at)
    .bind(created_by)
    .execute(connection)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Writes a price list's changeable fields (its currency never changes).
pub(crate) async fn update_price_list(
    connection: &mut PgConnection,
    list: &PriceList,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE price_lists SET name = $2, description = $3, is_default = $4, active = $5, \
         version = $6, updated_at = $7 WHERE id = $1",
    )
    .bind(list.id)
    .bind(&list.name)
    .bind(&list.description)
    .bind(list.is_default)
    .bind(list.active)
    .bind(list.version)
    .bind(list.updated_at)
    .execute(connection)
    .await
    .map(drop)
}

/// Takes the default flag off the currency's default list (a new version of it), before
/// another is made the default: the unique index allows one at any moment.
pub(crate) async fn clear_default(
    connection: &mut PgConnection,
    currency: CurrencyCode,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE price_lists SET is_default = false, version = version + 1, updated_at = $2 \
         WHERE currency_code = $1 AND is_default",
    )
    .bind(currency.as_str())
    .bind(now)
    .execute(connection)
    .await
    .map(drop)
}

#[derive(sqlx::FromRow)]
struct PriceRow {
    price_list_id: Uuid,
    product_id: Uuid,
    product_code: String,
    product_name: String,
    effective_from: NaiveDate,
    unit_price: Decimal,
    set_at: DateTime<Utc>,
    set_by: Option<Uuid>,
}

impl PriceRow {
    fn entry(self, currency: CurrencyCode) -> PriceEntry {
        PriceEntry {
            price_list_id: self.price_list_id,
            product_id: self.product_id,
            product_code: self.product_code,
            product_name: self.product_name,
            effective_from: self.effective_from,
            unit_price: Money {
                currency,
                amount: self.unit_price,
            },
            set_at: self.set_at,
            set_by: self.set_by,
        }
    }
}

const PRICE_COLUMNS: &str = "e.price_list_id, e.product_id, p.code AS product_code, \
                             p.name AS product_name, e.effective_from, e.unit_price, e.set_at, \
                             e.set_by";

/// Sets a product's price in a list from a day on, replacing that day's price if it has one.
pub(crate) async fn upsert_price(
    connection: &mut PgConnection,
    entry: &PriceEntry,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO prices (price_list_id, product_id, effective_from, unit_price, set_at, set_by) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (price_list_id, product_id, effective_from) DO UPDATE \
         SET unit_price = excluded.unit_price, set_at = excluded.set_at, set_by = excluded.set_by",
    )
    .bind(entry.price_list_id)
    .bind(entry.product_id)
    .bind(entry.effective_from)
    .bind(entry.unit_price.amount)
    .bind(entry.set_at)
    .bind(entry.set_by)
    .execute(connection)
    .await
    .map(drop)
}

/// One page of a list's prices. Without `on`: every dated price, newest day first (the page's
/// order is `effective_from` descending, then the product id — `id` is the product's, as the
/// join names it). With `on`: the price in force that day per product, by product code (order
/// `code`, then product id); products without a price then are left out.
pub(crate) async fn list_prices(
    connection: &mut PgConnection,
    list: &PriceList,
    product_id: Option<Uuid>,
    on: Option<NaiveDate>,
    page: &Page,
) -> sqlx::Result<Vec<PriceEntry>> {
    let mut query = QueryBuilder::<Postgres>::new(format!("SELECT {PRICE_COLUMNS} FROM "));
    match on {
        None => {
            query
                .push("prices e JOIN products p ON p.id = e.product_id WHERE e.price_list_id = ")
                .push_bind(list.id);
        }
        Some(day) => {
            query
                .push(
                    "products p JOIN LATERAL (SELECT * FROM prices dated \
                     WHERE dated.price_list_id = ",
                )
                .push_bind(list.id)
                .push(" AND dated.product_id = p.id AND dated.effective_from <= ")
                .push_bind(day)
                .push(" ORDER BY dated.effective_from DESC LIMIT 1) e ON true WHERE true");
        }
    }
    if let Some(product_id) = product_id {
        query.push(" AND p.id = ").push_bind(product_id);
    }
    page.push_keyset(&mut query);
    let rows: Vec<PriceRow> = query.build_query_as().fetch_all(connection).await?;
    Ok(rows
        .into_iter()
        .map(|row| row.entry(list.currency))
        .collect())
}

/// The dated prices of these products in a list up to `day` (the domain picks the one in
/// force, `price_book::price_on`).
pub(crate) async fn prices_up_to(
    connection: &mut PgConnection,
    list: &PriceList,
    product_ids: &[Uuid],
    day: NaiveDate,
) -> sqlx::Result<Vec<PriceEntry>> {
    let rows: Vec<PriceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {PRICE_COLUMNS} FROM prices e JOIN products p ON p.id = e.product_id \
         WHERE e.price_list_id = $1 AND e.product_id = ANY($2) AND e.effective_from <= $3"
    )))
    .bind(list.id)
    .bind(product_ids)
    .bind(day)
    .fetch_all(connection)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| row.entry(list.currency))
        .collect())
}
