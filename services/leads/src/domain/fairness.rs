//! Fairness (L4): how big a share of the lead flow each rep should get, and the smooth weighted
//! round-robin that hands the leads out in that proportion.
//!
//! Weight of an eligible rep = base × new-rep ramp × thin-pipeline boost × spare capacity, where
//! spare capacity = (capacity − open leads) / capacity. New reps and reps with little in their
//! pipeline need leads most (the source documents' "serve the rep"), and the spare-capacity
//! factor shifts leads away from reps as they fill up. A rep at capacity gets no weight at all,
//! so automatic assignment never pushes anyone past their cap.

use std::collections::BTreeMap;
use std::fmt;

use crm_platform::text::LocalizableText;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The codes of the texts fairness contributes to an assignment's explanation: the factors of
/// a rep's weight and why a rep was skipped. Each with its English template and parameters;
/// the console translates by them, so a code never changes its meaning or its parameters.
pub mod text_codes {
    /// "base ×{multiplier}": the policy's base weight, when it is not 1. `multiplier` ("1.50").
    pub const BASE_WEIGHT: &str = "leads.fairness.base_weight";
    /// "new rep ×{multiplier} day {day}": the new-rep ramp step the rep's tenure is in.
    /// `multiplier` ("2.0"), `day` (of tenure, 0 on the first).
    pub const NEW_REP_RAMP: &str = "leads.fairness.new_rep_ramp";
    /// "new rep ×{multiplier} (stage new, day {day})": past the ramp, still in stage new.
    pub const NEW_REP_RAMP_BY_STAGE: &str = "leads.fairness.new_rep_ramp_by_stage";
    /// "spare capacity {spare}": the share of the rep's capacity still free. `spare` ("0.80").
    pub const SPARE_CAPACITY: &str = "leads.fairness.spare_capacity";
    /// "thin pipeline ×{boost}": the boost for a pipeline under the threshold. `boost` ("1.5").
    pub const THIN_PIPELINE: &str = "leads.fairness.thin_pipeline";
    /// "inactive".
    pub const INACTIVE: &str = "leads.fairness.inactive";
    /// "not taking leads (capacity 0)".
    pub const NOT_TAKING_LEADS: &str = "leads.fairness.not_taking_leads";
    /// "at capacity {open_leads}/{capacity}". `open_leads`, `capacity`.
    pub const AT_CAPACITY: &str = "leads.fairness.at_capacity";
    /// "not on the rep roster": in a rule's group but not on the team's roster.
    pub const NOT_ON_ROSTER: &str = "leads.fairness.not_on_roster";
}

/// Where a rep is in their career, as their manager sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RepStage {
    New,
    Established,
    Senior,
}

/// What the engine needs to know about a rep right now.
#[derive(Clone, Debug, PartialEq)]
pub struct RepLoad {
    pub rep_id: Uuid,
    /// Shown in the explanation, so the audit reads "Nora", not an id.
    pub display_name: String,
    pub stage: RepStage,
    /// Days since the rep joined (0 on the first day).
    pub tenure_days: u32,
    pub open_leads: u32,
    /// Most open leads the rep is given automatically; 0 = not taking leads.
    pub capacity: u32,
    /// Value of the rep's open deals, in the team's currency.
    pub open_pipeline: Decimal,
    pub active: bool,
}

impl RepLoad {
    /// The name for people, falling back to the start of the id.
    pub fn name(&self) -> String {
        if self.display_name.trim().is_empty() {
            return self.rep_id.to_string()[..8].to_owned();
        }
        self.display_name.trim().to_owned()
    }
}

/// Why a rep is skipped by automatic assignment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Ineligibility {
    Inactive,
    NotTakingLeads,
    AtCapacity {
        open_leads: u32,
        capacity: u32,
    },
    /// In a rule's group but not on the team's rep roster.
    NotOnRoster,
}

impl Ineligibility {
    /// Why, as a text for people ([`text_codes`]).
    pub fn text(&self) -> LocalizableText {
        match self {
            Ineligibility::Inactive => LocalizableText::new(text_codes::INACTIVE, "inactive"),
            Ineligibility::NotTakingLeads => LocalizableText::new(
                text_codes::NOT_TAKING_LEADS,
                "not taking leads (capacity 0)",
            ),
            Ineligibility::AtCapacity {
                open_leads,
                capacity,
            } => LocalizableText::new(
                text_codes::AT_CAPACITY,
                format!("at capacity {open_leads}/{capacity}"),
            )
            .param("open_leads", open_leads)
            .param("capacity", capacity),
            Ineligibility::NotOnRoster => {
                LocalizableText::new(text_codes::NOT_ON_ROSTER, "not on the rep roster")
            }
        }
    }
}

