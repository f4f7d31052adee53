//! The opportunities service's deal events, kept as `campaign_deals` for the campaign funnel
//! (L7): every deal event carries the deal's full state and version, and the replica takes a
//! state only when its version is newer than the one it holds.

use std::sync::Arc;

use crm_platform::{
    consumer::{ConsumerSpec, EventHandler, HandlerError, HandlerFuture, ReceivedEvent},
    events::DomainEvent,
    ids::parse_optional_id,
    money::{Money, Sign},
    org,
};
use crm_proto::crm::{
    common::v1::Money as MoneyMessage,
    opportunities::v1::{
        Opportunity, OpportunityAmountChanged, OpportunityArchived, OpportunityCloseDateChanged,
        OpportunityCreated, OpportunityLost, OpportunityOwnerChanged, OpportunityReopened,
        OpportunitySplitsChanged, OpportunityStageChanged, OpportunityStatus, OpportunityUpdated,
        OpportunityWon,
    },
};
use sqlx::PgConnection;

use crate::{
    domain::campaign_deal::{CampaignDeal, DealStatus},
    store,
};

/// Every deal event of `crm.opportunities.v1`: each carries the state, so each is kept.
pub fn campaign_deals() -> ConsumerSpec {
    ConsumerSpec {
        name: "leads-campaign-deals".to_owned(),
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

/// The deal's state an event carries, by its subject; a subject not named is permanent.
fn carried_opportunity(event: &ReceivedEvent) -> Result<Opportunity, HandlerError> {
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
    opportunity.ok_or_else(|| permanent("event carries no opportunity"))
}

fn permanent(message: impl std::fmt::Display) -> HandlerError {
    HandlerError::Permanent(anyhow::anyhow!("{message}"))
}

/// The deal as leads keeps it. What does not read (an id that is not a UUID, an unknown status,
/// money the kit refuses) is permanent: the same event fails the same way every time.
fn deal_of(opportunity: &Opportunity) -> Result<CampaignDeal, HandlerError> {
    let id = |field: &str, value: &str| parse_optional_id(field, value).map_err(permanent);
    let opportunity_id = id("opportunity.id", &opportunity.id)?
        .ok_or_else(|| permanent("opportunity.id: must not be empty"))?;
    let status = match OpportunityStatus::try_from(opportunity.status) {
        Ok(OpportunityStatus::Open) => DealStatus::Open,
        Ok(OpportunityStatus::Won) => DealStatus::Won,
        Ok(OpportunityStatus::Lost) => DealStatus::Lost,
        Ok(OpportunityStatus::Archived) => DealStatus::Archived,
        Ok(OpportunityStatus::Unspecified) | Err(_) => {
            return Err(permanent(format!(
                "opportunity.status: {} is not a status this service knows",
                opportunity.status
            )));
        }
    };
    let closed_on = match opportunity.outcome.as_ref().map(|o| o.closed_on.trim()) {
        None | Some("") => None,
        Some(text) => Some(
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
                permanent(format!(
                    "opportunity.outcome.closed_on: {text:?} is not a date"
                ))
            })?,
        ),
    };
    let corporate = opportunity
        .corporate_amount
        .as_ref()
        .and_then(|corporate| corporate.amount.as_ref());
    Ok(CampaignDeal {
        opportunity_id,
        campaign_id: id("opportunity.campaign_id", &opportunity.campaign_id)?,
        source_lead_id: id("opportunity.source_lead_id", &opportunity.source_lead_id)?,
        status,
        corporate_amount: money("opportunity.corporate_amount.amount", corporate)?,
        amount: money("opportunity.amount", opportunity.amount.as_ref())?,
        closed_on,
        version: i64::try_from(opportunity.version)
            .map_err(|_| permanent("opportunity.version: beyond any version"))?,
    })
}

/// Money the event carries, read by the kit's one parser. An empty message (both parts empty,
/// as proto3 leaves an unset one on some writers) is no amount.
fn money(field: &str, message: Option<&MoneyMessage>) -> Result<Option<Money>, HandlerError> {
    match message {
        None => Ok(None),
        Some(message) if message.currency_code.is_empty() && message.amount.is_empty() => Ok(None),
        Some(message) => Money::parse(field, message, Sign::Any)
            .map(Some)
            .map_err(permanent),
    }
}

/// Keeps `campaign_deals` by version.
pub struct CampaignDealsHandler;

impl CampaignDealsHandler {
    pub fn new() -> Arc<Self> {
        Arc::new(Self)
    }
}

