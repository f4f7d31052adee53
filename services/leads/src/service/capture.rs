//! Capture (L1) with dedupe on the way in (L2): one lead, a streamed import, a web form.

use chrono::{DateTime, Utc};
use crm_contact_data::ContactPoints;
use crm_platform::auth::{Caller, Role, TeamPath};
use crm_proto::crm::leads::v1 as pb;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{History, Leads, Policies, Result, load_policies, merge::record_merge, pool::rules_of};
use crate::{
    domain::{
        dedupe::{self, DedupeAction, DuplicatePolicy, LeadContactPoints, LeadFields},
        lead::{Lead, NewLead, scoring_input},
        scoring::{self, LeadScore},
    },
    error::LeadsError,
    store,
};

/// What capture did with a lead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CaptureOutcome {
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
pub(crate) struct RowError {
    pub line: u64,
    pub field: String,
    pub message: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ImportSummary {
    pub rows_received: u64,
    pub created: u64,
    pub flagged: u64,
    pub merged: u64,
    pub rejected: u64,
    pub errors: Vec<RowError>,
}

impl Leads {
    pub async fn create_lead(
        &self,
        caller: &Caller,
        capture: NewLead,
    ) -> Result<(Lead, CaptureOutcome)> {
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
                &team_path,
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
        pool_team_path: &TeamPath,
        capture: NewLead,
        policies: &Policies,
    ) -> Result<(Lead, CaptureOutcome)> {
        let now = crm_platform::time::now();
        let fields = &capture.fields;
        let channel = capture.source_channel;
        let (mut lead, score) = build_lead(&capture, owner, pool_team_path, policies, now);

        let action = self
            .dedupe_action(connection, &lead, fields, policies)
            .await?;
        if let Some((survivor_id, DedupeAction::Merge { score })) = action {
            // Kept as its own record, merged: the merge shows in history and can be undone.
            lead.merged_into_lead_id = Some(survivor_id);
            lead.duplicate_score = score;
            store::leads::insert_lead(connection, &lead, actor).await?;
            History::by(
                "captured",
                actor,
                format!(
                    "captured from {} and merged into lead {survivor_id}",
                    channel
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
            lead.duplicate_score = score;
            outcome = CaptureOutcome::Flagged { of, score };
        }
        if !store::leads::insert_lead(connection, &lead, actor).await? {
            return Err(LeadsError::IdTaken { id: lead.id });
        }
        let summary = match outcome {
            CaptureOutcome::Flagged { of, score } => {
                format!(
                    "captured from {}; possible duplicate of lead {of} (score {score})",
                    channel
                )
            }
            _ => format!("captured from {}", channel),
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
        lead: &Lead,
        fields: &LeadFields,
        policies: &Policies,
    ) -> Result<Option<(Uuid, DedupeAction)>> {
        // Validated fields: the phone is E.164 already, no default code is needed to read it.
        let probe = LeadContactPoints::from_fields(fields, None);
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
                    LeadContactPoints::from_fields(&candidate.fields(), None),
                )
            })
            .collect();
        let policy = policies.duplicate_policy(lead.source_channel.name());
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
    pub(super) fn of(lead: &Lead, probe: &ContactPoints, fields: &LeadFields) -> Self {
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

/// The lead a capture stores, scored, before dedupe: in `pool_team_path`'s pool, or `owner`'s
/// (filed under the team of their [`Caller`]).
pub(crate) fn build_lead(
    new: &NewLead,
    owner: Option<&Caller>,
    pool_team_path: &TeamPath,
    policies: &Policies,
    now: DateTime<Utc>,
) -> (Lead, LeadScore) {
    let input = scoring_input(&new.fields, new.source_channel);
    let score = scoring::score(&input, &[], &policies.scoring, now);
    let owner = owner.map(|owner| (owner.user_id, owner.team_path.clone()));
    let lead = Lead::capture(new, owner, pool_team_path.clone(), &score, now);
    (lead, score)
}

async fn check_campaign(
    connection: &mut PgConnection,
    campaign_id: Option<Uuid>,
    field: &str,
) -> Result<()> {
    if let Some(id) = campaign_id
        && store::campaigns::get_campaign(connection, id)
            .await?
            .is_none()
    {
        return Err(LeadsError::unusable_reference(field, UNKNOWN_CAMPAIGN));
    }
    Ok(())
}
