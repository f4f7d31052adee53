//! What assignment rules route on: a lead's profile (territory, industry, size band, product)
//! and a rule's criteria over it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Company size bands, by headcount.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompanySizeBand {
    Small,
    Medium,
    Large,
    Enterprise,
}

impl CompanySizeBand {
    // The bands' headcounts are the ones crm.common.v1.CompanySize documents; leads gets the
    // band from the lead, it never derives one.
    #[cfg(test)]
    pub const ALL: [CompanySizeBand; 4] = [
        CompanySizeBand::Small,
        CompanySizeBand::Medium,
        CompanySizeBand::Large,
        CompanySizeBand::Enterprise,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CompanySizeBand::Small => "small",
            CompanySizeBand::Medium => "medium",
            CompanySizeBand::Large => "large",
            CompanySizeBand::Enterprise => "enterprise",
        }
    }
}

impl fmt::Display for CompanySizeBand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The lead facts that rules route on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LeadProfile {
    pub territory: Option<String>,
    pub industry: Option<String>,
    pub company_size: Option<CompanySizeBand>,
    pub product_interest: Option<String>,
}

/// What a rule routes. An empty list accepts anything; every non-empty list must contain the
/// lead's value (compared trimmed and case-insensitively), and a lead without the value does
/// not match a rule that asks for it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RuleCriteria {
    pub territories: Vec<String>,
    pub industries: Vec<String>,
    pub sizes: Vec<CompanySizeBand>,
    pub products: Vec<String>,
}

impl RuleCriteria {
    /// The criteria the lead met ("territory=east"), or the first one it missed.
    pub fn matches(&self, profile: &LeadProfile) -> Result<Vec<String>, String> {
        let size = profile.company_size.map(|band| band.as_str().to_owned());
        let sizes: Vec<String> = self.sizes.iter().map(|band| band.as_str().into()).collect();
        let checks = [
            ("territory", &self.territories, &profile.territory),
            ("industry", &self.industries, &profile.industry),
            ("size", &sizes, &size),
            ("product", &self.products, &profile.product_interest),
        ];
        let mut matched_on = Vec::new();
        for (criterion, accepted, value) in checks {
            if accepted.is_empty() {
                continue;
            }
            let value = value.as_deref().map(|v| v.trim().to_lowercase());
            let Some(value) = value.filter(|v| !v.is_empty()) else {
                return Err(format!("lead has no {criterion}"));
            };
            if !accepted.iter().any(|a| a.trim().to_lowercase() == value) {
                return Err(format!("{criterion}={value} is not one of {accepted:?}"));
            }
            matched_on.push(format!("{criterion}={value}"));
        }
        Ok(matched_on)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criteria_compare_case_insensitively_and_need_the_value() {
        let criteria = RuleCriteria {
            territories: vec![" EAST ".into()],
            sizes: vec![CompanySizeBand::Large, CompanySizeBand::Enterprise],
            ..RuleCriteria::default()
        };
        let mut lead = LeadProfile {
            territory: Some("east".into()),
            company_size: Some(CompanySizeBand::Large),
            ..LeadProfile::default()
        };
        assert_eq!(
            criteria.matches(&lead),
            Ok(vec!["territory=east".into(), "size=large".into()])
        );
        lead.company_size = None;
        assert_eq!(criteria.matches(&lead), Err("lead has no size".into()));
        assert_eq!(
            RuleCriteria::default().matches(&LeadProfile::default()),
            Ok(vec![])
        );
    }
}
