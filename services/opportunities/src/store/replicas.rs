//! SQL for the accounts and contacts this service knows from the accounts service's events (and,
//! provisionally at version 0, from leads' conversions): deals and committees name them.

use sqlx::PgConnection;
use uuid::Uuid;

/// An account or contact as last published (accounts' status values: 1 active, 2 archived,
/// 3 merged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReplicaRecord {
    pub id: Uuid,
    pub name: String,
    pub status: i16,
    pub merged_into: Option<Uuid>,
    pub version: i64,
    /// Accounts: the owner and their team path, when known.
    pub owner: Option<(Uuid, String)>,
}

/// Keeps the account unless the row holds a later version.
pub(crate) async fn upsert_account(
    connection: &mut PgConnection,
    account: &ReplicaRecord,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO account_replicas (id, name, status, merged_into, version, owner_id, owner_team_path) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, status = EXCLUDED.status, \
         merged_into = EXCLUDED.merged_into, version = EXCLUDED.version, \
         owner_id = EXCLUDED.owner_id, owner_team_path = EXCLUDED.owner_team_path \
         WHERE account_replicas.version < EXCLUDED.version",
    )
    .bind(account.id)
    .bind(&account.name)
    .bind(account.status)
    .bind(account.merged_into)
    .bind(account.version)
    .bind(account.owner.as_ref().map(|(owner, _)| *owner))
    .bind(account.owner.as_ref().map(|(_, team)| team.as_str()))
    .execute(connection)
    .await
    .map(drop)
}

/// Keeps the contact (at `account_id`) unless the row holds a later version.
pub(crate) async fn upsert_contact(
    connection: &mut PgConnection,
    contact: &ReplicaRecord,
    account_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO contact_replicas (id, account_id, full_name, status, merged_into, version) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (id) DO UPDATE SET account_id = EXCLUDED.account_id, full_name = EXCLUDED.full_name, \
         status = EXCLUDED.status, merged_into = EXCLUDED.merged_into, version = EXCLUDED.version \
         WHERE contact_replicas.version < EXCLUDED.version",
    )
    .bind(contact.id)
    .bind(account_id)
    .bind(&contact.name)
    .bind(contact.status)
    .bind(contact.merged_into)
    .bind(contact.version)
    .execute(connection)
    .await
    .map(drop)
}

pub(crate) async fn get_account(
    connection: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<ReplicaRecord>> {
    #[derive(sqlx::FromRow)]
    struct AccountRow {
        id: Uuid,
        name: String,
        status: i16,
        merged_into: Option<Uuid>,
        version: i64,
        owner_id: Option<Uuid>,
        owner_team_path: Option<String>,
    }
    let row: Option<AccountRow> = sqlx::query_as(
        "SELECT id, name, status, merged_into, version, owner_id, owner_team_path \
         FROM account_replicas WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(connection)
    .await?;
    Ok(row.map(|row| ReplicaRecord {
        id: row.id,
        name: row.name,
        status: row.status,
        merged_into: row.merged_into,
        version: row.version,
        owner: row.owner_id.zip(row.owner_team_path),
    }))
}

/// The contacts among `ids` with their account.
pub(crate) async fn get_contacts(
    connection: &mut PgConnection,
    ids: &[Uuid],
) -> sqlx::Result<Vec<(ReplicaRecord, Uuid)>> {
    let rows: Vec<(Uuid, String, i16, Option<Uuid>, i64, Uuid)> = sqlx::query_as(
        "SELECT id, full_name, status, merged_into, version, account_id FROM contact_replicas WHERE id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(connection)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, status, merged_into, version, account_id)| {
            (
                ReplicaRecord {
                    id,
                    name,
                    status,
                    merged_into,
                    version,
                    owner: None,
                },
                account_id,
            )
        })
        .collect())
}

/// A merged account never comes back: marked whatever its replica's version.
pub(crate) async fn mark_account_merged(
    connection: &mut PgConnection,
    id: Uuid,
    into: Uuid,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO account_replicas (id, status, merged_into, version) VALUES ($1, 3, $2, 0) \
         ON CONFLICT (id) DO UPDATE SET status = 3, merged_into = $2",
    )
    .bind(id)
    .bind(into)
    .execute(connection)
    .await
    .map(drop)
}

/// A merged contact never comes back: marked whatever its replica's version.
pub(crate) async fn mark_contact_merged(
    connection: &mut PgConnection,
    id: Uuid,
    into: Uuid,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE contact_replicas SET status = 3, merged_into = $2 WHERE id = $1")
        .bind(id)
        .bind(into)
        .execute(connection)
        .await
        .map(drop)
}

/// After a team move: the user's accounts belong to the new team here as in the accounts
/// service (which re-scopes without events of its own).
pub(crate) async fn rescope_account_owner(
    connection: &mut PgConnection,
    owner_id: Uuid,
    team_path: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE account_replicas SET owner_team_path = $2 WHERE owner_id = $1 AND owner_team_path <> $2",
    )
    .bind(owner_id)
    .bind(team_path)
    .execute(connection)
    .await
    .map(drop)
}
