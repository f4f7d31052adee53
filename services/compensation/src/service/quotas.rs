//! The reps' revenue quotas, kept from forecasting's quota_set events by version.

use sqlx::PgConnection;

use crate::store::{self, quotas::RepQuota};

/// Records a rep's quota unless a later version of it is held; whether it applied.
pub async fn record(connection: &mut PgConnection, quota: &RepQuota) -> sqlx::Result<bool> {
    store::quotas::record(connection, quota).await
}
