//! How a period's pipeline moved between two weekly snapshots (F5): which deals came in, went
//! out, grew, shrank, were pulled in, pushed out, won or lost, and by how much — always with
//! `start total + Σ changes = end total`, so the movement explains the whole difference and a
//! manager never sees a gap nobody accounts for.
//!
//! The period's pipeline at a snapshot is the snapshot's open deals whose expected close date
//! lies in the period, in the corporate currency. Every deal in it at either snapshot lands in
//! exactly one kind of movement, the first of these that applies:
//!
//! 1. In the pipeline at `from`, not at `to` (its change: minus its amount at `from`):
//!    won → [`MovementKind::Won`]; lost → [`MovementKind::Lost`]; still open with a close date
//!    after the period → [`MovementKind::PushedOut`]; anything else — archived, gone from the
//!    snapshot, or open with a close date before the period (pulled into an earlier one) →
//!    [`MovementKind::Out`]. The outcome comes first: a deal won with a new amount and date is
//!    a win, not an amount or date change.
//! 2. Not in it at `from`, in it at `to` (its change: its amount at `to`): open at `from` with a
//!    close date after the period → [`MovementKind::PulledIn`]; anything else — new, reopened,
//!    or slipped in from an earlier period → [`MovementKind::In`].
//! 3. In it at both: the amount went up → [`MovementKind::Up`], down → [`MovementKind::Down`]
//!    (its change: the difference; the amount comes before the date because it is what moves
//!    the total); else the close date earlier → [`MovementKind::PulledIn`], later →
//!    [`MovementKind::PushedOut`] (change 0, the deal stayed in the period); else the deal is
//!    unchanged — a change of category alone shows in the categories' totals, not here.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use crm_platform::fiscal::FiscalPeriod;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::domain::{
    accuracy::Overflow,
    deal::{DealStatus, ForecastCategory},
};

/// A deal as a weekly snapshot kept it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotDeal {
    pub id: Uuid,
    /// In the corporate currency.
    pub amount: Decimal,
    pub category: ForecastCategory,
    pub expected_close_date: NaiveDate,
    pub status: DealStatus,
}

impl SnapshotDeal {
    fn in_pipeline_of(&self, period: &FiscalPeriod) -> bool {
        self.status == DealStatus::Open && period.contains(self.expected_close_date)
    }
}

/// The kinds of movement, in the order they are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MovementKind {
    In,
    Out,
    Up,
    Down,
    PulledIn,
    PushedOut,
    Won,
    Lost,
}

impl MovementKind {
    pub const ALL: [MovementKind; 8] = [
        MovementKind::In,
        MovementKind::Out,
        MovementKind::Up,
        MovementKind::Down,
        MovementKind::PulledIn,
        MovementKind::PushedOut,
        MovementKind::Won,
        MovementKind::Lost,
    ];
}

/// One deal's movement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MovedDeal {
    pub id: Uuid,
    pub kind: MovementKind,
    /// The deal in the `from` snapshot, if it was in it (in the period or not).
    pub before: Option<SnapshotDeal>,
    /// The deal in the `to` snapshot, if it is in it.
    pub after: Option<SnapshotDeal>,
    /// What the movement is about: the amount that came in (in, pulled in), that left (out,
    /// pushed out, won, lost — the amount at `from`), or the size of the change (up, down).
    pub amount: Decimal,
    /// What it changed the period's pipeline total by (0 for a date change in the period).
    pub change: Decimal,
}

/// The deals of one kind of movement, largest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MovementGroup {
    pub kind: MovementKind,
    pub deals: Vec<MovedDeal>,
    /// Σ of the deals' `amount`.
    pub amount: Decimal,
    /// Σ of the deals' `change`.
    pub change: Decimal,
}

/// The period's pipeline at one snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PipelineTotal {
    pub total: Decimal,
    pub deal_count: usize,
    /// The total by forecast category (only the categories that have deals).
    pub by_category: BTreeMap<ForecastCategory, Decimal>,
}

/// The movement of a period's pipeline from one snapshot to another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PipelineMovement {
    pub start: PipelineTotal,
    pub end: PipelineTotal,
    /// One group per kind, in [`MovementKind::ALL`]'s order, empty ones included.
    pub groups: Vec<MovementGroup>,
    /// Deals in the pipeline at both snapshots with the same amount and close date.
    pub unchanged_count: usize,
}

