//! SQL for tiering: the thresholds, the replica of the opportunities service's deals, and the
//! accounts the re-evaluation job has to look at.

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::money::Money;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{corrupt, stored_money};
use crate::domain::{
    deal::{DealReplica, DealStatus},
    tier::{TierSettings, TierThresholds, Win},
};

#[derive(sqlx::FromRow)]
struct SettingsRow {
    currency: String,
    a_threshold: Decimal,
    b_threshold: Decimal,
    version: i64,
    updated_at: DateTime<Utc>,
}

impl TryFrom<SettingsRow> for TierSettings {
    type Error = sqlx::Error;

    fn try_from(row: SettingsRow) -> sqlx::Result<Self> {
        let currency = row.currency.parse().map_err(corrupt)?;
        let money = |amount| Money { currency, amount };
        let thresholds = TierThresholds::new(money(row.a_threshold), money(row.b_threshold))
            .map_err(|violations| corrupt(format!("tier thresholds: {violations:?}")))?;
        Ok(TierSettings {
            thresholds: Some(thresholds),
            version: row.version,
            updated_at: Some(row.updated_at),
        })
    }
}

/// The thresholds; version 0 and none while never set.
pub async fn tier_settings(connection: &mut PgConnection) -> sqlx::Result<TierSettings> {
    let row: Option<SettingsRow> = sqlx::query_as(
        "SELECT currency, a_threshold, b_threshold, version, updated_at FROM tier_settings WHERE id",
    )
    .fetch_optional(connection)
    .await?;
    row.map(TierSettings::try_from)
        .transpose()
        .map(Option::unwrap_or_default)
}

/// [`tier_settings`], with every other change of them waiting until this transaction ends
/// (the row may not exist yet, so a lock on a key stands in for a row lock).
pub async fn lock_tier_settings(connection: &mut PgConnection) -> sqlx::Result<TierSettings> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('accounts:tier_settings'))")
        .execute(&mut *connection)
        .await?;
    tier_settings(connection).await
}

pub async fn save_tier_settings(
    connection: &mut PgConnection,
    thresholds: &TierThresholds,
    version: i64,
    updated_at: DateTime<Utc>,
    updated_by: Uuid,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO tier_settings (id, currency, a_threshold, b_threshold, version, updated_by, updated_at) \
         VALUES (true, $1, $2, $3, $4, $5, $6) \
         ON CONFLICT (id) DO UPDATE SET currency = EXCLUDED.currency, a_threshold = EXCLUDED.a_threshold, \
         b_threshold = EXCLUDED.b_threshold, version = EXCLUDED.version, \
         updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at",
    )
    .bind(thresholds.currency().as_str())
    .bind(thresholds.a().amount)
    .bind(thresholds.b().amount)
    .bind(version)
    .bind(updated_by)
    .bind(updated_at)
    .execute(connection)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct DealRow {
    opportunity_id: Uuid,
    account_id: Uuid,
    status: String,
    corporate_amount: Option<Decimal>,
    corporate_currency: Option<String>,
    closed_on: Option<NaiveDate>,
    version: i64,
}

impl TryFrom<DealRow> for DealReplica {
    type Error = sqlx::Error;

    fn try_from(row: DealRow) -> sqlx::Result<Self> {
        Ok(DealReplica {
            opportunity_id: row.opportunity_id,
            account_id: row.account_id,
            status: DealStatus::parse(&row.status)
                .ok_or_else(|| corrupt(format!("{:?} is not a deal status", row.status)))?,
            corporate_amount: stored_money(row.corporate_amount, row.corporate_currency)?,
            closed_on: row.closed_on,
            version: row.version,
        })
    }
}

/// The deal as kept, with every other event of it waiting until this transaction ends (the
/// row may not exist yet: a lock on its id stands in for a row lock).
pub async fn lock_deal(
    connection: &mut PgConnection,
    opportunity_id: Uuid,
) -> sqlx::Result<Option<DealReplica>> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('accounts:deal:' || $1::text))")
        .bind(opportunity_id)
        .execute(&mut *connection)
        .await?;
    let row: Option<DealRow> = sqlx::query_as(
        "SELECT opportunity_id, account_id, status, corporate_amount, corporate_currency, closed_on, version \
         FROM account_deals WHERE opportunity_id = $1",
    )
    .bind(opportunity_id)
    .fetch_optional(connection)
    .await?;
    row.map(DealReplica::try_from).transpose()
}

