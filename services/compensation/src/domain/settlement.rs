//! How a deal's commission settles across periods: what an on-payment plan releases as the
//! customer pays, what a deal taken back claws back, and the standing each statement leaves
//! for the next — the figures a later statement starts from ([`DealHistory`]).

use std::collections::{BTreeMap, HashSet};

use rust_decimal::Decimal;
use uuid::Uuid;

use super::{
    credit::{Credit, CreditKind},
    statement::{Builder, Component, Line, round_line},
};

/// What earlier statements hold for one deal of the rep's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DealHistory {
    pub deal_id: Uuid,
    pub deal_name: String,
    /// Every paid line on the deal so far (commission, releases, SPIFFs, clawbacks).
    pub paid: Decimal,
    /// The rep's booked share while it stands (0 once reversed).
    pub booked: Decimal,
    /// Commission earned on booking by an on-payment plan (rounded lines).
    pub earned: Decimal,
    /// Collected of the rep's share so far, net of refunds.
    pub collected: Decimal,
    /// Released since the deal was last booked.
    pub released: Decimal,
}

/// The commission one of the period's bookings earned, for an on-payment plan to release.
pub(super) struct Earned<'a> {
    /// The rounded lines the booking earned.
    pub commission: Decimal,
    pub booked: Decimal,
    pub booking: &'a Credit,
}

impl<'a> Earned<'a> {
    pub(super) fn on(booking: &'a Credit) -> Self {
        Earned {
            commission: Decimal::ZERO,
            booked: Decimal::ZERO,
            booking,
        }
    }
}

/// The deals with a booking taken back in the period.
fn reversed_deals(credits: &[Credit]) -> HashSet<Uuid> {
    credits
        .iter()
        .filter(|credit| credit.kind == CreditKind::BookingReversal)
        .filter_map(|credit| credit.deal_id)
        .collect()
}

/// On-payment plans: each deal's earned commission released as collected, cumulatively —
/// earned × collected ÷ booked (at most all of it), rounded, less what was released before.
pub(super) fn release(builder: &mut Builder<'_>, earned_here: &BTreeMap<Uuid, Earned<'_>>) {
    let input = builder.input;
    let reversed = reversed_deals(input.credits);
    let mut deals: BTreeMap<Uuid, (DealHistory, Option<&Credit>)> = input
        .history
        .iter()
        .map(|history| (history.deal_id, (history.clone(), None)))
        .collect();
    for (deal, here) in earned_here {
        let (standing, booking) = deals.entry(*deal).or_insert_with(|| {
            (
                DealHistory {
                    deal_id: *deal,
                    ..DealHistory::default()
                },
                None,
            )
        });
        standing.earned = here.commission;
        standing.booked = here.booked;
        // Taken back and won again in the period: the clawback takes back what was released,
        // so releasing starts afresh.
        if reversed.contains(deal) {
            standing.released = Decimal::ZERO;
        }
        *booking = Some(here.booking);
    }
    let mut paid_here: BTreeMap<Uuid, (Decimal, &Credit)> = BTreeMap::new();
    for payment in input
        .credits
        .iter()
        .filter(|credit| matches!(credit.kind, CreditKind::Payment | CreditKind::Refund))
    {
        if let Some(deal) = payment.deal_id {
            paid_here.entry(deal).or_insert((Decimal::ZERO, payment)).0 += payment.signed();
        }
    }
    for (deal, (standing, booking)) in deals {
        // A deal taken back in the period (and not won again in it) releases nothing more:
        // its clawback takes back what was released.
        let taken_back = reversed.contains(&deal) && !earned_here.contains_key(&deal);
        if taken_back || standing.booked.is_zero() {
            continue;
        }
        let (paid, payment) = paid_here
            .get(&deal)
            .map_or((Decimal::ZERO, None), |(paid, payment)| {
                (*paid, Some(*payment))
            });
        let collected = standing.collected + paid;
        let ratio = (collected / standing.booked)
            .min(Decimal::ONE)
            .max(Decimal::ZERO);
        let released = standing.released;
        let deal_name = booking.map_or(standing.deal_name.clone(), |booking| {
            booking.deal_name.clone()
        });
        let due = round_line(standing.earned * ratio, input.plan.currency) - released;
        if due.is_zero() {
            continue;
        }
        builder.line(
            Component::CommissionReleased,
            payment.or(booking),
            standing.earned,
            Some(ratio * Decimal::ONE_HUNDRED),
            due,
            format!(
                "{} % of the earned commission collected, less {released} released before",
                (ratio * Decimal::ONE_HUNDRED).round_dp(2).normalize()
            ),
        );
        // A payment's entry does not carry the deal's name: the line takes the booking's.
        if let Some(line) = builder.lines.last_mut()
            && line.deal_name.is_empty()
        {
            line.deal_name = deal_name;
        }
    }
}

