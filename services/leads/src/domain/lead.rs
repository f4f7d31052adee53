//! The lead: a person who may buy, captured from a channel, waiting in a team's pool or owned
//! by a rep, scored, possibly a duplicate, eventually converted. Typed fields, the rules a
//! captured lead's fields obey, and the changes a lead goes through (patching, owning,
//! returning to the pool). No I/O: the store reads and writes it, the service orders the
//! changes.

use std::fmt;

use chrono::{DateTime, Utc};
use crm_platform::{
    auth::TeamPath,
    error::{FieldViolation, Violations},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use super::capture::{LeadChanges, LeadDraft, NewLead};
use super::{
    assignment::{CompanySizeBand, LeadProfile},
    dedupe::LeadFields,
    lifecycle::LeadStatus,
    scoring::{LeadScore, ScoreReason, ScoringInput},
};

/// Where a lead came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SourceChannel {
    Api,
    Import,
    WebForm,
    Campaign,
    Manual,
}

impl SourceChannel {
    /// The channel's name as policies and scoring use it ("import", "web_form").
    pub fn name(self) -> &'static str {
        match self {
            SourceChannel::Api => "api",
            SourceChannel::Import => "import",
            SourceChannel::WebForm => "web_form",
            SourceChannel::Campaign => "campaign",
            SourceChannel::Manual => "manual",
        }
    }
}

impl fmt::Display for SourceChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A lead's score as kept with it: the total and the reasons behind it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StoredScore {
    pub total: i32,
    pub fit: i32,
    pub engagement: i32,
    pub reasons: Vec<StoredReason>,
}

impl StoredScore {
    pub fn of(score: &LeadScore) -> Self {
        StoredScore {
            total: score.total,
            fit: score.fit,
            engagement: score.engagement,
            reasons: score
                .reasons
                .iter()
                .map(|reason| StoredReason::Coded(reason.clone()))
                .collect(),
        }
    }
}

/// One reason of a stored score. Scores stored before reasons had codes hold `[label, points]`
/// and read back with an empty code (the wire then says: no translation, show the label).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StoredReason {
    Coded(ScoreReason),
    Plain(String, i32),
}

impl StoredReason {
    pub fn reason(&self) -> ScoreReason {
        match self {
            StoredReason::Coded(reason) => reason.clone(),
            StoredReason::Plain(label, points) => ScoreReason {
                label: label.clone(),
                points: *points,
                code: String::new(),
                params: Default::default(),
            },
        }
    }
}

