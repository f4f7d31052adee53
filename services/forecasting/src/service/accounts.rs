//! The accounts replica the sales analysis names customers and industries by, kept in the
//! consumer's transaction (the live consumer and a rebuild's replay alike).

use sqlx::PgConnection;

use crate::store::{self, accounts::AccountRecord};

/// Keeps `account` unless the replica holds it at that version or newer.
pub async fn record_account(
    connection: &mut PgConnection,
    account: &AccountRecord,
) -> sqlx::Result<()> {
    if !store::accounts::upsert(connection, account).await? {
        tracing::debug!(
            account_id = %account.id,
            version = account.version,
            "account event not newer than the replica's, ignored"
        );
    }
    Ok(())
}