impl fmt::Display for Ineligibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text().text)
    }
}

/// The team's fairness settings, stored as JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FairnessPolicy {
    /// Every rep's starting weight; scales all reps alike.
    pub base_weight: f64,
    /// `(up to tenure day, multiplier)`, ascending by day: `(30, 2.0)` gives a rep on days 0
    /// to 30 twice the weight. A rep in stage `New` past the last step keeps the last step's
    /// multiplier until their manager moves them on.
    pub new_rep_weight_ramp: Vec<(u32, f64)>,
    /// Reps whose open pipeline is below this get [`Self::thin_pipeline_boost`].
    pub thin_pipeline_threshold: Decimal,
    pub thin_pipeline_boost: f64,
}

impl Default for FairnessPolicy {
    /// A new rep gets double weight in the first month, tapering to normal after three; a
    /// pipeline under 100,000 earns half as much again.
    fn default() -> Self {
        FairnessPolicy {
            base_weight: 1.0,
            new_rep_weight_ramp: vec![(30, 2.0), (60, 1.6), (90, 1.3)],
            thin_pipeline_threshold: Decimal::from(100_000),
            thin_pipeline_boost: 1.5,
        }
    }
}

impl FairnessPolicy {
    /// Checks the settings; the message names the first bad one.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.base_weight > 0.0 && self.base_weight <= 10.0) {
            return Err("base_weight must be above 0 and at most 10".into());
        }
        if self.new_rep_weight_ramp.len() > 24 {
            return Err("new_rep_weight_ramp may have at most 24 steps".into());
        }
        for (index, &(days, multiplier)) in self.new_rep_weight_ramp.iter().enumerate() {
            if index > 0 && days <= self.new_rep_weight_ramp[index - 1].0 {
                return Err("new_rep_weight_ramp must be sorted by days, ascending, \
                            without repeats"
                    .into());
            }
            if !(multiplier > 0.0 && multiplier <= 10.0) {
                return Err(format!(
                    "new_rep_weight_ramp multiplier for day {days} must be above 0 and at most 10"
                ));
            }
        }
        if self.thin_pipeline_threshold.is_sign_negative() {
            return Err("thin_pipeline_threshold must not be negative".into());
        }
        if !(1.0..=10.0).contains(&self.thin_pipeline_boost) {
            return Err("thin_pipeline_boost must be between 1 and 10".into());
        }
        Ok(())
    }

    /// The ramp multiplier for a rep and the words the explanation uses for it.
    fn ramp(&self, rep: &RepLoad) -> Option<(f64, LocalizableText)> {
        let step = self
            .new_rep_weight_ramp
            .iter()
            .find(|(up_to_day, _)| rep.tenure_days <= *up_to_day);
        let (multiplier, text) = match (step, self.new_rep_weight_ramp.last()) {
            (Some(&(_, multiplier)), _) => (
                multiplier,
                LocalizableText::new(
                    text_codes::NEW_REP_RAMP,
                    format!("new rep ×{multiplier:.1} day {}", rep.tenure_days),
                ),
            ),
            (None, Some(&(_, multiplier))) if rep.stage == RepStage::New => (
                multiplier,
                LocalizableText::new(
                    text_codes::NEW_REP_RAMP_BY_STAGE,
                    format!(
                        "new rep ×{multiplier:.1} (stage new, day {})",
                        rep.tenure_days
                    ),
                ),
            ),
            _ => return None,
        };
        let text = text
            .param("multiplier", format!("{multiplier:.1}"))
            .param("day", rep.tenure_days);
        Some((multiplier, text))
    }
}

/// What a weight is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightFactorKind {
    Base,
    NewRepRamp,
    SpareCapacity,
    ThinPipeline,
}

/// One multiplier of a rep's weight, with the words the audit shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeightFactor {
    pub kind: WeightFactorKind,
    pub multiplier: f64,
    /// E.g. "new rep ×2.0 day 12", "spare capacity 0.80", "thin pipeline ×1.5".
    pub label: String,
    /// `label` as a code ([`text_codes`]) and parameters, for translation.
    #[serde(default)]
    pub code: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
}

impl WeightFactor {
    fn new(kind: WeightFactorKind, multiplier: f64, text: LocalizableText) -> Self {
        WeightFactor {
            kind,
            multiplier,
            label: text.text,
            code: text.code,
            params: text.params,
        }
    }

    /// The factor as a text for people: `label` under its code.
    pub fn text(&self) -> LocalizableText {
        LocalizableText {
            code: self.code.clone(),
            params: self.params.clone(),
            text: self.label.clone(),
            parts: Vec::new(),
        }
    }
}

/// An eligible rep's weight and its factors (factors of exactly 1 are left out, except spare
/// capacity, which always shows how full the rep is).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RepWeight {
    pub weight: f64,
    pub factors: Vec<WeightFactor>,
}

