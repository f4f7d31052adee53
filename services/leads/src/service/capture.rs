//! Capture (L1) with dedupe on the way in (L2): one lead, a streamed import, a web form.

use chrono::{DateTime, Utc};
use crm_contact_data::ContactPoints;
use crm_platform::{
    auth::{Caller, Role},
    error::{FieldViolation, Violations},
};
use crm_proto::crm::{common::v1::CompanySize, leads::v1 as pb};
use serde_json::json;
use sqlx::{PgConnection, types::Json};
use uuid::Uuid;

use super::{History, Leads, Policies, Result, load_policies, merge::record_merge, pool::rules_of};
use crate::{
    convert,
    domain::{
        dedupe::{self, DedupeAction, DuplicatePolicy, LeadContactPoints, LeadFields},
        lifecycle::LeadStatus,
        scoring::{self, LeadScore, ScoringInput},
    },
    error::LeadsError,
    store::{
        self, LeadRecord,
        leads::{StoredReason, StoredScore},
    },
};

/// A validated lead on its way in.
#[derive(Clone, Debug)]
pub struct Capture {
    pub fields: LeadFields,
    pub source_channel: pb::SourceChannel,
    pub campaign_id: Option<Uuid>,
    pub requested_id: Option<Uuid>,
}

/// What capture did with a lead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureOutcome {
    Unique,
    Flagged {
        of: Uuid,
        score: u8,
    },
    /// Merged into an existing lead, which is returned.
    Merged {
        into: Uuid,
        score: u8,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub field: String,
    pub message: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub rows_received: u64,
    pub created: u64,
    pub flagged: u64,
    pub merged: u64,
    pub rejected: u64,
    pub errors: Vec<RowError>,
}

/// Checks a lead's fields and normalises them; every problem is reported at once.
pub fn validate_lead_input(
    input: &pb::LeadInput,
    default_calling_code: Option<&str>,
    path: &str,
) -> std::result::Result<Capture, Vec<FieldViolation>> {
    let mut violations = Violations::new();
    let field = |name: &str| format!("{path}.{name}");
    let text =
        |violations: &mut Violations, name: &str, value: &str, max: usize| -> Option<String> {
            let value = value.trim();
            if value.chars().count() > max {
                violations.add(field(name), format!("must be at most {max} characters"));
            }
            Some(value.to_owned()).filter(|v| !v.is_empty())
        };
    let email = match input.email.trim() {
        "" => None,
        raw => violations.check(&field("email"), crm_contact_data::normalize_email(raw)),
    };
    let phone = match input.phone.trim() {
        "" => None,
        raw => violations.check(
            &field("phone"),
            crm_contact_data::normalize_phone(raw, default_calling_code),
        ),
    };
    let website = text(&mut violations, "website", &input.website, 2048);
    if let Some(site) = &website
        && crm_contact_data::normalize_domain(site).is_none()
    {
        violations.add(field("website"), "is not a web address or domain");
    }
    let company_size = match CompanySize::try_from(input.company_size) {
        Ok(CompanySize::Unspecified) => None,
        Ok(_) => convert::size_band(input.company_size as i16),
        Err(_) => {
            violations.add(
                field("company_size"),
                format!("{} is not a company size", input.company_size),
            );
            None
        }
    };
    let source_channel = match pb::SourceChannel::try_from(input.source_channel) {
        Ok(pb::SourceChannel::Unspecified) => pb::SourceChannel::Api,
        Ok(channel) => channel,
        Err(_) => {
            violations.add(
                field("source_channel"),
                format!("{} is not a source channel", input.source_channel),
            );
            pb::SourceChannel::Api
        }
    };
    let campaign_id = match input.campaign_id.trim() {
        "" => None,
        raw => violations.check(
            &field("campaign_id"),
            Uuid::parse_str(raw).map_err(|_| "is not a valid id (UUID)"),
        ),
    };
    let fields = LeadFields {
        first_name: text(&mut violations, "first_name", &input.first_name, 100),
        last_name: text(&mut violations, "last_name", &input.last_name, 100),
        email,
        phone,
        company: text(&mut violations, "company", &input.company, 200),
        title: text(&mut violations, "title", &input.title, 200),
        website,
        industry: text(&mut violations, "industry", &input.industry, 100),
        territory: text(&mut violations, "territory", &input.territory, 100)
            .map(|t| t.to_lowercase()),
        company_size,
        product_interest: text(
            &mut violations,
            "product_interest",
            &input.product_interest,
            200,
        ),
        description: text(&mut violations, "description", &input.description, 5000),
    };
    if fields.email.is_none()
        && fields.phone.is_none()
        && fields.company.is_none()
        && fields.last_name.is_none()
    {
        violations.add(
            path.to_owned(),
            "needs at least an email, a phone, a company or a last name",
        );
    }
    violations.into_result().map(|()| Capture {
        fields,
        source_channel,
        campaign_id,
        requested_id: None,
    })
}

