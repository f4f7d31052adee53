//! SQL of the accounts replica (`accounts`): what the analysis names customers and industries by.

use sqlx::PgConnection;
use uuid::Uuid;

/// An account as the accounts service's events last described it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountRecord {
    pub id: Uuid,
    pub name: String,
    pub industry: String,
    pub version: i64,
}

/// Keeps `account` unless the replica holds it at that version or a newer one (redelivered,
/// replayed and out-of-order events change nothing). Returns whether it was written.
pub async fn upsert(connection: &mut PgConnection, account: &AccountRecord) -> sqlx::Result<bool> {
    let written = sqlx::query(
        "INSERT INTO accounts (id, name, industry, version) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, industry = EXCLUDED.industry, \
         version = EXCLUDED.version WHERE accounts.version < EXCLUDED.version",
    )
    .bind(account.id)
    .bind(&account.name)
    .bind(&account.industry)
    .bind(account.version)
    .execute(connection)
    .await?
    .rows_affected();
    Ok(written == 1)
}
