//! Events the opportunities service consumes: leads' conversions (create the deal leads chose an
//! id for), the accounts service's accounts and contacts (the replicas deals and committees are
//! checked against; merges move deals and committee members to the survivor), and the
//! organisation's directory (a move re-scopes the user's deals).

use std::sync::Arc;

use crm_platform::{
    consumer::{ConsumerSpec, EventHandler, HandlerError, HandlerFuture, ReceivedEvent},
    error::{ErrorCode, ServiceError},
    events::DomainEvent,
    org::{self, OrgChange, OrgFollower},
};
use crm_proto::crm::{
    accounts::v1::{
        self as accounts, AccountArchived, AccountCreated, AccountUpdated, AccountsMerged,
        ContactArchived, ContactCreated, ContactUpdated, ContactsMerged,
    },
    leads::v1::LeadConverted,
};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    domain::care::{CareKind, RecurringDate},
    error::OpportunitiesError,
    service::{ContactCare, Opportunities},
    store::{care::StoredDate, replicas::ReplicaRecord},
};

/// Bad data is bad on every delivery (dead-lettered after the retries); the rest is retried.
fn handler_error(error: OpportunitiesError) -> HandlerError {
    match error.code() {
        ErrorCode::InvalidArgument | ErrorCode::NotFound | ErrorCode::FailedPrecondition => {
            HandlerError::Permanent(anyhow::anyhow!("{error}: {:?}", error.field_violations()))
        }
        _ => HandlerError::Transient(error.into()),
    }
}

fn permanent(what: &str) -> impl Fn(uuid::Error) -> HandlerError + '_ {
    move |error| HandlerError::Permanent(anyhow::anyhow!("{what}: {error}"))
}

/// `lead_converted`: the deal with the id leads chose.
pub(crate) fn lead_conversions() -> ConsumerSpec {
    ConsumerSpec {
        name: "opportunities-lead-conversions".to_owned(),
        producer: "leads".to_owned(),
        subjects: vec![LeadConverted::subject()],
    }
}

pub(crate) struct LeadConversionHandler {
    opportunities: Opportunities,
}

impl LeadConversionHandler {
    pub(crate) fn new(opportunities: Opportunities) -> Arc<Self> {
        Arc::new(Self { opportunities })
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
            self.opportunities
                .apply_lead_conversion(connection, &conversion)
                .await
                .map_err(handler_error)
        })
    }
}

/// The accounts service's accounts and contacts.
pub(crate) fn account_records() -> ConsumerSpec {
    ConsumerSpec {
        name: "opportunities-account-records".to_owned(),
        producer: "accounts".to_owned(),
        subjects: vec![
            AccountCreated::subject(),
            AccountUpdated::subject(),
            AccountArchived::subject(),
            AccountsMerged::subject(),
            ContactCreated::subject(),
            ContactUpdated::subject(),
            ContactArchived::subject(),
            ContactsMerged::subject(),
        ],
    }
}

pub(crate) struct AccountRecordsHandler {
    opportunities: Opportunities,
}

impl AccountRecordsHandler {
    pub(crate) fn new(opportunities: Opportunities) -> Arc<Self> {
        Arc::new(Self { opportunities })
    }
}

fn account_record(account: Option<accounts::Account>) -> Result<ReplicaRecord, HandlerError> {
    let account = account
        .ok_or_else(|| HandlerError::Permanent(anyhow::anyhow!("event carries no account")))?;
    Ok(ReplicaRecord {
        id: Uuid::parse_str(&account.id).map_err(permanent("account id"))?,
        name: account.name,
        status: account.status as i16,
        merged_into: Uuid::parse_str(&account.merged_into_account_id).ok(),
        version: account.version as i64,
        owner: Uuid::parse_str(&account.owner_id)
            .ok()
            .map(|owner| (owner, account.owner_team_path)),
    })
}

