//! A lead on its way in: what a caller sent (a draft), the rules its fields obey, and the
//! validated new lead; and changes to a lead's fields, which obey the same rules.

use crm_platform::error::{FieldViolation, Violations, reasons};
use uuid::Uuid;

use super::{assignment::CompanySizeBand, dedupe::LeadFields, lead::SourceChannel};

/// A captured lead's fields, validated and normalised, on its way in.
#[derive(Clone, Debug)]
pub struct NewLead {
    pub fields: LeadFields,
    pub source_channel: SourceChannel,
    pub campaign_id: Option<Uuid>,
    /// The id a caller chose, so a retried create is recognised.
    pub requested_id: Option<Uuid>,
}

/// A lead as a caller sent it: texts as typed, enums and ids already read from the wire.
#[derive(Clone, Debug, Default)]
pub struct LeadDraft<'a> {
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub email: &'a str,
    pub phone: &'a str,
    pub company: &'a str,
    pub title: &'a str,
    pub website: &'a str,
    pub industry: &'a str,
    pub territory: &'a str,
    pub company_size: Option<CompanySizeBand>,
    pub product_interest: &'a str,
    pub description: &'a str,
    /// `None`: sent through the API.
    pub source_channel: Option<SourceChannel>,
    pub campaign_id: Option<Uuid>,
}

impl LeadDraft<'_> {
    /// Checks the fields and normalises them; every problem is reported at once, after those
    /// already found reading the wire (`violations`). Fields are named `<path>.<field>`.
    pub fn validate(
        &self,
        default_calling_code: Option<&str>,
        path: &str,
        mut violations: Violations,
    ) -> Result<NewLead, Vec<FieldViolation>> {
        let field = |name: &str| format!("{path}.{name}");
        let text =
            |violations: &mut Violations, name: &str, value: &str, max: usize| -> Option<String> {
                let value = value.trim();
                if value.chars().count() > max {
                    violations.add(field(name), format!("must be at most {max} characters"));
                }
                Some(value.to_owned()).filter(|v| !v.is_empty())
            };
        let email = match self.email.trim() {
            "" => None,
            raw => violations.check(&field("email"), crm_contact_data::normalize_email(raw)),
        };
        let phone = match self.phone.trim() {
            "" => None,
            raw => match crm_contact_data::normalize_phone(raw, default_calling_code) {
                // Valid in form: the organisation's setting is what is missing.
                Err(error @ crm_contact_data::ContactDataError::PhoneMissingCallingCode) => {
                    violations.push(FieldViolation::refusal(
                        reasons::NO_DEFAULT_CALLING_CODE,
                        field("phone"),
                        error.to_string(),
                    ));
                    None
                }
                result => violations.check(&field("phone"), result),
            },
        };
        let website = text(&mut violations, "website", self.website, 2048);
        if let Some(site) = &website
            && crm_contact_data::normalize_domain(site).is_none()
        {
            violations.add(field("website"), "is not a web address or domain");
        }
        let fields = LeadFields {
            first_name: text(&mut violations, "first_name", self.first_name, 100),
            last_name: text(&mut violations, "last_name", self.last_name, 100),
            email,
            phone,
            company: text(&mut violations, "company", self.company, 200),
            title: text(&mut violations, "title", self.title, 200),
            website,
            industry: text(&mut violations, "industry", self.industry, 100),
            territory: text(&mut violations, "territory", self.territory, 100)
                .map(|t| t.to_lowercase()),
            company_size: self.company_size,
            product_interest: text(
                &mut violations,
                "product_interest",
                self.product_interest,
                200,
            ),
            description: text(&mut violations, "description", self.description, 5000),
        };
        // Given, whatever else is wrong with it (a refused email or phone has its own
        // violation): the rule is about having a way to reach or find the lead.
        let given = |value: &str| !value.trim().is_empty();
        if !(given(self.email) || given(self.phone) || given(self.company) || given(self.last_name))
        {
            violations.add(
                path.to_owned(),
                "needs at least an email, a phone, a company or a last name",
            );
        }
        violations.into_result().map(|()| NewLead {
            fields,
            source_channel: self.source_channel.unwrap_or(SourceChannel::Api),
            campaign_id: self.campaign_id,
            requested_id: None,
        })
    }
}

/// Changes to a lead's fields: `None` leaves a field as it is; an empty text clears it.
#[derive(Clone, Debug, Default)]
pub struct LeadChanges {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub website: Option<String>,
    pub industry: Option<String>,
    pub territory: Option<String>,
    /// `Some(None)` clears the size.
    pub company_size: Option<Option<CompanySizeBand>>,
    pub product_interest: Option<String>,
    pub description: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> LeadDraft<'static> {
        LeadDraft {
            first_name: " Li ",
            last_name: "Wei",
            email: "Li.Wei@Contoso.cn",
            company: "Contoso",
            territory: "East",
            ..LeadDraft::default()
        }
    }

    #[test]
    fn a_draft_is_trimmed_and_normalised() {
        let new = draft()
            .validate(Some("86"), "lead", Violations::new())
            .unwrap();
        assert_eq!(new.fields.first_name.as_deref(), Some("Li"));
        assert_eq!(new.fields.email.as_deref(), Some("li.wei@contoso.cn"));
        assert_eq!(new.fields.territory.as_deref(), Some("east"));
        assert_eq!(new.source_channel, SourceChannel::Api);
    }

    #[test]
    fn every_problem_is_reported_at_once_with_those_of_the_wire() {
        let mut wire = Violations::new();
        wire.add("row.company_size", "9 is not a company size");
        let errors = LeadDraft {
            email: "li.wei@",
            website: "not a site",
            ..LeadDraft::default()
        }
        .validate(None, "row", wire)
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|v| v.field.as_str()).collect();
        // The email is given, if wrong: it is named, not the whole row.
        assert_eq!(fields, ["row.company_size", "row.email", "row.website"]);
        let nothing = LeadDraft {
            first_name: "Li",
            company: "  ",
            ..LeadDraft::default()
        }
        .validate(None, "row", Violations::new())
        .unwrap_err();
        assert_eq!(nothing[0].field, "row");
    }

    /// A national number with no default calling code is refused for what the organisation
    /// holds, and alone: the lead has a phone, so the "needs at least" rule holds (the front
    /// door's check and the document's `anyOf` count given text the same way).
    #[test]
    fn a_national_number_without_a_calling_code_is_the_only_refusal() {
        let refused = LeadDraft {
            phone: "138 0013 8000",
            ..LeadDraft::default()
        }
        .validate(None, "lead", Violations::new())
        .unwrap_err();
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert_eq!(refused[0].field, "lead.phone");
        assert_eq!(refused[0].reason, Some(reasons::NO_DEFAULT_CALLING_CODE));
    }
}
