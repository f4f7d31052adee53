//! Duplicate scoring of two contacts, leads or accounts.
//!
//! Weights (the score is their sum, capped at 100):
//!
//! | reason                | points                     |
//! |-----------------------|----------------------------|
//! | `SameEmail`           | 95                         |
//! | `SamePhone`           | 90                         |
//! | `SameCompanyName`     | 50                         |
//! | `SimilarCompanyName`  | 50 × similarity (25 to 49) |
//! | `SameDomain`          | 45                         |
//! | `SamePersonName`      | 20                         |
//!
//! A shared email or phone alone is conclusive. A shared company domain
//! plus a similar or equal company name reaches 70 to 95, above
//! [`DEFAULT_DUPLICATE_THRESHOLD`]. Names alone stay at 50 or below: company
//! names are reused across cities and person names like "Li Wei" are common,
//! so a name match is a hint to review, not a verdict.

use std::fmt;

use crate::{is_free_mail_domain, normalize_domain, trigram_similarity};

/// Company keys at least this similar (by [`trigram_similarity`]) count as
/// [`MatchReason::SimilarCompanyName`]. Stricter than `pg_trgm`'s default
/// 0.3 because short company names share trigrams easily.
pub const SIMILAR_COMPANY_THRESHOLD: f64 = 0.5;

/// A sensible [`MatchAssessment::is_duplicate`] threshold: met by a shared
/// email or phone, by domain plus company name, or by company plus person
/// name, never by a single name or a domain alone.
pub const DEFAULT_DUPLICATE_THRESHOLD: u8 = 70;

/// The comparable contact points of one record.
///
/// Fields are expected to hold normalised values: `company_key` from
/// [`normalize_company_name`](crate::normalize_company_name), `person_key`
/// from [`normalize_person_name`](crate::normalize_person_name), `email` from
/// [`normalize_email`](crate::normalize_email), `phone` from
/// [`normalize_phone`](crate::normalize_phone) and `domain` from
/// [`normalize_domain`](crate::normalize_domain). They are compared exactly;
/// empty strings count as absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactPoints {
    /// Normalised company name.
    pub company_key: Option<String>,
    /// Normalised person name.
    pub person_key: Option<String>,
    /// Normalised email address.
    pub email: Option<String>,
    /// E.164 phone number.
    pub phone: Option<String>,
    /// Company website domain.
    pub domain: Option<String>,
}

/// One piece of evidence that two records describe the same party.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MatchReason {
    /// Identical email addresses.
    SameEmail,
    /// Identical phone numbers.
    SamePhone,
    /// A company domain in common, taken from the website or the email
    /// address; free mail domains never count.
    SameDomain,
    /// Identical company keys.
    SameCompanyName,
    /// Company keys that differ but are at least
    /// [`SIMILAR_COMPANY_THRESHOLD`] similar.
    SimilarCompanyName {
        /// The [`trigram_similarity`] of the two keys.
        similarity: f64,
    },
    /// Identical person keys.
    SamePersonName,
}

impl MatchReason {
    /// The points this reason adds to a [`MatchAssessment::score`].
    pub fn weight(&self) -> u8 {
        match self {
            Self::SameEmail => 95,
            Self::SamePhone => 90,
            Self::SameCompanyName => 50,
            Self::SimilarCompanyName { similarity } => {
                (similarity.clamp(0.0, 1.0) * 50.0).round() as u8
            }
            Self::SameDomain => 45,
            Self::SamePersonName => 20,
        }
    }
}

impl fmt::Display for MatchReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SameEmail => f.write_str("same email address"),
            Self::SamePhone => f.write_str("same phone number"),
            Self::SameDomain => f.write_str("same company domain"),
            Self::SameCompanyName => f.write_str("same company name"),
            Self::SimilarCompanyName { similarity } => {
                write!(
                    f,
                    "similar company name ({:.0}% similar)",
                    similarity * 100.0
                )
            }
            Self::SamePersonName => f.write_str("same person name"),
        }
    }
}

/// How strongly two records look like duplicates, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchAssessment {
    /// 0 (nothing in common) to 100 (certainly the same).
    pub score: u8,
    /// The evidence behind the score, in a fixed order: email, phone,
    /// domain, company, person.
    pub reasons: Vec<MatchReason>,
}

impl MatchAssessment {
    /// Whether the score reaches `threshold`; see
    /// [`DEFAULT_DUPLICATE_THRESHOLD`].
    pub fn is_duplicate(&self, threshold: u8) -> bool {
        self.score >= threshold
    }
}

