//! Lead scoring (L8): a transparent score from fit (what the lead's fields say) and engagement
//! (what the lead has done lately).
//!
//! Every point comes with a reason, so a rep can see why one lead outranks another and a
//! manager can tune the model: `fit + engagement` always equals the sum of the reasons' points,
//! and the total is that sum clamped to 0..=100. Engagement decays with a half-life, so a
//! meeting last week counts more than one last quarter.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use crm_platform::text::LocalizableText;
use serde::{Deserialize, Serialize};

use super::assignment::CompanySizeBand;

pub const MAX_SCORE: i32 = 100;
const MAX_FIT_RULES: usize = 100;

/// The codes of score reasons ([`ScoreReason::code`]), each with its English template and
/// parameters; the console translates by them, so a code never changes its meaning or its
/// parameters (docs/api.md lists them for integrators).
pub mod reason_codes {
    /// "{label}: {value}": a fit rule matched the lead's value. `field`: the lead field
    /// ("industry"); `label`: the rule's label as the model configures it; `value`: the lead's.
    pub const FIT_RULE_MATCHED: &str = "leads.score.fit_rule_matched";
    /// "{label}": a fit rule that asks only whether the lead has a value (a phone, an email).
    /// `field`, `label`.
    pub const FIT_VALUE_PRESENT: &str = "leads.score.fit_value_present";
    /// "1 {kind} today". `kind`: the activity kind as the model names it ("web_visit").
    pub const ACTIVITY_TODAY: &str = "leads.score.activity_today";
    /// "1 {kind} 1 day ago", "1 {kind} {days} days ago". `kind`, `days` (at least 1).
    pub const ACTIVITY_DAYS_AGO: &str = "leads.score.activity_days_ago";
    /// "{count} {kind}s in {days} days" ("in 1 day"). `kind`, `count` (at least 2), `days`.
    pub const ACTIVITIES_WITHIN_DAYS: &str = "leads.score.activities_within_days";
    /// "engagement capped at {cap}": engagement points above the model's cap, taken off. `cap`.
    pub const ENGAGEMENT_CAPPED: &str = "leads.score.engagement_capped";
}

/// A lead field a fit rule looks at. `HasPhone` and `HasEmail` are present when the lead has a
/// phone or email at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadField {
    Industry,
    CompanySize,
    Territory,
    Title,
    SourceChannel,
    HasPhone,
    HasEmail,
}

impl LeadField {
    /// The name the scoring model's JSON uses ("has_phone").
    pub fn as_str(self) -> &'static str {
        match self {
            LeadField::Industry => "industry",
            LeadField::CompanySize => "company_size",
            LeadField::Territory => "territory",
            LeadField::Title => "title",
            LeadField::SourceChannel => "source_channel",
            LeadField::HasPhone => "has_phone",
            LeadField::HasEmail => "has_email",
        }
    }
}

/// When a rule applies. Text compares trimmed and case-insensitively; company sizes compare by
/// their spelling ("large").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FitCondition {
    Equals(String),
    OneOf(Vec<String>),
    /// The value contains one of the words: titles vary too much to list ("Plant Director").
    ContainsAny(Vec<String>),
    Present,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitRule {
    pub field: LeadField,
    pub condition: FitCondition,
    /// May be negative: a poor fit subtracts.
    pub points: i32,
    /// The start of the reason ("industry fit"); the lead's value follows ("… : Manufacturing").
    pub label: String,
}

/// Points per activity kind ("web_visit"), halved every `half_life_days` (0 = no decay), and
/// capped at `max_points` in total so a chatty lead cannot drown a good fit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EngagementWeights {
    pub per_activity_kind: BTreeMap<String, i32>,
    pub half_life_days: u32,
    pub max_points: i32,
}

/// The configurable model, stored as JSON per tenant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoringModel {
    pub fit_rules: Vec<FitRule>,
    pub engagement: EngagementWeights,
}

impl Default for ScoringModel {
    /// For a maker of industrial equipment: manufacturing industries, larger plants and
    /// decision-makers fit (at most 60 points); meetings and calls outweigh clicks (at most 40).
    fn default() -> Self {
        let words = |items: &[&str]| items.iter().map(|item| item.to_string()).collect();
        let rule = |field, condition, points, label: &str| FitRule {
            field,
            condition,
            points,
            label: label.into(),
        };
        ScoringModel {
            fit_rules: vec![
                rule(
                    LeadField::Industry,
                    FitCondition::OneOf(words(&[
                        "manufacturing",
                        "industrial machinery",
                        "automotive",
                        "electronics",
                        "chemicals",
                        "metalworking",
                    ])),
                    20,
                    "industry fit",
                ),
                rule(
                    LeadField::CompanySize,
                    FitCondition::OneOf(words(&["large", "enterprise"])),
                    15,
                    "company size",
                ),
                rule(
                    LeadField::CompanySize,
                    FitCondition::Equals("medium".into()),
                    8,
                    "company size",
                ),
                rule(
                    LeadField::Title,
                    FitCondition::ContainsAny(words(&[
                        "chief",
                        "ceo",
                        "cto",
                        "coo",
                        "vp",
                        "vice president",
                        "director",
                        "head of",
                        "owner",
                        "general manager",
                        "plant manager",
                        "总经理",
                        "总监",
                        "厂长",
                    ])),
                    10,
                    "decision-maker title",
                ),
                rule(
                    LeadField::SourceChannel,
                    FitCondition::Equals("web_form".into()),
                    5,
                    "source",
                ),
                rule(
                    LeadField::HasPhone,
                    FitCondition::Present,
                    5,
                    "phone number given",
                ),
                rule(
                    LeadField::HasEmail,
                    FitCondition::Present,
                    5,
                    "email address given",
                ),
            ],
            engagement: EngagementWeights {
                per_activity_kind: [
                    ("email_open", 2),
                    ("email", 2),
                    ("web_visit", 3),
                    ("call", 8),
                    ("meeting", 15),
                ]
                .into_iter()
                .map(|(kind, points)| (kind.to_owned(), points))
                .collect(),
                half_life_days: 14,
                max_points: 40,
            },
        }
    }
}

