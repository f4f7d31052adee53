//! Duplicate detection: candidates found by the store are scored here with the rules shared
//! with leads (crm-contact-data), so "likely duplicate" means the same everywhere.

use crm_contact_data::{ContactPoints, MatchReason, assess_match};
use uuid::Uuid;

/// Scores at or above this are reported to the caller as possible duplicates.
pub const REPORT_THRESHOLD: u8 = 40;
/// Scores at or above this are likely duplicates: refused under the reject policy.
pub const LIKELY_THRESHOLD: u8 = crm_contact_data::DEFAULT_DUPLICATE_THRESHOLD;

/// A stored record that may duplicate the one being created.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub id: Uuid,
    pub display_name: String,
    pub points: ContactPoints,
    /// Whether the caller may see the record (others are reported without their details).
    pub visible: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ScoredCandidate {
    pub id: Uuid,
    pub display_name: String,
    pub score: u8,
    pub reasons: Vec<MatchReason>,
    pub visible: bool,
}

impl ScoredCandidate {
    pub fn is_likely(&self) -> bool {
        self.score >= LIKELY_THRESHOLD
    }
}

/// The match keys of an account.
pub fn account_points(name: &str, website: &str, phone: Option<&str>) -> ContactPoints {
    ContactPoints {
        company_key: Some(crm_contact_data::normalize_company_name(name)).filter(|k| !k.is_empty()),
        domain: crm_contact_data::normalize_domain(website),
        phone: phone.map(str::to_owned),
        ..Default::default()
    }
}

/// The match keys of a contact; the account stands in for the company, so the same person at
/// the same account matches while a namesake elsewhere does not.
pub fn contact_points(
    account_id: Uuid,
    full_name: &str,
    email: Option<&str>,
    phone: Option<&str>,
) -> ContactPoints {
    ContactPoints {
        company_key: Some(account_id.to_string()),
        person_key: Some(crm_contact_data::normalize_person_name(full_name))
            .filter(|k| !k.is_empty()),
        email: email.map(str::to_owned),
        phone: phone.map(str::to_owned),
        domain: None,
    }
}

/// Keeps the candidates that score at least [`REPORT_THRESHOLD`], best first.
pub fn score_candidates(probe: &ContactPoints, candidates: Vec<Candidate>) -> Vec<ScoredCandidate> {
    let mut scored: Vec<ScoredCandidate> = candidates
        .into_iter()
        .filter_map(|candidate| {
            let assessment = assess_match(probe, &candidate.points);
            (assessment.score >= REPORT_THRESHOLD).then_some(ScoredCandidate {
                id: candidate.id,
                display_name: candidate.display_name,
                score: assessment.score,
                reasons: assessment.reasons,
                visible: candidate.visible,
            })
        })
        .collect();
    scored.sort_by(|a, b| b.score.cmp(&a.score).then(a.id.cmp(&b.id)));
    scored
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(name: &str, website: &str, phone: Option<&str>) -> Candidate {
        Candidate {
            id: Uuid::now_v7(),
            display_name: name.into(),
            points: account_points(name, website, phone),
            visible: true,
        }
    }

    #[test]
    fn the_same_company_with_another_spelling_is_a_likely_duplicate() {
        let probe = account_points("CONTOSO LTD", "contoso.cn", None);
        let scored = score_candidates(
            &probe,
            vec![candidate("Contoso Ltd.", "https://www.contoso.cn", None)],
        );
        assert_eq!(scored.len(), 1);
        assert!(scored[0].is_likely(), "{scored:?}");
    }

    #[test]
    fn unrelated_companies_are_not_reported() {
        let probe = account_points("Globex", "globex.com", None);
        assert!(
            score_candidates(&probe, vec![candidate("Contoso", "contoso.cn", None)]).is_empty()
        );
    }

    #[test]
    fn a_shared_phone_alone_is_likely() {
        let probe = account_points("Contoso Trading", "", Some("+8613800138000"));
        let scored = score_candidates(
            &probe,
            vec![candidate("CT Holdings", "", Some("+8613800138000"))],
        );
        assert!(scored[0].is_likely());
    }

    #[test]
    fn the_same_person_at_another_account_is_not_a_duplicate() {
        let account_a = Uuid::now_v7();
        let probe = contact_points(account_a, "Li Wei", None, None);
        let elsewhere = Candidate {
            id: Uuid::now_v7(),
            display_name: "Li Wei".into(),
            points: contact_points(Uuid::now_v7(), "LI WEI", None, None),
            visible: true,
        };
        let same_account = Candidate {
            points: contact_points(account_a, "LI WEI", None, None),
            ..elsewhere.clone()
        };
        assert!(
            score_candidates(&probe, vec![elsewhere])
                .iter()
                .all(|c| !c.is_likely())
        );
        assert!(score_candidates(&probe, vec![same_account])[0].is_likely());
    }
}