/// Scores how likely `a` and `b` describe the same party. Symmetric:
/// swapping the arguments gives the same assessment.
///
/// ```
/// use crm_contact_data::{ContactPoints, MatchReason, assess_match, DEFAULT_DUPLICATE_THRESHOLD};
/// let lead = ContactPoints { email: Some("li.wei@contoso.cn".into()), ..Default::default() };
/// let account = ContactPoints { email: Some("li.wei@contoso.cn".into()), ..Default::default() };
/// let m = assess_match(&lead, &account);
/// assert!(m.reasons.contains(&MatchReason::SameEmail));
/// assert!(m.is_duplicate(DEFAULT_DUPLICATE_THRESHOLD));
/// ```
pub fn assess_match(a: &ContactPoints, b: &ContactPoints) -> MatchAssessment {
    let mut reasons = Vec::new();
    if same(&a.email, &b.email) {
        reasons.push(MatchReason::SameEmail);
    }
    if same(&a.phone, &b.phone) {
        reasons.push(MatchReason::SamePhone);
    }
    let a_domains = company_domains(a);
    if company_domains(b).iter().any(|d| a_domains.contains(d)) {
        reasons.push(MatchReason::SameDomain);
    }
    if let (Some(x), Some(y)) = (present(&a.company_key), present(&b.company_key)) {
        if x == y {
            reasons.push(MatchReason::SameCompanyName);
        } else {
            let similarity = trigram_similarity(x, y);
            if similarity >= SIMILAR_COMPANY_THRESHOLD {
                reasons.push(MatchReason::SimilarCompanyName { similarity });
            }
        }
    }
    if same(&a.person_key, &b.person_key) {
        reasons.push(MatchReason::SamePersonName);
    }
    let total: u32 = reasons.iter().map(|r| u32::from(r.weight())).sum();
    let score = u8::try_from(total.min(100)).unwrap_or(100);
    MatchAssessment { score, reasons }
}

fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.trim().is_empty())
}

fn same(a: &Option<String>, b: &Option<String>) -> bool {
    matches!((present(a), present(b)), (Some(x), Some(y)) if x == y)
}