/// A lead. Texts the caller left out are empty; `owner_id` and `owner_team_path` are set
/// together (an owned lead) or not at all (a lead in `pool_team_path`'s pool).
#[derive(Clone, Debug, PartialEq)]
pub struct Lead {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: String,
    pub title: String,
    pub website: String,
    pub industry: String,
    pub territory: String,
    pub company_size: Option<CompanySizeBand>,
    pub product_interest: String,
    pub description: String,
    pub source_channel: SourceChannel,
    pub campaign_id: Option<Uuid>,
    pub status: LeadStatus,
    pub disqualify_reason: Option<String>,
    pub owner_id: Option<Uuid>,
    pub owner_team_path: Option<TeamPath>,
    /// Owned because its owner claimed it (counts towards their claim cap).
    pub held_by_claim: bool,
    pub pool_team_path: TeamPath,
    pub score: StoredScore,
    pub possible_duplicate_of: Option<Uuid>,
    pub duplicate_score: u8,
    pub merged_into_lead_id: Option<Uuid>,
    pub converted_account_id: Option<Uuid>,
    pub converted_contact_id: Option<Uuid>,
    pub converted_opportunity_id: Option<Uuid>,
    pub converted_at: Option<DateTime<Utc>>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub last_touched_at: Option<DateTime<Utc>>,
    pub recycle_warned_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Lead {
    /// A captured lead, scored, before dedupe: in `pool_team_path`'s pool, or `owner`'s (their
    /// id and the team it is filed under), assigned to them.
    pub fn capture(
        new: &NewLead,
        owner: Option<(Uuid, TeamPath)>,
        pool_team_path: TeamPath,
        score: &LeadScore,
        now: DateTime<Utc>,
    ) -> Lead {
        let fields = &new.fields;
        let mut lead = Lead {
            id: new.requested_id.unwrap_or_else(Uuid::now_v7),
            first_name: String::new(),
            last_name: String::new(),
            email: None,
            phone: None,
            company: String::new(),
            title: String::new(),
            website: String::new(),
            industry: String::new(),
            territory: String::new(),
            company_size: None,
            product_interest: String::new(),
            description: String::new(),
            source_channel: new.source_channel,
            campaign_id: new.campaign_id,
            status: LeadStatus::New,
            disqualify_reason: None,
            owner_id: None,
            owner_team_path: None,
            held_by_claim: false,
            pool_team_path,
            score: StoredScore::of(score),
            possible_duplicate_of: None,
            duplicate_score: 0,
            merged_into_lead_id: None,
            converted_account_id: None,
            converted_contact_id: None,
            converted_opportunity_id: None,
            converted_at: None,
            assigned_at: None,
            last_touched_at: Some(now),
            recycle_warned_at: None,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        lead.set_fields(fields);
        if let Some((owner_id, team_path)) = owner {
            lead.owner_id = Some(owner_id);
            lead.owner_team_path = Some(team_path);
            lead.status = LeadStatus::Assigned;
            lead.assigned_at = Some(now);
        }
        lead
    }

    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
            .trim()
            .to_owned()
    }

    /// Whether the lead waits in its pool (nobody owns it).
    #[cfg(test)]
    pub fn is_in_pool(&self) -> bool {
        self.owner_id.is_none()
    }

    /// The lead's fields as the domain's merge and match functions take them.
    pub fn fields(&self) -> LeadFields {
        let present = |value: &str| Some(value.to_owned()).filter(|v| !v.is_empty());
        LeadFields {
            first_name: present(&self.first_name),
            last_name: present(&self.last_name),
            email: self.email.clone(),
            phone: self.phone.clone(),
            company: present(&self.company),
            title: present(&self.title),
            website: present(&self.website),
            industry: present(&self.industry),
            territory: present(&self.territory),
            company_size: self.company_size,
            product_interest: present(&self.product_interest),
            description: present(&self.description),
        }
    }

    /// Writes (merged or validated) fields back onto the lead.
    pub fn set_fields(&mut self, fields: &LeadFields) {
        self.first_name = fields.first_name.clone().unwrap_or_default();
        self.last_name = fields.last_name.clone().unwrap_or_default();
        self.email = fields.email.clone();
        self.phone = fields.phone.clone();
        self.company = fields.company.clone().unwrap_or_default();
        self.title = fields.title.clone().unwrap_or_default();
        self.website = fields.website.clone().unwrap_or_default();
        self.industry = fields.industry.clone().unwrap_or_default();
        self.territory = fields.territory.clone().unwrap_or_default();
        self.company_size = fields.company_size;
        self.product_interest = fields.product_interest.clone().unwrap_or_default();
        self.description = fields.description.clone().unwrap_or_default();
    }

    /// Applies changes with capture's rules (the changed lead must still be a valid capture);
    /// returns the names of the fields that changed. Fields are named `<path>.<field>`.
    pub fn apply_changes(
        &mut self,
        changes: &LeadChanges,
        default_calling_code: Option<&str>,
        path: &str,
    ) -> Result<Vec<&'static str>, Vec<FieldViolation>> {
        let email = self.email.clone().unwrap_or_default();
        let phone = self.phone.clone().unwrap_or_default();
        fn pick<'a>(change: &'a Option<String>, current: &'a str) -> &'a str {
            change.as_deref().unwrap_or(current)
        }
        let draft = LeadDraft {
            first_name: pick(&changes.first_name, &self.first_name),
            last_name: pick(&changes.last_name, &self.last_name),
            email: pick(&changes.email, &email),
            phone: pick(&changes.phone, &phone),
            company: pick(&changes.company, &self.company),
            title: pick(&changes.title, &self.title),
            website: pick(&changes.website, &self.website),
            industry: pick(&changes.industry, &self.industry),
            territory: pick(&changes.territory, &self.territory),
            company_size: changes.company_size.unwrap_or(self.company_size),
            product_interest: pick(&changes.product_interest, &self.product_interest),
            description: pick(&changes.description, &self.description),
            source_channel: Some(self.source_channel),
            campaign_id: self.campaign_id,
        };
        let after = draft
            .validate(default_calling_code, path, Violations::new())?
            .fields;
        let before = self.fields();
        let mut changed = Vec::new();
        macro_rules! diff {
            ($($field:ident),*) => { $( if before.$field != after.$field { changed.push(stringify!($field)); } )* };
        }
        diff!(
            first_name,
            last_name,
            email,
            phone,
            company,
            title,
            website,
            industry,
            territory,
            company_size,
            product_interest,
            description
        );
        self.set_fields(&after);
        Ok(changed)
    }

    /// Gives the lead to `owner_id`, filed under `team_path`, with the status the transition
    /// allowed; not held by a claim (a claim sets that after).
    pub fn give_to(
        &mut self,
        owner_id: Uuid,
        team_path: TeamPath,
        status: LeadStatus,
        now: DateTime<Utc>,
    ) {
        self.owner_id = Some(owner_id);
        self.owner_team_path = Some(team_path);
        self.held_by_claim = false;
        self.status = status;
        self.assigned_at = Some(now);
        self.last_touched_at = Some(now);
        self.recycle_warned_at = None;
    }

    /// Back in its pool, with the status the transition allowed.
    pub fn return_to_pool(&mut self, status: LeadStatus) {
        self.owner_id = None;
        self.owner_team_path = None;
        self.held_by_claim = false;
        self.status = status;
        self.assigned_at = None;
        self.recycle_warned_at = None;
    }

    /// The facts assignment rules route on.
    pub fn profile(&self) -> LeadProfile {
        let present = |value: &str| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
        LeadProfile {
            territory: present(&self.territory),
            industry: present(&self.industry),
            company_size: self.company_size,
            product_interest: present(&self.product_interest),
        }
    }

