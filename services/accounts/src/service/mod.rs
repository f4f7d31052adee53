//! The accounts use cases: each one a transaction that checks access, applies the domain
//! rules, writes the records and their events (outbox) together.

mod accounts;
mod contacts;
mod conversion;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use crm_platform::{
    auth::{Caller, Role, TeamPath},
    events::DomainEvent,
    outbox::{Aggregate, Outbox},
    paging::Page,
};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::{domain::duplicates::ScoredCandidate, error::AccountsError, store};

pub use accounts::MergedAccounts;

type Result<T> = std::result::Result<T, AccountsError>;

/// The accounts service's use cases over its database and outbox.
#[derive(Clone)]
pub struct Accounts {
    pool: PgPool,
    outbox: Outbox,
    /// Users whose `known_users` row needs nothing from their token (see [`Accounts::remember`]).
    known_users: Arc<Mutex<HashMap<Uuid, KnownUser>>>,
    /// Calling code for national phone numbers ("86"), from `CRM_DEFAULT_CALLING_CODE`.
    default_calling_code: Option<String>,
}

/// What the process knows needs no write for a user (see [`Accounts::remember`]).
#[derive(Clone, Debug, PartialEq, Eq)]
enum KnownUser {
    /// The organisation's directory knows the user: no token changes their row.
    InDirectory,
    /// The row holds this team from the user's token, and the directory had not spoken.
    ByToken(TeamPath),
}

/// A page of records and the cursor of the last one, if more follow.
pub struct Listing<T> {
    pub records: Vec<T>,
    pub next_page_token: String,
}

impl Accounts {
    pub fn new(pool: PgPool, outbox: Outbox, default_calling_code: Option<String>) -> Self {
        Self {
            pool,
            outbox,
            known_users: Arc::default(),
            default_calling_code,
        }
    }

    /// Makes sure this service knows the caller, so records can be given to them by id: their
    /// token's team is recorded only while the organisation's directory has not told us about
    /// them (`store::remember_user`). A process cache saves the database read on the writes
    /// that file nothing under the caller's team; only a committed, confirmed row is cached.
    ///
    /// The cache never serves a team, only "nothing to write": a user the directory knows (that
    /// never reverts), or a user whose token-fed row already holds this token's team. Caching
    /// the directory's team itself would be wrong: a move is consumed by one replica only (the
    /// consumer is durable and shared), so other replicas could not invalidate their copy, and
    /// even in this one an invalidation could race a read of the not-yet-moved row. The team a
    /// caller's own records are filed under is read in the transaction instead
    /// ([`filing_team`]), under a share lock that orders it with a concurrent move.
    async fn remember(&self, connection: &mut PgConnection, caller: &Caller) -> Result<()> {
        let cached = match self
            .known_users
            .lock()
            .expect("known users lock poisoned")
            .get(&caller.user_id)
        {
            Some(KnownUser::InDirectory) => true,
            Some(KnownUser::ByToken(team_path)) => *team_path == caller.team_path,
            None => false,
        };
        if cached {
            return Ok(());
        }
        if let Some(source) = store::remember_user(connection, caller).await? {
            let known = match source {
                store::TeamSource::Directory => KnownUser::InDirectory,
                store::TeamSource::Token => KnownUser::ByToken(caller.team_path.clone()),
            };
            self.known_users
                .lock()
                .expect("known users lock poisoned")
                .insert(caller.user_id, known);
        }
        Ok(())
    }

    pub fn default_calling_code(&self) -> Option<&str> {
        self.default_calling_code.as_deref()
    }

    // ---- accounts ----

    /// Enqueues `event` for the record in the caller's transaction.
    async fn publish<E: DomainEvent>(
        &self,
        connection: &mut PgConnection,
        kind: &'static str,
        id: Uuid,
        version: i64,
        event: E,
    ) -> Result<()> {
        let id = id.to_string();
        self.outbox
            .enqueue(
                connection,
                Aggregate {
                    kind,
                    id: &id,
                    version,
                },
                &event,
            )
            .await?;
        Ok(())
    }
}

