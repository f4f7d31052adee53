//! The audit of an automatic assignment (L4): which rules were tried, how every rep of the
//! chosen group was weighed, and who got the lead. Stored as JSON with the lead's history and
//! summed up in one sentence for the manager, so "why did Nora get this lead?" has an answer.

use crm_platform::text::LocalizableText;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::assignment::AssignmentRule;
use super::fairness::{Ineligibility, WeightFactor};

/// The codes of an assignment explanation's texts ([`AssignmentExplanation::text`]), each with
/// its English template and parameters; the factors of a weight and why a rep was skipped are
/// fairness's ([`crate::domain::fairness::text_codes`]). The console translates by them, so a code
/// never changes its meaning or its parameters.
pub mod text_codes {
    /// "{parts}" joined by "; ": the whole explanation, one part per clause below.
    pub const EXPLAINED: &str = "leads.assignment.explained";
    /// "rule '{rule}' matched ({matched_on})". `rule`: the rule's name; `matched_on`: the
    /// criteria that matched, "territory=east, industry=manufacturing".
    pub const RULE_MATCHED: &str = "leads.assignment.rule_matched";
    /// "rule '{rule}' matched (any lead)": a rule without criteria. `rule`.
    pub const RULE_MATCHED_ANY_LEAD: &str = "leads.assignment.rule_matched_any_lead";
    /// "no rule matched".
    pub const NO_RULE_MATCHED: &str = "leads.assignment.no_rule_matched";
    /// "rule {parts} matched but had no eligible rep": parts are [`RULE_NAME`]s.
    pub const RULES_WITHOUT_ELIGIBLE_REP: &str = "leads.assignment.rules_without_eligible_rep";
    /// "'{rule}'": a rule named in a list. `rule`.
    pub const RULE_NAME: &str = "leads.assignment.rule_name";
    /// "fallback group used": the team's reps took the lead as no rule could.
    pub const FALLBACK_GROUP_USED: &str = "leads.assignment.fallback_group_used";
    /// "{rep} chosen by weighted round-robin: weight {weight} ({parts})": parts are the
    /// weight's factors. `rep`: the rep's name; `weight` ("2.40").
    pub const CHOSEN_BY_ROUND_ROBIN: &str = "leads.assignment.chosen_by_round_robin";
    /// "{rep} chosen as the only eligible rep: weight {weight} ({parts})". `rep`, `weight`.
    pub const CHOSEN_AS_ONLY_ELIGIBLE: &str = "leads.assignment.chosen_as_only_eligible";
    /// "vs {parts}": parts are [`CANDIDATE_WEIGHT`]s, the other eligible reps.
    pub const COMPARED_WITH: &str = "leads.assignment.compared_with";
    /// "{rep} {weight}". `rep`, `weight` ("0.64").
    pub const CANDIDATE_WEIGHT: &str = "leads.assignment.candidate_weight";
    /// "not eligible: {parts}": parts are [`REP_NOT_ELIGIBLE`]s.
    pub const NOT_ELIGIBLE: &str = "leads.assignment.not_eligible";
    /// "{rep} ({parts})": the one part says why ([`crate::domain::fairness::text_codes`]). `rep`.
    pub const REP_NOT_ELIGIBLE: &str = "leads.assignment.rep_not_eligible";
    /// "assigned by a manager to rep {rep_id}": a manager named the rep. `rep_id`.
    pub const BY_MANAGER: &str = "leads.assignment.by_manager";
    /// "manual assignment": as a LeadAssigned event says a manager named the rep.
    pub const MANUAL: &str = "leads.assignment.manual";
}

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
    #[cfg(test)]
    pub fn summary(&self) -> String {
        self.text().text
    }

    /// The sentence as a text for people: [`text_codes::EXPLAINED`] with one part per clause
    /// (the rule, the rep chosen and their weight's factors, the reps compared, those skipped).
    pub fn text(&self) -> LocalizableText {
        let mut clauses = match self.rules.last().map(|rule| &rule.outcome) {
            Some(RuleOutcome::Chosen { matched_on }) if matched_on.is_empty() => {
                vec![
                    LocalizableText::new(
                        text_codes::RULE_MATCHED_ANY_LEAD,
                        format!("rule '{}' matched (any lead)", self.group),
                    )
                    .param("rule", &self.group),
                ]
            }
            Some(RuleOutcome::Chosen { matched_on }) => {
                let matched_on = matched_on.join(", ");
                vec![
                    LocalizableText::new(
                        text_codes::RULE_MATCHED,
                        format!("rule '{}' matched ({matched_on})", self.group),
                    )
                    .param("rule", &self.group)
                    .param("matched_on", matched_on),
                ]
            }
            _ => vec![
                why_no_rule(&self.rules),
                LocalizableText::new(text_codes::FALLBACK_GROUP_USED, "fallback group used"),
            ],
        };
        let mut sentence = joined(&clauses, "; ") + "; ";
        let (chosen, others): (Vec<_>, Vec<_>) = self
            .candidates
            .iter()
            .filter(|candidate| candidate.weight.is_some())
            .partition(|candidate| candidate.rep_id == self.chosen_rep_id);
        if let Some(chosen) = chosen.first() {
            let factors: Vec<LocalizableText> =
                chosen.factors.iter().map(WeightFactor::text).collect();
            let (code, how) = if others.is_empty() {
                (
                    text_codes::CHOSEN_AS_ONLY_ELIGIBLE,
                    "as the only eligible rep",
                )
            } else {
                (text_codes::CHOSEN_BY_ROUND_ROBIN, "by weighted round-robin")
            };
            let weight = format!("{:.2}", chosen.weight.unwrap_or_default());
            let clause = LocalizableText::new(
                code,
                format!(
                    "{} chosen {how}: weight {weight} ({})",
                    chosen.display_name,
                    joined(&factors, ", ")
                ),
            )
            .param("rep", &chosen.display_name)
            .param("weight", weight)
            .parts(factors);
            sentence.push_str(&clause.text);
            clauses.push(clause);
        }
        let others: Vec<LocalizableText> = others
            .iter()
            .map(|c| {
                let weight = format!("{:.2}", c.weight.unwrap_or_default());
                LocalizableText::new(
                    text_codes::CANDIDATE_WEIGHT,
                    format!("{} {weight}", c.display_name),
                )
                .param("rep", &c.display_name)
                .param("weight", weight)
            })
            .collect();
        if !others.is_empty() {
            let clause = LocalizableText::new(
                text_codes::COMPARED_WITH,
                format!("vs {}", joined(&others, ", ")),
            )
            .parts(others);
            sentence.push(' ');
            sentence.push_str(&clause.text);
            clauses.push(clause);
        }
        if let Some(skipped) = skipped_reps(&self.candidates) {
            let clause = LocalizableText::new(
                text_codes::NOT_ELIGIBLE,
                format!("not eligible: {}", joined(&skipped, ", ")),
            )
            .parts(skipped);
            sentence.push_str("; ");
            sentence.push_str(&clause.text);
            clauses.push(clause);
        }
        LocalizableText::new(text_codes::EXPLAINED, sentence).parts(clauses)
    }
}

