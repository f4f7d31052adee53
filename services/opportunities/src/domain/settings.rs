//! How the organisation sells, beside its pipelines: the reasons deals are won and lost (O4),
//! the competitor catalogue (O5), and the priority board's settings (O9) — the weights of a
//! deal's probability, amount, closeness and staleness in its score, the amount at which the
//! amount part is full and the horizon over which closeness rises (one set, changed by admins;
//! when a deal goes stale is its pipeline's `stale_after_days`).

use chrono::{DateTime, Utc};
use crm_platform::{
    error::{FieldViolation, Violations, reasons},
    money::plain_decimal,
};
use rust_decimal::Decimal;
use uuid::Uuid;

/// Whether a close reason explains wins or losses (the wire's `CloseOutcomeKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseOutcomeKind {
    Won = 1,
    Lost = 2,
}

impl TryFrom<i16> for CloseOutcomeKind {
    type Error = String;
    fn try_from(value: i16) -> Result<Self, String> {
        match value {
            1 => Ok(CloseOutcomeKind::Won),
            2 => Ok(CloseOutcomeKind::Lost),
            other => Err(format!("{other} is not a close outcome")),
        }
    }
}

/// A reason deals are won or lost; its label is unique within its outcome (case-insensitive).
/// A retired reason is no longer offered; closed deals keep its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseReason {
    pub id: Uuid,
    pub outcome: CloseOutcomeKind,
    pub label: String,
    pub retired: bool,
}

/// A competitor of the catalogue deals pick from; its name is unique (case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Competitor {
    pub id: Uuid,
    pub name: String,
    /// As the front door checked it; empty when unknown.
    pub website: String,
    pub description: String,
    pub retired: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The most a weight is.
pub const MAX_WEIGHT: u32 = 100;
/// The longest close horizon, in days (ten years).
pub const MAX_CLOSE_HORIZON_DAYS: u32 = 3650;

/// The board's weights and scales as stored (each weight 0..=100, not all 0; the scale above
/// 0; the horizon 1..=3650 days).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardSettings {
    pub probability_weight: u32,
    pub amount_weight: u32,
    pub closeness_weight: u32,
    /// How much a deal left without activity past its pipeline's `stale_after_days` counts.
    pub staleness_weight: u32,
    /// The corporate-currency amount at which a deal's amount part is full.
    pub amount_scale: Decimal,
    pub close_horizon_days: u32,
    pub version: i64,
}

/// What an admin changes; `None` keeps the current value. The scale is the request's text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BoardSettingsChanges {
    pub probability_weight: Option<u32>,
    pub amount_weight: Option<u32>,
    pub closeness_weight: Option<u32>,
    pub staleness_weight: Option<u32>,
    pub amount_scale: Option<String>,
    pub close_horizon_days: Option<u32>,
}

impl BoardSettings {
    /// The settings with `changes` applied (same version), or every rule they break, named as
    /// the request names its fields. Weights that are each valid but all 0 together contradict
    /// the score's formula (it divides by their sum): FAILED_PRECONDITION (INCONSISTENT_FIELDS)
    /// on the weights the request set, as no single value is wrong.
    pub fn apply(
        &self,
        changes: &BoardSettingsChanges,
    ) -> Result<BoardSettings, Vec<FieldViolation>> {
        let mut violations = Violations::new();
        let mut weight = |field: &str, change: Option<u32>, current: u32| match change {
            Some(value) if value > MAX_WEIGHT => {
                violations.add(field, format!("must be 0 to {MAX_WEIGHT}"));
                current
            }
            Some(value) => value,
            None => current,
        };
        let probability_weight = weight(
            "probability_weight",
            changes.probability_weight,
            self.probability_weight,
        );
        let amount_weight = weight("amount_weight", changes.amount_weight, self.amount_weight);
        let closeness_weight = weight(
            "closeness_weight",
            changes.closeness_weight,
            self.closeness_weight,
        );
        let staleness_weight = weight(
            "staleness_weight",
            changes.staleness_weight,
            self.staleness_weight,
        );
        let amount_scale = match &changes.amount_scale {
            None => self.amount_scale,
            Some(text) => violations
                .check("amount_scale", parse_amount_scale(text))
                .unwrap_or(self.amount_scale),
        };
        let close_horizon_days = match changes.close_horizon_days {
            Some(days) if !(1..=MAX_CLOSE_HORIZON_DAYS).contains(&days) => {
                violations.add(
                    "close_horizon_days",
                    format!("must be 1 to {MAX_CLOSE_HORIZON_DAYS} days"),
                );
                self.close_horizon_days
            }
            Some(days) => days,
            None => self.close_horizon_days,
        };
        if violations.is_empty()
            && probability_weight + amount_weight + closeness_weight + staleness_weight == 0
        {
            let given = [
                ("probability_weight", changes.probability_weight),
                ("amount_weight", changes.amount_weight),
                ("closeness_weight", changes.closeness_weight),
                ("staleness_weight", changes.staleness_weight),
            ];
            for (field, _) in given.iter().filter(|(_, change)| change.is_some()) {
                violations.push(FieldViolation::refusal(
                    reasons::INCONSISTENT_FIELDS,
                    *field,
                    "the four weights must not all be 0",
                ));
            }
        }
        violations
            .into_result()
            .map_err(|list| crm_platform::error::as_refusals(reasons::INCONSISTENT_FIELDS, list))?;
        Ok(BoardSettings {
            probability_weight,
            amount_weight,
            closeness_weight,
            staleness_weight,
            amount_scale,
            close_horizon_days,
            version: self.version,
        })
    }
}