/// Bookings of earlier periods reversed in this one: everything paid on the deal taken back.
pub(super) fn clawbacks(builder: &mut Builder<'_>, reversed_here: &HashSet<Uuid>) {
    let input = builder.input;
    let own: HashSet<Uuid> = input.credits.iter().map(|credit| credit.id).collect();
    for reversal in input
        .credits
        .iter()
        .filter(|credit| credit.kind == CreditKind::BookingReversal)
    {
        let Some(booking) = reversal.reverses else {
            continue;
        };
        if own.contains(&booking) || !reversed_here.contains(&booking) {
            continue;
        }
        let paid = input
            .history
            .iter()
            .find(|history| Some(history.deal_id) == reversal.deal_id)
            .map_or(Decimal::ZERO, |history| history.paid);
        if paid.is_zero() {
            continue;
        }
        builder.line(
            Component::Clawback,
            Some(reversal),
            paid,
            None,
            -paid,
            "the deal is no longer won: what was paid on it is taken back".into(),
        );
    }
}

/// `deal`'s standing among those a statement touched, starting from `before`'s.
fn touch<'a>(
    touched: &'a mut BTreeMap<Uuid, DealHistory>,
    before: &[DealHistory],
    deal: Uuid,
    name: &str,
) -> &'a mut DealHistory {
    let standing = touched.entry(deal).or_insert_with(|| {
        before
            .iter()
            .find(|history| history.deal_id == deal)
            .cloned()
            .unwrap_or_else(|| DealHistory {
                deal_id: deal,
                ..DealHistory::default()
            })
    });
    if !name.is_empty() {
        standing.deal_name = name.to_owned();
    }
    standing
}

/// The standing of every deal a statement touched after it: `before` (the figures it started
/// from) moved by its ledger entries (in ledger order) and its lines. Deals it did not touch
/// keep their standing and are not returned.
pub fn standing_after(
    before: &[DealHistory],
    credits: &[Credit],
    lines: &[Line],
) -> Vec<DealHistory> {
    let mut touched: BTreeMap<Uuid, DealHistory> = BTreeMap::new();
    let reversed_here: HashSet<Uuid> = credits
        .iter()
        .filter_map(|credit| credit.reverses)
        .collect();
    for credit in credits {
        let Some(deal) = credit.deal_id else {
            continue;
        };
        let standing = touch(&mut touched, before, deal, &credit.deal_name);
        match credit.kind {
            CreditKind::Booking if !reversed_here.contains(&credit.id) => {
                standing.booked = credit.amount;
                standing.earned = Decimal::ZERO;
            }
            CreditKind::Booking | CreditKind::Expense => {}
            CreditKind::BookingReversal => {
                standing.booked = Decimal::ZERO;
                standing.earned = Decimal::ZERO;
                standing.released = Decimal::ZERO;
            }
            CreditKind::Payment | CreditKind::Refund => standing.collected += credit.signed(),
        }
    }
    for line in lines {
        let Some(deal) = line.deal_id else {
            continue;
        };
        let standing = touch(&mut touched, before, deal, &line.deal_name);
        if line.component.is_paid() {
            standing.paid += line.amount;
        }
        match line.component {
            Component::CommissionEarned => standing.earned += line.amount,
            Component::CommissionReleased => standing.released += line.amount,
            _ => {}
        }
    }
    touched.into_values().collect()
}

/// `history` with `after`'s deals replaced: the figures the next statement starts from.
pub fn carry_forward(history: &mut Vec<DealHistory>, after: Vec<DealHistory>) {
    let mut deals: BTreeMap<Uuid, DealHistory> = history
        .drain(..)
        .map(|standing| (standing.deal_id, standing))
        .collect();
    for standing in after {
        deals.insert(standing.deal_id, standing);
    }
    history.extend(deals.into_values());
}
