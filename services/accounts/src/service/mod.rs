//! The accounts use cases: each one a transaction that checks access, applies the domain
//! rules, writes the records and their events (outbox) together.

mod accounts;
mod contacts;
mod conversion;
mod tiers;

use std::sync::Arc;

use crm_platform::{
    auth::{Caller, TeamPath},
    error::{CommonError, check_version},
    org::OrgDirectory,
    outbox::Outbox,
};
use sqlx::{PgConnection, PgPool};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::{domain::duplicates::ScoredCandidate, error::AccountsError};

type Result<T> = std::result::Result<T, AccountsError>;

/// The accounts service's use cases over its database and outbox.
#[derive(Clone)]
pub struct Accounts {
    pool: PgPool,
    outbox: Outbox,
    /// The organisation's directory: who owns what, and where new records are filed.
    directory: OrgDirectory,
    /// Wakes this process's tier re-evaluation job (new thresholds apply at once).
    reevaluation: Arc<Notify>,
}

impl Accounts {
    pub fn new(pool: PgPool, outbox: Outbox) -> Self {
        Self {
            pool,
            outbox,
            directory: OrgDirectory::default(),
            reevaluation: Arc::new(Notify::new()),
        }
    }

    /// Makes sure this service knows the caller, so records can be given to them by id.
    async fn remember(&self, connection: &mut PgConnection, caller: &Caller) -> Result<()> {
        Ok(self.directory.remember(connection, caller).await?)
    }

    /// The team the caller's new records are filed under (run after [`Accounts::remember`]).
    async fn filing_team(
        &self,
        connection: &mut PgConnection,
        caller: &Caller,
    ) -> Result<TeamPath> {
        Ok(self.directory.filing_team(connection, caller).await?)
    }

    /// The organisation's default calling code (the gateway's setting, as the org directory
    /// last heard it): what national phone numbers are read with. Read per request, so a
    /// change applies from the next one.
    /// A validation of phone numbers with the organisation's default calling code, read only
    /// when a national number needs it ([`OrgDirectory::validate_with_calling_code`]).
    pub async fn validate_with_calling_code<T>(
        &self,
        validate: impl Fn(
            Option<&str>,
        ) -> std::result::Result<T, Vec<crm_platform::error::FieldViolation>>,
    ) -> Result<std::result::Result<T, Vec<crm_platform::error::FieldViolation>>> {
        Ok(OrgDirectory::validate_with_calling_code(&self.pool, validate).await?)
    }

    pub async fn default_calling_code(&self) -> Result<Option<String>> {
        Ok(OrgDirectory::settings(&self.pool)
            .await?
            .default_calling_code)
    }
}

/// What accounts and contacts share for access checks.
pub(crate) trait OwnedRecord {
    const KIND: &'static str;
    fn owner_id(&self) -> Uuid;
    fn owner_team_path(&self) -> &TeamPath;
    fn version(&self) -> i64;
    fn merged_into(&self) -> Option<Uuid>;
}

/// The record if the caller may see it; a record out of reach looks like one that does not exist.
pub(crate) fn visible<R: OwnedRecord>(caller: &Caller, id: Uuid, record: Option<R>) -> Result<R> {
    match record {
        Some(record) if caller.can_access(record.owner_id(), record.owner_team_path()) => {
            Ok(record)
        }
        _ => Err(AccountsError::not_found(R::KIND, id)),
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
        return Err(CommonError::MergedAway {
            kind: R::KIND,
            id,
            into,
        }
        .into());
    }
    check_version(R::KIND, id, expected_version, record.version())?;
    Ok(record)
}

// Access checks take the caller's team from their token, the verified claim, not from the
// directory: after a team move the user sees by their old team until their token is refreshed
// (at most the access-token lifetime), while what they create is filed under the new team
// (`OrgDirectory::filing_team`) and their existing records were re-scoped by the move.

/// Who will own a record: the kit's rule ([`crm_platform::ownership::resolve_owner`]).
async fn resolve_owner(
    accounts: &Accounts,
    connection: &mut PgConnection,
    caller: &Caller,
    requested: Option<Uuid>,
    field: &str,
) -> Result<(Uuid, TeamPath)> {
    Ok(crm_platform::ownership::resolve_owner(
        &accounts.directory,
        connection,
        caller,
        requested,
        field,
    )
    .await?)
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
