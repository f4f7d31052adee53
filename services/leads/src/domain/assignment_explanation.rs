//! The audit of an automatic assignment (L4): which rules were tried, how every rep of the
//! chosen group was weighed, and who got the lead. Stored as JSON with the lead's history and
//! summed up in one sentence for the manager, so "why did Nora get this lead?" has an answer.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::assignment::AssignmentRule;
use super::fairness::{Ineligibility, WeightFactor};

/// How a rule fared for this lead.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum RuleOutcome {
    NotMatched { mismatch: String },
    MatchedWithoutEligibleRep { matched_on: Vec<String> },
    Chosen { matched_on: Vec<String> },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleEvaluation {
    pub rule_id: Uuid,
    pub rule_name: String,
    #[serde(flatten)]
    pub outcome: RuleOutcome,
}

impl RuleEvaluation {
    pub fn new(rule: &AssignmentRule, outcome: RuleOutcome) -> Self {
        RuleEvaluation {
            rule_id: rule.id,
            rule_name: rule.name.clone(),
            outcome,
        }
    }
}

/// One rep of the chosen group: their weight and its factors, or why they were skipped.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CandidateEvaluation {
    pub rep_id: Uuid,
    pub display_name: String,
    pub weight: Option<f64>,
    pub factors: Vec<WeightFactor>,
    pub ineligible: Option<Ineligibility>,
}

/// The audit of one automatic assignment, stored with the lead's history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AssignmentExplanation {
    /// The rules tried, in order, up to the one that placed the lead.
    pub rules: Vec<RuleEvaluation>,
    /// The chosen rule's name, or [`FALLBACK_GROUP`](super::assignment::FALLBACK_GROUP).
    pub group: String,
    pub candidates: Vec<CandidateEvaluation>,
    pub chosen_rep_id: Uuid,
}

impl AssignmentExplanation {
    /// One sentence for a manager, e.g. "rule 'East territory' matched (territory=east); Nora
    /// chosen by weighted round-robin: weight 2.40 (new rep ×2.0 day 12, spare capacity 0.80,
    /// thin pipeline ×1.5) vs Ravi 0.64".
    pub fn summary(&self) -> String {
        let mut sentence = match self.rules.last().map(|rule| &rule.outcome) {
            Some(RuleOutcome::Chosen { matched_on }) if matched_on.is_empty() => {
                format!("rule '{}' matched (any lead); ", self.group)
            }
            Some(RuleOutcome::Chosen { matched_on }) => {
                format!(
                    "rule '{}' matched ({}); ",
                    self.group,
                    matched_on.join(", ")
                )
            }
            _ => format!("{}; fallback group used; ", why_no_rule(&self.rules)),
        };
        let (chosen, others): (Vec<_>, Vec<_>) = self
            .candidates
            .iter()
            .filter(|candidate| candidate.weight.is_some())
            .partition(|candidate| candidate.rep_id == self.chosen_rep_id);
        if let Some(chosen) = chosen.first() {
            let factors: Vec<&str> = chosen.factors.iter().map(|f| f.label.as_str()).collect();
            let how = if others.is_empty() {
                "as the only eligible rep"
            } else {
                "by weighted round-robin"
            };
            sentence.push_str(&format!(
                "{} chosen {how}: weight {:.2} ({})",
                chosen.display_name,
                chosen.weight.unwrap_or_default(),
                factors.join(", ")
            ));
        }
        let others: Vec<String> = others
            .iter()
            .map(|c| format!("{} {:.2}", c.display_name, c.weight.unwrap_or_default()))
            .collect();
        if !others.is_empty() {
            sentence.push_str(&format!(" vs {}", others.join(", ")));
        }
        if let Some(skipped) = skipped_reps(&self.candidates) {
            sentence.push_str(&format!("; not eligible: {skipped}"));
        }
        sentence
    }
}

/// "no rule matched", or which rules matched but had nobody to take the lead.
fn why_no_rule(rules: &[RuleEvaluation]) -> String {
    let unstaffed: Vec<String> = rules
        .iter()
        .filter(|rule| matches!(rule.outcome, RuleOutcome::MatchedWithoutEligibleRep { .. }))
        .map(|rule| format!("'{}'", rule.rule_name))
        .collect();
    if unstaffed.is_empty() {
        return "no rule matched".to_owned();
    }
    format!(
        "rule {} matched but had no eligible rep",
        unstaffed.join(", ")
    )
}

/// "Ravi (at capacity 25/25), Nora (inactive)", or `None` when everyone was eligible.
fn skipped_reps(candidates: &[CandidateEvaluation]) -> Option<String> {
    let skipped: Vec<String> = candidates
        .iter()
        .filter_map(|c| Some(format!("{} ({})", c.display_name, c.ineligible.as_ref()?)))
        .collect();
    (!skipped.is_empty()).then(|| skipped.join(", "))
}

/// Why a lead stays in the pool, for the history.
pub(super) fn pool_reason(rules: &[RuleEvaluation], fallback: &[CandidateEvaluation]) -> String {
    match skipped_reps(fallback) {
        Some(skipped) => format!(
            "{} and no rep of the team is eligible: {skipped}",
            why_no_rule(rules)
        ),
        None => format!(
            "{} and the team has no rep to fall back on",
            why_no_rule(rules)
        ),
    }
}
