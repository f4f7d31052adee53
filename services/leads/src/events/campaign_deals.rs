//! The opportunities service's deal events, kept as `campaign_deals` for the campaign funnel
//! (L7): every deal event carries the deal's full state and version, and the replica takes a
//! state only when its version is newer than the one it holds.

use std::sync::Arc;

use crm_platform::{
    consumer::{ConsumerSpec, EventHandler, HandlerError, HandlerFuture, ReceivedEvent},
    deals::read,
    ids::parse_optional_id,
    money::{Money, Sign},
};
use crm_proto::crm::{common::v1::Money as MoneyMessage, opportunities::v1::Opportunity};
use sqlx::PgConnection;

use crate::{domain::campaign_deal::CampaignDeal, store};

/// Every deal event of `crm.opportunities.v1`: each carries the state, so each is kept.
pub fn campaign_deals() -> ConsumerSpec {
    crm_platform::deals::consumer_spec("leads-campaign-deals")
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
    let status = read::status(opportunity).map_err(permanent)?;
    let closed_on = read::closed_on(opportunity).map_err(permanent)?;
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
        version: read::version(opportunity).map_err(permanent)?,
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
            let deal = deal_of(&crm_platform::deals::state(event)?)?;
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
    use crm_proto::crm::opportunities::v1::{CloseOutcome, CorporateAmount, OpportunityStatus};
    use uuid::Uuid;

    use super::*;
    use crate::domain::campaign_deal::DealStatus;

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
