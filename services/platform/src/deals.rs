//! The opportunities service's deal events as the services that replicate deals read them
//! (accounts' tiering, forecasting's pipeline, compensation's credits): the eleven subjects, each
//! carrying the deal's full state after the change, which a replica upserts by
//! `opportunity.version` (docs/events.md, "Stream CRM_OPPORTUNITIES").

use chrono::NaiveDate;
use crm_proto::crm::opportunities::v1::{
    Opportunity, OpportunityAmountChanged, OpportunityArchived, OpportunityCloseDateChanged,
    OpportunityCreated, OpportunityLost, OpportunityOwnerChanged, OpportunityReopened,
    OpportunitySplitsChanged, OpportunityStageChanged, OpportunityStatus, OpportunityUpdated,
    OpportunityWon,
};
use uuid::Uuid;

use crate::{
    consumer::{ConsumerSpec, HandlerError, ReceivedEvent},
    events::DomainEvent,
    money::{Money, Sign},
    org,
};

/// Every deal event's subject.
pub fn subjects() -> Vec<String> {
    vec![
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
    ]
}

/// A durable consumer `name` of every deal event.
pub fn consumer_spec(name: &str) -> ConsumerSpec {
    ConsumerSpec {
        name: name.to_owned(),
        producer: "opportunities".to_owned(),
        subjects: subjects(),
    }
}

/// The deal's state from whichever deal event this is; an event without one, or of another
/// subject, is a permanent error (it will be as bad on every delivery).
pub fn state(event: &ReceivedEvent) -> Result<Opportunity, HandlerError> {
    let subject = event.subject.as_str();
    let opportunity = if subject == OpportunityCreated::subject() {
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
    };
    opportunity.ok_or_else(|| {
        HandlerError::Permanent(anyhow::anyhow!(
            "{} carries no opportunity",
            event.event_type
        ))
    })
}

/// A deal's status as the opportunities service last published it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DealStatus {
    Open,
    Won,
    Lost,
    /// Withdrawn or entered by mistake: counts nowhere, kept as the version it reached (so an
    /// older event delivered late cannot bring it back).
    Archived,
}

impl DealStatus {
    /// As replicas store it: `open`, `won`, `lost`, `archived`.
    pub fn as_str(self) -> &'static str {
        match self {
            DealStatus::Open => "open",
            DealStatus::Won => "won",
            DealStatus::Lost => "lost",
            DealStatus::Archived => "archived",
        }
    }

    pub fn parse(value: &str) -> Option<DealStatus> {
        [
            DealStatus::Open,
            DealStatus::Won,
            DealStatus::Lost,
            DealStatus::Archived,
        ]
        .into_iter()
        .find(|status| status.as_str() == value)
    }
}

/// Readers of the parts of a deal's state every replica keeps. Each error names what is
/// malformed: the producer sent data that will be as bad on every delivery.
/// A deal's line items with their shares of its corporate amount.
#[path = "deal_lines.rs"]
pub mod lines;

pub mod read {
    use super::*;

    /// `opportunity.<field>` as a UUID.
    pub fn id(field: &str, value: &str) -> Result<Uuid, String> {
        Uuid::parse_str(value).map_err(|_| format!("opportunity.{field} {value:?} is not a UUID"))
    }

    pub fn status(opportunity: &Opportunity) -> Result<DealStatus, String> {
        match OpportunityStatus::try_from(opportunity.status) {
            Ok(OpportunityStatus::Open) => Ok(DealStatus::Open),
            Ok(OpportunityStatus::Won) => Ok(DealStatus::Won),
            Ok(OpportunityStatus::Lost) => Ok(DealStatus::Lost),
            Ok(OpportunityStatus::Archived) => Ok(DealStatus::Archived),
            Ok(OpportunityStatus::Unspecified) | Err(_) => Err(format!(
                "opportunity.status {} is not a deal status",
                opportunity.status
            )),
        }
    }

    /// The amount in the corporate currency; `None` while the organisation had none, or no
    /// rate for the deal's currency.
    pub fn corporate_amount(opportunity: &Opportunity) -> Result<Option<Money>, String> {
        opportunity
            .corporate_amount
            .as_ref()
            .and_then(|corporate| corporate.amount.as_ref())
            .map(|amount| Money::parse("opportunity.corporate_amount.amount", amount, Sign::Any))
            .transpose()
            .map_err(|violation| violation.to_string())
    }

    /// The day it was won or lost (UTC); `None` while open.
    pub fn closed_on(opportunity: &Opportunity) -> Result<Option<NaiveDate>, String> {
        match opportunity
            .outcome
            .as_ref()
            .map(|outcome| outcome.closed_on.trim())
        {
            None | Some("") => Ok(None),
            Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| format!("opportunity.outcome.closed_on {text:?} is not an ISO date")),
        }
    }

    /// The aggregate version replicas upsert by.
    pub fn version(opportunity: &Opportunity) -> Result<i64, String> {
        i64::try_from(opportunity.version).map_err(|_| {
            format!(
                "opportunity.version {} is out of range",
                opportunity.version
            )
        })
    }
}

/// Whether an event's state at version `incoming` replaces the one kept at `kept`: only a
/// newer one does, so a redelivered, replayed or overtaken event changes nothing.
pub fn supersedes(incoming: i64, kept: Option<i64>) -> bool {
    kept.is_none_or(|kept| incoming > kept)
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

    /// Every subject the consumers subscribe to is read, and nothing else: a subject added to
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
        let subjects = consumer_spec("tiering").subjects;
        assert_eq!(subjects.len(), 11);
        for subject in subjects {
            let state = state(&received(subject.clone(), payload.clone())).unwrap();
            assert_eq!(state, opportunity, "{subject}");
        }
        let unknown = received("crm.opportunities.v1.quote_issued".into(), payload);
        assert!(matches!(state(&unknown), Err(HandlerError::Permanent(_))));
        let empty = received(
            OpportunityCreated::subject(),
            OpportunityCreated::default().encode_to_vec(),
        );
        assert!(matches!(state(&empty), Err(HandlerError::Permanent(_))));
    }

    #[test]
    fn a_deal_status_round_trips_its_stored_name() {
        for status in [
            DealStatus::Open,
            DealStatus::Won,
            DealStatus::Lost,
            DealStatus::Archived,
        ] {
            assert_eq!(DealStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(DealStatus::parse("closed"), None);
    }

    #[test]
    fn only_a_newer_version_supersedes() {
        assert!(supersedes(1, None));
        assert!(supersedes(3, Some(2)));
        assert!(!supersedes(2, Some(2)));
        assert!(!supersedes(1, Some(2)));
    }
}
