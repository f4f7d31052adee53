//! A rep's lifecycle stage: new, established or senior, from tenure (thresholds are
//! configuration), unless a manager set it by hand. Attainment-based promotion joins when
//! forecasting publishes attainment.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    New,
    Established,
    Senior,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::New => "new",
            Stage::Established => "established",
            Stage::Senior => "senior",
        }
    }

    pub fn parse(value: &str) -> Option<Stage> {
        match value {
            "new" => Some(Stage::New),
            "established" => Some(Stage::Established),
            "senior" => Some(Stage::Senior),
            _ => None,
        }
    }
}

/// Days of tenure that end "new" and begin "senior".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StageThresholds {
    pub new_until_days: i64,
    pub senior_from_days: i64,
}

impl Default for StageThresholds {
    /// New for the first three months, senior after three years.
    fn default() -> Self {
        Self {
            new_until_days: 90,
            senior_from_days: 3 * 365,
        }
    }
}

/// The stage on `today`: the override when set, else by tenure.
pub fn effective_stage(
    started_on: NaiveDate,
    today: NaiveDate,
    override_stage: Option<Stage>,
    thresholds: StageThresholds,
) -> Stage {
    if let Some(stage) = override_stage {
        return stage;
    }
    let tenure = (today - started_on).num_days();
    if tenure < thresholds.new_until_days {
        Stage::New
    } else if tenure >= thresholds.senior_from_days {
        Stage::Senior
    } else {
        Stage::Established
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn tenure_decides_unless_overridden() {
        let today = day("2026-11-23");
        let thresholds = StageThresholds::default();
        assert_eq!(
            effective_stage(day("2026-10-23"), today, None, thresholds),
            Stage::New
        );
        assert_eq!(
            effective_stage(day("2025-01-01"), today, None, thresholds),
            Stage::Established
        );
        assert_eq!(
            effective_stage(day("2023-09-01"), today, None, thresholds),
            Stage::Senior
        );
        assert_eq!(
            effective_stage(day("2026-10-23"), today, Some(Stage::Senior), thresholds),
            Stage::Senior
        );
    }

    proptest! {
        #[test]
        fn the_stage_never_goes_back_as_tenure_grows(start in 0i64..5000, later in 0i64..2000) {
            let thresholds = StageThresholds::default();
            let started = day("2015-01-01");
            let rank = |stage: Stage| match stage { Stage::New => 0, Stage::Established => 1, Stage::Senior => 2 };
            let today = started + chrono::Duration::days(start);
            let after = today + chrono::Duration::days(later);
            prop_assert!(rank(effective_stage(started, today, None, thresholds)) <= rank(effective_stage(started, after, None, thresholds)));
        }
    }
}
