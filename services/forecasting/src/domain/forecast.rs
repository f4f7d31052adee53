//! The weighted pipeline (F1) and its categories (F2): what one deal adds to the forecast, and
//! the forecast of a period from those contributions added up.
//!
//! The read model keeps the contributions added up by owner, team, month, status and category
//! (`pipeline_months`): a deal event moves its deal's contribution from where the old version
//! put it to where the new one does ([`Contribution::of`] of both), so a company roll-up reads
//! a few thousand sums instead of a million deals. Every sum is exact (decimals, never
//! rounded per deal), so the order events arrive in changes no digit; figures are rounded to
//! the currency's minor unit once, when shown.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use crm_platform::auth::TeamPath;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::deal::{DealStatus, ForecastCategory, PipelineDeal};

/// A rep's choice of category for an open deal, holding while the deal stays in `stage_id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CategoryOverride {
    pub stage_id: Uuid,
    pub category: ForecastCategory,
}

impl CategoryOverride {
    /// The categories a rep may choose: closed comes only from winning.
    pub fn is_choosable(category: ForecastCategory) -> bool {
        category != ForecastCategory::Closed
    }
}

/// The category the forecast counts an open deal in: the override while the deal is in the
/// stage it was set at, else the stage's.
pub fn effective_category(
    deal: &PipelineDeal,
    category_override: Option<&CategoryOverride>,
) -> ForecastCategory {
    match category_override {
        Some(chosen) if chosen.stage_id == deal.stage_id && deal.status == DealStatus::Open => {
            chosen.category
        }
        _ => deal.category,
    }
}

/// How a deal counts in the forecast: where (owner, team, month, status, category) and how
/// much. Open deals count in the month they are expected to close, won and lost ones in the
/// month they closed; archived deals nowhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contribution {
    pub owner_id: Uuid,
    pub owner_team_path: TeamPath,
    /// The first day of the month.
    pub month: NaiveDate,
    pub status: DealStatus,
    pub category: ForecastCategory,
    /// The corporate currency the amounts are in; `None` for a deal without a corporate
    /// amount, which counts as unconverted and adds no money.
    pub currency: Option<&'static str>,
    pub amount: Decimal,
    /// Amount × effective probability; a won deal's whole amount, a lost deal's nothing.
    pub weighted: Decimal,
}

impl Contribution {
    pub fn of(deal: &PipelineDeal, category_override: Option<&CategoryOverride>) -> Option<Self> {
        let (day, category) = match deal.status {
            DealStatus::Archived => return None,
            DealStatus::Open => (
                deal.expected_close_date,
                effective_category(deal, category_override),
            ),
            DealStatus::Won => (
                deal.closed_on.unwrap_or(deal.expected_close_date),
                ForecastCategory::Closed,
            ),
            DealStatus::Lost => (
                deal.closed_on.unwrap_or(deal.expected_close_date),
                deal.category,
            ),
        };
        let (currency, amount) = match deal.corporate_amount {
            Some(money) => (Some(money.currency.as_str()), money.amount),
            None => (None, Decimal::ZERO),
        };
        let weighted = match deal.status {
            DealStatus::Won => amount,
            DealStatus::Lost | DealStatus::Archived => Decimal::ZERO,
            DealStatus::Open => {
                amount * Decimal::from(deal.effective_probability) / Decimal::ONE_HUNDRED
            }
        };
        Some(Contribution {
            owner_id: deal.owner_id,
            owner_team_path: deal.owner_team_path.clone(),
            month: first_of_month(day),
            status: deal.status,
            category,
            currency,
            amount,
            weighted,
        })
    }
}

pub fn first_of_month(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// Deals added up: how many, their amounts, their weighted amounts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub deal_count: u64,
    pub amount: Decimal,
    pub weighted: Decimal,
}

impl Totals {
    pub fn add(&mut self, other: &Totals) {
        self.deal_count += other.deal_count;
        self.amount += other.amount;
        self.weighted += other.weighted;
    }
}

/// One stored sum of contributions, as a forecast reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonthTotals {
    pub owner_id: Uuid,
    pub owner_team_path: String,
    pub month: NaiveDate,
    pub status: DealStatus,
    pub category: ForecastCategory,
    /// `None`: unconverted deals (no corporate amount).
    pub currency: Option<String>,
    pub totals: Totals,
}