fn contact_record(
    contact: Option<accounts::Contact>,
) -> Result<(ReplicaRecord, Uuid, ContactCare), HandlerError> {
    let contact = contact
        .ok_or_else(|| HandlerError::Permanent(anyhow::anyhow!("event carries no contact")))?;
    // Care reminds of birthdays and contract anniversaries; the accounts service checked the
    // dates' form, so one this service cannot read is skipped, not a reason to refuse the
    // contact.
    let important_dates = contact
        .important_dates
        .iter()
        .filter_map(|date| {
            let kind = match accounts::ImportantDateKind::try_from(date.kind) {
                Ok(accounts::ImportantDateKind::Birthday) => CareKind::Birthday,
                Ok(accounts::ImportantDateKind::ContractAnniversary) => {
                    CareKind::ContractAnniversary
                }
                _ => return None,
            };
            RecurringDate::parse(&date.date)?;
            Some(StoredDate {
                kind: kind.as_str().to_owned(),
                date: date.date.clone(),
            })
        })
        .collect();
    let care = ContactCare {
        owner: Uuid::parse_str(&contact.owner_id)
            .ok()
            .map(|owner| (owner, contact.owner_team_path.clone())),
        important_dates,
    };
    Ok((
        ReplicaRecord {
            id: Uuid::parse_str(&contact.id).map_err(permanent("contact id"))?,
            name: contact.full_name,
            status: contact.status as i16,
            merged_into: Uuid::parse_str(&contact.merged_into_contact_id).ok(),
            version: contact.version as i64,
            owner: None,
        },
        Uuid::parse_str(&contact.account_id).map_err(permanent("contact account id"))?,
        care,
    ))
}

impl EventHandler for AccountRecordsHandler {
    fn handle<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a ReceivedEvent,
    ) -> HandlerFuture<'a> {
        Box::pin(async move {
            let subject = event.subject.as_str();
            let opportunities = &self.opportunities;
            let result = if subject == AccountCreated::subject() {
                let created: AccountCreated = event.decode()?;
                opportunities
                    .record_account(connection, &account_record(created.account)?)
                    .await
            } else if subject == AccountUpdated::subject() {
                let updated: AccountUpdated = event.decode()?;
                opportunities
                    .record_account(connection, &account_record(updated.account)?)
                    .await
            } else if subject == AccountArchived::subject() {
                let archived: AccountArchived = event.decode()?;
                opportunities
                    .record_account(connection, &account_record(archived.account)?)
                    .await
            } else if subject == AccountsMerged::subject() {
                let merged: AccountsMerged = event.decode()?;
                let survivor = account_record(merged.survivor)?;
                let duplicate = Uuid::parse_str(&merged.duplicate_account_id)
                    .map_err(permanent("duplicate account id"))?;
                opportunities
                    .merge_accounts(connection, &survivor, duplicate)
                    .await
            } else if subject == ContactCreated::subject() {
                let created: ContactCreated = event.decode()?;
                let (contact, account_id, care) = contact_record(created.contact)?;
                opportunities
                    .record_contact(connection, &contact, account_id, &care)
                    .await
            } else if subject == ContactUpdated::subject() {
                let updated: ContactUpdated = event.decode()?;
                let (contact, account_id, care) = contact_record(updated.contact)?;
                opportunities
                    .record_contact(connection, &contact, account_id, &care)
                    .await
            } else if subject == ContactArchived::subject() {
                let archived: ContactArchived = event.decode()?;
                let (contact, account_id, care) = contact_record(archived.contact)?;
                opportunities
                    .record_contact(connection, &contact, account_id, &care)
                    .await
            } else if subject == ContactsMerged::subject() {
                let merged: ContactsMerged = event.decode()?;
                let (survivor, account_id, care) = contact_record(merged.survivor)?;
                let duplicate = Uuid::parse_str(&merged.duplicate_contact_id)
                    .map_err(permanent("duplicate contact id"))?;
                opportunities
                    .merge_contacts(connection, &survivor, account_id, &care, duplicate)
                    .await
            } else {
                return Err(org::unknown_subject(event));
            };
            result.map_err(handler_error)
        })
    }
}

/// What an org change means to deals beyond the directory: a moved user's deals follow them to
/// the new team (an owner_changed event each, so read models re-scope too).
pub(crate) struct RescopeOnMove {
    opportunities: Opportunities,
}

impl RescopeOnMove {
    pub(crate) fn new(opportunities: Opportunities) -> Self {
        Self { opportunities }
    }
}

impl OrgFollower for RescopeOnMove {
    fn follow<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        change: &'a OrgChange,
    ) -> HandlerFuture<'a> {
        Box::pin(async move {
            if change.moved_from().is_some() {
                let user = change.user();
                self.opportunities
                    .rescope_owner(connection, user.user_id, &user.team_path)
                    .await
                    .map_err(handler_error)?;
            }
            Ok(())
        })
    }
}