/// A positive plain decimal ("250000", "1000000.00"), kept without trailing zeros.
fn parse_amount_scale(text: &str) -> Result<Decimal, String> {
    let scale = plain_decimal(text)?.normalize();
    if scale <= Decimal::ZERO {
        return Err("must be more than 0".to_owned());
    }
    Ok(scale)
}

/// The board settings the migrations seed (35/30/20/15, a 1,000,000 scale, a 90-day horizon):
/// what the domain's tests score with.
#[cfg(test)]
pub(crate) fn seeded_board_settings() -> BoardSettings {
    BoardSettings {
        probability_weight: 35,
        amount_weight: 30,
        closeness_weight: 20,
        staleness_weight: 15,
        amount_scale: Decimal::from(1_000_000),
        close_horizon_days: 90,
        version: 1,
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use proptest::prelude::*;

    use super::{seeded_board_settings as seeded, *};

    fn fields(result: Result<BoardSettings, Vec<FieldViolation>>) -> Vec<String> {
        result
            .unwrap_err()
            .into_iter()
            .map(|violation| format!("{}: {}", violation.field, violation.description))
            .collect()
    }

    #[test]
    fn a_change_replaces_only_the_values_it_gives() {
        let changed = seeded()
            .apply(&BoardSettingsChanges {
                amount_weight: Some(0),
                amount_scale: Some(" 250000.00 ".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(
            changed,
            BoardSettings {
                amount_weight: 0,
                amount_scale: Decimal::from_str("250000").unwrap(),
                ..seeded()
            }
        );
        assert_eq!(changed.amount_scale.to_string(), "250000");
        assert_eq!(
            seeded().apply(&BoardSettingsChanges::default()).unwrap(),
            seeded()
        );
    }

    #[test]
    fn every_broken_value_is_named_at_once() {
        let refused = seeded().apply(&BoardSettingsChanges {
            probability_weight: Some(101),
            amount_scale: Some("0".into()),
            close_horizon_days: Some(0),
            ..Default::default()
        });
        assert_eq!(
            fields(refused),
            [
                "probability_weight: must be 0 to 100",
                "amount_scale: must be more than 0",
                "close_horizon_days: must be 1 to 3650 days",
            ]
        );
        let refused = seeded().apply(&BoardSettingsChanges {
            amount_scale: Some("1e6".into()),
            close_horizon_days: Some(3651),
            ..Default::default()
        });
        assert_eq!(
            fields(refused),
            [
                "amount_scale: \"1e6\" must be a plain decimal, not scientific notation",
                "close_horizon_days: must be 1 to 3650 days",
            ]
        );
        assert!(
            seeded()
                .apply(&BoardSettingsChanges {
                    amount_scale: Some("-5".into()),
                    ..Default::default()
                })
                .is_err()
        );
    }

    #[test]
    fn weights_all_zero_contradict_naming_the_weights_set() {
        let current = BoardSettings {
            amount_weight: 0,
            ..seeded()
        };
        let refused = current
            .apply(&BoardSettingsChanges {
                probability_weight: Some(0),
                closeness_weight: Some(0),
                staleness_weight: Some(0),
                ..Default::default()
            })
            .unwrap_err();
        let named: Vec<&str> = refused.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            named,
            ["probability_weight", "closeness_weight", "staleness_weight"]
        );
        // Staleness alone is a board of the neglected deals: allowed.
        assert!(
            current
                .apply(&BoardSettingsChanges {
                    probability_weight: Some(0),
                    closeness_weight: Some(0),
                    ..Default::default()
                })
                .is_ok()
        );
        assert!(
            refused
                .iter()
                .all(|v| v.reason == Some(reasons::INCONSISTENT_FIELDS))
        );
    }

    proptest! {
        /// Whatever an admin sends, what is accepted keeps the stored rules (the table's
        /// checks), so the board's formula always has a positive divisor and scale.
        #[test]
        fn accepted_settings_keep_every_rule(
            probability in proptest::option::of(0u32..120),
            amount in proptest::option::of(0u32..120),
            closeness in proptest::option::of(0u32..120),
            staleness in proptest::option::of(0u32..120),
            scale in proptest::option::of(-1_000i64..10_000_000),
            horizon in proptest::option::of(0u32..4000),
        ) {
            let changes = BoardSettingsChanges {
                probability_weight: probability,
                amount_weight: amount,
                closeness_weight: closeness,
                staleness_weight: staleness,
                amount_scale: scale.map(|cents| Decimal::new(cents, 2).to_string()),
                close_horizon_days: horizon,
            };
            if let Ok(settings) = seeded().apply(&changes) {
                let weights = [
                    settings.probability_weight,
                    settings.amount_weight,
                    settings.closeness_weight,
                    settings.staleness_weight,
                ];
                prop_assert!(weights.iter().all(|weight| *weight <= MAX_WEIGHT));
                prop_assert!(weights.iter().sum::<u32>() > 0);
                prop_assert!(settings.amount_scale > Decimal::ZERO);
                prop_assert!((1..=MAX_CLOSE_HORIZON_DAYS).contains(&settings.close_horizon_days));
            }
        }
    }
}
