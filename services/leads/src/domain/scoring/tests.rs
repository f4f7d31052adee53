//! Scoring by example, and its invariants as properties.

use super::*;
use chrono::{Duration, TimeZone};
use proptest::prelude::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap()
}

fn activity(kind: &str, days_ago: i64) -> EngagementActivity {
    EngagementActivity {
        kind: kind.into(),
        at: now() - Duration::days(days_ago),
    }
}

/// Li Wei's web-form lead from the scenario.
fn li_wei() -> ScoringInput {
    ScoringInput {
        industry: Some("Manufacturing".into()),
        company_size: Some(CompanySizeBand::Large),
        title: Some("Plant Director".into()),
        source_channel: Some("web_form".into()),
        phone: Some("+8613800138000".into()),
        email: Some("li.wei@contoso.cn".into()),
        ..ScoringInput::default()
    }
}

fn labels(score: &LeadScore) -> Vec<String> {
    score
        .reasons
        .iter()
        .map(|r| format!("{} {:+}", r.label, r.points))
        .collect()
}

#[test]
fn every_point_of_the_scenario_lead_has_a_reason() {
    let activities = [
        activity("web_visit", 0),
        activity("web_visit", 7),
        activity("web_visit", 14),
        activity("note", 1),
    ];
    let score = score(&li_wei(), &activities, &ScoringModel::default(), now());
    assert_eq!(
        labels(&score),
        [
            "industry fit: Manufacturing +20",
            "company size: large +15",
            "decision-maker title: Plant Director +10",
            "source: web_form +5",
            "phone number given +5",
            "email address given +5",
            "3 web visits in 14 days +7",
        ]
    );
    assert_eq!((score.fit, score.engagement, score.total), (60, 7, 67));
}

/// The console and integrators translate by these codes: changing one breaks them.
#[test]
fn reason_codes_are_stable() {
    assert_eq!(
        [
            reason_codes::FIT_RULE_MATCHED,
            reason_codes::FIT_VALUE_PRESENT,
            reason_codes::ACTIVITY_TODAY,
            reason_codes::ACTIVITY_DAYS_AGO,
            reason_codes::ACTIVITIES_WITHIN_DAYS,
            reason_codes::ENGAGEMENT_CAPPED,
        ],
        [
            "leads.score.fit_rule_matched",
            "leads.score.fit_value_present",
            "leads.score.activity_today",
            "leads.score.activity_days_ago",
            "leads.score.activities_within_days",
            "leads.score.engagement_capped",
        ]
    );
}

fn codes(score: &LeadScore) -> Vec<(String, Vec<(String, String)>)> {
    score
        .reasons
        .iter()
        .map(|reason| {
            let params = reason.text().params.into_iter().collect();
            (reason.code.clone(), params)
        })
        .collect()
}

fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

#[test]
fn every_reason_carries_its_code_and_the_values_of_its_text() {
    let activities = [activity("web_visit", 0), activity("web_visit", 7)];
    let score = score(&li_wei(), &activities, &ScoringModel::default(), now());
    let reasons = codes(&score);
    assert_eq!(
        reasons[0],
        (
            "leads.score.fit_rule_matched".to_owned(),
            params(&[
                ("field", "industry"),
                ("label", "industry fit"),
                ("value", "Manufacturing")
            ])
        )
    );
    assert_eq!(
        reasons[4],
        (
            "leads.score.fit_value_present".to_owned(),
            params(&[("field", "has_phone"), ("label", "phone number given")])
        )
    );
    assert_eq!(
        reasons[6],
        (
            "leads.score.activities_within_days".to_owned(),
            params(&[("count", "2"), ("days", "7"), ("kind", "web_visit")])
        )
    );
    assert!(score.reasons.iter().all(|r| r.text().text == r.label));
}

#[test]
fn single_activities_and_the_cap_carry_their_codes() {
    let today = score(
        &ScoringInput::default(),
        &[activity("call", 0)],
        &ScoringModel::default(),
        now(),
    );
    let week_ago = score(
        &ScoringInput::default(),
        &[activity("call", 7)],
        &ScoringModel::default(),
        now(),
    );
    let meetings: Vec<_> = (0..4).map(|day| activity("meeting", day)).collect();
    let capped = score(
        &ScoringInput::default(),
        &meetings,
        &ScoringModel::default(),
        now(),
    );
    assert_eq!(
        codes(&today),
        [(
            "leads.score.activity_today".to_owned(),
            params(&[("kind", "call")])
        )]
    );
    assert_eq!(
        codes(&week_ago),
        [(
            "leads.score.activity_days_ago".to_owned(),
            params(&[("days", "7"), ("kind", "call")])
        )]
    );
    assert_eq!(
        codes(&capped)[1],
        (
            "leads.score.engagement_capped".to_owned(),
            params(&[("cap", "40")])
        )
    );
}