/// The rep's weight, or why they get no automatic leads.
pub fn rep_weight(rep: &RepLoad, policy: &FairnessPolicy) -> Result<RepWeight, Ineligibility> {
    if !rep.active {
        return Err(Ineligibility::Inactive);
    }
    if rep.capacity == 0 {
        return Err(Ineligibility::NotTakingLeads);
    }
    if rep.open_leads >= rep.capacity {
        return Err(Ineligibility::AtCapacity {
            open_leads: rep.open_leads,
            capacity: rep.capacity,
        });
    }
    let mut factors = Vec::new();
    if policy.base_weight != 1.0 {
        let multiplier = format!("{:.2}", policy.base_weight);
        factors.push(WeightFactor::new(
            WeightFactorKind::Base,
            policy.base_weight,
            LocalizableText::new(text_codes::BASE_WEIGHT, format!("base ×{multiplier}"))
                .param("multiplier", multiplier),
        ));
    }
    if let Some((multiplier, text)) = policy.ramp(rep) {
        factors.push(WeightFactor::new(
            WeightFactorKind::NewRepRamp,
            multiplier,
            text,
        ));
    }
    let spare = f64::from(rep.capacity - rep.open_leads) / f64::from(rep.capacity);
    let spare_text = format!("{spare:.2}");
    factors.push(WeightFactor::new(
        WeightFactorKind::SpareCapacity,
        spare,
        LocalizableText::new(
            text_codes::SPARE_CAPACITY,
            format!("spare capacity {spare_text}"),
        )
        .param("spare", spare_text),
    ));
    if rep.open_pipeline < policy.thin_pipeline_threshold && policy.thin_pipeline_boost != 1.0 {
        let boost = format!("{:.1}", policy.thin_pipeline_boost);
        factors.push(WeightFactor::new(
            WeightFactorKind::ThinPipeline,
            policy.thin_pipeline_boost,
            LocalizableText::new(text_codes::THIN_PIPELINE, format!("thin pipeline ×{boost}"))
                .param("boost", boost),
        ));
    }
    let weight = factors.iter().map(|factor| factor.multiplier).product();
    Ok(RepWeight { weight, factors })
}

/// The smooth weighted round-robin state of one group (nginx's algorithm), stored as JSON by the
/// caller between assignments.
///
/// Each pick adds every candidate's weight to its `current` value, takes the candidate with the
/// highest value (the lowest id on a tie) and subtracts the sum of the weights from the winner.
/// With constant weights every rep's count after n picks stays within one of n × weight / total,
/// and picks interleave: weights 5:1:1 give a a b a c a a, not a a a a a b c.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RoundRobinState {
    pub current: BTreeMap<Uuid, f64>,
}