impl Leads {
    pub async fn create_lead(
        &self,
        caller: &Caller,
        capture: Capture,
    ) -> Result<(LeadRecord, CaptureOutcome)> {
        let mut transaction = self.pool.begin().await?;
        let policies = load_policies(&mut transaction).await?;
        check_campaign(&mut transaction, capture.campaign_id, "lead.campaign_id").await?;
        if let Some(id) = capture.requested_id
            && let Some(existing) = store::leads::get_lead(&mut transaction, id).await?
        {
            // A retried create returns the first result; anyone else's id is a conflict.
            return match store::leads::created_by(&mut transaction, id).await? {
                Some(creator) if creator == caller.user_id => {
                    Ok((existing, CaptureOutcome::Unique))
                }
                _ => Err(LeadsError::IdTaken { id }),
            };
        }
        // Filed under the directory's team for the caller (their token's when it has not
        // heard of them): a rep's own lead is theirs, managers' and admins' leads go to their
        // team's pool.
        let team_path = self.directory.filing_team(&mut transaction, caller).await?;
        let owner = match caller.role {
            Role::Rep => Some(Caller {
                team_path: team_path.clone(),
                ..caller.clone()
            }),
            _ => None,
        };
        let outcome = self
            .capture_one(
                &mut transaction,
                Some(caller.user_id),
                owner.as_ref(),
                team_path.as_str(),
                capture,
                &policies,
            )
            .await?;
        self.outbox.commit(transaction).await?;
        Ok(outcome)
    }

    /// Writes one captured lead: scored, checked for duplicates, then flagged, merged or kept,
    /// and (when not owned and the pool has rules) assigned.
    pub(crate) async fn capture_one(
        &self,
        connection: &mut PgConnection,
        actor: Option<Uuid>,
        owner: Option<&Caller>,
        pool_team_path: &str,
        capture: Capture,
        policies: &Policies,
    ) -> Result<(LeadRecord, CaptureOutcome)> {
        let now = crm_platform::time::now();
        let fields = &capture.fields;
        let channel = capture.source_channel as i16;
        let (mut lead, score) = new_lead(&capture, owner, pool_team_path, policies, now);

        let action = self
            .dedupe_action(connection, &lead, fields, policies)
            .await?;
        if let Some((survivor_id, DedupeAction::Merge { score })) = action {
            // Kept as its own record, merged: the merge shows in history and can be undone.
            lead.merged_into_lead_id = Some(survivor_id);
            lead.duplicate_score = i16::from(score);
            store::leads::insert_lead(connection, &lead, actor).await?;
            History::by(
                "captured",
                actor,
                format!(
                    "captured from {} and merged into lead {survivor_id}",
                    convert::channel_name(channel)
                ),
            )
            .record(connection, &lead)
            .await?;
            let survivor = record_merge(
                self,
                connection,
                actor,
                survivor_id,
                &lead,
                "automatic merge on capture",
            )
            .await?;
            return Ok((
                survivor,
                CaptureOutcome::Merged {
                    into: survivor_id,
                    score,
                },
            ));
        }
        let mut outcome = CaptureOutcome::Unique;
        if let Some((of, DedupeAction::Flag { score })) = action {
            lead.possible_duplicate_of = Some(of);
            lead.duplicate_score = i16::from(score);
            outcome = CaptureOutcome::Flagged { of, score };
        }
        if !store::leads::insert_lead(connection, &lead, actor).await? {
            return Err(LeadsError::IdTaken { id: lead.id });
        }
        let summary = match outcome {
            CaptureOutcome::Flagged { of, score } => {
                format!(
                    "captured from {}; possible duplicate of lead {of} (score {score})",
                    convert::channel_name(channel)
                )
            }
            _ => format!("captured from {}", convert::channel_name(channel)),
        };
        History {
            to_owner: lead.owner_id,
            details: json!({ "score": score.reasons }),
            ..History::by("captured", actor, summary)
        }
        .record(connection, &lead)
        .await?;
        self.publish(connection, &lead, |lead| pb::LeadCaptured {
            lead: Some(lead),
        })
        .await?;
        if lead.owner_id.is_none() && !rules_of(connection, &lead.pool_team_path).await?.is_empty()
        {
            self.assign_by_rules(connection, None, &mut lead).await?;
        }
        Ok((lead, outcome))
    }

