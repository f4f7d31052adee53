//! SQL for accounts, contacts and merges, one file per entity. Nothing here decides anything:
//! rules live in `domain`, orchestration in `service`. Rows are private to their file and
//! converted to domain types; a stored value that does not convert is an error, never a default.

mod accounts;
mod contacts;
mod merges;
pub(crate) mod tiers;

use crm_platform::{auth::TeamPath, money::Money};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

pub(crate) use accounts::{
    AccountFilter, account_duplicate_candidates, get_account, insert_account, is_in_subtree,
    list_accounts, lock_account, move_child_accounts, move_contacts, sort_key, update_account,
};
pub(crate) use contacts::{
    ContactFilter, contact_duplicate_candidates, get_contact, insert_contact, list_contacts,
    lock_contact, update_contact,
};
pub(crate) use merges::{MergeRecord, insert_merge};

/// A stored record and who created it (idempotent creates compare the creator).
pub(crate) struct Stored<T> {
    pub record: T,
    pub created_by: Uuid,
}

/// A stored value outside its type's range: the row is corrupt.
fn corrupt(error: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(format!("corrupt row: {error}").into())
}

fn stored_team(path: &str) -> sqlx::Result<TeamPath> {
    TeamPath::parse(path).map_err(corrupt)
}

/// An amount and its currency stored side by side (both NULL: none).
fn stored_money(amount: Option<Decimal>, currency: Option<String>) -> sqlx::Result<Option<Money>> {
    match (amount, currency) {
        (None, None) => Ok(None),
        (Some(amount), Some(currency)) => Ok(Some(Money {
            currency: currency.parse().map_err(corrupt)?,
            amount,
        })),
        _ => Err(corrupt(
            "an amount without its currency, or a currency without an amount",
        )),
    }
}

/// After a move: the user's accounts and contacts belong to the new team. Versions are kept:
/// nothing about the records themselves changed, only who above the owner may see them.
pub(crate) async fn rescope_owner(
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
