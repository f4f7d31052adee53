//! SQL for accounts: rows, the hierarchy, duplicate candidates and listings.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::{
    access::{OWNER_COLUMNS, contains_pattern, push_visibility},
    auth::Visibility,
    paging::{Page, SortKey, SortOrder},
};
use crm_proto::crm::common::v1::CompanySize;
use rust_decimal::Decimal;
use sqlx::{PgConnection, Postgres, QueryBuilder, types::Json};
use uuid::Uuid;

use super::{Stored, corrupt, stored_money, stored_team};
use crate::domain::{
    RecordStatus,
    account::Account,
    tier::{AccountTier, Tiering},
};

const ACCOUNT_COLUMNS: &str = "id, name, parent_account_id, industry, region, size, website, phone, \
    owner_id, owner_team_path, tags, custom_fields, status, merged_into_account_id, version, \
    created_by, created_at, updated_at, key_account, account_plan, tier_override, computed_tier, \
    trailing_won_revenue, trailing_won_currency, tier_settings_version, tier_window_start";

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: Uuid,
    name: String,
    parent_account_id: Option<Uuid>,
    industry: String,
    region: String,
    size: i16,
    website: String,
    phone: Option<String>,
    owner_id: Uuid,
    owner_team_path: String,
    tags: Vec<String>,
    custom_fields: Json<BTreeMap<String, String>>,
    status: i16,
    merged_into_account_id: Option<Uuid>,
    version: i64,
    created_by: Uuid,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    key_account: bool,
    account_plan: String,
    tier_override: Option<i16>,
    computed_tier: Option<i16>,
    trailing_won_revenue: Option<Decimal>,
    trailing_won_currency: Option<String>,
    tier_settings_version: i64,
    tier_window_start: Option<NaiveDate>,
}

/// A stored record and who created it (idempotent creates compare the creator).
impl TryFrom<AccountRow> for Stored<Account> {
    type Error = sqlx::Error;

    fn try_from(row: AccountRow) -> sqlx::Result<Self> {
        Ok(Stored {
            created_by: row.created_by,
            record: Account {
                id: row.id,
                name: row.name,
                parent_account_id: row.parent_account_id,
                industry: row.industry,
                region: row.region,
                size: CompanySize::try_from(i32::from(row.size)).map_err(corrupt)?,
                website: row.website,
                phone: row.phone,
                owner_id: row.owner_id,
                owner_team_path: stored_team(&row.owner_team_path)?,
                tags: row.tags,
                custom_fields: row.custom_fields.0,
                status: RecordStatus::try_from(row.status).map_err(corrupt)?,
                merged_into_account_id: row.merged_into_account_id,
                version: row.version,
                created_at: row.created_at,
                updated_at: row.updated_at,
                key_account: row.key_account,
                account_plan: row.account_plan,
                tiering: Tiering {
                    tier_override: stored_tier(row.tier_override)?,
                    computed_tier: stored_tier(row.computed_tier)?,
                    trailing_won_revenue: stored_money(
                        row.trailing_won_revenue,
                        row.trailing_won_currency,
                    )?,
                    settings_version: row.tier_settings_version,
                    window_start: row.tier_window_start,
                },
            },
        })
    }
}

/// A stored tier; NULL is none, 0 or an unknown number is corrupt.
fn stored_tier(value: Option<i16>) -> sqlx::Result<Option<AccountTier>> {
    match value {
        None => Ok(None),
        Some(number) => match AccountTier::from_number(i32::from(number)).map_err(corrupt)? {
            Some(tier) => Ok(Some(tier)),
            None => Err(corrupt("tier 0 is stored as NULL")),
        },
    }
}

