//! Recycling (L5): a lead its owner does not work goes back to the pool, so good leads do not
//! rot on a busy desk.
//!
//! Two clocks run for an assigned or working lead: follow-up (no activity or status change for
//! N days) and conversion (not converted M days after assignment). The earlier deadline counts:
//! K days before it the owner is warned, at it the lead is recycled. The conversion clock is not
//! reset by activity on purpose: touching a lead every day must not let a rep hold it forever.
//! The rep who lost a lead may not claim it back during a cool-down, so recycling really hands
//! it to someone else.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::lifecycle::LeadStatus;

/// The team's recycling settings, stored as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RecyclingPolicy {
    /// N: days without activity or status change before the lead is recycled.
    pub follow_up_days: u32,
    /// M: days after assignment by which the lead must be converted.
    pub convert_within_days: u32,
    /// K: days before either deadline the owner is warned.
    pub warn_days_before: u32,
    /// Days the previous owner must wait before claiming a recycled lead again.
    pub cooldown_days: u32,
}

impl Default for RecyclingPolicy {
    /// A week to follow up (warned two days ahead), a month to convert, two weeks' cool-down.
    fn default() -> Self {
        RecyclingPolicy {
            follow_up_days: 7,
            convert_within_days: 30,
            warn_days_before: 2,
            cooldown_days: 14,
        }
    }
}

impl RecyclingPolicy {
    /// Checks the settings; the message names the first bad one.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=365).contains(&self.follow_up_days) {
            return Err("follow_up_days must be between 1 and 365".into());
        }
        if !(1..=730).contains(&self.convert_within_days) {
            return Err("convert_within_days must be between 1 and 730".into());
        }
        if self.warn_days_before >= self.follow_up_days
            || self.warn_days_before >= self.convert_within_days
        {
            return Err(
                "warn_days_before must be less than follow_up_days and convert_within_days".into(),
            );
        }
        if self.cooldown_days > 365 {
            return Err("cooldown_days must be at most 365".into());
        }
        Ok(())
    }
}

/// What recycling needs to know about one lead.
#[derive(Clone, Debug, PartialEq)]
pub struct LeadActivityClock {
    pub owner_id: Uuid,
    pub assigned_at: DateTime<Utc>,
    /// The last activity or status change; an assignment counts as one, so a value before
    /// `assigned_at` is treated as `assigned_at`.
    pub last_touched_at: DateTime<Utc>,
    pub status: LeadStatus,
}

/// Which clock ran out; the days are the policy's N or M.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum RecycleReason {
    NoFollowUp { days: u32 },
    NotConverted { days: u32 },
}

impl fmt::Display for RecycleReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecycleReason::NoFollowUp { days } => write!(f, "no follow-up for {days} days"),
            RecycleReason::NotConverted { days } => {
                write!(f, "not converted within {days} days of assignment")
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecycleDecision {
    Keep,
    /// Tell the owner the lead will be recycled at `recycle_at` unless they act.
    Warn {
        recycle_at: DateTime<Utc>,
        reason: RecycleReason,
    },
    Recycle {
        reason: RecycleReason,
    },
}

/// The deadline that runs out first, and why; on a tie the follow-up deadline, since one call
/// is all it takes to meet it. `None` for leads recycling does not touch (only assigned and
/// working leads are recycled).
pub fn next_deadline(
    clock: &LeadActivityClock,
    policy: &RecyclingPolicy,
) -> Option<(DateTime<Utc>, RecycleReason)> {
    if !matches!(clock.status, LeadStatus::Assigned | LeadStatus::Working) {
        return None;
    }
    let touched = clock.last_touched_at.max(clock.assigned_at);
    let follow_up = (
        touched + Duration::days(i64::from(policy.follow_up_days)),
        RecycleReason::NoFollowUp {
            days: policy.follow_up_days,
        },
    );
    let convert = (
        clock.assigned_at + Duration::days(i64::from(policy.convert_within_days)),
        RecycleReason::NotConverted {
            days: policy.convert_within_days,
        },
    );
    Some(if convert.0 < follow_up.0 {
        convert
    } else {
        follow_up
    })
}

/// Keep, warn or recycle the lead as of `now`. Recycles at the deadline itself, warns from K
/// days before it.
pub fn recycle_decision(
    clock: &LeadActivityClock,
    policy: &RecyclingPolicy,
    now: DateTime<Utc>,
) -> RecycleDecision {
    let Some((deadline, reason)) = next_deadline(clock, policy) else {
        return RecycleDecision::Keep;
    };
    if now >= deadline {
        return RecycleDecision::Recycle { reason };
    }
    if now >= deadline - Duration::days(i64::from(policy.warn_days_before)) {
        return RecycleDecision::Warn {
            recycle_at: deadline,
            reason,
        };
    }
    RecycleDecision::Keep
}

/// A claim refused because the rep lost this lead to recycling (or released it) too recently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CooldownRefusal {
    pub until: DateTime<Utc>,
}

