//! Events the accounts service consumes: lead conversions (create the records leads chose ids
//! for), the organisation's directory (a move re-scopes the user's records) and the
//! opportunities service's deals (tiering: trailing won revenue per account).

use std::sync::Arc;

use crm_platform::{
    consumer::{ConsumerSpec, EventHandler, HandlerError, HandlerFuture, ReceivedEvent},
    error::{ErrorCode, ServiceError},
    events::DomainEvent,
    org::{self, OrgChange, OrgFollower},
};
use crm_proto::crm::leads::v1::LeadConverted;
use sqlx::PgConnection;

use crate::{domain::deal::DealReplica, error::AccountsError, service::Accounts, store};

/// `lead_converted`: create the account (when new) and the contact with the ids leads chose.
pub(crate) fn lead_conversions() -> ConsumerSpec {
    ConsumerSpec {
        name: "accounts-lead-conversions".to_owned(),
        producer: "leads".to_owned(),
        subjects: vec![LeadConverted::subject()],
    }
}

pub(crate) struct LeadConversionHandler {
    accounts: Accounts,
}

impl LeadConversionHandler {
    pub(crate) fn new(accounts: Accounts) -> Arc<Self> {
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
            if event.subject != LeadConverted::subject() {
                return Err(org::unknown_subject(event));
            }
            let conversion: LeadConverted = event.decode()?;
            self.accounts
                .apply_lead_conversion(connection, &conversion)
                .await
                .map_err(handler_error)
        })
    }
}

/// Bad data will be bad on every delivery; anything else may pass on a retry.
fn handler_error(error: AccountsError) -> HandlerError {
    match error.code() {
        ErrorCode::InvalidArgument | ErrorCode::NotFound => {
            HandlerError::Permanent(anyhow::anyhow!("{error}: {:?}", error.field_violations()))
        }
        _ => HandlerError::Transient(error.into()),
    }
}

/// Every deal event of the opportunities service: each carries the deal's full state, which
/// tiering keeps by version (`accounts-opportunity-deals`).
pub(crate) fn deals() -> ConsumerSpec {
    crm_platform::deals::consumer_spec("accounts-opportunity-deals")
}

pub(crate) struct DealHandler {
    accounts: Accounts,
}

impl DealHandler {
    pub(crate) fn new(accounts: Accounts) -> Arc<Self> {
        Arc::new(Self { accounts })
    }
}

impl EventHandler for DealHandler {
    fn handle<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a ReceivedEvent,
    ) -> HandlerFuture<'a> {
        Box::pin(async move {
            let opportunity = crm_platform::deals::state(event)?;
            let deal = DealReplica::from_opportunity(&opportunity)
                .map_err(|error| HandlerError::Permanent(anyhow::anyhow!("{error}")))?;
            self.accounts
                .apply_deal(connection, deal)
                .await
                .map_err(handler_error)
        })
    }
}

/// What an org change means to accounts beyond the directory: a moved user's accounts and
/// contacts follow them to the new team, so visibility follows the user.
pub(crate) struct RescopeOnMove;

impl OrgFollower for RescopeOnMove {
    fn follow<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        change: &'a OrgChange,
    ) -> HandlerFuture<'a> {
        Box::pin(async move {
            if change.moved_from().is_some() {
                let user = change.user();
                store::rescope_owner(connection, user.user_id, &user.team_path).await?;
            }
            Ok(())
        })
    }
}
