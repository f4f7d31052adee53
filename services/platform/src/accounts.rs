//! The accounts service's account events as the services that replicate accounts read them
//! (forecasting's customers and industries, knowledge's industries for recommendations): the
//! five subjects that carry an account's full state after the change, which a replica upserts
//! by `account.version` (docs/events.md, "Stream CRM_ACCOUNTS"). A merge moves the duplicate's
//! deals to the survivor in the opportunities service, which announces each deal again: here
//! only the survivor's state is read.

use crm_proto::crm::accounts::v1::{
    Account, AccountArchived, AccountCreated, AccountTierChanged, AccountUpdated, AccountsMerged,
};
use uuid::Uuid;

use crate::{
    consumer::{ConsumerSpec, HandlerError, ReceivedEvent},
    events::DomainEvent,
    org,
};

/// Every subject that carries an account's state.
pub fn subjects() -> Vec<String> {
    vec![
        AccountCreated::subject(),
        AccountUpdated::subject(),
        AccountArchived::subject(),
        AccountTierChanged::subject(),
        AccountsMerged::subject(),
    ]
}

/// A durable consumer `name` of every account event that carries an account's state.
pub fn consumer_spec(name: &str) -> ConsumerSpec {
    ConsumerSpec {
        name: name.to_owned(),
        producer: "accounts".to_owned(),
        subjects: subjects(),
    }
}

fn permanent(what: String) -> HandlerError {
    HandlerError::Permanent(anyhow::anyhow!("{what}"))
}

/// The account's state from whichever account event this is (a merge's survivor); an event
/// without one, or of another subject, is a permanent error.
pub fn state(event: &ReceivedEvent) -> Result<Account, HandlerError> {
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
    account.ok_or_else(|| permanent(format!("{} carries no account", event.event_type)))
}

/// The account's id and the version replicas upsert by.
pub fn identity(account: &Account) -> Result<(Uuid, i64), HandlerError> {
    let id = Uuid::parse_str(&account.id)
        .map_err(|_| permanent(format!("account id {:?} is not a UUID", account.id)))?;
    let version = i64::try_from(account.version)
        .map_err(|_| permanent(format!("account version {} is too large", account.version)))?;
    Ok((id, version))
}