    /// The strongest existing match and what the source's policy does with it.
    async fn dedupe_action(
        &self,
        connection: &mut PgConnection,
        lead: &LeadRecord,
        fields: &LeadFields,
        policies: &Policies,
    ) -> Result<Option<(Uuid, DedupeAction)>> {
        let probe = LeadContactPoints::from_fields(fields, self.default_calling_code());
        let keys = ProbeKeys::of(lead, &probe, fields);
        let candidates = store::leads::duplicate_candidates(
            connection,
            keys.email.as_deref(),
            keys.phone.as_deref(),
            keys.domain.as_deref(),
            &keys.company_key,
        )
        .await?;
        let points: Vec<(Uuid, ContactPoints)> = candidates
            .iter()
            .map(|candidate| {
                (
                    candidate.id,
                    LeadContactPoints::from_fields(
                        &fields_of(candidate),
                        self.default_calling_code(),
                    ),
                )
            })
            .collect();
        let policy = policies.duplicate_policy(convert::channel_name(lead.source_channel));
        Ok(decide_among(
            &probe,
            points.iter().map(|(id, points)| (*id, points)),
            policy,
        ))
    }
}

/// The strongest match among `candidates` and what `policy` does with it; `None` when unique.
pub(super) fn decide_among<'a>(
    probe: &ContactPoints,
    candidates: impl IntoIterator<Item = (Uuid, &'a ContactPoints)>,
    policy: DuplicatePolicy,
) -> Option<(Uuid, DedupeAction)> {
    let (id, assessment) = dedupe::strongest_match(probe, candidates)?;
    match dedupe::decide(&assessment, policy) {
        DedupeAction::Unique => None,
        action => Some((id, action)),
    }
}

/// How many candidates a new lead is matched against: the oldest ones.
pub(super) const MAX_CANDIDATES: usize = 20;

pub(super) const UNKNOWN_CAMPAIGN: &str = "is not a known campaign";

/// What a new lead is looked up by as a possible duplicate: the candidate query's parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct ProbeKeys {
    pub(super) email: Option<String>,
    pub(super) phone: Option<String>,
    /// The website's domain, else the email's; never a free mail domain.
    pub(super) domain: Option<String>,
    pub(super) company_key: String,
}

impl ProbeKeys {
    pub(super) fn of(lead: &LeadRecord, probe: &ContactPoints, fields: &LeadFields) -> Self {
        let domain = probe
            .domain
            .clone()
            .or_else(|| {
                fields
                    .email
                    .as_deref()
                    .and_then(crm_contact_data::normalize_domain)
            })
            .filter(|domain| !crm_contact_data::is_free_mail_domain(domain));
        ProbeKeys {
            email: lead.email.clone(),
            phone: lead.phone.clone(),
            domain,
            company_key: probe.company_key.clone().unwrap_or_default(),
        }
    }
}

