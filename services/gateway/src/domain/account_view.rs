//! The account 360 view's rules (capability A5): which of the account's deals are open and which
//! closed, in what order; who plays which buying role; and the account's figures. The view is
//! made of the owning services' own messages — the gateway keeps no model of accounts or deals —
//! so these functions take and give those messages, and do no I/O.

use std::collections::HashMap;

use crm_platform::money::{CurrencyCode, Money, Sign, fixed};
use crm_proto::crm::{
    accounts::v1::{BuyingRole, Contact},
    gateway::v1::{AccountSummary, BuyingRoleView, DealCommitteeRole},
    opportunities::v1::{Opportunity, OpportunityStatus},
};
use rust_decimal::Decimal;

/// Decimals of the win rate, as the funnel gives its rates.
pub const WIN_RATE_PLACES: u32 = 4;

/// The account's deals as the view lists them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DealLists {
    /// Open deals, the soonest expected close first (a deal without a date last), then by name
    /// and id.
    pub open: Vec<Opportunity>,
    /// Won and lost deals, the newest close first, then by id.
    pub closed: Vec<Opportunity>,
}

impl DealLists {
    /// Every deal in the order the view lists them: open, then closed.
    pub fn iter(&self) -> impl Iterator<Item = &Opportunity> {
        self.open.iter().chain(&self.closed)
    }
}

/// Sorts the deals into the view's lists. Archived deals (the opportunities service leaves them
/// out already) and deals of a status this gateway does not know are in neither.
pub fn deal_lists(deals: Vec<Opportunity>) -> DealLists {
    let mut lists = DealLists::default();
    for deal in deals {
        match deal.status() {
            OpportunityStatus::Open => lists.open.push(deal),
            OpportunityStatus::Won | OpportunityStatus::Lost => lists.closed.push(deal),
            OpportunityStatus::Archived | OpportunityStatus::Unspecified => {}
        }
    }
    lists.open.sort_by(|a, b| {
        let date = |deal: &Opportunity| {
            let date = deal.expected_close_date.trim().to_owned();
            // ISO dates compare as text; one without a date goes last.
            (date.is_empty(), date)
        };
        date(a)
            .cmp(&date(b))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.id.cmp(&b.id))
    });
    lists.closed.sort_by(|a, b| {
        closed_at(b)
            .cmp(&closed_at(a))
            .then_with(|| a.id.cmp(&b.id))
    });
    lists
}

/// When a closed deal closed, as (seconds, nanos); the earliest possible when it says nothing.
fn closed_at(deal: &Opportunity) -> (i64, i32) {
    deal.outcome
        .as_ref()
        .and_then(|outcome| outcome.closed_at)
        .map_or((i64::MIN, 0), |at| (at.seconds, at.nanos))
}

/// Who plays which part in buying: each contact with a buying role of their own or a place on
/// a deal's committee, the view's contacts first in their order, then committee members who are
/// not among them in the order their deals are listed; each one's places in deal order.
pub fn buying_roles(contacts: &[Contact], deals: &DealLists) -> Vec<BuyingRoleView> {
    let mut views: Vec<BuyingRoleView> = contacts
        .iter()
        .map(|contact| BuyingRoleView {
            contact_id: contact.id.clone(),
            contact_name: contact.full_name.clone(),
            buying_role: contact.buying_role,
            deal_roles: Vec::new(),
        })
        .collect();
    let mut position: HashMap<String, usize> = views
        .iter()
        .enumerate()
        .map(|(at, view)| (view.contact_id.clone(), at))
        .collect();
    for deal in deals.iter() {
        for member in &deal.buying_committee {
            let at = *position
                .entry(member.contact_id.clone())
                .or_insert_with(|| {
                    views.push(BuyingRoleView {
                        contact_id: member.contact_id.clone(),
                        contact_name: member.contact_name.clone(),
                        buying_role: BuyingRole::Unspecified.into(),
                        deal_roles: Vec::new(),
                    });
                    views.len() - 1
                });
            views[at].deal_roles.push(DealCommitteeRole {
                opportunity_id: deal.id.clone(),
                opportunity_name: deal.name.clone(),
                opportunity_status: deal.status,
                role: member.role,
                attitude: member.attitude,
            });
        }
    }
    views.retain(|view| {
        view.buying_role != i32::from(BuyingRole::Unspecified) || !view.deal_roles.is_empty()
    });
    views
}

/// The account's figures over `deals` in `corporate_currency` (see `AccountSummary` in
/// proto/crm/gateway/v1/views.proto): each deal counts with its own corporate amount when that
/// is in the corporate currency, else as unpriced.
pub fn summary(deals: &DealLists, corporate_currency: Option<CurrencyCode>) -> AccountSummary {
    let open = tally(deals.open.iter(), corporate_currency);
    let won = tally(
        deals
            .closed
            .iter()
            .filter(|deal| deal.status() == OpportunityStatus::Won),
        corporate_currency,
    );
    let lost = deals
        .closed
        .iter()
        .filter(|deal| deal.status() == OpportunityStatus::Lost)
        .count() as u64;
    let amount = |sum: Decimal| {
        corporate_currency.map(|currency| {
            Money {
                currency,
                amount: sum,
            }
            .to_message()
        })
    };
    AccountSummary {
        corporate_currency: corporate_currency
            .map(|currency| currency.to_string())
            .unwrap_or_default(),
        open_deals: open.deals,
        open_amount: amount(open.amount),
        open_deals_unpriced: open.unpriced,
        won_deals: won.deals,
        won_amount: amount(won.amount),
        won_deals_unpriced: won.unpriced,
        lost_deals: lost,
        win_rate: win_rate(won.deals, lost)
            .map(|rate| rate.to_string())
            .unwrap_or_default(),
    }
}

/// won / (won + lost), [`WIN_RATE_PLACES`] decimals rounded half away from zero and kept
/// ("0.5000"); `None` when nothing closed.
pub fn win_rate(won: u64, lost: u64) -> Option<Decimal> {
    let closed = won + lost;
    (closed > 0).then(|| fixed(Decimal::from(won) / Decimal::from(closed), WIN_RATE_PLACES))
}

#[derive(Debug, Default)]
struct Tally {
    deals: u64,
    amount: Decimal,
    unpriced: u64,
}

fn tally<'a>(
    deals: impl Iterator<Item = &'a Opportunity>,
    corporate_currency: Option<CurrencyCode>,
) -> Tally {
    let mut tally = Tally::default();
    for deal in deals {
        tally.deals += 1;
        let priced = corporate_amount(deal)
            .filter(|money| Some(money.currency) == corporate_currency)
            .and_then(|money| tally.amount.checked_add(money.amount));
        match priced {
            Some(sum) => tally.amount = sum,
            None => tally.unpriced += 1,
        }
    }
    tally
}

/// The deal's corporate amount, when it has one the kit can read.
fn corporate_amount(deal: &Opportunity) -> Option<Money> {
    let message = deal.corporate_amount.as_ref()?.amount.as_ref()?;
    Money::parse("corporate_amount.amount", message, Sign::Any).ok()
}

#[cfg(test)]
#[path = "account_view_tests.rs"]
mod tests;
