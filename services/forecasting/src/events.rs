//! Events the forecasting service consumes: every deal event of the opportunities service
//! (`forecasting-deals`), each carrying the deal's full state, which the pipeline read model
//! keeps by version; the accounts service's accounts (`forecasting-accounts`), which the sales
//! analysis names customers and industries by; and the organisation's directory (wired in
//! `lib.rs`).

use std::sync::Arc;

use crm_platform::{
    consumer::{ConsumerSpec, EventHandler, HandlerError, HandlerFuture, ReceivedEvent},
    events::DomainEvent,
    org,
};
use crm_proto::crm::accounts::v1::{
    Account, AccountArchived, AccountCreated, AccountTierChanged, AccountUpdated, AccountsMerged,
};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    domain::{deal::PipelineDeal, deal_lines::lines_of},
    service::Forecasting,
    store::accounts::AccountRecord,
};

pub(crate) fn deals() -> ConsumerSpec {
    crm_platform::deals::consumer_spec("forecasting-deals")
}

pub(crate) struct DealHandler {
    forecasting: Forecasting,
}

impl DealHandler {
    pub(crate) fn new(forecasting: Forecasting) -> Arc<Self> {
        Arc::new(Self { forecasting })
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
            let deal = PipelineDeal::from_opportunity(&opportunity)
                .map_err(|error| HandlerError::Permanent(anyhow::anyhow!("{error}")))?;
            let lines = lines_of(&opportunity, deal.corporate_amount);
            Ok(self
                .forecasting
                .apply_deal(connection, &deal, &lines)
                .await?)
        })
    }
}

/// Every event of the accounts service that carries an account's new state. A merge moves
/// the duplicate's deals to the survivor in the opportunities service, which announces each
/// deal again: here only the survivor's state is kept.
pub(crate) fn accounts() -> ConsumerSpec {
    ConsumerSpec {
        name: "forecasting-accounts".to_owned(),
        producer: "accounts".to_owned(),
        subjects: vec![
            AccountCreated::subject(),
            AccountUpdated::subject(),
            AccountArchived::subject(),
            AccountTierChanged::subject(),
            AccountsMerged::subject(),
        ],
    }
}

pub(crate) struct AccountHandler {
    forecasting: Forecasting,
}

impl AccountHandler {
    pub(crate) fn new(forecasting: Forecasting) -> Arc<Self> {
        Arc::new(Self { forecasting })
    }
}

/// The account an event carries; a malformed one is as bad on every delivery.
fn account_record(account: Option<Account>) -> Result<AccountRecord, HandlerError> {
    let permanent = |what: String| HandlerError::Permanent(anyhow::anyhow!("{what}"));
    let account = account.ok_or_else(|| permanent("event carries no account".into()))?;
    Ok(AccountRecord {
        id: Uuid::parse_str(&account.id)
            .map_err(|_| permanent(format!("account id {:?} is not a UUID", account.id)))?,
        version: i64::try_from(account.version)
            .map_err(|_| permanent(format!("account version {} is too large", account.version)))?,
        name: account.name,
        industry: account.industry.trim().to_owned(),
    })
}

impl EventHandler for AccountHandler {
    fn handle<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a ReceivedEvent,
    ) -> HandlerFuture<'a> {
        Box::pin(async move {
            let subject = event.subject.as_str();
            let account = if subject == AccountCreated::subject() {
                event.decode::<AccountCreated>()?.account
            } else if subject == AccountUpdated::subject() {
                event.decode::<AccountUpdated>()?.account
            } else if subject == AccountArchived::subject() {
                event.decode::<AccountArchived>()?.account
            } else if subject == AccountTierChanged::subject() {
                event.decode::<AccountTierChanged>()?.account
            } else if subject == AccountsMerged::subject() {
                event.decode::<AccountsMerged>()?.survivor
            } else {
                return Err(org::unknown_subject(event));
            };
            let account = account_record(account)?;
            Ok(self
                .forecasting
                .record_account(connection, &account)
                .await?)
        })
    }
}