#[test]
fn engagement_is_capped_with_a_visible_reason() {
    let meetings: Vec<_> = (0..4).map(|day| activity("meeting", day)).collect();
    let score = score(
        &ScoringInput::default(),
        &meetings,
        &ScoringModel::default(),
        now(),
    );
    assert_eq!(score.engagement, 40);
    assert_eq!(
        labels(&score),
        ["4 meetings in 3 days +56", "engagement capped at 40 -16"]
    );
}

#[test]
fn a_meeting_a_half_life_ago_counts_half() {
    let score = score(
        &ScoringInput::default(),
        &[activity("meeting", 14)],
        &ScoringModel::default(),
        now(),
    );
    assert_eq!(labels(&score), ["1 meeting 14 days ago +8"]);
}

#[test]
fn negative_fit_never_drives_the_total_below_zero() {
    let mut model = ScoringModel::default();
    model.fit_rules.push(FitRule {
        field: LeadField::Industry,
        condition: FitCondition::Equals("Education".into()),
        points: -30,
        label: "outside target industries".into(),
    });
    let lead = ScoringInput {
        industry: Some("education".into()),
        ..ScoringInput::default()
    };
    let score = score(&lead, &[], &model, now());
    assert_eq!((score.fit, score.total), (-30, 0));
}

#[test]
fn the_default_model_is_valid_and_round_trips_through_json() {
    let model = ScoringModel::default();
    assert_eq!(model.validate(), Ok(()));
    let json = serde_json::to_string(&model).unwrap();
    assert!(json.contains(r#""condition":{"one_of":["#), "{json}");
    assert_eq!(serde_json::from_str::<ScoringModel>(&json).unwrap(), model);
    let mut negative = model.clone();
    negative
        .engagement
        .per_activity_kind
        .insert("bounce".into(), -5);
    assert!(negative.validate().is_err());
}

fn any_model() -> impl Strategy<Value = ScoringModel> {
    let field = proptest::sample::select(vec![
        LeadField::Industry,
        LeadField::CompanySize,
        LeadField::Title,
        LeadField::SourceChannel,
        LeadField::HasPhone,
    ]);
    let condition = prop_oneof![
        Just(FitCondition::Present),
        Just(FitCondition::Equals("manufacturing".into())),
        Just(FitCondition::OneOf(vec!["large".into(), "web_form".into()])),
        Just(FitCondition::ContainsAny(vec!["director".into()])),
    ];
    let rule = (field, condition, -100i32..=100).prop_map(|(field, condition, points)| FitRule {
        field,
        condition,
        points,
        label: "rule".into(),
    });
    (
        proptest::collection::vec(rule, 0..8),
        proptest::collection::btree_map(
            proptest::sample::select(vec![
                "call".to_owned(),
                "meeting".into(),
                "web_visit".into(),
            ]),
            0i32..=100,
            0..3,
        ),
        0u32..60,
        0i32..=100,
    )
        .prop_map(
            |(fit_rules, per_activity_kind, half_life_days, max_points)| ScoringModel {
                fit_rules,
                engagement: EngagementWeights {
                    per_activity_kind,
                    half_life_days,
                    max_points,
                },
            },
        )
}

fn any_activities() -> impl Strategy<Value = Vec<EngagementActivity>> {
    proptest::collection::vec(
        (
            proptest::sample::select(vec!["call", "meeting", "web_visit", "note"]),
            -2i64..400,
        )
            .prop_map(|(kind, days)| activity(kind, days)),
        0..12,
    )
}

proptest! {
    #[test]
    fn the_total_is_in_range_and_the_reasons_add_up(
        model in any_model(),
        activities in any_activities(),
        manufacturing in any::<bool>(),
    ) {
        let lead = if manufacturing { li_wei() } else { ScoringInput::default() };
        let score = score(&lead, &activities, &model, now());
        prop_assert!((0..=MAX_SCORE).contains(&score.total));
        let sum: i32 = score.reasons.iter().map(|r| r.points).sum();
        prop_assert_eq!(sum, score.fit + score.engagement);
        prop_assert_eq!(score.total, (score.fit + score.engagement).clamp(0, MAX_SCORE));
    }

    #[test]
    fn engagement_never_grows_as_activities_age(
        model in any_model(),
        activities in any_activities(),
        later_hours in 0i64..2000,
    ) {
        let lead = ScoringInput::default();
        let today = score(&lead, &activities, &model, now());
        let later = score(&lead, &activities, &model, now() + Duration::hours(later_hours));
        prop_assert!(later.engagement <= today.engagement);
    }
}
