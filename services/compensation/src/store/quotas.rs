//! SQL of the reps' revenue quotas (`quotas`), replicated from forecasting's quota_set events.

use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

/// A rep's revenue quota of a period, as forecasting set it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepQuota {
    pub quota_id: Uuid,
    pub user_id: Uuid,
    pub period_label: String,
    pub currency: String,
    pub amount: Decimal,
    pub version: i64,
}

/// Upserts the quota unless the row holds its version or a later one (forecasting keeps one
/// quota per holder, kind and period, replaced at the next version); whether it applied.
pub async fn record(connection: &mut PgConnection, quota: &RepQuota) -> sqlx::Result<bool> {
    let applied = sqlx::query(
        "INSERT INTO quotas (quota_id, user_id, period_label, currency, amount, version) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (user_id, period_label) DO UPDATE SET quota_id = EXCLUDED.quota_id, \
         currency = EXCLUDED.currency, amount = EXCLUDED.amount, version = EXCLUDED.version \
         WHERE quotas.version < EXCLUDED.version",
    )
    .bind(quota.quota_id)
    .bind(quota.user_id)
    .bind(&quota.period_label)
    .bind(&quota.currency)
    .bind(quota.amount)
    .bind(quota.version)
    .execute(connection)
    .await?
    .rows_affected();
    Ok(applied == 1)
}

/// The quotas of `users` for the periods `labels`, as (rep, label, amount).
pub async fn of(
    connection: &mut PgConnection,
    users: &[Uuid],
    labels: &[String],
) -> sqlx::Result<Vec<(Uuid, String, Decimal)>> {
    sqlx::query_as(
        "SELECT user_id, period_label, amount FROM quotas \
         WHERE user_id = ANY($1) AND period_label = ANY($2)",
    )
    .bind(users)
    .bind(labels)
    .fetch_all(connection)
    .await
}