impl ScoringModel {
    /// Checks the model; the message names the first bad part.
    pub fn validate(&self) -> Result<(), String> {
        if self.fit_rules.len() > MAX_FIT_RULES {
            return Err(format!("at most {MAX_FIT_RULES} fit rules"));
        }
        for (index, rule) in self.fit_rules.iter().enumerate() {
            let label = rule.label.trim();
            if label.is_empty() || label.chars().count() > 100 {
                return Err(format!(
                    "fit_rules[{index}].label must be 1 to 100 characters"
                ));
            }
            if !(-MAX_SCORE..=MAX_SCORE).contains(&rule.points) {
                return Err(format!(
                    "fit_rules[{index}].points must be between -100 and 100"
                ));
            }
            let values = match &rule.condition {
                FitCondition::Equals(value) => std::slice::from_ref(value),
                FitCondition::OneOf(values) | FitCondition::ContainsAny(values) => values,
                FitCondition::Present => continue,
            };
            if values.is_empty() || values.iter().any(|value| value.trim().is_empty()) {
                return Err(format!(
                    "fit_rules[{index}].condition needs non-empty values"
                ));
            }
        }
        let engagement = &self.engagement;
        for (kind, points) in &engagement.per_activity_kind {
            if kind.trim().is_empty() || !(0..=MAX_SCORE).contains(points) {
                return Err(format!(
                    "engagement.per_activity_kind: '{kind}' must be named and worth 0 to 100 \
                     points (negative signals belong in fit rules)"
                ));
            }
        }
        if engagement.half_life_days > 3650 {
            return Err("engagement.half_life_days must be at most 3650".into());
        }
        if !(0..=MAX_SCORE).contains(&engagement.max_points) {
            return Err("engagement.max_points must be between 0 and 100".into());
        }
        Ok(())
    }
}

/// The lead fields scoring reads.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScoringInput {
    pub industry: Option<String>,
    pub company_size: Option<CompanySizeBand>,
    pub territory: Option<String>,
    pub title: Option<String>,
    /// "api", "import", "web_form", "campaign", "manual".
    pub source_channel: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// Something the lead did or that was done with them ("web_visit", "meeting").
#[derive(Clone, Debug, PartialEq)]
pub struct EngagementActivity {
    pub kind: String,
    pub at: DateTime<Utc>,
}

/// One reason behind a score: its English label, its points, and the label as a code and
/// parameters for translation ([`reason_codes`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreReason {
    pub label: String,
    pub points: i32,
    #[serde(default)]
    pub code: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
}

impl ScoreReason {
    fn new(text: LocalizableText, points: i32) -> Self {
        ScoreReason {
            label: text.text,
            points,
            code: text.code,
            params: text.params,
        }
    }

    /// The reason as a text for people: `label` under its code.
    pub fn text(&self) -> LocalizableText {
        LocalizableText {
            code: self.code.clone(),
            params: self.params.clone(),
            text: self.label.clone(),
            parts: Vec::new(),
        }
    }
}

/// The score and every reason behind it. `fit + engagement` is the sum of the reasons' points;
/// `total` is that sum clamped to 0..=100.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadScore {
    pub total: i32,
    pub fit: i32,
    pub engagement: i32,
    pub reasons: Vec<ScoreReason>,
}

/// Scores a lead as of `now`. Activities of kinds the model does not weigh are ignored;
/// activities dated after `now` count as happening now.
pub fn score(
    lead: &ScoringInput,
    activities: &[EngagementActivity],
    model: &ScoringModel,
    now: DateTime<Utc>,
) -> LeadScore {
    let mut reasons = Vec::new();
    let mut fit = 0;
    for rule in &model.fit_rules {
        let Some(value) = field_value(lead, rule.field) else {
            continue;
        };
        if rule.points == 0 || !condition_holds(&rule.condition, &value) {
            continue;
        }
        let label = rule.label.trim();
        let text = match (rule.field, &rule.condition) {
            (LeadField::HasPhone | LeadField::HasEmail, _) | (_, FitCondition::Present) => {
                LocalizableText::new(reason_codes::FIT_VALUE_PRESENT, label)
            }
            _ => LocalizableText::new(reason_codes::FIT_RULE_MATCHED, format!("{label}: {value}"))
                .param("value", &value),
        };
        fit += rule.points;
        reasons.push(ScoreReason::new(
            text.param("field", rule.field.as_str())
                .param("label", label),
            rule.points,
        ));
    }
    let (engagement, engagement_reasons) = engagement(activities, &model.engagement, now);
    reasons.extend(engagement_reasons);
    LeadScore {
        total: (fit + engagement).clamp(0, MAX_SCORE),
        fit,
        engagement,
        reasons,
    }
}

