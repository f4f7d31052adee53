//! The sales analysis (F8): a scope's bookings or pipeline of a period grouped by a dimension,
//! against the previous period and the same period a year earlier, from the read model.

use std::collections::BTreeMap;

use chrono::{Datelike, Months, NaiveDate};
use crm_platform::{auth::Caller, fiscal::FiscalPeriod};
use rust_decimal::Decimal;

use super::{Counting, Forecasting, Result};
use crate::{
    domain::{
        analysis::{Analysis, GroupAmounts, analyse},
        forecast::child_of,
        scope::{RequestedScope, Scope},
    },
    store::{
        self,
        analysis::{Dimension as StoredDimension, Measure},
    },
};

/// What an analysis groups by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnalysisDimension {
    Product,
    Customer,
    Industry,
    Rep,
    /// The sub-team below the scope's team (the caller's team for the company).
    Team,
    /// The months of the period, each against the month as far into the other periods.
    Month,
}

pub struct SalesAnalysis {
    pub counting: Counting,
    pub previous: FiscalPeriod,
    pub year_ago: FiscalPeriod,
    pub analysis: Analysis<String>,
    /// Each group's label, by key.
    pub labels: BTreeMap<String, String>,
}

impl Forecasting {
    pub async fn analyze_sales(
        &self,
        caller: &Caller,
        requested: RequestedScope,
        period: &str,
        dimension: AnalysisDimension,
        measure: Measure,
    ) -> Result<SalesAnalysis> {
        let mut connection = self.pool.acquire().await?;
        let counting = self
            .counting(&mut connection, caller, requested, "period", period)
            .await?;
        let current = counting.period;
        let periods = [current, current.previous(), current.a_year_earlier()];
        let stored_dimension = match dimension {
            AnalysisDimension::Product => StoredDimension::Product,
            AnalysisDimension::Customer => StoredDimension::Customer,
            AnalysisDimension::Industry => StoredDimension::Industry,
            AnalysisDimension::Rep => StoredDimension::Rep,
            AnalysisDimension::Team => StoredDimension::TeamPath,
            AnalysisDimension::Month => StoredDimension::Month,
        };
        let base = match &counting.scope {
            Scope::Team(team) => team.clone(),
            Scope::Rep { team_path, .. } => team_path.clone(),
            Scope::Company => caller.team_path.clone(),
        };
        // key → (label, amount in each of the three periods)
        let mut groups: BTreeMap<String, (String, [Decimal; 3])> = BTreeMap::new();
        if let Some(currency) = counting.currency {
            for (index, period) in periods.iter().enumerate() {
                let sums = store::analysis::sums(
                    &mut connection,
                    &counting.scope,
                    measure,
                    stored_dimension,
                    (period.start(), period.end()),
                    currency.as_str(),
                )
                .await?;
                for sum in sums {
                    let (key, label) = match dimension {
                        AnalysisDimension::Team => {
                            let team = child_of(&base, &sum.key).unwrap_or(sum.key);
                            (team.clone(), team)
                        }
                        AnalysisDimension::Month => {
                            let month = same_month_of(&current, period, &sum.key);
                            (month.clone(), month)
                        }
                        _ => (sum.key, sum.label),
                    };
                    let group = groups.entry(key).or_default();
                    if group.0.is_empty() {
                        group.0 = label;
                    }
                    group.1[index] += sum.amount;
                }
            }
        }
        let labels = groups
            .iter()
            .map(|(key, (label, _))| (key.clone(), label.clone()))
            .collect();
        let analysis = analyse(
            groups
                .into_iter()
                .map(|(key, (_, [current, previous, year_ago]))| GroupAmounts {
                    key,
                    current,
                    previous,
                    year_ago,
                })
                .collect(),
        );
        Ok(SalesAnalysis {
            previous: periods[1],
            year_ago: periods[2],
            counting,
            analysis,
            labels,
        })
    }
}

/// The month of `current` ("2026-08") as far into it as `first_day` (a month's first day,
/// "2026-05-01", of `period`) is into `period`: the month a group of the month dimension is
/// compared under. A day that does not read is kept as it came.
fn same_month_of(current: &FiscalPeriod, period: &FiscalPeriod, first_day: &str) -> String {
    let Ok(day) = NaiveDate::parse_from_str(first_day, "%Y-%m-%d") else {
        return first_day.to_owned();
    };
    let months_in = |day: NaiveDate| day.year() * 12 + day.month0() as i32;
    let offset = months_in(day) - months_in(period.start());
    u32::try_from(offset)
        .ok()
        .and_then(|offset| current.start().checked_add_months(Months::new(offset)))
        .map_or_else(
            || first_day.to_owned(),
            |month| month.format("%Y-%m").to_string(),
        )
}
