//! The net change many deal events make to the weighted pipeline's sums (`pipeline_months`).
//!
//! A batch of deal events moves each deal's contribution from where its stored version counted
//! to where its newest one does; adding those moves up per sum first means the sums are written
//! once per batch, one row per sum touched, instead of once or twice per event — and, because
//! the sums are exact decimals, the result is the same digit for digit as moving the deals one
//! at a time, in any order.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{deal::ForecastCategory, forecast::Contribution};

/// Which sum a contribution counts in; ordered, so that writers touch (and lock) sums in one
/// order and two replicas' batches cannot deadlock on them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SumKey {
    pub owner_team_path: String,
    pub owner_id: Uuid,
    pub month: NaiveDate,
    /// The deal status as stored (`DealStatus::as_str`).
    pub status: &'static str,
    pub category: ForecastCategory,
    /// `None`: unconverted deals (no corporate amount).
    pub currency: Option<&'static str>,
}

impl SumKey {
    pub fn of(contribution: &Contribution) -> SumKey {
        SumKey {
            owner_team_path: contribution.owner_team_path.as_str().to_owned(),
            owner_id: contribution.owner_id,
            month: contribution.month,
            status: contribution.status.as_str(),
            category: contribution.category,
            currency: contribution.currency,
        }
    }
}

/// What a sum gains (negative: loses).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SumChange {
    pub deal_count: i64,
    pub amount: Decimal,
    pub weighted: Decimal,
}

impl SumChange {
    fn is_nothing(&self) -> bool {
        self.deal_count == 0 && self.amount.is_zero() && self.weighted.is_zero()
    }
}

/// Moves of deal contributions, added up per sum.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SumChanges {
    changes: BTreeMap<SumKey, SumChange>,
}

impl SumChanges {
    /// A deal's contribution moving from `old` (what the sums hold for it, `None`: nothing) to
    /// `new` (`None`: it no longer counts).
    pub fn move_deal(&mut self, old: Option<&Contribution>, new: Option<&Contribution>) {
        if old == new {
            return;
        }
        if let Some(old) = old {
            self.count(old, -1);
        }
        if let Some(new) = new {
            self.count(new, 1);
        }
    }

    fn count(&mut self, contribution: &Contribution, sign: i64) {
        let change = self.changes.entry(SumKey::of(contribution)).or_default();
        let by = Decimal::from(sign);
        change.deal_count += sign;
        change.amount += by * contribution.amount;
        change.weighted += by * contribution.weighted;
    }

    /// The sums that change, in key order; moves that cancel out (a deal leaving a sum and
    /// another of the same amount joining it) change nothing and are left out.
    pub fn into_changes(self) -> Vec<(SumKey, SumChange)> {
        self.changes
            .into_iter()
            .filter(|(_, change)| !change.is_nothing())
            .collect()
    }
}

#[cfg(test)]
#[path = "sums_tests.rs"]
mod tests;
