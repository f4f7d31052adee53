//! The collections replica the period review's collection rate is counted from, kept in the
//! consumer's transaction (the live consumer and a rebuild's replay alike).

use sqlx::PgConnection;

use crate::{domain::collection::Collection, store};

/// Keeps a payment or refund unless it is kept already.
pub async fn record_collection(
    connection: &mut PgConnection,
    collection: &Collection,
) -> sqlx::Result<()> {
    if !store::collections::record(connection, collection).await? {
        tracing::debug!(
            entry_id = %collection.entry_id,
            deal_id = %collection.deal_id,
            "payment or refund kept already, ignored"
        );
    }
    Ok(())
}
