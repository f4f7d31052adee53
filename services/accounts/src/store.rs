//! SQL for accounts, contacts, merges and known users. Nothing here decides anything: rules
//! live in `domain`, orchestration in `service`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use crm_platform::{
    auth::{Caller, TeamPath, Visibility},
    paging::{Cursor, Page},
};
use crm_proto::crm::accounts::v1::{BuyingRole, CompanySize};
use sqlx::{PgConnection, Postgres, QueryBuilder, types::Json};
use uuid::Uuid;

use crate::domain::{
    RecordStatus,
    account::Account,
    contact::{Contact, ImportantDate},
};

const ACCOUNT_COLUMNS: &str = "id, name, parent_account_id, industry, region, size, website, phone, \
    owner_id, owner_team_path, tags, custom_fields, status, merged_into_account_id, version, \
    created_by, created_at, updated_at";

const CONTACT_COLUMNS: &str = "id, account_id, full_name, title, email, phone, mobile, wechat, \
    buying_role, important_dates, owner_id, owner_team_path, status, merged_into_contact_id, \
    version, created_by, created_at, updated_at";

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
}

/// A stored record and who created it (idempotent creates compare the creator).
pub struct Stored<T> {
    pub record: T,
    pub created_by: Uuid,
}

impl From<AccountRow> for Stored<Account> {
    fn from(row: AccountRow) -> Self {
        Stored {
            created_by: row.created_by,
            record: Account {
                id: row.id,
                name: row.name,
                parent_account_id: row.parent_account_id,
                industry: row.industry,
                region: row.region,
                size: CompanySize::try_from(i32::from(row.size))
                    .unwrap_or(CompanySize::Unspecified),
                website: row.website,
                phone: row.phone,
                owner_id: row.owner_id,
                owner_team_path: row.owner_team_path,
                tags: row.tags,
                custom_fields: row.custom_fields.0,
                status: RecordStatus::from_i16(row.status),
                merged_into_account_id: row.merged_into_account_id,
                version: row.version,
                created_at: row.created_at,
                updated_at: row.updated_at,
            },
        }
    }
}

#[derive(sqlx::FromRow)]
struct ContactRow {
    id: Uuid,
    account_id: Uuid,
    full_name: String,
    title: String,
    email: Option<String>,
    phone: Option<String>,
    mobile: Option<String>,
    wechat: String,
    buying_role: i16,
    important_dates: Json<Vec<ImportantDate>>,
    owner_id: Uuid,
    owner_team_path: String,
    status: i16,
    merged_into_contact_id: Option<Uuid>,
    version: i64,
    created_by: Uuid,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<ContactRow> for Stored<Contact> {
    fn from(row: ContactRow) -> Self {
        Stored {
            created_by: row.created_by,
            record: Contact {
                id: row.id,
                account_id: row.account_id,
                full_name: row.full_name,
                title: row.title,
                email: row.email,
                phone: row.phone,
                mobile: row.mobile,
                wechat: row.wechat,
                buying_role: BuyingRole::try_from(i32::from(row.buying_role))
                    .unwrap_or(BuyingRole::Unspecified),
                important_dates: row.important_dates.0,
                owner_id: row.owner_id,
                owner_team_path: row.owner_team_path,
                status: RecordStatus::from_i16(row.status),
                merged_into_contact_id: row.merged_into_contact_id,
                version: row.version,
                created_at: row.created_at,
                updated_at: row.updated_at,
            },
        }
    }
}

// ---- accounts ----

/// Inserts unless the id exists; `false` when it did (a retried create).
pub async fn insert_account(
    connection: &mut PgConnection,
    account: &Account,
    created_by: Uuid,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO accounts (id, name, name_key, domain, parent_account_id, industry, region, size, \
         website, phone, owner_id, owner_team_path, tags, custom_fields, status, version, created_by, \
         created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18) \
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
    .bind(&account.owner_team_path)
    .bind(&account.tags)
    .bind(Json(&account.custom_fields))
    .bind(account.status as i16)
    .bind(account.version)
    .bind(created_by)
    .bind(account.created_at)
    .execute(connection)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

pub async fn get_account(
    connection: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<Stored<Account>>> {
    let row: Option<AccountRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(connection)
    .await?;
    Ok(row.map(Stored::from))
}

/// Reads and locks the account for the rest of the transaction.
pub async fn lock_account(
    connection: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<Account>> {
    let row: Option<AccountRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1 FOR UPDATE"
    )))
    .bind(id)
    .fetch_optional(connection)
    .await?;
    Ok(row.map(|row| Stored::from(row).record))
}

/// Writes every mutable field of `account` (its version already bumped by the caller).
pub async fn update_account(connection: &mut PgConnection, account: &Account) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE accounts SET name = $2, name_key = $3, domain = $4, parent_account_id = $5, industry = $6, \
         region = $7, size = $8, website = $9, phone = $10, owner_id = $11, owner_team_path = $12, \
         tags = $13, custom_fields = $14, status = $15, merged_into_account_id = $16, version = $17, \
         updated_at = $18 WHERE id = $1",
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
    .bind(&account.owner_team_path)
    .bind(&account.tags)
    .bind(Json(&account.custom_fields))
    .bind(account.status as i16)
    .bind(account.merged_into_account_id)
    .bind(account.version)
    .bind(account.updated_at)
    .execute(connection)
    .await?;
    Ok(())
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
    Ok(rows
        .into_iter()
        .map(|row| Stored::from(row).record)
        .collect())
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

/// Sortable columns and direction; `key` is the cursor's sort name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sort {
    pub column: SortColumn,
    pub descending: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortColumn {
    CreatedAt,
    UpdatedAt,
    /// `name` for accounts, `full_name` for contacts.
    Name,
}

impl Sort {
    pub fn key(&self) -> String {
        format!(
            "{:?}:{}",
            self.column,
            if self.descending { "desc" } else { "asc" }
        )
    }

