//! The opportunities service's deals as tiering keeps them: read from the full state every deal
//! event carries, replaced only by a newer version.

use chrono::NaiveDate;
pub use crm_platform::deals::{DealStatus, supersedes};
use crm_platform::{deals::read, money::Money};
use crm_proto::crm::opportunities::v1::Opportunity;
use uuid::Uuid;

/// A deal as accounts keeps it: the newest version seen.
#[derive(Clone, Debug, PartialEq)]
pub struct DealReplica {
    pub opportunity_id: Uuid,
    pub account_id: Uuid,
    pub status: DealStatus,
    /// In the corporate currency; `None` while the organisation had none, or no rate.
    pub corporate_amount: Option<Money>,
    /// The day it was won or lost (UTC); `None` while open.
    pub closed_on: Option<NaiveDate>,
    pub version: i64,
}

impl DealReplica {
    /// Reads the deal's state from an event. An error names what is malformed: the producer
    /// sent data that will be as bad on every delivery.
    pub fn from_opportunity(opportunity: &Opportunity) -> Result<Self, String> {
        Ok(Self {
            opportunity_id: read::id("id", &opportunity.id)?,
            account_id: read::id("account_id", &opportunity.account_id)?,
            status: read::status(opportunity)?,
            corporate_amount: read::corporate_amount(opportunity)?,
            closed_on: read::closed_on(opportunity)?,
            version: read::version(opportunity)?,
        })
    }
}

/// The accounts whose revenue may change when `before` is replaced by `after`, in lock order:
/// none unless a win is involved (the deal is or was won); the deal's account, and the one it
/// left if it moved.
pub fn accounts_to_reevaluate(before: Option<&DealReplica>, after: &DealReplica) -> Vec<Uuid> {
    let was_won = before.is_some_and(|deal| deal.status == DealStatus::Won);
    if !was_won && after.status != DealStatus::Won {
        return Vec::new();
    }
    let mut accounts = vec![after.account_id];
    if let Some(before) = before
        && before.account_id != after.account_id
    {
        accounts.push(before.account_id);
    }
    // One order everywhere, so two transactions never wait on each other's accounts.
    accounts.sort();
    accounts
}

#[cfg(test)]
mod tests {
    use crm_proto::crm::{
        common::v1::Money as MoneyMessage,
        opportunities::v1::{CloseOutcome, CorporateAmount, OpportunityStatus},
    };

    use super::*;

    fn opportunity(status: OpportunityStatus, version: u64) -> Opportunity {
        Opportunity {
            id: Uuid::now_v7().to_string(),
            account_id: Uuid::now_v7().to_string(),
            status: status as i32,
            corporate_amount: Some(CorporateAmount {
                amount: Some(MoneyMessage {
                    currency_code: "CNY".into(),
                    amount: "1150000.00".into(),
                }),
                rate: "1".into(),
                rate_date: "2026-11-30".into(),
            }),
            outcome: Some(CloseOutcome {
                closed_on: "2026-11-30".into(),
                ..Default::default()
            }),
            version,
            ..Default::default()
        }
    }

    #[test]
    fn a_won_deal_is_read_from_its_event() {
        let event = opportunity(OpportunityStatus::Won, 7);
        let deal = DealReplica::from_opportunity(&event).unwrap();
        assert_eq!(deal.status, DealStatus::Won);
        assert_eq!(deal.version, 7);
        assert_eq!(deal.closed_on, NaiveDate::from_ymd_opt(2026, 11, 30));
        let amount = deal.corporate_amount.unwrap();
        assert_eq!(amount.currency.as_str(), "CNY");
        assert_eq!(amount.amount, rust_decimal::Decimal::new(115_000_000, 2));
    }

    #[test]
    fn an_open_deal_may_lack_amount_and_date() {
        let mut event = opportunity(OpportunityStatus::Open, 1);
        event.corporate_amount = None;
        event.outcome = None;
        let deal = DealReplica::from_opportunity(&event).unwrap();
        assert_eq!(deal.corporate_amount, None);
        assert_eq!(deal.closed_on, None);
        assert_eq!(deal.status, DealStatus::Open);
    }

    #[test]
    fn malformed_events_name_their_fault() {
        for (change, fault) in [
            (
                (|o: &mut Opportunity| o.status = 0) as fn(&mut Opportunity),
                "opportunity.status",
            ),
            (|o| o.status = 42, "opportunity.status"),
            (|o| o.account_id = "acme".into(), "opportunity.account_id"),
            (|o| o.id = String::new(), "opportunity.id"),
            (|o| o.version = u64::MAX, "opportunity.version"),
            (
                |o| o.outcome.as_mut().unwrap().closed_on = "30/11/2026".into(),
                "opportunity.outcome.closed_on",
            ),
            (
                |o| {
                    o.corporate_amount
                        .as_mut()
                        .unwrap()
                        .amount
                        .as_mut()
                        .unwrap()
                        .amount = "1e6".into()
                },
                "opportunity.corporate_amount.amount",
            ),
        ] {
            let mut event = opportunity(OpportunityStatus::Won, 1);
            change(&mut event);
            let error = DealReplica::from_opportunity(&event).unwrap_err();
            assert!(error.contains(fault), "{fault}: {error}");
        }
    }

    #[test]
    fn only_wins_touch_revenue_and_a_move_touches_both_accounts() {
        let open = DealReplica::from_opportunity(&opportunity(OpportunityStatus::Open, 1)).unwrap();
        let moved_open = DealReplica {
            account_id: Uuid::now_v7(),
            version: 2,
            ..open.clone()
        };
        assert!(accounts_to_reevaluate(Some(&open), &moved_open).is_empty());

        let won = DealReplica {
            status: DealStatus::Won,
            version: 3,
            ..moved_open.clone()
        };
        assert_eq!(accounts_to_reevaluate(None, &won), vec![won.account_id]);
        assert_eq!(
            accounts_to_reevaluate(Some(&moved_open), &won),
            vec![won.account_id]
        );
        // Reopened: the win goes.
        let reopened = DealReplica {
            status: DealStatus::Open,
            version: 4,
            ..won.clone()
        };
        assert_eq!(
            accounts_to_reevaluate(Some(&won), &reopened),
            vec![won.account_id]
        );
        // A won deal moved to another account: both, in id order.
        let elsewhere = DealReplica {
            account_id: Uuid::now_v7(),
            version: 5,
            ..won.clone()
        };
        let both = accounts_to_reevaluate(Some(&won), &elsewhere);
        assert_eq!(both.len(), 2);
        assert!(both.contains(&won.account_id) && both.contains(&elsewhere.account_id));
        assert!(both[0] < both[1]);
    }
}
