//! Lead duplicates (L2): match keys, what to do with a likely duplicate, and how an explicit
//! merge combines two leads.
//!
//! Normalising and scoring are shared with accounts ([`crm_contact_data`]), so a lead and the
//! account it becomes dedupe by the same rules. Auto-merge is reserved for a shared email or
//! phone: a shared company and domain make a likely duplicate worth a look, but two people of
//! the same company are two leads.

use std::collections::BTreeMap;

use crm_contact_data::{
    ContactPoints, DEFAULT_DUPLICATE_THRESHOLD, MatchAssessment, MatchReason, assess_match,
    normalize_company_name, normalize_domain, normalize_email, normalize_person_name,
    normalize_phone,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::assignment::CompanySizeBand;

/// Scores from here on are likely duplicates and are at least flagged.
pub const FLAG_THRESHOLD: u8 = DEFAULT_DUPLICATE_THRESHOLD;
/// Scores from here on may be merged automatically, if the evidence is an email or phone.
pub const AUTO_MERGE_THRESHOLD: u8 = 90;

/// Builds the match keys of a lead.
pub struct LeadContactPoints;

impl LeadContactPoints {
    /// Normalised match keys. An email or phone that fails validation gives no key: capture
    /// reports it as a field error, and a broken value is no evidence of sameness.
    pub fn from_lead(
        email: Option<&str>,
        phone: Option<&str>,
        company: Option<&str>,
        person: Option<&str>,
        website: Option<&str>,
        default_calling_code: Option<&str>,
    ) -> ContactPoints {
        let key = |value: String| Some(value).filter(|v| !v.is_empty());
        ContactPoints {
            company_key: present(company).map(normalize_company_name).and_then(key),
            person_key: present(person).map(normalize_person_name).and_then(key),
            email: present(email).and_then(|v| normalize_email(v).ok()),
            phone: present(phone).and_then(|v| normalize_phone(v, default_calling_code).ok()),
            domain: present(website).and_then(normalize_domain),
        }
    }

    /// The match keys of a stored or incoming lead; the person is "first last".
    pub fn from_fields(fields: &LeadFields, default_calling_code: Option<&str>) -> ContactPoints {
        let person = [&fields.first_name, &fields.last_name]
            .into_iter()
            .filter_map(|part| present(part.as_deref()))
            .collect::<Vec<_>>()
            .join(" ");
        LeadContactPoints::from_lead(
            fields.email.as_deref(),
            fields.phone.as_deref(),
            fields.company.as_deref(),
            Some(person.as_str()),
            fields.website.as_deref(),
            default_calling_code,
        )
    }
}

/// What capture does with a likely duplicate, chosen per source channel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicatePolicy {
    /// Keep both and mark the new lead for review.
    #[default]
    Flag,
    /// Fold the new lead into the existing one when the evidence is conclusive.
    AutoMerge,
}

/// The policy of a source channel ("import", "web_form" …) among a tenant's policies by
/// channel; channels not named are flagged.
pub fn policy_for_channel(
    per_source_channel: &BTreeMap<String, DuplicatePolicy>,
    source_channel: &str,
) -> DuplicatePolicy {
    let channel = source_channel.trim().to_lowercase();
    per_source_channel
        .get(&channel)
        .copied()
        .unwrap_or_default()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DedupeAction {
    Unique,
    Flag { score: u8 },
    Merge { score: u8 },
}

/// The action for a new lead given its strongest match.
pub fn decide(assessment: &MatchAssessment, policy: DuplicatePolicy) -> DedupeAction {
    let score = assessment.score;
    if score < FLAG_THRESHOLD {
        return DedupeAction::Unique;
    }
    let conclusive = assessment
        .reasons
        .iter()
        .any(|reason| matches!(reason, MatchReason::SameEmail | MatchReason::SamePhone));
    if policy == DuplicatePolicy::AutoMerge && score >= AUTO_MERGE_THRESHOLD && conclusive {
        return DedupeAction::Merge { score };
    }
    DedupeAction::Flag { score }
}

/// The candidate that matches `probe` best (the lowest id on a tie), if any matches at all.
pub fn strongest_match<'a>(
    probe: &ContactPoints,
    candidates: impl IntoIterator<Item = (Uuid, &'a ContactPoints)>,
) -> Option<(Uuid, MatchAssessment)> {
    candidates
        .into_iter()
        .map(|(id, points)| (id, assess_match(probe, points)))
        .filter(|(_, assessment)| assessment.score > 0)
        .min_by(|(a_id, a), (b_id, b)| b.score.cmp(&a.score).then(a_id.cmp(b_id)))
}

/// The mergeable fields of a lead.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadFields {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub website: Option<String>,
    pub industry: Option<String>,
    pub territory: Option<String>,
    pub company_size: Option<CompanySizeBand>,
    pub product_interest: Option<String>,
    pub description: Option<String>,
}