impl EventHandler for CampaignDealsHandler {
    fn handle<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a ReceivedEvent,
    ) -> HandlerFuture<'a> {
        Box::pin(async move {
            let deal = deal_of(&carried_opportunity(event)?)?;
            if !store::deals::upsert_deal(connection, &deal).await? {
                tracing::debug!(
                    opportunity_id = %deal.opportunity_id,
                    version = deal.version,
                    "deal event not newer than the kept state, ignored"
                );
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use crm_proto::crm::opportunities::v1::{CloseOutcome, CorporateAmount};
    use uuid::Uuid;

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

    fn cny(amount: &str) -> Option<MoneyMessage> {
        Some(MoneyMessage {
            currency_code: "CNY".into(),
            amount: amount.into(),
        })
    }

    fn won_deal() -> Opportunity {
        Opportunity {
            id: Uuid::now_v7().to_string(),
            source_lead_id: Uuid::now_v7().to_string(),
            status: OpportunityStatus::Won as i32,
            amount: cny("1200000.00"),
            corporate_amount: Some(CorporateAmount {
                amount: cny("1200000.00"),
                rate: "1".into(),
                rate_date: "2026-12-01".into(),
            }),
            outcome: Some(CloseOutcome {
                closed_on: "2026-12-18".into(),
                ..Default::default()
            }),
            version: 7,
            ..Default::default()
        }
    }

    #[test]
    fn every_deal_subject_is_read_and_any_other_is_permanent() {
        let opportunity = Some(won_deal());
        let spec = campaign_deals();
        assert_eq!(spec.subjects.len(), 11);
        let archived = OpportunityArchived {
            opportunity: opportunity.clone(),
            ..Default::default()
        };
        let read = carried_opportunity(&event(&archived, OpportunityArchived::subject()));
        assert_eq!(read.unwrap().version, 7);
        let unknown = event(&archived, "crm.opportunities.v1.quote_issued".into());
        assert!(matches!(
            carried_opportunity(&unknown),
            Err(HandlerError::Permanent(_))
        ));
        for subject in &spec.subjects {
            let won = OpportunityWon {
                opportunity: opportunity.clone(),
                ..Default::default()
            };
            // Every deal event has the state in field 1, so any of them decodes this payload.
            assert!(
                carried_opportunity(&event(&won, subject.clone())).is_ok(),
                "{subject}"
            );
        }
        let empty = OpportunityWon::default();
        assert!(matches!(
            carried_opportunity(&event(&empty, OpportunityWon::subject())),
            Err(HandlerError::Permanent(_))
        ));
    }

    #[test]
    fn a_won_deal_keeps_its_ids_amounts_close_day_and_version() {
        let opportunity = won_deal();
        let deal = deal_of(&opportunity).unwrap();
        assert_eq!(deal.opportunity_id.to_string(), opportunity.id);
        assert_eq!(deal.campaign_id, None, "an empty id is none");
        assert_eq!(
            deal.source_lead_id.map(|id| id.to_string()),
            Some(opportunity.source_lead_id.clone())
        );
        assert_eq!(deal.status, DealStatus::Won);
        let corporate = deal.corporate_amount.unwrap();
        assert_eq!(
            (corporate.currency.as_str(), corporate.amount.to_string()),
            ("CNY", "1200000.00".to_owned())
        );
        assert_eq!(deal.closed_on.unwrap().to_string(), "2026-12-18");
        assert_eq!(deal.version, 7);
    }

    #[test]
    fn a_deal_without_a_corporate_amount_is_kept_without_one() {
        let opportunity = Opportunity {
            corporate_amount: None,
            outcome: None,
            status: OpportunityStatus::Open as i32,
            ..won_deal()
        };
        let deal = deal_of(&opportunity).unwrap();
        assert_eq!(deal.corporate_amount, None);
        assert_eq!(deal.closed_on, None);
        assert!(deal.amount.is_some());
    }

    #[test]
    fn what_does_not_read_is_permanent() {
        for broken in [
            Opportunity {
                id: String::new(),
                ..won_deal()
            },
            Opportunity {
                campaign_id: "not-a-uuid".into(),
                ..won_deal()
            },
            Opportunity {
                status: OpportunityStatus::Unspecified as i32,
                ..won_deal()
            },
            Opportunity {
                status: 99,
                ..won_deal()
            },
            Opportunity {
                amount: Some(MoneyMessage {
                    currency_code: "XXX".into(),
                    amount: "1".into(),
                }),
                ..won_deal()
            },
            Opportunity {
                version: u64::MAX,
                ..won_deal()
            },
        ] {
            assert!(
                matches!(deal_of(&broken), Err(HandlerError::Permanent(_))),
                "{broken:?}"
            );
        }
    }
}