/// The lead a capture stores, scored, before dedupe: in `pool_team_path`'s pool, or `owner`'s.
pub fn new_lead(
    capture: &Capture,
    owner: Option<&Caller>,
    pool_team_path: &str,
    policies: &Policies,
    now: DateTime<Utc>,
) -> (LeadRecord, LeadScore) {
    let fields = &capture.fields;
    let channel = capture.source_channel as i16;
    let score = scoring::score(&scoring_input(fields, channel), &[], &policies.scoring, now);
    let mut lead = LeadRecord {
        id: capture.requested_id.unwrap_or_else(Uuid::now_v7),
        first_name: fields.first_name.clone().unwrap_or_default(),
        last_name: fields.last_name.clone().unwrap_or_default(),
        email: fields.email.clone(),
        phone: fields.phone.clone(),
        company: fields.company.clone().unwrap_or_default(),
        title: fields.title.clone().unwrap_or_default(),
        website: fields.website.clone().unwrap_or_default(),
        industry: fields.industry.clone().unwrap_or_default(),
        territory: fields.territory.clone().unwrap_or_default(),
        company_size: fields
            .company_size
            .map_or(0, |band| convert::size_band_to_wire(band) as i16),
        product_interest: fields.product_interest.clone().unwrap_or_default(),
        description: fields.description.clone().unwrap_or_default(),
        source_channel: channel,
        campaign_id: capture.campaign_id,
        status: LeadStatus::New.as_str().to_owned(),
        disqualify_reason: None,
        owner_id: None,
        owner_team_path: None,
        held_by_claim: false,
        pool_team_path: pool_team_path.to_owned(),
        score_total: score.total,
        score: Json(StoredScore {
            total: score.total,
            fit: score.fit,
            engagement: score.engagement,
            reasons: score
                .reasons
                .iter()
                .map(|r| StoredReason::Coded(r.clone()))
                .collect(),
        }),
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
    if let Some(owner) = owner {
        lead.owner_id = Some(owner.user_id);
        lead.owner_team_path = Some(owner.team_path.to_string());
        lead.status = LeadStatus::Assigned.as_str().to_owned();
        lead.assigned_at = Some(now);
    }
    (lead, score)
}

async fn check_campaign(
    connection: &mut PgConnection,
    campaign_id: Option<Uuid>,
    field: &str,
) -> Result<()> {
    if let Some(id) = campaign_id
        && store::admin::get_campaign(connection, id).await?.is_none()
    {
        return Err(LeadsError::invalid(field, UNKNOWN_CAMPAIGN));
    }
    Ok(())
}

/// The lead's fields as the domain's merge and match functions take them.
pub(crate) fn fields_of(lead: &LeadRecord) -> LeadFields {
    let present = |value: &str| Some(value.to_owned()).filter(|v| !v.is_empty());
    LeadFields {
        first_name: present(&lead.first_name),
        last_name: present(&lead.last_name),
        email: lead.email.clone(),
        phone: lead.phone.clone(),
        company: present(&lead.company),
        title: present(&lead.title),
        website: present(&lead.website),
        industry: present(&lead.industry),
        territory: present(&lead.territory),
        company_size: convert::size_band(lead.company_size),
        product_interest: present(&lead.product_interest),
        description: present(&lead.description),
    }
}

/// Writes merged fields back onto a lead record.
pub(crate) fn apply_fields(lead: &mut LeadRecord, fields: &LeadFields) {
    lead.first_name = fields.first_name.clone().unwrap_or_default();
    lead.last_name = fields.last_name.clone().unwrap_or_default();
    lead.email = fields.email.clone();
    lead.phone = fields.phone.clone();
    lead.company = fields.company.clone().unwrap_or_default();
    lead.title = fields.title.clone().unwrap_or_default();
    lead.website = fields.website.clone().unwrap_or_default();
    lead.industry = fields.industry.clone().unwrap_or_default();
    lead.territory = fields.territory.clone().unwrap_or_default();
    lead.company_size = fields
        .company_size
        .map_or(0, |band| convert::size_band_to_wire(band) as i16);
    lead.product_interest = fields.product_interest.clone().unwrap_or_default();
    lead.description = fields.description.clone().unwrap_or_default();
}

pub(crate) fn scoring_input(fields: &LeadFields, channel: i16) -> ScoringInput {
    ScoringInput {
        industry: fields.industry.clone(),
        company_size: fields.company_size,
        territory: fields.territory.clone(),
        title: fields.title.clone(),
        source_channel: Some(convert::channel_name(channel).to_owned()),
        phone: fields.phone.clone(),
        email: fields.email.clone(),
    }
}