/// Which lead a merged value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Survivor,
    Duplicate,
    /// Both descriptions, survivor's first.
    Both,
}

/// Where one non-empty field of the merged lead came from; fields from the duplicate are what
/// an undo clears.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FieldOrigin {
    pub field: &'static str,
    pub from: Side,
}

/// Put between the two descriptions of merged leads.
pub const DESCRIPTION_SEPARATOR: &str = "\n---\n";

fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

fn is_empty(value: &Option<String>) -> bool {
    value.as_deref().is_none_or(|v| v.trim().is_empty())
}

/// Survivorship for an explicit merge: the survivor's values win, its empty fields are filled
/// from the duplicate, and two different descriptions are both kept (survivor's first, as the
/// order of capture is not known here). Returns the merged fields and the origin of each
/// non-empty one, in field order.
pub fn merge_leads(
    survivor: &LeadFields,
    duplicate: &LeadFields,
) -> (LeadFields, Vec<FieldOrigin>) {
    let mut merged = survivor.clone();
    let mut origins = Vec::new();
    macro_rules! fill {
        ($($field:ident),*) => {$(
            if !is_empty(&merged.$field) {
                origins.push(FieldOrigin { field: stringify!($field), from: Side::Survivor });
            } else if !is_empty(&duplicate.$field) {
                merged.$field = duplicate.$field.clone();
                origins.push(FieldOrigin { field: stringify!($field), from: Side::Duplicate });
            }
        )*};
    }
    fill!(
        first_name, last_name, email, phone, company, title, website, industry, territory
    );
    if merged.company_size.is_some() {
        origins.push(FieldOrigin {
            field: "company_size",
            from: Side::Survivor,
        });
    } else if duplicate.company_size.is_some() {
        merged.company_size = duplicate.company_size;
        origins.push(FieldOrigin {
            field: "company_size",
            from: Side::Duplicate,
        });
    }
    fill!(product_interest);
    let theirs = duplicate
        .description
        .as_deref()
        .map(str::trim)
        .unwrap_or("");
    match merged.description.as_deref().map(str::trim) {
        Some(ours) if !ours.is_empty() && !theirs.is_empty() && !ours.contains(theirs) => {
            merged.description = Some(format!("{ours}{DESCRIPTION_SEPARATOR}{theirs}"));
            origins.push(FieldOrigin {
                field: "description",
                from: Side::Both,
            });
        }
        _ => fill!(description),
    }
    (merged, origins)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(value: &str) -> Option<String> {
        Some(value.to_owned())
    }

    /// The web-form lead of the scenario.
    fn li_wei() -> LeadFields {
        LeadFields {
            first_name: text("Li"),
            last_name: text("Wei"),
            email: text("li.wei@contoso.cn"),
            phone: text("+86 138 0013 8000"),
            company: text("Contoso Ltd"),
            ..LeadFields::default()
        }
    }

    #[test]
    fn the_expo_row_spelled_differently_is_the_same_lead() {
        let row = LeadFields {
            first_name: text("LI"),
            last_name: text("WEI"),
            email: text("li.wei@CONTOSO.CN"),
            phone: text("138 0013 8000"),
            company: text("CONTOSO LTD."),
            ..LeadFields::default()
        };
        let form = LeadContactPoints::from_fields(&li_wei(), Some("86"));
        let import = LeadContactPoints::from_fields(&row, Some("86"));
        assert_eq!(form, import);
        let assessment = assess_match(&form, &import);
        assert_eq!(assessment.score, 100);
        assert_eq!(
            decide(&assessment, DuplicatePolicy::AutoMerge),
            DedupeAction::Merge { score: 100 }
        );
        assert_eq!(
            decide(&assessment, DuplicatePolicy::Flag),
            DedupeAction::Flag { score: 100 }
        );
    }

    #[test]
    fn a_colleague_at_the_same_company_is_flagged_not_merged() {
        let li = LeadContactPoints::from_fields(&li_wei(), Some("86"));
        let colleague = LeadContactPoints::from_lead(
            Some("wang.fang@contoso.cn"),
            None,
            Some("Contoso Ltd."),
            Some("Wang Fang"),
            None,
            Some("86"),
        );
        let assessment = assess_match(&li, &colleague);
        assert!(assessment.score >= AUTO_MERGE_THRESHOLD, "{assessment:?}");
        assert_eq!(
            decide(&assessment, DuplicatePolicy::AutoMerge),
            DedupeAction::Flag {
                score: assessment.score
            }
        );
    }

    #[test]
    fn weak_matches_are_unique_and_invalid_values_give_no_key() {
        let points = LeadContactPoints::from_lead(
            Some("not-an-email"),
            Some("12"),
            None,
            Some("  "),
            None,
            None,
        );
        assert_eq!(points, ContactPoints::default());
        let namesake = LeadContactPoints::from_lead(None, None, None, Some("LI WEI"), None, None);
        let li = LeadContactPoints::from_fields(&li_wei(), Some("86"));
        assert_eq!(
            decide(&assess_match(&li, &namesake), DuplicatePolicy::AutoMerge),
            DedupeAction::Unique
        );
    }

    #[test]
    fn the_policy_is_chosen_by_channel_and_others_are_flagged() {
        let policies: BTreeMap<String, DuplicatePolicy> =
            serde_json::from_str(r#"{"import":"auto_merge"}"#).unwrap();
        assert_eq!(
            policy_for_channel(&policies, "Import"),
            DuplicatePolicy::AutoMerge
        );
        assert_eq!(
            policy_for_channel(&policies, "web_form"),
            DuplicatePolicy::Flag
        );
    }

    #[test]
    fn the_strongest_match_wins() {
        let li = LeadContactPoints::from_fields(&li_wei(), Some("86"));
        let same_company =
            LeadContactPoints::from_lead(None, None, Some("Contoso"), None, None, None);
        let unrelated = LeadContactPoints::from_lead(None, None, Some("Globex"), None, None, None);
        let candidates = [
            (Uuid::from_u128(3), &unrelated),
            (Uuid::from_u128(2), &li),
            (Uuid::from_u128(1), &same_company),
        ];
        let (id, assessment) = strongest_match(&li, candidates).unwrap();
        assert_eq!((id, assessment.score), (Uuid::from_u128(2), 100));
        assert_eq!(
            strongest_match(&li, [(Uuid::from_u128(3), &unrelated)]),
            None
        );
    }

    #[test]
    fn a_merge_keeps_the_survivor_fills_gaps_and_keeps_both_notes() {
        let survivor = LeadFields {
            title: text("Plant Director"),
            description: text("Met at Spring Expo."),
            ..li_wei()
        };
        let duplicate = LeadFields {
            first_name: text("LI"),
            title: text("Engineer"),
            website: text("contoso.cn"),
            company_size: Some(CompanySizeBand::Large),
            description: text("Asked for a Line 3 quote."),
            ..LeadFields::default()
        };
        let (merged, origins) = merge_leads(&survivor, &duplicate);
        assert_eq!(merged.first_name.as_deref(), Some("Li"));
        assert_eq!(merged.title.as_deref(), Some("Plant Director"));
        assert_eq!(merged.website.as_deref(), Some("contoso.cn"));
        assert_eq!(
            merged.description.as_deref(),
            Some("Met at Spring Expo.\n---\nAsked for a Line 3 quote.")
        );
        let from_duplicate: Vec<&str> = origins
            .iter()
            .filter(|o| o.from != Side::Survivor)
            .map(|o| o.field)
            .collect();
        assert_eq!(from_duplicate, ["website", "company_size", "description"]);
        let (again, _) = merge_leads(&merged, &duplicate);
        assert_eq!(again.description, merged.description);
    }

    fn any_value() -> impl Strategy<Value = Option<String>> {
        proptest::option::of(prop_oneof![
            Just(String::new()),
            Just("  ".to_owned()),
            "[a-c]{1,3}"
        ])
    }

    fn any_fields() -> impl Strategy<Value = LeadFields> {
        (
            proptest::collection::vec(any_value(), 11),
            proptest::option::of(proptest::sample::select(CompanySizeBand::ALL.to_vec())),
        )
            .prop_map(|(mut values, company_size)| {
                let mut next = || values.pop().unwrap();
                LeadFields {
                    first_name: next(),
                    last_name: next(),
                    email: next(),
                    phone: next(),
                    company: next(),
                    title: next(),
                    website: next(),
                    industry: next(),
                    territory: next(),
                    company_size,
                    product_interest: next(),
                    description: next(),
                }
            })
    }

    fn text_fields(fields: &LeadFields) -> [(&'static str, &Option<String>); 10] {
        [
            ("first_name", &fields.first_name),
            ("last_name", &fields.last_name),
            ("email", &fields.email),
            ("phone", &fields.phone),
            ("company", &fields.company),
            ("title", &fields.title),
            ("website", &fields.website),
            ("industry", &fields.industry),
            ("territory", &fields.territory),
            ("product_interest", &fields.product_interest),
        ]
    }

    proptest! {
        #[test]
        fn merging_never_loses_a_survivor_value_and_fills_only_from_the_duplicate(
            survivor in any_fields(), duplicate in any_fields(),
        ) {
            let (merged, origins) = merge_leads(&survivor, &duplicate);
            let origin = |field: &str| origins.iter().find(|o| o.field == field).map(|o| o.from);
            let pairs = text_fields(&survivor)
                .into_iter()
                .zip(text_fields(&duplicate))
                .zip(text_fields(&merged));
            for (((field, ours), (_, theirs)), (_, result)) in pairs {
                if !is_empty(ours) {
                    prop_assert_eq!(result, ours);
                    prop_assert_eq!(origin(field), Some(Side::Survivor));
                } else if !is_empty(theirs) {
                    prop_assert_eq!(result, theirs);
                    prop_assert_eq!(origin(field), Some(Side::Duplicate));
                } else {
                    prop_assert_eq!(origin(field), None);
                }
            }
            if survivor.company_size.is_some() {
                prop_assert_eq!(merged.company_size, survivor.company_size);
            } else if duplicate.company_size.is_some() {
                prop_assert_eq!(origin("company_size"), Some(Side::Duplicate));
            }
            if !is_empty(&survivor.description) {
                let ours = survivor.description.as_deref().unwrap().trim();
                prop_assert!(merged.description.as_deref().unwrap().starts_with(ours));
            }
            for entry in &origins {
                prop_assert_eq!(origins.iter().filter(|o| o.field == entry.field).count(), 1);
            }
        }
    }
}