/// What accounts and contacts share for access checks.
pub(crate) trait OwnedRecord {
    const KIND: &'static str;
    fn owner_id(&self) -> Uuid;
    fn owner_team_path(&self) -> &str;
    fn version(&self) -> i64;
    fn merged_into(&self) -> Option<Uuid>;
}

/// The record if the caller may see it; a record out of reach looks like one that does not exist.
pub(crate) fn visible<R: OwnedRecord>(caller: &Caller, id: Uuid, record: Option<R>) -> Result<R> {
    match record {
        Some(record) if can_access(caller, record.owner_id(), record.owner_team_path()) => {
            Ok(record)
        }
        _ => Err(AccountsError::NotFound { kind: R::KIND, id }),
    }
}

/// A (locked) record the caller may change: visible, not merged away, at the expected version.
pub(crate) fn locked_for_change<R: OwnedRecord>(
    caller: &Caller,
    id: Uuid,
    record: Option<R>,
    expected_version: Option<i64>,
) -> Result<R> {
    let record = visible(caller, id, record)?;
    if let Some(into) = record.merged_into() {
        return Err(AccountsError::FailedPrecondition(format!(
            "{} {id} was merged into {into}",
            R::KIND
        )));
    }
    if let Some(expected) = expected_version
        && expected != record.version()
    {
        return Err(AccountsError::VersionConflict {
            kind: R::KIND,
            id,
            expected,
            actual: record.version(),
        });
    }
    Ok(record)
}

/// Access checks take the caller's team from their token, the verified claim, not from the
/// directory: after a team move the user sees by their old team until their token is refreshed
/// (at most the access-token lifetime), while what they create is filed under the new team
/// ([`filing_team`]) and their existing records were re-scoped by the move.
fn can_access(caller: &Caller, owner_id: Uuid, owner_team_path: &str) -> bool {
    match TeamPath::parse(owner_team_path) {
        Ok(path) => caller.can_access(owner_id, &path),
        Err(_) => caller.role == Role::Admin,
    }
}

/// The team a user's new records are filed under: the organisation's directory's when it knows
/// the user, else the team their token carries (run after [`Accounts::remember`]). A token can
/// predate a team move by up to the access-token lifetime, and a record filed under the old team
/// after the move's re-scoping would stay there.
async fn filing_team(connection: &mut PgConnection, user: &Caller) -> Result<String> {
    Ok(store::user_team(connection, user.user_id)
        .await?
        .unwrap_or_else(|| user.team_path.to_string()))
}

/// Who will own a record: the caller, or (for managers and admins) a user in their reach.
async fn resolve_owner(
    connection: &mut PgConnection,
    caller: &Caller,
    requested: Option<Uuid>,
    field: &str,
) -> Result<(Uuid, String)> {
    let Some(owner_id) = requested.filter(|owner| *owner != caller.user_id) else {
        return Ok((caller.user_id, filing_team(connection, caller).await?));
    };
    if caller.role == Role::Rep {
        return Err(AccountsError::PermissionDenied(
            "only managers and admins may give records to someone else".to_owned(),
        ));
    }
    let Some(team_path) = store::user_team(connection, owner_id).await? else {
        return Err(AccountsError::invalid(
            field,
            "is not a user known to this service",
        ));
    };
    if !can_access(caller, owner_id, &team_path) {
        return Err(AccountsError::PermissionDenied(format!(
            "user {owner_id} is outside your team"
        )));
    }
    Ok((owner_id, team_path))
}

/// Trims the extra row fetched to detect a next page and returns the next page's token.
fn next_page<T>(records: &mut Vec<T>, page: &Page, cursor: impl Fn(&T) -> String) -> String {
    if records.len() <= page.size as usize {
        return String::new();
    }
    records.truncate(page.size as usize);
    records.last().map(cursor).unwrap_or_default()
}

fn describe_matches(scored: &[ScoredCandidate]) -> String {
    scored
        .iter()
        .filter(|candidate| candidate.is_likely())
        .map(|candidate| {
            if candidate.visible {
                format!(
                    "{} ({}, score {})",
                    candidate.display_name, candidate.id, candidate.score
                )
            } else {
                format!("a record owned by another team (score {})", candidate.score)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}
