//! Automatic assignment (L4) and claiming from the pool (L3).
//!
//! Rules are tried in position order; the first whose criteria match and that has an eligible
//! rep wins, and its group shares the lead by [fairness](super::fairness) weight with smooth
//! weighted round-robin. If no rule can place the lead, the fallback group (every rep of the
//! team) is tried; if nobody is eligible the lead stays in the pool. Every decision carries an
//! [`AssignmentExplanation`], because a rep who gets fewer leads than a colleague deserves to
//! see why.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::assignment_explanation::{
    AssignmentExplanation, CandidateEvaluation, RuleEvaluation, RuleOutcome, pool_reason,
};
pub use super::claiming::{ClaimRefusal, can_claim};
use super::fairness::{FairnessPolicy, Ineligibility, RepLoad, RoundRobinState, rep_weight};
pub use super::routing::{CompanySizeBand, LeadProfile, RuleCriteria};

/// The state key of the fallback group's round-robin.
pub const FALLBACK_GROUP: &str = "fallback";

/// One routing rule of a team; `reps` is the group that shares its leads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AssignmentRule {
    pub id: Uuid,
    pub name: String,
    /// Lower positions are tried first.
    pub position: u32,
    pub criteria: RuleCriteria,
    pub reps: Vec<Uuid>,
}

/// The round-robin state of every group of a team: rule id (as text) or [`FALLBACK_GROUP`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AssignmentState {
    pub groups: BTreeMap<String, RoundRobinState>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AssignmentDecision {
    Assigned {
        rep_id: Uuid,
        /// `None` when the fallback group was used.
        rule_id: Option<Uuid>,
        rule_name: String,
        explanation: AssignmentExplanation,
    },
    StaysInPool {
        reason: String,
    },
}

/// Evaluates every rep of a group, in the group's order, each rep once.
fn evaluate_group(
    group: &[Uuid],
    loads: &BTreeMap<Uuid, &RepLoad>,
    policy: &FairnessPolicy,
) -> Vec<CandidateEvaluation> {
    let mut seen = Vec::new();
    let mut candidates = Vec::new();
    for &rep_id in group {
        if seen.contains(&rep_id) {
            continue;
        }
        seen.push(rep_id);
        let Some(load) = loads.get(&rep_id) else {
            candidates.push(CandidateEvaluation {
                rep_id,
                display_name: rep_id.to_string()[..8].to_owned(),
                weight: None,
                factors: Vec::new(),
                ineligible: Some(Ineligibility::NotOnRoster),
            });
            continue;
        };
        let (weight, factors, ineligible) = match rep_weight(load, policy) {
            Ok(weight) => (Some(weight.weight), weight.factors, None),
            Err(why) => (None, Vec::new(), Some(why)),
        };
        candidates.push(CandidateEvaluation {
            rep_id,
            display_name: load.name(),
            weight,
            factors,
            ineligible,
        });
    }
    candidates
}

/// Picks the rep of the group by smooth weighted round-robin; `None` if nobody is eligible.
fn pick_in_group(
    group_key: String,
    group: &[Uuid],
    candidates: &[CandidateEvaluation],
    state: &mut AssignmentState,
) -> Option<Uuid> {
    let weights: Vec<(Uuid, f64)> = candidates
        .iter()
        .filter_map(|c| Some((c.rep_id, c.weight?)))
        .collect();
    if weights.is_empty() {
        return None;
    }
    state
        .groups
        .entry(group_key)
        .or_default()
        .pick(group, &weights)
}

/// Chooses the rep for a lead, or keeps it in the pool; updates the round-robin state of the
/// group used. `loads` should hold every rep of the team; a rep missing there is skipped.
pub fn assign(
    profile: &LeadProfile,
    rules: &[AssignmentRule],
    fallback_reps: &[Uuid],
    loads: &[RepLoad],
    policy: &FairnessPolicy,
    state: &mut AssignmentState,
) -> AssignmentDecision {
    let loads: BTreeMap<Uuid, &RepLoad> = loads.iter().map(|load| (load.rep_id, load)).collect();
    let mut ordered: Vec<&AssignmentRule> = rules.iter().collect();
    ordered.sort_by_key(|rule| (rule.position, rule.id));
    let mut evaluations = Vec::new();
    for rule in ordered {
        let matched_on = match rule.criteria.matches(profile) {
            Ok(matched_on) => matched_on,
            Err(mismatch) => {
                evaluations.push(RuleEvaluation::new(
                    rule,
                    RuleOutcome::NotMatched { mismatch },
                ));
                continue;
            }
        };
        let candidates = evaluate_group(&rule.reps, &loads, policy);
        let Some(rep_id) = pick_in_group(rule.id.to_string(), &rule.reps, &candidates, state)
        else {
            let outcome = RuleOutcome::MatchedWithoutEligibleRep { matched_on };
            evaluations.push(RuleEvaluation::new(rule, outcome));
            continue;
        };
        evaluations.push(RuleEvaluation::new(
            rule,
            RuleOutcome::Chosen { matched_on },
        ));
        return AssignmentDecision::Assigned {
            rep_id,
            rule_id: Some(rule.id),
            rule_name: rule.name.clone(),
            explanation: AssignmentExplanation {
                rules: evaluations,
                group: rule.name.clone(),
                candidates,
                chosen_rep_id: rep_id,
            },
        };
    }
    let candidates = evaluate_group(fallback_reps, &loads, policy);
    let picked = pick_in_group(FALLBACK_GROUP.into(), fallback_reps, &candidates, state);
    let Some(rep_id) = picked else {
        return AssignmentDecision::StaysInPool {
            reason: pool_reason(&evaluations, &candidates),
        };
    };
    AssignmentDecision::Assigned {
        rep_id,
        rule_id: None,
        rule_name: FALLBACK_GROUP.into(),
        explanation: AssignmentExplanation {
            rules: evaluations,
            group: FALLBACK_GROUP.into(),
            candidates,
            chosen_rep_id: rep_id,
        },
    }
}

#[cfg(test)]
mod tests;