/// Domains that identify the employer: the website domain and the email
/// domain, minus free mail providers. Both sources count because leads
/// often carry only an email while accounts carry only a website.
fn company_domains(p: &ContactPoints) -> Vec<String> {
    [&p.domain, &p.email]
        .into_iter()
        .filter_map(|v| v.as_deref().and_then(normalize_domain))
        .filter(|d| !is_free_mail_domain(d))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use MatchReason::*;
    use proptest::prelude::*;

    fn points(
        company: &str,
        person: &str,
        email: &str,
        phone: &str,
        domain: &str,
    ) -> ContactPoints {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        ContactPoints {
            company_key: opt(company),
            person_key: opt(person),
            email: opt(email),
            phone: opt(phone),
            domain: opt(domain),
        }
    }

    #[test]
    fn same_email_or_phone_is_conclusive() {
        let a = points("", "", "li.wei@contoso.cn", "", "");
        let m = assess_match(&a, &a.clone());
        assert!(m.score >= 90);
        assert!(m.reasons.contains(&SameEmail));
        let a = points("", "", "", "+8613800138000", "");
        let m = assess_match(&a, &a.clone());
        assert_eq!(
            m,
            MatchAssessment {
                score: 90,
                reasons: vec![SamePhone]
            }
        );
        assert!(m.is_duplicate(DEFAULT_DUPLICATE_THRESHOLD));
    }

    #[test]
    fn domain_and_company_name_is_high() {
        let a = points("contoso", "", "", "", "contoso.cn");
        let b = points("contoso", "", "", "", "contoso.cn");
        assert_eq!(
            assess_match(&a, &b),
            MatchAssessment {
                score: 95,
                reasons: vec![SameDomain, SameCompanyName]
            }
        );

        let b = points("contoso trading", "", "wang.fang@contoso.cn", "", "");
        let m = assess_match(&a, &b);
        assert_eq!(m.reasons.len(), 2);
        assert_eq!(m.reasons[0], SameDomain);
        assert!(matches!(m.reasons[1], SimilarCompanyName { similarity } if similarity >= 0.5));
        assert!(m.score >= 70, "{m:?}");
        assert!(m.is_duplicate(DEFAULT_DUPLICATE_THRESHOLD));
    }

    #[test]
    fn names_alone_are_moderate() {
        let a = points("contoso trading", "li wei", "", "", "");
        let b = points("contoso tradings", "", "", "", "");
        let m = assess_match(&a, &b);
        assert!(matches!(m.reasons.as_slice(), [SimilarCompanyName { .. }]));
        assert!((25..50).contains(&m.score), "{m:?}");
        assert!(!m.is_duplicate(DEFAULT_DUPLICATE_THRESHOLD));

        let b = points("", "li wei", "", "", "");
        assert_eq!(
            assess_match(&a, &b),
            MatchAssessment {
                score: 20,
                reasons: vec![SamePersonName]
            }
        );

        let b = points("contoso trading", "li wei", "", "", "");
        assert_eq!(assess_match(&a, &b).score, 70);
    }

    /// The finding of issue #9: the same company written with its Chinese legal form scored 0
    /// against its English one, while an upper-case spelling without any form matched.
    #[test]
    fn the_same_company_in_chinese_and_english_is_the_same_company_name() {
        let company = |name: &str| ContactPoints {
            company_key: Some(crate::normalize_company_name(name)),
            ..Default::default()
        };
        let english = company("Contoso (China) Co., Ltd.");
        let same = MatchAssessment {
            score: 50,
            reasons: vec![SameCompanyName],
        };
        assert_eq!(
            assess_match(&company("Contoso（中国）有限公司"), &english),
            same
        );
        assert_eq!(assess_match(&company("CONTOSO CHINA"), &english), same);
        assert_eq!(
            assess_match(&company("ＣＯＮＴＯＳＯ（中國）股份有限公司"), &english),
            same
        );
    }

    #[test]
    fn dissimilar_companies_do_not_match() {
        let a = points("contoso", "", "", "", "");
        let b = points("fabrikam", "", "", "", "");
        assert_eq!(
            assess_match(&a, &b),
            MatchAssessment {
                score: 0,
                reasons: vec![]
            }
        );
    }

    #[test]
    fn free_mail_never_counts_as_same_domain() {
        let a = points("", "", "li.wei@qq.com", "", "qq.com");
        let b = points("", "", "wang.fang@qq.com", "", "");
        assert_eq!(assess_match(&a, &b).reasons, vec![]);
        let a = points("", "", "li.wei@gmail.com", "", "contoso.cn");
        let b = points("", "", "wang.fang@contoso.cn", "", "");
        assert_eq!(assess_match(&a, &b).reasons, vec![SameDomain]);
    }

    #[test]
    fn empty_values_are_absent() {
        let a = ContactPoints {
            email: Some(String::new()),
            company_key: Some(" ".into()),
            ..Default::default()
        };
        assert_eq!(assess_match(&a, &a.clone()).score, 0);
        assert_eq!(
            assess_match(&ContactPoints::default(), &ContactPoints::default()).score,
            0
        );
    }

    #[test]
    fn score_is_capped() {
        let a = points(
            "contoso",
            "li wei",
            "li.wei@contoso.cn",
            "+8613800138000",
            "contoso.cn",
        );
        let m = assess_match(&a, &a.clone());
        assert_eq!(m.score, 100);
        assert_eq!(
            m.reasons,
            vec![
                SameEmail,
                SamePhone,
                SameDomain,
                SameCompanyName,
                SamePersonName
            ]
        );
    }

    #[test]
    fn weights_and_display() {
        assert_eq!(SimilarCompanyName { similarity: 0.5 }.weight(), 25);
        assert_eq!(SimilarCompanyName { similarity: 0.99 }.weight(), 50);
        assert_eq!(
            SimilarCompanyName { similarity: 0.62 }.to_string(),
            "similar company name (62% similar)"
        );
        assert_eq!(SameEmail.to_string(), "same email address");
    }

    fn contact_points() -> impl Strategy<Value = ContactPoints> {
        let pick = |items: &'static [&'static str]| prop::option::of(prop::sample::select(items));
        (
            pick(&[
                "contoso",
                "contoso trading",
                "contosso",
                "fabrikam",
                "",
                "康托索",
            ]),
            pick(&["li wei", "wang fang", ""]),
            pick(&[
                "li.wei@contoso.cn",
                "wang.fang@contoso.cn",
                "li.wei@qq.com",
                "a@fabrikam.com",
            ]),
            pick(&["+8613800138000", "+442079460018"]),
            pick(&["contoso.cn", "fabrikam.com", "gmail.com", "www.contoso.cn"]),
        )
            .prop_map(|(c, p, e, ph, d)| ContactPoints {
                company_key: c.map(str::to_owned),
                person_key: p.map(str::to_owned),
                email: e.map(str::to_owned),
                phone: ph.map(str::to_owned),
                domain: d.map(str::to_owned),
            })
    }

    proptest! {
        #[test]
        fn assessment_is_symmetric(a in contact_points(), b in contact_points()) {
            let ab = assess_match(&a, &b);
            prop_assert_eq!(&ab, &assess_match(&b, &a));
            prop_assert!(ab.score <= 100);
        }

        #[test]
        fn assessment_is_symmetric_on_arbitrary_keys(
            a in ("\\PC{0,12}", "\\PC{0,12}"),
            b in ("\\PC{0,12}", "\\PC{0,12}"),
        ) {
            let to_points = |(c, d): (String, String)| ContactPoints { company_key: Some(c), domain: Some(d), ..Default::default() };
            let (a, b) = (to_points(a), to_points(b));
            prop_assert_eq!(assess_match(&a, &b), assess_match(&b, &a));
        }
    }
}