/// Inserts unless the id exists; `false` when it did (a retried create).
pub async fn insert_account(
    connection: &mut PgConnection,
    account: &Account,
    created_by: Uuid,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO accounts (id, name, name_key, domain, parent_account_id, industry, region, size, \
         website, phone, owner_id, owner_team_path, tags, custom_fields, status, version, created_by, \
         created_at, updated_at, key_account, account_plan, tier_override, computed_tier, \
         trailing_won_revenue, trailing_won_currency, tier_settings_version, tier_window_start) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18, \
         $19, $20, $21, $22, $23, $24, $25, $26) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(account.id)
    .bind(&account.name)
    .bind(account.name_key())
    .bind(account.domain())
    .bind(account.parent_account_id)
    .bind(&account.industry)
    .bind(&account.region)
    .bind(account.size as i16)
    .bind(&account.website)
    .bind(&account.phone)
    .bind(account.owner_id)
    .bind(account.owner_team_path.as_str())
    .bind(&account.tags)
    .bind(Json(&account.custom_fields))
    .bind(account.status as i16)
    .bind(account.version)
    .bind(created_by)
    .bind(account.created_at);
    let inserted = bind_tiering(inserted, account)
        .execute(connection)
        .await?
        .rows_affected();
    Ok(inserted == 1)
}

pub async fn get_account(
    connection: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<Stored<Account>>> {
    select_account(connection, id, "").await
}

/// Reads and locks the account for the rest of the transaction.
pub async fn lock_account(
    connection: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<Account>> {
    Ok(select_account(connection, id, " FOR UPDATE")
        .await?
        .map(|stored| stored.record))
}

/// The account with this id; `lock` is empty or a locking clause.
async fn select_account(
    connection: &mut PgConnection,
    id: Uuid,
    lock: &'static str,
) -> sqlx::Result<Option<Stored<Account>>> {
    let row: Option<AccountRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1{lock}"
    )))
    .bind(id)
    .fetch_optional(connection)
    .await?;
    row.map(Stored::try_from).transpose()
}

/// Writes every mutable field of `account` (its version already bumped by the caller).
pub async fn update_account(connection: &mut PgConnection, account: &Account) -> sqlx::Result<()> {
    let query = sqlx::query(
        "UPDATE accounts SET name = $2, name_key = $3, domain = $4, parent_account_id = $5, industry = $6, \
         region = $7, size = $8, website = $9, phone = $10, owner_id = $11, owner_team_path = $12, \
         tags = $13, custom_fields = $14, status = $15, merged_into_account_id = $16, version = $17, \
         updated_at = $18, key_account = $19, account_plan = $20, tier_override = $21, \
         computed_tier = $22, trailing_won_revenue = $23, trailing_won_currency = $24, \
         tier_settings_version = $25, tier_window_start = $26 WHERE id = $1",
    )
    .bind(account.id)
    .bind(&account.name)
    .bind(account.name_key())
    .bind(account.domain())
    .bind(account.parent_account_id)
    .bind(&account.industry)
    .bind(&account.region)
    .bind(account.size as i16)
    .bind(&account.website)
    .bind(&account.phone)
    .bind(account.owner_id)
    .bind(account.owner_team_path.as_str())
    .bind(&account.tags)
    .bind(Json(&account.custom_fields))
    .bind(account.status as i16)
    .bind(account.merged_into_account_id)
    .bind(account.version)
    .bind(account.updated_at);
    bind_tiering(query, account).execute(connection).await?;
    Ok(())
}

type Query<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

/// Binds the key-account and tiering columns, in their order in the statements above.
fn bind_tiering<'q>(query: Query<'q>, account: &'q Account) -> Query<'q> {
    let tiering = &account.tiering;
    query
        .bind(account.key_account)
        .bind(&account.account_plan)
        .bind(tiering.tier_override.map(AccountTier::number))
        .bind(tiering.computed_tier.map(AccountTier::number))
        .bind(tiering.trailing_won_revenue.map(|money| money.amount))
        .bind(
            tiering
                .trailing_won_revenue
                .map(|money| money.currency.as_str()),
        )
        .bind(tiering.settings_version)
        .bind(tiering.window_start)
}

/// True when `descendant` is `ancestor` or lies below it in the account hierarchy.
pub async fn is_in_subtree(
    connection: &mut PgConnection,
    descendant: Uuid,
    ancestor: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "WITH RECURSIVE up(id, parent_account_id, depth) AS ( \
           SELECT id, parent_account_id, 0 FROM accounts WHERE id = $1 \
           UNION ALL \
           SELECT a.id, a.parent_account_id, up.depth + 1 FROM accounts a JOIN up ON a.id = up.parent_account_id \
           WHERE up.depth < 100) \
         SELECT EXISTS (SELECT 1 FROM up WHERE id = $2)",
    )
    .bind(descendant)
    .bind(ancestor)
    .fetch_one(connection)
    .await
}