    /// The facts the lead is scored on.
    pub fn scoring_input(&self) -> ScoringInput {
        scoring_input(&self.fields(), self.source_channel)
    }
}

/// The facts a lead with these fields from this channel is scored on.
pub fn scoring_input(fields: &LeadFields, channel: SourceChannel) -> ScoringInput {
    ScoringInput {
        industry: fields.industry.clone(),
        company_size: fields.company_size,
        territory: fields.territory.clone(),
        title: fields.title.clone(),
        source_channel: Some(channel.name().to_owned()),
        phone: fields.phone.clone(),
        email: fields.email.clone(),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

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

    fn no_score() -> LeadScore {
        LeadScore {
            total: 0,
            fit: 0,
            engagement: 0,
            reasons: Vec::new(),
        }
    }

    fn lead() -> Lead {
        let new = draft()
            .validate(Some("86"), "lead", Violations::new())
            .unwrap();
        let team = TeamPath::parse("/northwind/").unwrap();
        Lead::capture(
            &new,
            None,
            team,
            &no_score(),
            "2026-11-23T10:00:00Z".parse().unwrap(),
        )
    }

    #[test]
    fn a_captured_lead_waits_in_its_pool_unless_owned() {
        let pooled = lead();
        assert!(pooled.is_in_pool());
        assert_eq!(pooled.status, LeadStatus::New);
        let new = draft().validate(None, "lead", Violations::new()).unwrap();
        let team = TeamPath::parse("/northwind/east/").unwrap();
        let owned = Lead::capture(
            &new,
            Some((Uuid::now_v7(), team.clone())),
            team,
            &no_score(),
            Utc::now(),
        );
        assert_eq!(owned.status, LeadStatus::Assigned);
        assert!(owned.assigned_at.is_some() && !owned.is_in_pool());
    }

    #[test]
    fn changes_name_the_fields_they_changed_and_keep_capture_rules() {
        let mut lead = lead();
        let changed = lead
            .apply_changes(
                &LeadChanges {
                    title: Some("CTO".into()),
                    company: Some("Contoso".into()),
                    company_size: Some(Some(CompanySizeBand::Large)),
                    ..LeadChanges::default()
                },
                None,
                "patch",
            )
            .unwrap();
        assert_eq!(changed, ["title", "company_size"]);
        assert_eq!(lead.title, "CTO");
        let refused = lead.apply_changes(
            &LeadChanges {
                email: Some(String::new()),
                last_name: Some(String::new()),
                company: Some(String::new()),
                ..LeadChanges::default()
            },
            None,
            "patch",
        );
        assert_eq!(refused.unwrap_err()[0].field, "patch");
        assert_eq!(lead.company, "Contoso", "a refused change changes nothing");
    }

    #[test]
    fn giving_and_returning_keep_owner_and_team_together() {
        let mut lead = lead();
        let team = TeamPath::parse("/northwind/east/").unwrap();
        lead.give_to(Uuid::now_v7(), team, LeadStatus::Assigned, Utc::now());
        assert!(lead.owner_id.is_some() && lead.owner_team_path.is_some());
        lead.held_by_claim = true;
        lead.return_to_pool(LeadStatus::New);
        assert!(lead.owner_id.is_none() && lead.owner_team_path.is_none());
        assert!(!lead.held_by_claim && lead.assigned_at.is_none());
    }

    #[test]
    fn a_score_stored_before_reasons_had_codes_reads_back_with_an_empty_code() {
        let stored: StoredScore = serde_json::from_str(
            r#"{"total": 25, "fit": 20, "engagement": 5, "reasons": [["industry fit: Steel", 20],
                {"label": "1 call today", "points": 5, "code": "leads.score.activity_today",
                 "params": {"kind": "call"}}]}"#,
        )
        .unwrap();

        let reasons: Vec<ScoreReason> = stored.reasons.iter().map(StoredReason::reason).collect();

        assert_eq!(
            (reasons[0].label.as_str(), reasons[0].code.as_str()),
            ("industry fit: Steel", "")
        );
        assert_eq!(reasons[1].code, "leads.score.activity_today");
        assert_eq!(reasons[1].params["kind"], "call");
        let again = serde_json::to_string(&stored).unwrap();
        assert_eq!(serde_json::from_str::<StoredScore>(&again).unwrap(), stored);
    }

    proptest! {
        /// Fields survive the round trip through a lead, so merges and patches lose nothing.
        #[test]
        fn fields_round_trip_through_a_lead(
            first in "[a-z]{0,8}", company in "[a-z]{0,8}", email in proptest::option::of("[a-z]{1,6}@x\\.cn"),
            size in proptest::option::of(0usize..4),
        ) {
            let present = |s: String| Some(s).filter(|s| !s.is_empty());
            let fields = LeadFields {
                first_name: present(first),
                company: present(company),
                email,
                company_size: size.map(|i| CompanySizeBand::ALL[i]),
                ..LeadFields::default()
            };
            let mut lead = lead();
            lead.set_fields(&fields);
            prop_assert_eq!(lead.fields(), fields);
        }
    }
}