/// How the pipeline of `period` moved from snapshot `from` to snapshot `to` (each deal once in
/// a snapshot: the snapshot's key). Errs only when a total leaves decimal range.
pub fn movement(
    period: &FiscalPeriod,
    from: &[SnapshotDeal],
    to: &[SnapshotDeal],
) -> Result<PipelineMovement, Overflow> {
    let before: HashMap<Uuid, &SnapshotDeal> = from.iter().map(|deal| (deal.id, deal)).collect();
    let after: HashMap<Uuid, &SnapshotDeal> = to.iter().map(|deal| (deal.id, deal)).collect();
    let mut groups: Vec<MovementGroup> = MovementKind::ALL
        .into_iter()
        .map(|kind| MovementGroup {
            kind,
            deals: Vec::new(),
            amount: Decimal::ZERO,
            change: Decimal::ZERO,
        })
        .collect();
    let mut unchanged_count = 0;
    // Every deal of either snapshot, once: those of `from`, then those only in `to`.
    let ids = from.iter().map(|deal| deal.id).chain(
        to.iter()
            .map(|deal| deal.id)
            .filter(|id| !before.contains_key(id)),
    );
    for id in ids {
        let was = before.get(&id).copied();
        let is = after.get(&id).copied();
        match classify(period, was, is)? {
            Classified::Outside => {}
            Classified::Unchanged => unchanged_count += 1,
            Classified::Moved {
                kind,
                amount,
                change,
            } => {
                let Some(group) = groups.iter_mut().find(|group| group.kind == kind) else {
                    continue;
                };
                group.amount = group.amount.checked_add(amount).ok_or(Overflow)?;
                group.change = group.change.checked_add(change).ok_or(Overflow)?;
                group.deals.push(MovedDeal {
                    id,
                    kind,
                    before: was.cloned(),
                    after: is.cloned(),
                    amount,
                    change,
                });
            }
        }
    }
    for group in &mut groups {
        group
            .deals
            .sort_by(|a, b| b.amount.cmp(&a.amount).then(a.id.cmp(&b.id)));
    }
    Ok(PipelineMovement {
        start: pipeline_total(period, from)?,
        end: pipeline_total(period, to)?,
        groups,
        unchanged_count,
    })
}

/// The pipeline of `period` in a snapshot.
pub fn pipeline_total(
    period: &FiscalPeriod,
    snapshot: &[SnapshotDeal],
) -> Result<PipelineTotal, Overflow> {
    let mut total = PipelineTotal::default();
    for deal in snapshot.iter().filter(|deal| deal.in_pipeline_of(period)) {
        total.total = total.total.checked_add(deal.amount).ok_or(Overflow)?;
        total.deal_count += 1;
        let category = total.by_category.entry(deal.category).or_default();
        *category = category.checked_add(deal.amount).ok_or(Overflow)?;
    }
    Ok(total)
}

enum Classified {
    /// In the period's pipeline at neither snapshot.
    Outside,
    Unchanged,
    Moved {
        kind: MovementKind,
        amount: Decimal,
        change: Decimal,
    },
}

/// The rules of the module's documentation, in its order.
fn classify(
    period: &FiscalPeriod,
    before: Option<&SnapshotDeal>,
    after: Option<&SnapshotDeal>,
) -> Result<Classified, Overflow> {
    let in_before = before.filter(|deal| deal.in_pipeline_of(period));
    let in_after = after.filter(|deal| deal.in_pipeline_of(period));
    let later_than_period = |deal: &SnapshotDeal| {
        deal.status == DealStatus::Open && deal.expected_close_date >= period.end()
    };
    let moved = |kind, amount, change| Classified::Moved {
        kind,
        amount,
        change,
    };
    Ok(match (in_before, in_after) {
        (None, None) => Classified::Outside,
        (Some(was), None) => {
            let kind = match after {
                Some(is) if is.status == DealStatus::Won => MovementKind::Won,
                Some(is) if is.status == DealStatus::Lost => MovementKind::Lost,
                Some(is) if later_than_period(is) => MovementKind::PushedOut,
                _ => MovementKind::Out,
            };
            moved(kind, was.amount, -was.amount)
        }
        (None, Some(is)) => {
            let kind = match before {
                Some(was) if later_than_period(was) => MovementKind::PulledIn,
                _ => MovementKind::In,
            };
            moved(kind, is.amount, is.amount)
        }
        (Some(was), Some(is)) => {
            let change = is.amount.checked_sub(was.amount).ok_or(Overflow)?;
            if change > Decimal::ZERO {
                moved(MovementKind::Up, change, change)
            } else if change < Decimal::ZERO {
                moved(MovementKind::Down, -change, change)
            } else if is.expected_close_date < was.expected_close_date {
                moved(MovementKind::PulledIn, is.amount, Decimal::ZERO)
            } else if is.expected_close_date > was.expected_close_date {
                moved(MovementKind::PushedOut, was.amount, Decimal::ZERO)
            } else {
                Classified::Unchanged
            }
        }
    })
}

#[cfg(test)]
#[path = "movement_tests.rs"]
mod tests;