/// The categories an open deal can be counted in, in the order a forecast shows them.
pub const OPEN_CATEGORIES: [ForecastCategory; 4] = [
    ForecastCategory::Pipeline,
    ForecastCategory::BestCase,
    ForecastCategory::Commit,
    ForecastCategory::Omitted,
];

/// A forecast of one scope and period, in one corporate currency.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Forecast {
    pub open_by_category: BTreeMap<ForecastCategory, Totals>,
    pub closed: Totals,
    pub lost: Totals,
    pub unconverted_deals: u64,
}

impl Forecast {
    /// Adds up the sums of a scope and period. Sums in another currency than `currency` (the
    /// corporate currency now; an organisation that changed it has deals converted into the
    /// old one) count as unconverted: they cannot be added to the others.
    pub fn from_sums<'a>(
        sums: impl IntoIterator<Item = &'a MonthTotals>,
        currency: Option<&str>,
    ) -> Self {
        let mut forecast = Forecast::default();
        for sum in sums {
            forecast.add(sum, currency);
        }
        forecast
    }

    pub fn add(&mut self, sum: &MonthTotals, currency: Option<&str>) {
        let converted = currency.is_some() && sum.currency.as_deref() == currency;
        if !converted {
            if sum.status != DealStatus::Lost {
                self.unconverted_deals += sum.totals.deal_count;
            }
            return;
        }
        match sum.status {
            DealStatus::Open => self
                .open_by_category
                .entry(sum.category)
                .or_default()
                .add(&sum.totals),
            DealStatus::Won => self.closed.add(&sum.totals),
            DealStatus::Lost => self.lost.add(&sum.totals),
            DealStatus::Archived => {}
        }
    }

    pub fn category(&self, category: ForecastCategory) -> Totals {
        self.open_by_category
            .get(&category)
            .copied()
            .unwrap_or_default()
    }

    /// The open deals of every category but omitted.
    pub fn open(&self) -> Totals {
        let mut open = Totals::default();
        for (category, totals) in &self.open_by_category {
            if *category != ForecastCategory::Omitted {
                open.add(totals);
            }
        }
        open
    }

    /// Closed + commit.
    pub fn commit_total(&self) -> Decimal {
        self.closed.amount + self.category(ForecastCategory::Commit).amount
    }

    /// Closed + commit + best case.
    pub fn best_case_total(&self) -> Decimal {
        self.commit_total() + self.category(ForecastCategory::BestCase).amount
    }

    /// Closed + the open deals' weighted amounts, omitted excluded.
    pub fn weighted_total(&self) -> Decimal {
        self.closed.amount + self.open().weighted
    }
}

/// A team's forecast split along the team tree: each sub-team's subtree and each rep whose
/// team is the team itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RollUpLines {
    pub teams: BTreeMap<String, Forecast>,
    pub reps: BTreeMap<Uuid, Forecast>,
}

impl RollUpLines {
    /// Folds the sums of `team`'s subtree (by team and owner) into its lines.
    pub fn of<'a>(
        team: &TeamPath,
        sums: impl IntoIterator<Item = &'a MonthTotals>,
        currency: Option<&str>,
    ) -> Self {
        let mut lines = RollUpLines::default();
        for sum in sums {
            match child_of(team, &sum.owner_team_path) {
                Some(child) => lines.teams.entry(child).or_default().add(sum, currency),
                None => lines
                    .reps
                    .entry(sum.owner_id)
                    .or_default()
                    .add(sum, currency),
            }
        }
        lines
    }
}

/// The sub-team of `team` that holds `path` (`/n/east/` holds `/n/east/e-1/x/` in
/// `/n/east/e-1/`); `None` when `path` is `team` itself (or, which a subtree's sums never
/// are, outside it).
pub fn child_of(team: &TeamPath, path: &str) -> Option<String> {
    let rest = path.strip_prefix(team.as_str())?;
    let segment = rest
        .split('/')
        .next()
        .filter(|segment| !segment.is_empty())?;
    Some(format!("{}{segment}/", team.as_str()))
}

#[cfg(test)]
#[path = "forecast_tests.rs"]
mod tests;