/// Active accounts sharing the domain or phone, or with a similar name (pg_trgm).
pub async fn account_duplicate_candidates(
    connection: &mut PgConnection,
    name_key: &str,
    domain: Option<&str>,
    phone: Option<&str>,
    exclude: Option<Uuid>,
) -> sqlx::Result<Vec<Account>> {
    let rows: Vec<AccountRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        // A union, not OR: each branch uses its own index (OR across a trigram and equality
        // conditions makes the planner scan the whole table).
        "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id IN ( \
           SELECT id FROM accounts WHERE name_key % $1 \
           UNION SELECT id FROM accounts WHERE domain = $2 \
           UNION SELECT id FROM accounts WHERE phone = $3) \
         AND status = 1 AND ($4::uuid IS NULL OR id <> $4) \
         ORDER BY similarity(name_key, $1) DESC LIMIT 20"
    )))
    .bind(name_key)
    .bind(domain)
    .bind(phone)
    .bind(exclude)
    .fetch_all(connection)
    .await?;
    rows.into_iter()
        .map(|row| Ok(Stored::try_from(row)?.record))
        .collect()
}

/// Moves the duplicate's contacts to the survivor; returns the moved ids.
pub async fn move_contacts(
    connection: &mut PgConnection,
    from: Uuid,
    to: Uuid,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "UPDATE contacts SET account_id = $2, version = version + 1, updated_at = now() \
         WHERE account_id = $1 RETURNING id",
    )
    .bind(from)
    .bind(to)
    .fetch_all(connection)
    .await
}

/// Re-parents the duplicate's child accounts (except the survivor itself).
pub async fn move_child_accounts(
    connection: &mut PgConnection,
    from: Uuid,
    to: Uuid,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "UPDATE accounts SET parent_account_id = $2, version = version + 1, updated_at = now() \
         WHERE parent_account_id = $1 AND id <> $2 RETURNING id",
    )
    .bind(from)
    .bind(to)
    .fetch_all(connection)
    .await
}

/// Filters of an account listing.
#[derive(Clone, Debug, Default)]
pub struct AccountFilter {
    pub name_contains: Option<String>,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub owner_id: Option<Uuid>,
    pub parent_account_id: Option<Uuid>,
    pub tag: Option<String>,
    pub size: Option<CompanySize>,
    pub include_archived: bool,
}

pub async fn list_accounts(
    connection: &mut PgConnection,
    visibility: &Visibility,
    filter: &AccountFilter,
    page: &Page,
) -> sqlx::Result<Vec<Account>> {
    let mut query =
        QueryBuilder::<Postgres>::new(format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE true"));
    if !filter.include_archived {
        query.push(" AND status = 1");
    }
    push_visibility(&mut query, visibility, OWNER_COLUMNS);
    if let Some(text) = &filter.name_contains {
        query
            .push(" AND name ILIKE ")
            .push_bind(contains_pattern(text));
    }
    if let Some(industry) = &filter.industry {
        query.push(" AND industry = ").push_bind(industry.clone());
    }
    if let Some(region) = &filter.region {
        query.push(" AND region = ").push_bind(region.clone());
    }
    if let Some(owner_id) = filter.owner_id {
        query.push(" AND owner_id = ").push_bind(owner_id);
    }
    if let Some(parent) = filter.parent_account_id {
        query.push(" AND parent_account_id = ").push_bind(parent);
    }
    if let Some(tag) = &filter.tag {
        query
            .push(" AND ")
            .push_bind(tag.to_lowercase())
            .push(" = ANY(tags)");
    }
    if let Some(size) = filter.size {
        query.push(" AND size = ").push_bind(size as i16);
    }
    page.push_keyset(&mut query);
    let rows: Vec<AccountRow> = query.build_query_as().fetch_all(connection).await?;
    rows.into_iter()
        .map(|row| Ok(Stored::try_from(row)?.record))
        .collect()
}

/// The sort key of a record under `order` (its column's value).
pub fn sort_key(
    order: SortOrder,
    name: &str,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
) -> SortKey {
    match order.column {
        "created_at" => SortKey::Time(created_at),
        "updated_at" => SortKey::Time(updated_at),
        _ => SortKey::Text(name.to_owned()),
    }
}