/// Writes the deal's state (the caller has checked that it is newer).
pub async fn upsert_deal(connection: &mut PgConnection, deal: &DealReplica) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO account_deals (opportunity_id, account_id, status, corporate_amount, \
         corporate_currency, closed_on, version) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (opportunity_id) DO UPDATE SET account_id = EXCLUDED.account_id, \
         status = EXCLUDED.status, corporate_amount = EXCLUDED.corporate_amount, \
         corporate_currency = EXCLUDED.corporate_currency, closed_on = EXCLUDED.closed_on, \
         version = EXCLUDED.version, updated_at = now()",
    )
    .bind(deal.opportunity_id)
    .bind(deal.account_id)
    .bind(deal.status.as_str())
    .bind(deal.corporate_amount.map(|money| money.amount))
    .bind(deal.corporate_amount.map(|money| money.currency.as_str()))
    .bind(deal.closed_on)
    .bind(deal.version)
    .execute(connection)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct WinRow {
    opportunity_id: Uuid,
    corporate_amount: Option<Decimal>,
    corporate_currency: Option<String>,
    closed_on: Option<NaiveDate>,
}

/// The account's won deals closed on `from` or later.
pub async fn wins_since(
    connection: &mut PgConnection,
    account_id: Uuid,
    from: NaiveDate,
) -> sqlx::Result<Vec<Win>> {
    let rows: Vec<WinRow> = sqlx::query_as(
        "SELECT opportunity_id, corporate_amount, corporate_currency, closed_on FROM account_deals \
         WHERE account_id = $1 AND status = 'won' AND closed_on >= $2 ORDER BY opportunity_id",
    )
    .bind(account_id)
    .bind(from)
    .fetch_all(connection)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok(Win {
                opportunity_id: row.opportunity_id,
                corporate_amount: stored_money(row.corporate_amount, row.corporate_currency)?,
                closed_on: row.closed_on,
            })
        })
        .collect()
}

/// The account that stands for `account_id` now: itself, or the survivor it was merged into
/// (followed through repeated merges); `None` when no such account is known here.
pub async fn surviving_account(
    connection: &mut PgConnection,
    account_id: Uuid,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "WITH RECURSIVE chain(id, merged_into, depth) AS ( \
           SELECT id, merged_into_account_id, 0 FROM accounts WHERE id = $1 \
           UNION ALL \
           SELECT a.id, a.merged_into_account_id, chain.depth + 1 FROM accounts a \
           JOIN chain ON a.id = chain.merged_into WHERE chain.depth < 100) \
         SELECT id FROM chain WHERE merged_into IS NULL LIMIT 1",
    )
    .bind(account_id)
    .fetch_optional(connection)
    .await
}

/// A merge: the duplicate's deals count for the survivor from now on.
pub async fn move_deals(connection: &mut PgConnection, from: Uuid, to: Uuid) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "UPDATE account_deals SET account_id = $2, updated_at = now() WHERE account_id = $1",
    )
    .bind(from)
    .bind(to)
    .execute(connection)
    .await?
    .rows_affected())
}

/// Up to `limit` accounts (not merged away) whose figures are due, locked for this transaction
/// and skipping those another transaction holds: evaluated with thresholds other than version
/// `settings_version`, or holding a win that was in the window at their last evaluation and is
/// before `window_start` now.
pub async fn claim_due_for_reevaluation(
    connection: &mut PgConnection,
    settings_version: i64,
    window_start: NaiveDate,
    limit: i64,
) -> sqlx::Result<Vec<Uuid>> {
    // A union, not OR: the aged-out branch walks the wins by closing day.
    sqlx::query_scalar(
        "SELECT id FROM accounts WHERE id IN ( \
           SELECT id FROM accounts WHERE tier_settings_version <> $1 \
           UNION \
           SELECT d.account_id FROM account_deals d JOIN accounts a ON a.id = d.account_id \
           WHERE d.status = 'won' AND d.closed_on < $2 AND d.closed_on >= a.tier_window_start) \
         AND status <> 3 ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED",
    )
    .bind(settings_version)
    .bind(window_start)
    .bind(limit)
    .fetch_all(connection)
    .await
}
