//! The compensation service's use cases, one transaction each (the event handlers' transaction
//! is the consumer's, which also records the event as handled).

pub mod ledger;
mod plans;
pub mod quotas;
mod reach;
mod run;
mod statements;

use crm_platform::{auth::Caller, org::OrgDirectory, outbox::Outbox};
use sqlx::{PgConnection, PgPool};

pub use plans::{AssignmentInput, PlanInput};

use crate::error::CompensationError;

type Result<T> = std::result::Result<T, CompensationError>;

/// The compensation service's use cases over its database and outbox.
#[derive(Clone)]
pub struct Compensation {
    pool: PgPool,
    outbox: Outbox,
    directory: OrgDirectory,
}

impl Compensation {
    pub fn new(pool: PgPool, outbox: Outbox) -> Self {
        Self {
            pool,
            outbox,
            directory: OrgDirectory::default(),
        }
    }

    /// Makes sure the service knows the caller (the directory's fallback for a user it has not
    /// heard of: the token's team), so others can find them by id — a manager their rep, an
    /// admin the rep they assign.
    async fn know(&self, connection: &mut PgConnection, caller: &Caller) -> Result<()> {
        self.directory.remember(connection, caller).await?;
        Ok(())
    }
}
