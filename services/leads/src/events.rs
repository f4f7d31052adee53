//! Events the leads service consumes: accounts, so a converting lead is matched onto the
//! account that already exists.

use std::sync::Arc;

use crm_platform::{
    consumer::{ConsumerSpec, EventHandler, HandlerError, HandlerFuture, ReceivedEvent},
    events::DomainEvent,
};
use crm_proto::crm::accounts::v1::{
    Account, AccountArchived, AccountCreated, AccountStatus, AccountUpdated, AccountsMerged,
};
use crm_proto::crm::gateway::v1::{LifecycleStage, Role, User, UserCreated, UserUpdated};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::store;

pub fn account_directory() -> ConsumerSpec {
    ConsumerSpec {
        name: "leads-account-directory".to_owned(),
        producer: "accounts".to_owned(),
        subjects: vec![
            AccountCreated::subject(),
            AccountUpdated::subject(),
            AccountArchived::subject(),
            AccountsMerged::subject(),
        ],
    }
}

pub struct AccountDirectoryHandler;

impl AccountDirectoryHandler {
    pub fn new() -> Arc<Self> {
        Arc::new(Self)
    }
}

async fn remember(
    connection: &mut PgConnection,
    account: Option<Account>,
) -> Result<(), HandlerError> {
    let account = account
        .ok_or_else(|| HandlerError::Permanent(anyhow::anyhow!("event carries no account")))?;
    let id = Uuid::parse_str(&account.id)
        .map_err(|e| HandlerError::Permanent(anyhow::anyhow!("bad account id: {e}")))?;
    let domain = crm_contact_data::normalize_domain(&account.website);
    let active = account.status == AccountStatus::Active as i32;
    store::admin::upsert_account(connection, id, &account.name, domain.as_deref(), active).await?;
    Ok(())
}

impl EventHandler for AccountDirectoryHandler {
    fn handle<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a ReceivedEvent,
    ) -> HandlerFuture<'a> {
        Box::pin(async move {
            let subject = event.subject.as_str();
            if subject == AccountCreated::subject() {
                remember(connection, event.decode::<AccountCreated>()?.account).await
            } else if subject == AccountUpdated::subject() {
                remember(connection, event.decode::<AccountUpdated>()?.account).await
            } else if subject == AccountArchived::subject() {
                remember(connection, event.decode::<AccountArchived>()?.account).await
            } else {
                let merged: AccountsMerged = event.decode()?;
                if let Ok(duplicate) = Uuid::parse_str(&merged.duplicate_account_id) {
                    sqlx::query("UPDATE account_directory SET active = false, updated_at = now() WHERE account_id = $1")
                        .bind(duplicate)
                        .execute(&mut *connection)
                        .await?;
                }
                remember(connection, merged.survivor).await
            }
        })
    }
}

/// Org events: the rep roster follows the organisation (team, stage, start date, activity),
/// and a moved rep's leads follow them to the new team.
pub fn org_directory() -> ConsumerSpec {
    ConsumerSpec {
        name: "leads-org-directory".to_owned(),
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
            let user: User = user
                .ok_or_else(|| HandlerError::Permanent(anyhow::anyhow!("event carries no user")))?;
            let user_id = Uuid::parse_str(&user.id)
                .map_err(|e| HandlerError::Permanent(anyhow::anyhow!("bad user id: {e}")))?;
            let team_path = crm_platform::auth::TeamPath::parse(&user.team_path)
                .map_err(|e| HandlerError::Permanent(anyhow::anyhow!("bad team path: {e}")))?;
            let started_on = chrono::NaiveDate::parse_from_str(&user.started_on, "%Y-%m-%d")
                .map_err(|e| HandlerError::Permanent(anyhow::anyhow!("bad start date: {e}")))?;
            let stage =
                match LifecycleStage::try_from(user.stage).unwrap_or(LifecycleStage::Unspecified) {
                    LifecycleStage::New => "new",
                    LifecycleStage::Senior => "senior",
                    LifecycleStage::Established | LifecycleStage::Unspecified => "established",
                };
            let is_rep = user.role == Role::Rep as i32;
            store::admin::sync_rep_from_directory(
                connection,
                user_id,
                team_path.as_str(),
                &user.display_name,
                stage,
                started_on,
                is_rep,
                user.active,
            )
            .await?;
            if moved {
                store::admin::rescope_owned_leads(connection, user_id, team_path.as_str()).await?;
            }
            Ok(())
        })
    }
}
