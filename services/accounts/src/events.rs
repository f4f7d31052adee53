//! Events the accounts service consumes.

use std::sync::Arc;

use crm_platform::{
    consumer::{ConsumerSpec, EventHandler, HandlerError, HandlerFuture, ReceivedEvent},
    error::{ErrorCode, ServiceError},
    events::DomainEvent,
};
use crm_proto::crm::{
    gateway::v1::{UserCreated, UserUpdated},
    leads::v1::LeadConverted,
};
use sqlx::PgConnection;

use crate::service::Accounts;

/// `lead_converted`: create the account (when new) and the contact with the ids leads chose.
pub fn lead_conversions() -> ConsumerSpec {
    ConsumerSpec {
        name: "accounts-lead-conversions".to_owned(),
        producer: "leads".to_owned(),
        subjects: vec![LeadConverted::subject()],
    }
}

pub struct LeadConversionHandler {
    accounts: Accounts,
}

impl LeadConversionHandler {
    pub fn new(accounts: Accounts) -> Arc<Self> {
        Arc::new(Self { accounts })
    }
}

impl EventHandler for LeadConversionHandler {
    fn handle<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a ReceivedEvent,
    ) -> HandlerFuture<'a> {
        Box::pin(async move {
            let conversion: LeadConverted = event.decode()?;
            self.accounts
                .apply_lead_conversion(connection, &conversion)
                .await
                .map_err(|error| match error.code() {
                    // Bad data will be bad on every delivery.
                    ErrorCode::InvalidArgument | ErrorCode::NotFound => HandlerError::Permanent(
                        anyhow::anyhow!("{error}: {:?}", error.field_violations()),
                    ),
                    _ => HandlerError::Transient(error.into()),
                })
        })
    }
}

/// Org events: who is in which team. A move re-scopes the user's accounts and contacts, so
/// visibility follows the user to the new team.
pub fn org_directory() -> ConsumerSpec {
    ConsumerSpec {
        name: "accounts-org-directory".to_owned(),
        producer: "gateway".to_owned(),
        subjects: vec![UserCreated::subject(), UserUpdated::subject()],
    }
}

pub struct OrgDirectoryHandler;

impl EventHandler for OrgDirectoryHandler {
    fn handle<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a ReceivedEvent,
    ) -> HandlerFuture<'a> {
        Box::pin(async move {
            let (user, moved) = if event.subject == UserCreated::subject() {
                (event.decode::<UserCreated>()?.user, false)
            } else {
                let updated: UserUpdated = event.decode()?;
                (updated.user, !updated.previous_team_path.is_empty())
            };
            let user = user
                .ok_or_else(|| HandlerError::Permanent(anyhow::anyhow!("event carries no user")))?;
            let user_id = uuid::Uuid::parse_str(&user.id)
                .map_err(|e| HandlerError::Permanent(anyhow::anyhow!("bad user id: {e}")))?;
            let team_path = crm_platform::auth::TeamPath::parse(&user.team_path)
                .map_err(|e| HandlerError::Permanent(anyhow::anyhow!("bad team path: {e}")))?;
            crate::store::record_user_team(connection, user_id, &team_path).await?;
            if moved {
                crate::store::rescope_owner(connection, user_id, &team_path).await?;
            }
            Ok(())
        })
    }
}