impl RoundRobinState {
    /// Picks one of `candidates` (rep id, weight); `None` when no weight is positive.
    ///
    /// Reps that left `group_members` are forgotten; members that are only ineligible for now
    /// keep their value, so sitting out a few leads at capacity neither helps nor hurts them.
    pub fn pick(&mut self, group_members: &[Uuid], candidates: &[(Uuid, f64)]) -> Option<Uuid> {
        self.current
            .retain(|rep_id, _| group_members.contains(rep_id));
        let weights: BTreeMap<Uuid, f64> = candidates
            .iter()
            .filter(|(_, weight)| weight.is_finite() && *weight > 0.0)
            .copied()
            .collect();
        let total: f64 = weights.values().sum();
        let mut best: Option<(Uuid, f64)> = None;
        for (&rep_id, &weight) in &weights {
            let current = self.current.entry(rep_id).or_insert(0.0);
            *current += weight;
            if best.is_none_or(|(_, best_value)| *current > best_value) {
                best = Some((rep_id, *current));
            }
        }
        let (chosen, _) = best?;
        if let Some(current) = self.current.get_mut(&chosen) {
            *current -= total;
        }
        Some(chosen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rep(name: &str, stage: RepStage, tenure_days: u32) -> RepLoad {
        RepLoad {
            rep_id: Uuid::now_v7(),
            display_name: name.into(),
            stage,
            tenure_days,
            open_leads: 0,
            capacity: 25,
            open_pipeline: Decimal::from(500_000),
            active: true,
        }
    }

    #[test]
    fn a_new_rep_with_a_thin_pipeline_weighs_more() {
        let mut nora = rep("Nora", RepStage::New, 12);
        nora.open_leads = 5;
        nora.open_pipeline = Decimal::from(20_000);
        let weight = rep_weight(&nora, &FairnessPolicy::default()).unwrap();
        assert!((weight.weight - 2.0 * 0.8 * 1.5).abs() < 1e-9, "{weight:?}");
        let labels: Vec<&str> = weight.factors.iter().map(|f| f.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "new rep ×2.0 day 12",
                "spare capacity 0.80",
                "thin pipeline ×1.5"
            ]
        );
    }

    #[test]
    fn the_ramp_tapers_and_stage_new_keeps_its_tail() {
        let policy = FairnessPolicy::default();
        let weight = |stage, days| rep_weight(&rep("r", stage, days), &policy).unwrap().weight;
        assert_eq!(weight(RepStage::Established, 30), 2.0);
        assert_eq!(weight(RepStage::Established, 31), 1.6);
        assert_eq!(weight(RepStage::Established, 90), 1.3);
        assert_eq!(weight(RepStage::Established, 91), 1.0);
        assert_eq!(weight(RepStage::New, 200), 1.3);
        assert_eq!(weight(RepStage::Senior, 1000), 1.0);
    }

    #[test]
    fn full_inactive_and_closed_reps_are_not_eligible() {
        let policy = FairnessPolicy::default();
        let mut ravi = rep("Ravi", RepStage::Senior, 1100);
        ravi.open_leads = 25;
        assert_eq!(
            rep_weight(&ravi, &policy).unwrap_err().to_string(),
            "at capacity 25/25"
        );
        ravi.capacity = 0;
        assert_eq!(
            rep_weight(&ravi, &policy),
            Err(Ineligibility::NotTakingLeads)
        );
        ravi.active = false;
        assert_eq!(rep_weight(&ravi, &policy), Err(Ineligibility::Inactive));
    }

    #[test]
    fn validation_names_the_bad_setting() {
        assert_eq!(FairnessPolicy::default().validate(), Ok(()));
        let unsorted = FairnessPolicy {
            new_rep_weight_ramp: vec![(60, 1.5), (30, 2.0)],
            ..FairnessPolicy::default()
        };
        assert!(unsorted.validate().unwrap_err().contains("sorted"));
        let zero = FairnessPolicy {
            new_rep_weight_ramp: vec![(30, 0.0)],
            ..FairnessPolicy::default()
        };
        assert!(zero.validate().is_err());
        let shrinking = FairnessPolicy {
            thin_pipeline_boost: 0.5,
            ..FairnessPolicy::default()
        };
        assert!(shrinking.validate().is_err());
    }

    #[test]
    fn the_policy_round_trips_through_json_and_missing_fields_take_defaults() {
        let policy = FairnessPolicy::default();
        let json = serde_json::to_string(&policy).unwrap();
        assert_eq!(
            serde_json::from_str::<FairnessPolicy>(&json).unwrap(),
            policy
        );
        let partial: FairnessPolicy =
            serde_json::from_str(r#"{"thin_pipeline_boost":2.0}"#).unwrap();
        assert_eq!(partial.new_rep_weight_ramp, policy.new_rep_weight_ramp);
    }

    #[test]
    fn picks_interleave_in_proportion() {
        let ids: Vec<Uuid> = (1..=3).map(Uuid::from_u128).collect();
        let candidates = [(ids[0], 5.0), (ids[1], 1.0), (ids[2], 1.0)];
        let mut state = RoundRobinState::default();
        let picks: Vec<usize> = (0..7)
            .map(|_| {
                let chosen = state.pick(&ids, &candidates).unwrap();
                ids.iter().position(|id| *id == chosen).unwrap()
            })
            .collect();
        assert_eq!(picks, [0, 0, 1, 0, 2, 0, 0]);
    }

    #[test]
    fn reps_who_left_the_group_are_forgotten() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let mut state = RoundRobinState::default();
        state.pick(&[a, b], &[(a, 1.0), (b, 1.0)]);
        state.pick(&[a], &[(a, 1.0)]);
        assert_eq!(state.current.keys().copied().collect::<Vec<_>>(), [a]);
        assert_eq!(state.pick(&[a], &[(a, 0.0)]), None);
    }

    proptest! {
        #[test]
        fn the_weight_is_the_product_of_its_factors_and_positive(
            tenure in 0u32..400, open in 0u32..30, capacity in 1u32..30, pipeline in 0i64..300_000,
        ) {
            let mut load = rep("r", RepStage::New, tenure);
            load.open_leads = open;
            load.capacity = capacity;
            load.open_pipeline = Decimal::from(pipeline);
            match rep_weight(&load, &FairnessPolicy::default()) {
                Ok(weight) => {
                    prop_assert!(open < capacity);
                    let product: f64 = weight.factors.iter().map(|f| f.multiplier).product();
                    prop_assert!((weight.weight - product).abs() < 1e-9);
                    prop_assert!(weight.weight > 0.0);
                }
                Err(_) => prop_assert!(open >= capacity),
            }
        }
    }
}
