//! SQL for contacts: rows, duplicate candidates and listings.

use chrono::{DateTime, Utc};
use crm_platform::{
    access::{OWNER_COLUMNS, contains_pattern, push_visibility},
    auth::Visibility,
    paging::Page,
};
use crm_proto::crm::accounts::v1::BuyingRole;
use sqlx::{PgConnection, Postgres, QueryBuilder, types::Json};
use uuid::Uuid;

use super::{Stored, corrupt, stored_team};
use crate::domain::{
    RecordStatus,
    contact::{Contact, ImportantDate},
};

const CONTACT_COLUMNS: &str = "id, account_id, full_name, title, email, phone, mobile, wechat, \
    buying_role, important_dates, owner_id, owner_team_path, status, merged_into_contact_id, \
    version, created_by, created_at, updated_at";

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

impl TryFrom<ContactRow> for Stored<Contact> {
    type Error = sqlx::Error;

    fn try_from(row: ContactRow) -> sqlx::Result<Self> {
        Ok(Stored {
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
                buying_role: BuyingRole::try_from(i32::from(row.buying_role)).map_err(corrupt)?,
                important_dates: row.important_dates.0,
                owner_id: row.owner_id,
                owner_team_path: stored_team(&row.owner_team_path)?,
                status: RecordStatus::try_from(row.status).map_err(corrupt)?,
                merged_into_contact_id: row.merged_into_contact_id,
                version: row.version,
                created_at: row.created_at,
                updated_at: row.updated_at,
            },
        })
    }
}

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
    .bind(contact.owner_team_path.as_str())
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
    select_contact(connection, id, "").await
}

/// Reads and locks the contact for the rest of the transaction.
pub async fn lock_contact(
    connection: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<Contact>> {
    Ok(select_contact(connection, id, " FOR UPDATE")
        .await?
        .map(|stored| stored.record))
}

/// The contact with this id; `lock` is empty or a locking clause.
async fn select_contact(
    connection: &mut PgConnection,
    id: Uuid,
    lock: &'static str,
) -> sqlx::Result<Option<Stored<Contact>>> {
    let row: Option<ContactRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CONTACT_COLUMNS} FROM contacts WHERE id = $1{lock}"
    )))
    .bind(id)
    .fetch_optional(connection)
    .await?;
    row.map(Stored::try_from).transpose()
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
    .bind(contact.owner_team_path.as_str())
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
    rows.into_iter()
        .map(|row| Ok(Stored::try_from(row)?.record))
        .collect()
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
    page: &Page,
) -> sqlx::Result<Vec<Contact>> {
    let mut query =
        QueryBuilder::<Postgres>::new(format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE true"));
    if !filter.include_archived {
        query.push(" AND status = 1");
    }
    push_visibility(&mut query, visibility, OWNER_COLUMNS);
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
    page.push_keyset(&mut query);
    let rows: Vec<ContactRow> = query.build_query_as().fetch_all(connection).await?;
    rows.into_iter()
        .map(|row| Ok(Stored::try_from(row)?.record))
        .collect()
}