impl fmt::Display for CooldownRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "you can claim this lead again after {}",
            self.until.format("%Y-%m-%d")
        )
    }
}

impl std::error::Error for CooldownRefusal {}

/// Whether `rep_id` may claim a lead whose last owner (and when they lost it) is `last_owner`.
/// Only the last owner waits; everyone else may claim at once.
pub fn reclaim_allowed(
    rep_id: Uuid,
    last_owner: Option<(Uuid, DateTime<Utc>)>,
    policy: &RecyclingPolicy,
    now: DateTime<Utc>,
) -> Result<(), CooldownRefusal> {
    let Some((owner_id, released_at)) = last_owner else {
        return Ok(());
    };
    if owner_id != rep_id {
        return Ok(());
    }
    let until = released_at + Duration::days(i64::from(policy.cooldown_days));
    if now < until {
        return Err(CooldownRefusal { until });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn day(n: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap() + Duration::days(n)
    }

    fn clock(assigned_day: i64, touched_day: i64) -> LeadActivityClock {
        LeadActivityClock {
            owner_id: Uuid::from_u128(2),
            assigned_at: day(assigned_day),
            last_touched_at: day(touched_day),
            status: LeadStatus::Assigned,
        }
    }

    #[test]
    fn the_scenario_nora_is_warned_on_day_5_and_loses_the_lead_on_day_7() {
        let policy = RecyclingPolicy::default();
        let (nora, ravi) = (Uuid::from_u128(2), Uuid::from_u128(1));
        let lead = clock(0, 0);
        let no_follow_up = RecycleReason::NoFollowUp { days: 7 };
        assert_eq!(
            recycle_decision(&lead, &policy, day(4)),
            RecycleDecision::Keep
        );
        assert_eq!(
            recycle_decision(&lead, &policy, day(5)),
            RecycleDecision::Warn {
                recycle_at: day(7),
                reason: no_follow_up
            }
        );
        assert_eq!(
            recycle_decision(&lead, &policy, day(7)),
            RecycleDecision::Recycle {
                reason: no_follow_up
            }
        );
        let last_owner = Some((nora, day(7)));
        let refusal = reclaim_allowed(nora, last_owner, &policy, day(8)).unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "you can claim this lead again after 2026-11-23"
        );
        assert_eq!(reclaim_allowed(ravi, last_owner, &policy, day(8)), Ok(()));
        assert_eq!(reclaim_allowed(nora, last_owner, &policy, day(21)), Ok(()));
    }

    #[test]
    fn activity_resets_the_follow_up_clock_but_not_the_conversion_clock() {
        let policy = RecyclingPolicy::default();
        assert_eq!(
            recycle_decision(&clock(0, 6), &policy, day(10)),
            RecycleDecision::Keep
        );
        assert_eq!(
            recycle_decision(&clock(0, 27), &policy, day(28)),
            RecycleDecision::Warn {
                recycle_at: day(30),
                reason: RecycleReason::NotConverted { days: 30 }
            }
        );
        assert_eq!(
            RecycleReason::NotConverted { days: 30 }.to_string(),
            "not converted within 30 days of assignment"
        );
    }

    #[test]
    fn only_assigned_and_working_leads_are_recycled() {
        let policy = RecyclingPolicy::default();
        for status in LeadStatus::ALL {
            let lead = LeadActivityClock {
                status,
                ..clock(0, 0)
            };
            let recycled = recycle_decision(&lead, &policy, day(100)) != RecycleDecision::Keep;
            assert_eq!(
                recycled,
                matches!(status, LeadStatus::Assigned | LeadStatus::Working)
            );
        }
    }

    #[test]
    fn validation_keeps_the_warning_before_the_deadline() {
        assert_eq!(RecyclingPolicy::default().validate(), Ok(()));
        let late_warning = RecyclingPolicy {
            warn_days_before: 7,
            ..RecyclingPolicy::default()
        };
        assert!(late_warning.validate().is_err());
        let policy: RecyclingPolicy = serde_json::from_str(r#"{"follow_up_days":10}"#).unwrap();
        assert_eq!((policy.follow_up_days, policy.cooldown_days), (10, 14));
    }

    fn any_policy() -> impl Strategy<Value = RecyclingPolicy> {
        (1u32..30, 1u32..90, 0u32..30, 0u32..30).prop_map(|(n, m, k, cooldown)| RecyclingPolicy {
            follow_up_days: n,
            convert_within_days: m,
            warn_days_before: k % n.min(m),
            cooldown_days: cooldown,
        })
    }

    fn rank(decision: RecycleDecision) -> u8 {
        match decision {
            RecycleDecision::Keep => 0,
            RecycleDecision::Warn { .. } => 1,
            RecycleDecision::Recycle { .. } => 2,
        }
    }

    proptest! {
        #[test]
        fn the_decision_never_goes_back_as_time_passes(
            policy in any_policy(),
            touched_hours in 0i64..2000,
            mut hours in proptest::collection::vec(0i64..4000, 1..20),
        ) {
            let lead = LeadActivityClock {
                last_touched_at: day(0) + Duration::hours(touched_hours),
                ..clock(0, 0)
            };
            hours.sort_unstable();
            let ranks: Vec<u8> = hours.iter()
                .map(|h| rank(recycle_decision(&lead, &policy, day(0) + Duration::hours(*h))))
                .collect();
            prop_assert!(ranks.windows(2).all(|pair| pair[0] <= pair[1]), "{ranks:?}");
        }

        #[test]
        fn a_lead_touched_now_is_not_recycled_for_lack_of_follow_up(
            policy in any_policy(), assigned_hours_ago in 0i64..3000,
        ) {
            let now = day(100);
            let lead = LeadActivityClock {
                assigned_at: now - Duration::hours(assigned_hours_ago),
                last_touched_at: now,
                ..clock(0, 0)
            };
            let decision = recycle_decision(&lead, &policy, now);
            let recycled = matches!(decision, RecycleDecision::Recycle { .. });
            let for_lack_of_follow_up = matches!(
                decision,
                RecycleDecision::Recycle { reason: RecycleReason::NoFollowUp { .. } }
            );
            prop_assert!(!for_lack_of_follow_up);
            // Within the conversion window it is not recycled at all.
            if assigned_hours_ago < i64::from(policy.convert_within_days) * 24 {
                prop_assert!(!recycled);
            }
        }

        #[test]
        fn only_the_last_owner_waits_and_only_for_the_cool_down(
            policy in any_policy(), hours_since_release in 0i64..1000, same_rep in any::<bool>(),
        ) {
            let (nora, ravi) = (Uuid::from_u128(2), Uuid::from_u128(1));
            let claimant = if same_rep { nora } else { ravi };
            let now = day(0) + Duration::hours(hours_since_release);
            let allowed = reclaim_allowed(claimant, Some((nora, day(0))), &policy, now).is_ok();
            let cooled_down = hours_since_release >= i64::from(policy.cooldown_days) * 24;
            prop_assert_eq!(allowed, !same_rep || cooled_down);
        }
    }
}
