//! An import's rows in memory: the lead each valid row becomes, the new leads rendered for
//! their bulk statements, and the candidate index each row is matched against.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use crm_contact_data::ContactPoints;
use crm_proto::crm::leads::v1 as pb;
use serde_json::json;
use uuid::Uuid;

use super::super::{
    Policies,
    capture::{CaptureOutcome, ImportSummary, MAX_CANDIDATES, ProbeKeys, decide_among},
};
use crate::{
    convert,
    domain::{
        dedupe::{DedupeAction, DuplicatePolicy},
        lead::{Lead, NewLead as Capture},
        scoring::ScoreReason,
    },
    store::{self, history::NewEntry, leads::DerivedKeys},
};

/// A valid import row, built into the lead it becomes.
#[derive(Clone)]
pub(super) struct Incoming {
    pub(super) capture: Capture,
    pub(super) lead: Lead,
    pub(super) reasons: Vec<ScoreReason>,
    pub(super) probe: ContactPoints,
    pub(super) keys: ProbeKeys,
    pub(super) stored: DerivedKeys,
}

/// A lead an import creates (not merged), flagged `(of, score)` or not.
pub(super) struct NewLead {
    pub(super) lead: Lead,
    pub(super) reasons: Vec<ScoreReason>,
    pub(super) probe: ContactPoints,
    pub(super) stored: DerivedKeys,
    pub(super) flagged: Option<(Uuid, u8)>,
}

/// New leads rendered for their bulk statements as they are decided, so that writing them
/// is little more than sending.
pub(super) struct NewLeads {
    /// Who imports them.
    pub(super) actor: Option<Uuid>,
    pub(super) copy_text: Vec<u8>,
    pub(super) history: Vec<NewEntry>,
    pub(super) events: Vec<(String, i64, pb::LeadCaptured)>,
    /// For assignment by rules.
    pub(super) leads: Vec<Lead>,
}

impl NewLeads {
    pub(super) fn with_capacity(rows: usize, actor: Option<Uuid>) -> Self {
        NewLeads {
            actor,
            copy_text: Vec::with_capacity(rows * 640),
            history: Vec::with_capacity(rows),
            events: Vec::with_capacity(rows),
            leads: Vec::with_capacity(rows),
        }
    }

    pub(super) fn push(&mut self, new: NewLead) {
        let NewLead {
            lead,
            reasons,
            stored,
            flagged,
            ..
        } = new;
        store::leads::push_copy_row(&mut self.copy_text, &lead, &stored, self.actor);
        let channel = lead.source_channel;
        let summary = match flagged {
            Some((of, score)) => {
                format!("captured from {channel}; possible duplicate of lead {of} (score {score})")
            }
            None => format!("captured from {channel}"),
        };
        self.history.push(NewEntry {
            lead_id: lead.id,
            at: lead.updated_at,
            kind: "captured".to_owned(),
            actor_id: self.actor,
            from_owner_id: None,
            to_owner_id: lead.owner_id,
            summary,
            details: json!({ "score": reasons }).to_string(),
        });
        self.events.push((
            lead.id.to_string(),
            lead.version,
            pb::LeadCaptured {
                lead: Some(convert::lead(&lead)),
            },
        ));
        self.leads.push(lead);
    }
}

/// A new lead of the chunk being written, as a candidate of the next chunk's rows.
pub(super) struct InFlight {
    pub(super) known: Known,
    pub(super) email: Option<String>,
    pub(super) phone: Option<String>,
    pub(super) domain: Option<String>,
}

impl InFlight {
    pub(super) fn of(new: &NewLead) -> Self {
        InFlight {
            known: Known {
                id: new.lead.id,
                created_at: new.lead.created_at,
                points: new.probe.clone(),
            },
            email: new.lead.email.clone(),
            phone: new.lead.phone.clone(),
            domain: new.stored.domain.clone(),
        }
    }
}

// Both variants are big, and each decision is moved once.
#[allow(clippy::large_enum_variant)]
pub(super) enum Decision {
    New(NewLead),
    /// Merged by its policy: it takes the single-row path.
    Merge(Incoming),
}

/// What writing a chunk added to the summary.
#[derive(Default)]
pub(super) struct Counts {
    pub(super) created: u64,
    pub(super) flagged: u64,
    pub(super) merged: u64,
}

impl Counts {
    pub(super) fn count(&mut self, outcome: CaptureOutcome) {
        match outcome {
            CaptureOutcome::Unique => self.created += 1,
            CaptureOutcome::Flagged { .. } => {
                self.created += 1;
                self.flagged += 1;
            }
            CaptureOutcome::Merged { .. } => self.merged += 1,
        }
    }