    fn sql_column(&self, name_column: &str) -> String {
        match self.column {
            SortColumn::CreatedAt => "created_at".to_owned(),
            SortColumn::UpdatedAt => "updated_at".to_owned(),
            SortColumn::Name => name_column.to_owned(),
        }
    }
}

pub async fn list_accounts(
    connection: &mut PgConnection,
    visibility: &Visibility,
    filter: &AccountFilter,
    sort: Sort,
    page: &Page,
) -> sqlx::Result<Vec<Account>> {
    let mut query =
        QueryBuilder::<Postgres>::new(format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE true"));
    if !filter.include_archived {
        query.push(" AND status = 1");
    }
    push_visibility(&mut query, visibility);
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
    push_keyset(&mut query, sort, "name", page);
    let rows: Vec<AccountRow> = query.build_query_as().fetch_all(connection).await?;
    Ok(rows
        .into_iter()
        .map(|row| Stored::from(row).record)
        .collect())
}

/// The cursor for the row after which the next page starts.
pub fn cursor_after(
    sort: Sort,
    name: &str,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    id: Uuid,
) -> Cursor {
    let sort_key = match sort.column {
        SortColumn::CreatedAt => created_at.to_rfc3339(),
        SortColumn::UpdatedAt => updated_at.to_rfc3339(),
        SortColumn::Name => name.to_owned(),
    };
    Cursor {
        sort_key,
        id,
        sort: sort.key(),
    }
}

fn push_visibility(query: &mut QueryBuilder<Postgres>, visibility: &Visibility) {
    match visibility {
        Visibility::All => {}
        // Team paths are validated to [a-z0-9-/], so they hold no LIKE wildcards.
        Visibility::TeamSubtree(path) => {
            query
                .push(" AND owner_team_path LIKE ")
                .push_bind(format!("{path}%"));
        }
        Visibility::Own(user_id) => {
            query.push(" AND owner_id = ").push_bind(*user_id);
        }
    }
}

fn push_keyset(query: &mut QueryBuilder<Postgres>, sort: Sort, name_column: &str, page: &Page) {
    let column = sort.sql_column(name_column);
    let (comparison, direction) = if sort.descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    if let Some(cursor) = &page.after {
        query.push(format!(" AND ({column}, id) {comparison} ("));
        match sort.column {
            SortColumn::Name => {
                query.push_bind(cursor.sort_key.clone());
            }
            SortColumn::CreatedAt | SortColumn::UpdatedAt => {
                let time = DateTime::parse_from_rfc3339(&cursor.sort_key)
                    .map(|time| time.with_timezone(&Utc))
                    .unwrap_or_default();
                query.push_bind(time);
            }
        }
        query.push(", ").push_bind(cursor.id).push(")");
    }
    query
        .push(format!(
            " ORDER BY {column} {direction}, id {direction} LIMIT "
        ))
        .push_bind(page.fetch_limit());
}

fn contains_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

// ---- contacts ----

pub async fn insert_contact(
    connection: &mut PgConnection,
    contact: &Contact,
    created_by: Uuid,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO contacts (id, account_id, full_name, name_key, title, email, phone, mobile, wechat, \
         buying_role, important_dates, owner_id, owner_team_path, status, version, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(contact.id)
    .bind(contact.account_id)
    .bind(&contact.full_name)
    .bind(crm_contact_data::normalize_person_name(&contact.full_name))
    .bind(&contact.title)
    .bind(&contact.email)
    .bind(&contact.phone)
    .bind(&contact.mobile)
    .bind(&contact.wechat)
    .bind(contact.buying_role as i16)
    .bind(Json(&contact.important_dates))
    .bind(contact.owner_id)
    .bind(&contact.owner_team_path)
    .bind(contact.status as i16)
    .bind(contact.version)
    .bind(created_by)
    .bind(contact.created_at)
    .execute(connection)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

pub async fn get_contact(
    connection: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<Stored<Contact>>> {
    let row: Option<ContactRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CONTACT_COLUMNS} FROM contacts WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(connection)
    .await?;
    Ok(row.map(Stored::from))
}

pub async fn lock_contact(
    connection: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<Contact>> {
    let row: Option<ContactRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CONTACT_COLUMNS} FROM contacts WHERE id = $1 FOR UPDATE"
    )))
    .bind(id)
    .fetch_optional(connection)
    .await?;
    Ok(row.map(|row| Stored::from(row).record))
}

pub async fn update_contact(connection: &mut PgConnection, contact: &Contact) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE contacts SET account_id = $2, full_name = $3, name_key = $4, title = $5, email = $6, phone = $7, \
         mobile = $8, wechat = $9, buying_role = $10, important_dates = $11, owner_id = $12, owner_team_path = $13, \
         status = $14, merged_into_contact_id = $15, version = $16, updated_at = $17 WHERE id = $1",
    )
    .bind(contact.id)
    .bind(contact.account_id)
    .bind(&contact.full_name)
    .bind(crm_contact_data::normalize_person_name(&contact.full_name))
    .bind(&contact.title)
    .bind(&contact.email)
    .bind(&contact.phone)
    .bind(&contact.mobile)
    .bind(&contact.wechat)
    .bind(contact.buying_role as i16)
    .bind(Json(&contact.important_dates))
    .bind(contact.owner_id)
    .bind(&contact.owner_team_path)
    .bind(contact.status as i16)
    .bind(contact.merged_into_contact_id)
    .bind(contact.version)
    .bind(contact.updated_at)
    .execute(connection)
    .await?;
    Ok(())
}

