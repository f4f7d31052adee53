//! Exit criteria (O1): what a deal must have filled before it leaves a stage forward. A stage
//! names them as text ("custom_fields.budget", "buying_committee.decision_maker"); a move that
//! passes stages with unmet criteria is refused naming every missing field.

use std::fmt;

use crm_platform::error::FieldViolation;
use crm_proto::crm::accounts::v1::BuyingRole;

use super::opportunity::Opportunity;

/// One thing a deal must have before it leaves a stage forward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitCriterion {
    /// An amount above zero.
    Amount,
    ExpectedCloseDate,
    NextStep,
    LineItems,
    Competitors,
    /// At least one member.
    BuyingCommittee,
    /// A member with this role.
    CommitteeRole(BuyingRole),
    /// The custom field holds a value.
    CustomField(String),
}

const ROLES: [(&str, BuyingRole); 7] = [
    ("economic_buyer", BuyingRole::EconomicBuyer),
    ("decision_maker", BuyingRole::DecisionMaker),
    ("champion", BuyingRole::Champion),
    ("influencer", BuyingRole::Influencer),
    ("blocker", BuyingRole::Blocker),
    ("user", BuyingRole::User),
    ("technical_evaluator", BuyingRole::TechnicalEvaluator),
];

fn is_snake_case_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some('a'..='z'))
        && key.len() <= 64
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}

impl ExitCriterion {
    /// Reads a criterion as a stage names it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        Ok(match text {
            "amount" => ExitCriterion::Amount,
            "expected_close_date" => ExitCriterion::ExpectedCloseDate,
            "next_step" => ExitCriterion::NextStep,
            "line_items" => ExitCriterion::LineItems,
            "competitors" => ExitCriterion::Competitors,
            "buying_committee" => ExitCriterion::BuyingCommittee,
            _ => {
                if let Some(role) = text.strip_prefix("buying_committee.") {
                    let (_, role) = ROLES.iter().find(|(name, _)| *name == role).ok_or_else(
                        || {
                            format!(
                                "{role:?} is not a buying role (economic_buyer, decision_maker, \
                                 champion, influencer, blocker, user, technical_evaluator)"
                            )
                        },
                    )?;
                    ExitCriterion::CommitteeRole(*role)
                } else if let Some(key) = text.strip_prefix("custom_fields.") {
                    if !is_snake_case_key(key) {
                        return Err(format!("{key:?} is not a snake_case custom field key"));
                    }
                    ExitCriterion::CustomField(key.to_owned())
                } else {
                    return Err(format!(
                        "{text:?} is not an exit criterion (amount, expected_close_date, \
                         next_step, line_items, competitors, buying_committee, \
                         buying_committee.<role>, custom_fields.<key>)"
                    ));
                }
            }
        })
    }

    /// Whether the deal meets it.
    pub fn is_met(&self, deal: &Opportunity) -> bool {
        match self {
            ExitCriterion::Amount => deal.amount.amount > rust_decimal::Decimal::ZERO,
            // A deal always has a close date; kept so a stage can say it matters.
            ExitCriterion::ExpectedCloseDate => true,
            ExitCriterion::NextStep => !deal.next_step.trim().is_empty(),
            ExitCriterion::LineItems => !deal.line_items.is_empty(),
            ExitCriterion::Competitors => !deal.competitors.is_empty(),
            ExitCriterion::BuyingCommittee => !deal.committee.is_empty(),
            ExitCriterion::CommitteeRole(role) => {
                deal.committee.iter().any(|member| member.role == *role)
            }
            ExitCriterion::CustomField(key) => deal
                .custom_fields
                .get(key)
                .is_some_and(|value| !value.trim().is_empty()),
        }
    }

    /// What a refusal says is missing.
    fn missing(&self) -> &'static str {
        match self {
            ExitCriterion::Amount => "must be above zero",
            ExitCriterion::CommitteeRole(_) => "needs a member with this role",
            ExitCriterion::BuyingCommittee | ExitCriterion::LineItems => "needs at least one",
            ExitCriterion::Competitors => "needs at least one competitor",
            _ => "must be filled",
        }
    }
}

impl fmt::Display for ExitCriterion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitCriterion::Amount => f.write_str("amount"),
            ExitCriterion::ExpectedCloseDate => f.write_str("expected_close_date"),
            ExitCriterion::NextStep => f.write_str("next_step"),
            ExitCriterion::LineItems => f.write_str("line_items"),
            ExitCriterion::Competitors => f.write_str("competitors"),
            ExitCriterion::BuyingCommittee => f.write_str("buying_committee"),
            ExitCriterion::CommitteeRole(role) => {
                let name = ROLES
                    .iter()
                    .find(|(_, known)| known == role)
                    .map_or("unspecified", |(name, _)| name);
                write!(f, "buying_committee.{name}")
            }
            ExitCriterion::CustomField(key) => write!(f, "custom_fields.{key}"),
        }
    }
}

/// The unmet criteria of the stages a move leaves (`stages`: name and criteria, in order), one
/// violation per missing field (the first stage that asks for it names it).
pub fn unmet<'a>(
    deal: &Opportunity,
    stages: impl IntoIterator<Item = (&'a str, &'a [ExitCriterion])>,
) -> Vec<FieldViolation> {
    let mut violations: Vec<FieldViolation> = Vec::new();
    for (stage, criteria) in stages {
        for criterion in criteria {
            let field = criterion.to_string();
            if criterion.is_met(deal) || violations.iter().any(|known| known.field == field) {
                continue;
            }
            violations.push(FieldViolation::new(
                field,
                format!("{} before the deal leaves {stage}", criterion.missing()),
            ));
        }
    }
    violations
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn criteria_read_back_as_they_are_written() {
        for text in [
            "amount",
            "expected_close_date",
            "next_step",
            "line_items",
            "competitors",
            "buying_committee",
            "buying_committee.decision_maker",
            "buying_committee.economic_buyer",
            "custom_fields.budget",
        ] {
            assert_eq!(ExitCriterion::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn unknown_criteria_are_refused_with_what_is_allowed() {
        assert!(
            ExitCriterion::parse("budget")
                .unwrap_err()
                .contains("custom_fields.<key>")
        );
        assert!(
            ExitCriterion::parse("buying_committee.ceo")
                .unwrap_err()
                .contains("not a buying role")
        );
        assert!(ExitCriterion::parse("custom_fields.Budget").is_err());
        assert!(ExitCriterion::parse("custom_fields.").is_err());
    }

    proptest! {
        #[test]
        fn every_custom_field_criterion_round_trips(key in "[a-z][a-z0-9_]{0,40}") {
            let text = format!("custom_fields.{key}");
            prop_assert_eq!(ExitCriterion::parse(&text).unwrap().to_string(), text);
        }
    }
}
