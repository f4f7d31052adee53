//! Events the leads service consumes: accounts' events, so a converting lead is matched onto
//! the account that already exists; the gateway's org events, through the platform's
//! directory replica, so the rep roster and owned leads follow the organisation; and the
//! opportunities service's deal events, so the campaign funnel counts won revenue
//! ([`campaign_deals`]). Subjects are dispatched exhaustively: one this service does not know
//! is a permanent error (dead-lettered), never a guess.

mod campaign_deals;

pub use campaign_deals::{CampaignDealsHandler, campaign_deals};

use std::sync::Arc;

use crm_platform::{
    auth::Role,
    consumer::{ConsumerSpec, EventHandler, HandlerError, HandlerFuture, ReceivedEvent},
    events::DomainEvent,
    org::{self, OrgChange, OrgDirectoryHandler, OrgFollower},
};
use crm_proto::crm::accounts::v1::{
    Account, AccountArchived, AccountCreated, AccountStatus, AccountUpdated, AccountsMerged,
};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{convert, store};

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

/// An account event, decoded.
#[derive(Debug)]
enum AccountChange {
    /// Created, updated or archived: the account as it now is.
    Changed(Account),
    /// The duplicate is gone; the survivor as it now is.
    Merged {
        duplicate_id: Option<Uuid>,
        survivor: Account,
    },
}

impl AccountChange {
    fn decode(event: &ReceivedEvent) -> Result<Self, HandlerError> {
        let subject = event.subject.as_str();
        let account = if subject == AccountCreated::subject() {
            event.decode::<AccountCreated>()?.account
        } else if subject == AccountUpdated::subject() {
            event.decode::<AccountUpdated>()?.account
        } else if subject == AccountArchived::subject() {
            event.decode::<AccountArchived>()?.account
        } else if subject == AccountsMerged::subject() {
            let merged: AccountsMerged = event.decode()?;
            return Ok(AccountChange::Merged {
                duplicate_id: Uuid::parse_str(&merged.duplicate_account_id).ok(),
                survivor: required(merged.survivor)?,
            });
        } else {
            return Err(org::unknown_subject(event));
        };
        Ok(AccountChange::Changed(required(account)?))
    }
}

fn required(account: Option<Account>) -> Result<Account, HandlerError> {
    account.ok_or_else(|| HandlerError::Permanent(anyhow::anyhow!("event carries no account")))
}

/// Keeps `account_directory`, the accounts a conversion can match.
pub struct AccountDirectoryHandler;

impl AccountDirectoryHandler {
    pub fn new() -> Arc<Self> {
        Arc::new(Self)
    }
}

impl EventHandler for AccountDirectoryHandler {
    fn handle<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a ReceivedEvent,
    ) -> HandlerFuture<'a> {
        Box::pin(async move {
            match AccountChange::decode(event)? {
                AccountChange::Changed(account) => remember(connection, &account).await,
                AccountChange::Merged {
                    duplicate_id,
                    survivor,
                } => {
                    if let Some(duplicate_id) = duplicate_id {
                        store::admin::deactivate_account(connection, duplicate_id).await?;
                    }
                    remember(connection, &survivor).await
                }
            }
        })
    }
}

async fn remember(connection: &mut PgConnection, account: &Account) -> Result<(), HandlerError> {
    let id = Uuid::parse_str(&account.id)
        .map_err(|e| HandlerError::Permanent(anyhow::anyhow!("bad account id: {e}")))?;
    let domain = crm_contact_data::normalize_domain(&account.website);
    let active = account.status == AccountStatus::Active as i32;
    store::admin::upsert_account(connection, id, &account.name, domain.as_deref(), active).await?;
    Ok(())
}

/// Org events: the platform keeps the directory (`org_users`); leads' own part is that the rep
/// roster follows the organisation (team, stage, start date, activity), and a moved rep's
/// leads follow them to the new team.
pub fn org_directory() -> ConsumerSpec {
    org::consumer_spec(crate::NAME)
}

pub fn org_directory_handler() -> Arc<OrgDirectoryHandler<RosterFollower>> {
    OrgDirectoryHandler::new(RosterFollower)
}

/// Leads' part of an org change: the roster and the moved rep's leads.
pub struct RosterFollower;

impl OrgFollower for RosterFollower {
    fn follow<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        change: &'a OrgChange,
    ) -> HandlerFuture<'a> {
        Box::pin(async move {
            let user = change.user();
            store::roster::sync_rep_from_directory(
                connection,
                &store::roster::DirectoryRep {
                    user_id: user.user_id,
                    team_path: &user.team_path,
                    display_name: &user.display_name,
                    stage: convert::rep_stage_from_wire(user.stage),
                    started_on: user.started_on,
                    is_rep: user.role == Role::Rep,
                    active: user.active,
                },
            )
            .await?;
            if change.moved_from().is_some() {
                store::leads::rescope_owned_leads(connection, user.user_id, &user.team_path)
                    .await?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event<M: DomainEvent>(message: &M, subject: String) -> ReceivedEvent {
        ReceivedEvent {
            id: Uuid::now_v7(),
            event_type: M::full_name(),
            subject,
            aggregate_id: String::new(),
            aggregate_version: 1,
            payload: message.encode_to_vec().into(),
            deliveries: 1,
        }
    }

    fn account() -> Account {
        Account {
            id: Uuid::now_v7().to_string(),
            name: "Contoso".into(),
            status: AccountStatus::Active as i32,
            ..Default::default()
        }
    }

    /// The drift this replaces: any subject not named was decoded as an accounts merge.
    #[test]
    fn an_account_event_on_a_subject_not_handled_is_permanent_not_a_merge() {
        let created = AccountCreated {
            account: Some(account()),
        };
        let unknown = event(&created, "crm.accounts.v1.account_deleted".into());
        assert!(matches!(
            AccountChange::decode(&unknown),
            Err(HandlerError::Permanent(_))
        ));
        let known = event(&created, AccountCreated::subject());
        assert!(matches!(
            AccountChange::decode(&known),
            Ok(AccountChange::Changed(_))
        ));
    }

    #[test]
    fn a_merge_names_the_duplicate_and_the_survivor() {
        let duplicate = Uuid::now_v7();
        let merged = AccountsMerged {
            duplicate_account_id: duplicate.to_string(),
            survivor: Some(account()),
            ..Default::default()
        };
        match AccountChange::decode(&event(&merged, AccountsMerged::subject())).unwrap() {
            AccountChange::Merged {
                duplicate_id,
                survivor,
            } => {
                assert_eq!(duplicate_id, Some(duplicate));
                assert_eq!(survivor.name, "Contoso");
            }
            other => panic!("{other:?}"),
        }
    }
}