/// The English texts of `texts`, joined by `separator`.
fn joined(texts: &[LocalizableText], separator: &str) -> String {
    texts
        .iter()
        .map(|text| text.text.as_str())
        .collect::<Vec<_>>()
        .join(separator)
}

/// "no rule matched", or which rules matched but had nobody to take the lead.
fn why_no_rule(rules: &[RuleEvaluation]) -> LocalizableText {
    let unstaffed: Vec<LocalizableText> = rules
        .iter()
        .filter(|rule| matches!(rule.outcome, RuleOutcome::MatchedWithoutEligibleRep { .. }))
        .map(|rule| {
            LocalizableText::new(text_codes::RULE_NAME, format!("'{}'", rule.rule_name))
                .param("rule", &rule.rule_name)
        })
        .collect();
    if unstaffed.is_empty() {
        return LocalizableText::new(text_codes::NO_RULE_MATCHED, "no rule matched");
    }
    LocalizableText::new(
        text_codes::RULES_WITHOUT_ELIGIBLE_REP,
        format!(
            "rule {} matched but had no eligible rep",
            joined(&unstaffed, ", ")
        ),
    )
    .parts(unstaffed)
}

/// "Ravi (at capacity 25/25)", "Nora (inactive)", one per rep skipped; `None` when everyone
/// was eligible.
fn skipped_reps(candidates: &[CandidateEvaluation]) -> Option<Vec<LocalizableText>> {
    let skipped: Vec<LocalizableText> = candidates
        .iter()
        .filter_map(|c| {
            let why = c.ineligible.as_ref()?.text();
            Some(
                LocalizableText::new(
                    text_codes::REP_NOT_ELIGIBLE,
                    format!("{} ({})", c.display_name, why.text),
                )
                .param("rep", &c.display_name)
                .parts([why]),
            )
        })
        .collect();
    (!skipped.is_empty()).then_some(skipped)
}

