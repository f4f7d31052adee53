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
use crm_proto::crm::{
    leads::v1::LeadConverted,
    opportunities::v1::{
        Opportunity, OpportunityAmountChanged, OpportunityArchived, OpportunityCloseDateChanged,
        OpportunityCreated, OpportunityLost, OpportunityOwnerChanged, OpportunityReopened,
        OpportunitySplitsChanged, OpportunityStageChanged, OpportunityUpdated, OpportunityWon,
    },
};
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
    ConsumerSpec {
        name: "accounts-opportunity-deals".to_owned(),
        producer: "opportunities".to_owned(),
        subjects: vec![
            OpportunityCreated::subject(),
            OpportunityStageChanged::subject(),
            OpportunityAmountChanged::subject(),
            OpportunityCloseDateChanged::subject(),
            OpportunityOwnerChanged::subject(),
            OpportunitySplitsChanged::subject(),
            OpportunityUpdated::subject(),
            OpportunityWon::subject(),
            OpportunityLost::subject(),
            OpportunityReopened::subject(),
            OpportunityArchived::subject(),
        ],
    }
}

pub(crate) struct DealHandler {
    accounts: Accounts,
}

impl DealHandler {
    pub(crate) fn new(accounts: Accounts) -> Arc<Self> {
        Arc::new(Self { accounts })
    }
}

/// The deal's state from whichever deal event this is.
fn deal_state(event: &ReceivedEvent) -> Result<Option<Opportunity>, HandlerError> {
    let subject = event.subject.as_str();
    Ok(if subject == OpportunityCreated::subject() {
        event.decode::<OpportunityCreated>()?.opportunity
    } else if subject == OpportunityStageChanged::subject() {
        event.decode::<OpportunityStageChanged>()?.opportunity
    } else if subject == OpportunityAmountChanged::subject() {
        event.decode::<OpportunityAmountChanged>()?.opportunity
    } else if subject == OpportunityCloseDateChanged::subject() {
        event.decode::<OpportunityCloseDateChanged>()?.opportunity
    } else if subject == OpportunityOwnerChanged::subject() {
        event.decode::<OpportunityOwnerChanged>()?.opportunity
    } else if subject == OpportunitySplitsChanged::subject() {
        event.decode::<OpportunitySplitsChanged>()?.opportunity
    } else if subject == OpportunityUpdated::subject() {
        event.decode::<OpportunityUpdated>()?.opportunity
    } else if subject == OpportunityWon::subject() {
        event.decode::<OpportunityWon>()?.opportunity
    } else if subject == OpportunityLost::subject() {
        event.decode::<OpportunityLost>()?.opportunity
    } else if subject == OpportunityReopened::subject() {
        event.decode::<OpportunityReopened>()?.opportunity
    } else if subject == OpportunityArchived::subject() {
        event.decode::<OpportunityArchived>()?.opportunity
    } else {
        return Err(org::unknown_subject(event));
    })
}

impl EventHandler for DealHandler {
    fn handle<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a ReceivedEvent,
    ) -> HandlerFuture<'a> {
        Box::pin(async move {
            let Some(opportunity) = deal_state(event)? else {
                return Err(HandlerError::Permanent(anyhow::anyhow!(
                    "{} carries no opportunity",
                    event.event_type
                )));
            };
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

#[cfg(test)]
mod tests {
    use crm_proto::crm::opportunities::v1::OpportunityStatus;
    use prost::Message;
    use uuid::Uuid;

    use super::*;

    fn received(subject: String, payload: Vec<u8>) -> ReceivedEvent {
        ReceivedEvent {
            id: Uuid::now_v7(),
            event_type: subject.clone(),
            subject,
            aggregate_id: String::new(),
            aggregate_version: 1,
            payload: payload.into(),
            deliveries: 1,
        }
    }

    /// Every subject the consumer subscribes to is read, and nothing else: a subject added to
    /// one list and not the other fails here, not in production.
    #[test]
    fn every_deal_subject_yields_the_deals_state() {
        let opportunity = Opportunity {
            id: Uuid::now_v7().to_string(),
            status: OpportunityStatus::Won as i32,
            version: 4,
            ..Default::default()
        };
        // Each deal event has the state as field 1, so one encoding serves them all.
        let payload = OpportunityWon {
            opportunity: Some(opportunity.clone()),
            ..Default::default()
        }
        .encode_to_vec();
        let subjects = deals().subjects;
        assert_eq!(subjects.len(), 11);
        for subject in subjects {
            let state = deal_state(&received(subject.clone(), payload.clone())).unwrap();
            assert_eq!(state.as_ref(), Some(&opportunity), "{subject}");
        }
        let unknown = received("crm.opportunities.v1.quote_issued".into(), payload);
        assert!(matches!(
            deal_state(&unknown),
            Err(HandlerError::Permanent(_))
        ));
    }
}