/// Active contacts with the same email or phone anywhere, or a similar name at the same account.
pub async fn contact_duplicate_candidates(
    connection: &mut PgConnection,
    account_id: Uuid,
    name_key: &str,
    email: Option<&str>,
    phones: &[String],
    exclude: Option<Uuid>,
) -> sqlx::Result<Vec<Contact>> {
    let rows: Vec<ContactRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        // A union, not OR, so that each branch uses its index.
        "SELECT {CONTACT_COLUMNS} FROM contacts WHERE id IN ( \
           SELECT id FROM contacts WHERE email = $3 \
           UNION SELECT id FROM contacts WHERE phone = ANY($4) \
           UNION SELECT id FROM contacts WHERE mobile = ANY($4) \
           UNION SELECT id FROM contacts WHERE account_id = $1 AND (name_key = $2 OR name_key % $2)) \
         AND status = 1 AND ($5::uuid IS NULL OR id <> $5) \
         LIMIT 20"
    )))
    .bind(account_id)
    .bind(name_key)
    .bind(email)
    .bind(phones)
    .bind(exclude)
    .fetch_all(connection)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| Stored::from(row).record)
        .collect())
}

#[derive(Clone, Debug, Default)]
pub struct ContactFilter {
    pub account_id: Option<Uuid>,
    pub name_contains: Option<String>,
    pub email: Option<String>,
    pub buying_role: Option<BuyingRole>,
    pub owner_id: Option<Uuid>,
    pub include_archived: bool,
}

pub async fn list_contacts(
    connection: &mut PgConnection,
    visibility: &Visibility,
    filter: &ContactFilter,
    sort: Sort,
    page: &Page,
) -> sqlx::Result<Vec<Contact>> {
    let mut query =
        QueryBuilder::<Postgres>::new(format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE true"));
    if !filter.include_archived {
        query.push(" AND status = 1");
    }
    push_visibility(&mut query, visibility);
    if let Some(account_id) = filter.account_id {
        query.push(" AND account_id = ").push_bind(account_id);
    }
    if let Some(text) = &filter.name_contains {
        query
            .push(" AND full_name ILIKE ")
            .push_bind(contains_pattern(text));
    }
    if let Some(email) = &filter.email {
        query.push(" AND email = ").push_bind(email.clone());
    }
    if let Some(role) = filter.buying_role {
        query.push(" AND buying_role = ").push_bind(role as i16);
    }
    if let Some(owner_id) = filter.owner_id {
        query.push(" AND owner_id = ").push_bind(owner_id);
    }
    push_keyset(&mut query, sort, "full_name", page);
    let rows: Vec<ContactRow> = query.build_query_as().fetch_all(connection).await?;
    Ok(rows
        .into_iter()
        .map(|row| Stored::from(row).record)
        .collect())
}

// ---- merges and users ----

pub struct MergeRecord<'a> {
    pub id: Uuid,
    pub kind: &'static str,
    pub survivor_id: Uuid,
    pub duplicate_id: Uuid,
    pub merged_by: Uuid,
    pub survivor_before: serde_json::Value,
    pub duplicate_before: serde_json::Value,
    pub moved: &'a serde_json::Value,
}