/// Why a lead stays in the pool, for the history.
pub(super) fn pool_reason(rules: &[RuleEvaluation], fallback: &[CandidateEvaluation]) -> String {
    let why = why_no_rule(rules).text;
    match skipped_reps(fallback) {
        Some(skipped) => format!(
            "{why} and no rep of the team is eligible: {}",
            joined(&skipped, ", ")
        ),
        None => format!("{why} and the team has no rep to fall back on"),
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;
    use crate::domain::{
        assignment::{AssignmentDecision, AssignmentState, LeadProfile, RuleCriteria, assign},
        fairness::{self, FairnessPolicy, RepLoad, RepStage},
    };

    fn rep(number: u128, name: &str, stage: RepStage, tenure_days: u32) -> RepLoad {
        RepLoad {
            rep_id: Uuid::from_u128(number),
            display_name: name.into(),
            stage,
            tenure_days,
            open_leads: 5,
            capacity: 25,
            open_pipeline: Decimal::from(20_000),
            active: true,
        }
    }

    fn east_rule(reps: &[Uuid]) -> AssignmentRule {
        AssignmentRule {
            id: Uuid::from_u128(1001),
            name: "East territory".into(),
            position: 1,
            criteria: RuleCriteria {
                territories: vec!["east".into()],
                ..RuleCriteria::default()
            },
            reps: reps.to_vec(),
        }
    }

    fn explanation(
        rules: &[AssignmentRule],
        fallback: &[Uuid],
        loads: &[RepLoad],
    ) -> LocalizableText {
        let lead = LeadProfile {
            territory: Some("East".into()),
            ..LeadProfile::default()
        };
        let decision = assign(
            &lead,
            rules,
            fallback,
            loads,
            &FairnessPolicy::default(),
            &mut AssignmentState::default(),
        );
        let AssignmentDecision::Assigned { explanation, .. } = decision else {
            panic!("{decision:?}");
        };
        let text = explanation.text();
        assert_eq!(text.text, explanation.summary());
        text
    }

    /// The code of every part, depth first, with its parameters: what a translation reads.
    fn outline(text: &LocalizableText) -> Vec<String> {
        let params: Vec<String> = text
            .params
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        let mut lines = vec![
            format!("{} {}", text.code, params.join(" "))
                .trim_end()
                .to_owned(),
        ];
        for part in &text.parts {
            lines.extend(outline(part).into_iter().map(|line| format!("  {line}")));
        }
        lines
    }

    /// The console and integrators translate by these codes: changing one breaks them.
    #[test]
    fn explanation_codes_are_stable() {
        assert_eq!(
            [
                text_codes::EXPLAINED,
                text_codes::RULE_MATCHED,
                text_codes::RULE_MATCHED_ANY_LEAD,
                text_codes::NO_RULE_MATCHED,
                text_codes::RULES_WITHOUT_ELIGIBLE_REP,
                text_codes::RULE_NAME,
                text_codes::FALLBACK_GROUP_USED,
                text_codes::CHOSEN_BY_ROUND_ROBIN,
                text_codes::CHOSEN_AS_ONLY_ELIGIBLE,
                text_codes::COMPARED_WITH,
                text_codes::CANDIDATE_WEIGHT,
                text_codes::NOT_ELIGIBLE,
                text_codes::REP_NOT_ELIGIBLE,
                text_codes::BY_MANAGER,
                text_codes::MANUAL,
            ],
            [
                "leads.assignment.explained",
                "leads.assignment.rule_matched",
                "leads.assignment.rule_matched_any_lead",
                "leads.assignment.no_rule_matched",
                "leads.assignment.rules_without_eligible_rep",
                "leads.assignment.rule_name",
                "leads.assignment.fallback_group_used",
                "leads.assignment.chosen_by_round_robin",
                "leads.assignment.chosen_as_only_eligible",
                "leads.assignment.compared_with",
                "leads.assignment.candidate_weight",
                "leads.assignment.not_eligible",
                "leads.assignment.rep_not_eligible",
                "leads.assignment.by_manager",
                "leads.assignment.manual",
            ]
        );
        assert_eq!(
            [
                fairness::text_codes::BASE_WEIGHT,
                fairness::text_codes::NEW_REP_RAMP,
                fairness::text_codes::NEW_REP_RAMP_BY_STAGE,
                fairness::text_codes::SPARE_CAPACITY,
                fairness::text_codes::THIN_PIPELINE,
                fairness::text_codes::INACTIVE,
                fairness::text_codes::NOT_TAKING_LEADS,
                fairness::text_codes::AT_CAPACITY,
                fairness::text_codes::NOT_ON_ROSTER,
            ],
            [
                "leads.fairness.base_weight",
                "leads.fairness.new_rep_ramp",
                "leads.fairness.new_rep_ramp_by_stage",
                "leads.fairness.spare_capacity",
                "leads.fairness.thin_pipeline",
                "leads.fairness.inactive",
                "leads.fairness.not_taking_leads",
                "leads.fairness.at_capacity",
                "leads.fairness.not_on_roster",
            ]
        );
    }

    #[test]
    fn a_rule_assignment_is_explained_clause_by_clause_with_the_values_of_its_text() {
        let mut ravi = rep(1, "Ravi", RepStage::Senior, 1100);
        ravi.open_pipeline = Decimal::from(800_000);
        let nora = rep(2, "Nora", RepStage::New, 12);
        let mut wes = rep(3, "Wes", RepStage::Established, 400);
        wes.open_leads = 25;
        let rules = [east_rule(&[ravi.rep_id, nora.rep_id, wes.rep_id])];

        let text = explanation(&rules, &[], &[ravi, nora, wes]);

        assert_eq!(
            outline(&text),
            [
                "leads.assignment.explained",
                "  leads.assignment.rule_matched matched_on=territory=east rule=East territory",
                "  leads.assignment.chosen_by_round_robin rep=Nora weight=2.40",
                "    leads.fairness.new_rep_ramp day=12 multiplier=2.0",
                "    leads.fairness.spare_capacity spare=0.80",
                "    leads.fairness.thin_pipeline boost=1.5",
                "  leads.assignment.compared_with",
                "    leads.assignment.candidate_weight rep=Ravi weight=0.80",
                "  leads.assignment.not_eligible",
                "    leads.assignment.rep_not_eligible rep=Wes",
                "      leads.fairness.at_capacity capacity=25 open_leads=25",
            ]
        );
        assert_eq!(text.parts[1].parts[0].text, "new rep ×2.0 day 12");
        assert_eq!(text.parts[3].parts[0].text, "Wes (at capacity 25/25)");
    }

    #[test]
    fn a_fallback_assignment_says_which_rules_had_nobody() {
        let mut ravi = rep(1, "Ravi", RepStage::Senior, 1100);
        ravi.active = false;
        let nora = rep(2, "Nora", RepStage::New, 12);
        let rules = [east_rule(&[ravi.rep_id])];

        let text = explanation(&rules, &[nora.rep_id], &[ravi, nora]);

        assert_eq!(
            outline(&text),
            [
                "leads.assignment.explained",
                "  leads.assignment.rules_without_eligible_rep",
                "    leads.assignment.rule_name rule=East territory",
                "  leads.assignment.fallback_group_used",
                "  leads.assignment.chosen_as_only_eligible rep=Nora weight=2.40",
                "    leads.fairness.new_rep_ramp day=12 multiplier=2.0",
                "    leads.fairness.spare_capacity spare=0.80",
                "    leads.fairness.thin_pipeline boost=1.5",
            ]
        );
        assert!(
            text.text.starts_with(
                "rule 'East territory' matched but had no eligible rep; fallback group used; \
                 Nora chosen as the only eligible rep"
            ),
            "{}",
            text.text
        );
    }
}