    pub(super) fn add_to(self, summary: &mut ImportSummary) {
        summary.created += self.created;
        summary.flagged += self.flagged;
        summary.merged += self.merged;
    }
}

/// A live lead a new one may duplicate.
#[derive(Clone)]
pub(super) struct Known {
    pub(super) id: Uuid,
    pub(super) created_at: DateTime<Utc>,
    pub(super) points: ContactPoints,
}

/// The candidates of an import chunk by stored key, each key's list oldest first: the leads
/// fetched from the database and the import's new leads as they are decided.
#[derive(Default)]
pub(super) struct CandidateIndex {
    pub(super) known: Vec<Known>,
    /// Leads in `known`: one both fetched and in memory counts once.
    pub(super) ids: HashSet<Uuid>,
    pub(super) by_email: HashMap<String, Vec<usize>>,
    pub(super) by_phone: HashMap<String, Vec<usize>>,
    pub(super) by_domain: HashMap<String, Vec<usize>>,
}

impl CandidateIndex {
    pub(super) fn add(
        &mut self,
        known: Known,
        email: Option<&str>,
        phone: Option<&str>,
        domain: Option<&str>,
    ) {
        if !self.ids.insert(known.id) {
            return;
        }
        let position = self.known.len();
        self.known.push(known);
        let known = &self.known;
        let order = |index: usize| (known[index].created_at, known[index].id);
        let file = |map: &mut HashMap<String, Vec<usize>>, key: Option<&str>| {
            let Some(key) = key else { return };
            match map.get_mut(key) {
                Some(list) => {
                    let at = list.partition_point(|&index| order(index) <= order(position));
                    list.insert(at, position);
                }
                None => {
                    map.insert(key.to_owned(), vec![position]);
                }
            }
        };
        file(&mut self.by_email, email);
        file(&mut self.by_phone, phone);
        file(&mut self.by_domain, domain);
    }

    /// Decides a row by its strongest candidate: a new lead (flagged or not), which becomes a
    /// candidate of the rows after it, or a row to merge.
    pub(super) fn decide(&mut self, row: Incoming, policies: &Policies) -> Decision {
        let policy = policies.duplicate_policy(row.lead.source_channel.name());
        let flagged = match self.strongest(&row.probe, &row.keys, policy) {
            Some((_, DedupeAction::Merge { .. })) => return Decision::Merge(row),
            Some((of, DedupeAction::Flag { score })) => Some((of, score)),
            _ => None,
        };
        let Incoming {
            mut lead,
            reasons,
            probe,
            stored,
            ..
        } = row;
        if let Some((of, score)) = flagged {
            lead.possible_duplicate_of = Some(of);
            lead.duplicate_score = score;
        }
        self.add(
            Known {
                id: lead.id,
                created_at: lead.created_at,
                points: probe.clone(),
            },
            lead.email.as_deref(),
            lead.phone.as_deref(),
            stored.domain.as_deref(),
        );
        Decision::New(NewLead {
            lead,
            reasons,
            probe,
            stored,
            flagged,
        })
    }

    /// As the single-row query (but for the company name): the [`MAX_CANDIDATES`] strongest
    /// leads sharing a key (same email or phone first, then same domain; oldest first within
    /// a kind), and the strongest match among them with what `policy` does.
    pub(super) fn strongest(
        &self,
        probe: &ContactPoints,
        keys: &ProbeKeys,
        policy: DuplicatePolicy,
    ) -> Option<(Uuid, DedupeAction)> {
        // (kind, index): kind 0 for a shared email or phone, 1 for a shared domain.
        let mut found: Vec<(u8, usize)> = Vec::new();
        for (kind, map, key) in [
            (0, &self.by_email, keys.email.as_deref()),
            (0, &self.by_phone, keys.phone.as_deref()),
            (1, &self.by_domain, keys.domain.as_deref()),
        ] {
            // Each list is oldest first, so the oldest of a kind are among each one's oldest.
            if let Some(list) = key.and_then(|key| map.get(key)) {
                found.extend(list.iter().take(MAX_CANDIDATES).map(|&index| (kind, index)));
            }
        }
        if found.is_empty() {
            return None;
        }
        found.sort_by_key(|&(kind, index)| (index, kind));
        // A lead found by both kinds of key keeps the stronger one.
        found.dedup_by_key(|&mut (_, index)| index);
        found.sort_by_key(|&(kind, index)| {
            (kind, self.known[index].created_at, self.known[index].id)
        });
        found.truncate(MAX_CANDIDATES);
        let found: Vec<usize> = found.into_iter().map(|(_, index)| index).collect();
        decide_among(
            probe,
            found
                .iter()
                .map(|&index| (self.known[index].id, &self.known[index].points)),
            policy,
        )
    }
}