pub async fn insert_merge(
    connection: &mut PgConnection,
    merge: &MergeRecord<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO merges (id, kind, survivor_id, duplicate_id, merged_by, survivor_before, duplicate_before, moved) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(merge.id)
    .bind(merge.kind)
    .bind(merge.survivor_id)
    .bind(merge.duplicate_id)
    .bind(merge.merged_by)
    .bind(&merge.survivor_before)
    .bind(&merge.duplicate_before)
    .bind(merge.moved)
    .execute(connection)
    .await?;
    Ok(())
}

/// Where the team in a `known_users` row came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TeamSource {
    /// The organisation's directory (org events): authoritative, never changed by a token.
    Directory,
    /// A token of the user's own: a fallback until the directory tells us about the user.
    Token,
}

/// Remembers the caller, so records can later be given to them by id. The token's team is
/// recorded only for a user the directory has not told us about: a token can predate a team
/// move by up to the access-token lifetime, and must not roll the directory back. Reads first:
/// an upsert would row-lock the user's row until commit and queue every concurrent write by
/// the same user behind it. Returns where the row's team came from when the row was already
/// there needing nothing (committed by someone else); `None` when this call wrote it.
pub async fn remember_user(
    connection: &mut PgConnection,
    caller: &Caller,
) -> sqlx::Result<Option<TeamSource>> {
    let known: Option<(String, bool)> =
        sqlx::query_as("SELECT team_path, from_directory FROM known_users WHERE user_id = $1")
            .bind(caller.user_id)
            .fetch_optional(&mut *connection)
            .await?;
    match known {
        Some((_, true)) => return Ok(Some(TeamSource::Directory)),
        Some((team_path, false)) if team_path == caller.team_path.as_str() => {
            return Ok(Some(TeamSource::Token));
        }
        _ => {}
    }
    // The guard covers a directory row committed since the read.
    sqlx::query(
        "INSERT INTO known_users (user_id, team_path) VALUES ($1, $2) \
         ON CONFLICT (user_id) DO UPDATE SET team_path = EXCLUDED.team_path, updated_at = now() \
         WHERE NOT known_users.from_directory",
    )
    .bind(caller.user_id)
    .bind(caller.team_path.as_str())
    .execute(connection)
    .await?;
    Ok(None)
}

/// Records a user's team as the organisation says (org events); from now on the user's tokens
/// never change it.
pub async fn record_user_team(
    connection: &mut PgConnection,
    user_id: Uuid,
    team_path: &TeamPath,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO known_users (user_id, team_path, from_directory) VALUES ($1, $2, true) \
         ON CONFLICT (user_id) DO UPDATE SET team_path = EXCLUDED.team_path, \
         from_directory = true, updated_at = now()",
    )
    .bind(user_id)
    .bind(team_path.as_str())
    .execute(connection)
    .await?;
    Ok(())
}

/// After a move: the user's accounts and contacts belong to the new team. Versions are kept:
/// nothing about the records themselves changed, only who above the owner may see them.
pub async fn rescope_owner(
    connection: &mut PgConnection,
    user_id: Uuid,
    team_path: &TeamPath,
) -> sqlx::Result<()> {
    for table in ["accounts", "contacts"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {table} SET owner_team_path = $2 WHERE owner_id = $1 AND owner_team_path <> $2"
        )))
        .bind(user_id)
        .bind(team_path.as_str())
        .execute(&mut *connection)
        .await?;
    }
    Ok(())
}

/// The team a user's records are filed under: the directory's when it knows the user, else
/// the one their last token carried. The row is share-locked to the end of the transaction, so
/// a concurrent team move either waits for the record being filed (and then re-scopes it) or
/// commits first (and this reads the new team): a record is never filed under the old team
/// after the move's re-scoping ran.
pub async fn user_team(
    connection: &mut PgConnection,
    user_id: Uuid,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT team_path FROM known_users WHERE user_id = $1 FOR SHARE")
        .bind(user_id)
        .fetch_optional(connection)
        .await
}
