//! SQL of the collections replica (`deal_collections`): payments and refunds by deal.

use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::collection::Collection;

/// Keeps `collection` unless it is kept already (the same payment or refund again). Returns
/// whether it was written.
pub async fn record(connection: &mut PgConnection, collection: &Collection) -> sqlx::Result<bool> {
    let written = sqlx::query(
        "INSERT INTO deal_collections (entry_id, deal_id, schedule_id, entry_on, currency, \
         amount) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (entry_id) DO NOTHING",
    )
    .bind(collection.entry_id)
    .bind(collection.deal_id)
    .bind(collection.schedule_id)
    .bind(collection.entry_on)
    .bind(collection.currency.as_str())
    .bind(collection.amount)
    .execute(connection)
    .await?
    .rows_affected();
    Ok(written == 1)
}

/// What was collected so far on `deals`, net of refunds, in `currency`.
pub async fn collected(
    connection: &mut PgConnection,
    deals: &[Uuid],
    currency: &str,
) -> sqlx::Result<Decimal> {
    sqlx::query_scalar(
        "SELECT COALESCE(SUM(amount), 0) FROM deal_collections \
         WHERE deal_id = ANY($1) AND currency = $2",
    )
    .bind(deals)
    .bind(currency)
    .fetch_one(connection)
    .await
}
