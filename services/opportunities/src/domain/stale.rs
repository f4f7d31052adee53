//! Stale deals: an open deal with no activity for its pipeline's `stale_after_days` (0: never
//! stale). What the stale-deals job announces.

use chrono::{DateTime, Utc};
use crm_platform::auth::TeamPath;
use uuid::Uuid;

/// Most days a pipeline may wait before its deals go stale.
pub const MAX_STALE_AFTER_DAYS: u32 = 365;
/// What a new pipeline waits (and what the migration gave the existing ones).
pub const DEFAULT_STALE_AFTER_DAYS: u32 = 14;

/// An open deal found stale, as the job announces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleDeal {
    pub opportunity_id: Uuid,
    pub owner_id: Uuid,
    pub owner_team_path: TeamPath,
    pub pipeline_id: Uuid,
    pub version: i64,
    pub last_activity_at: DateTime<Utc>,
    pub stale_after_days: u32,
}

/// Whole days from `last_activity_at` to `now` (0 when it lies ahead).
pub fn days_without_activity(last_activity_at: DateTime<Utc>, now: DateTime<Utc>) -> u32 {
    u32::try_from((now - last_activity_at).num_days().max(0)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn days_without_activity_counts_whole_days_and_never_below_zero() {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        assert_eq!(days_without_activity(at, at + Duration::hours(47)), 1);
        assert_eq!(days_without_activity(at, at + Duration::days(14)), 14);
        assert_eq!(days_without_activity(at, at - Duration::days(3)), 0);
    }

    proptest! {
        /// Whole days never exceed the elapsed time and never fall a day short of it.
        #[test]
        fn days_without_activity_are_the_whole_days_elapsed(minutes in 0i64..10_000_000) {
            let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
            let days = i64::from(days_without_activity(at, at + Duration::minutes(minutes)));
            prop_assert!(days * 1440 <= minutes && minutes < (days + 1) * 1440);
        }
    }
}