fn field_value(lead: &ScoringInput, field: LeadField) -> Option<String> {
    let text = |value: &Option<String>| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    match field {
        LeadField::Industry => text(&lead.industry),
        LeadField::CompanySize => lead.company_size.map(|band| band.as_str().to_owned()),
        LeadField::Territory => text(&lead.territory),
        LeadField::Title => text(&lead.title),
        LeadField::SourceChannel => text(&lead.source_channel),
        LeadField::HasPhone => text(&lead.phone).map(|_| "yes".to_owned()),
        LeadField::HasEmail => text(&lead.email).map(|_| "yes".to_owned()),
    }
}

fn condition_holds(condition: &FitCondition, value: &str) -> bool {
    let value = value.to_lowercase();
    let same = |expected: &String| expected.trim().to_lowercase() == value;
    match condition {
        FitCondition::Equals(expected) => same(expected),
        FitCondition::OneOf(expected) => expected.iter().any(same),
        FitCondition::ContainsAny(words) => words.iter().any(|word| {
            let word = word.trim().to_lowercase();
            !word.is_empty() && value.contains(&word)
        }),
        FitCondition::Present => true,
    }
}

/// Decayed engagement points per kind, each rounded, biggest first, then capped.
fn engagement(
    activities: &[EngagementActivity],
    weights: &EngagementWeights,
    now: DateTime<Utc>,
) -> (i32, Vec<ScoreReason>) {
    struct KindTotal {
        count: usize,
        decayed: f64,
        oldest_age_days: f64,
    }
    let mut per_kind: BTreeMap<&str, KindTotal> = BTreeMap::new();
    for activity in activities {
        let kind = activity.kind.trim();
        let Some(&points) = weights.per_activity_kind.get(kind) else {
            continue;
        };
        let age_days = ((now - activity.at).num_seconds().max(0) as f64) / 86_400.0;
        let decay = match weights.half_life_days {
            0 => 1.0,
            half_life => 0.5_f64.powf(age_days / f64::from(half_life)),
        };
        let total = per_kind.entry(kind).or_insert(KindTotal {
            count: 0,
            decayed: 0.0,
            oldest_age_days: 0.0,
        });
        total.count += 1;
        total.decayed += f64::from(points.max(0)) * decay;
        total.oldest_age_days = total.oldest_age_days.max(age_days);
    }
    let mut reasons: Vec<ScoreReason> = per_kind
        .into_iter()
        .filter_map(|(kind, total)| {
            let points = total.decayed.round() as i32;
            (points != 0).then(|| {
                ScoreReason::new(
                    activity_text(kind, total.count, total.oldest_age_days),
                    points,
                )
            })
        })
        .collect();
    reasons.sort_by(|a, b| b.points.cmp(&a.points).then_with(|| a.label.cmp(&b.label)));
    let raw: i32 = reasons.iter().map(|reason| reason.points).sum();
    let cap = weights.max_points.max(0);
    if raw > cap {
        reasons.push(ScoreReason::new(
            LocalizableText::new(
                reason_codes::ENGAGEMENT_CAPPED,
                format!("engagement capped at {cap}"),
            )
            .param("cap", cap),
            cap - raw,
        ));
        return (cap, reasons);
    }
    (raw, reasons)
}

/// "3 web visits in 14 days", "1 meeting 3 days ago", "1 call today".
fn activity_text(kind: &str, count: usize, oldest_age_days: f64) -> LocalizableText {
    let name = kind.replace('_', " ");
    if count == 1 {
        return match oldest_age_days.floor() as i64 {
            0 => LocalizableText::new(reason_codes::ACTIVITY_TODAY, format!("1 {name} today")),
            days => {
                let english = match days {
                    1 => format!("1 {name} 1 day ago"),
                    days => format!("1 {name} {days} days ago"),
                };
                LocalizableText::new(reason_codes::ACTIVITY_DAYS_AGO, english).param("days", days)
            }
        }
        .param("kind", kind);
    }
    let days = (oldest_age_days.ceil() as i64).max(1);
    let unit = if days == 1 { "day" } else { "days" };
    LocalizableText::new(
        reason_codes::ACTIVITIES_WITHIN_DAYS,
        format!("{count} {name}s in {days} {unit}"),
    )
    .param("kind", kind)
    .param("count", count)
    .param("days", days)
}

#[cfg(test)]
mod tests;
