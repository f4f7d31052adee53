//! Streamed imports (L1, L2): many rows captured set-based, with dedupe, chunk by chunk.
//!
//! An import is a pipeline of three stages, each working on a different chunk:
//!
//! 1. [`Leads::prepare_import`] validates the rows and builds, scores and keys their leads
//!    (in process only; the gRPC handler runs it in the task that reads the stream);
//! 2. the chunk is *matched*: its campaigns are checked with one query, the duplicate
//!    candidates of all its rows fetched with one more, and each row is decided in order
//!    against those and against the new leads before it in the import;
//! 3. the chunk is *written* in one transaction: its new leads with one `COPY`, their history
//!    lines with one `INSERT` and their `LeadCaptured` events with one `INSERT`.
//!
//! Chunk N+1 is matched, on one connection, while chunk N is written on another; it sees
//! chunk N's new leads in memory, as they are not committed yet. Chunks are written, and
//! commit, in order.

use std::collections::HashSet;

use crm_platform::{auth::Caller, error::FieldViolation, outbox::Aggregate};
use crm_proto::crm::leads::v1 as pb;
use sqlx::PgConnection;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{
    Leads, Policies, Result,
    capture::{CaptureOutcome, ImportSummary, ProbeKeys, RowError, UNKNOWN_CAMPAIGN, build_lead},
    pool::rules_of,
};
use crate::{
    domain::{dedupe::LeadContactPoints, lead::NewLead as Capture},
    error::LeadsError,
    store::{self, leads::DerivedKeys},
};

mod rows;

use rows::{CandidateIndex, Counts, Decision, InFlight, Incoming, Known, NewLeads};

/// Rows of an import per chunk: per transaction, and per set-based statement.
pub const IMPORT_CHUNK: usize = 2000;

/// A chunk of import rows, validated and built (see [`Leads::prepare_import`]).
pub(crate) struct PreparedChunk {
    /// In line order: the row built into its lead, or what is wrong with it.
    rows: Vec<(u64, std::result::Result<Incoming, Vec<FieldViolation>>)>,
    policies: Policies,
}

impl Leads {
    /// The caller with the team the directory files their records under (their token's when
    /// it has not heard of them): an import fills that team's pool.
    pub async fn as_filed(&self, caller: Caller) -> Result<Caller> {
        let mut connection = self.pool.acquire().await?;
        let team_path = self.directory.filing_team(&mut connection, &caller).await?;
        Ok(Caller {
            team_path,
            ..caller
        })
    }

    /// Builds the leads of a chunk of validated import rows (line number, the row or what is
    /// wrong with it), for [`Leads::import_chunks`]: work in process only, apart from reading
    /// the policies.
    pub async fn prepare_import(
        &self,
        caller: &Caller,
        rows: Vec<(u64, std::result::Result<Capture, Vec<FieldViolation>>)>,
    ) -> Result<PreparedChunk> {
        let policies = self.policies().await?;
        let pool_team_path = &caller.team_path;
        let rows = rows
            .into_iter()
            .map(|(line, row)| {
                let row = row.map(|capture| {
                    let now = crm_platform::time::now();
                    let (lead, score) = build_lead(&capture, None, pool_team_path, &policies, now);
                    // Validated fields: the phone is E.164 already.
                    let probe = LeadContactPoints::from_fields(&capture.fields, None);
                    let keys = ProbeKeys::of(&lead, &probe, &capture.fields);
                    let stored = DerivedKeys::of(&lead);
                    Incoming {
                        capture,
                        lead,
                        reasons: score.reasons,
                        probe,
                        keys,
                        stored,
                    }
                });
                (line, row)
            })
            .collect();
        Ok(PreparedChunk { rows, policies })
    }

    /// Imports prepared chunks, in order, into the caller's team pool; each chunk is one
    /// transaction. Invalid rows are reported and skipped; valid rows are kept.
    ///
    /// Set-based: a chunk costs a fixed number of statements, not several per row. Each row is
    /// matched, in order, against the duplicate candidates fetched for the chunk and against
    /// the new leads before it in the import, so duplicates inside the file are found as when
    /// rows are captured one by one (as there, a row is matched against its 20 strongest
    /// candidates, those with the same email or phone first). When the pool has assignment
    /// rules, each new lead is then assigned by them, one by one. A row its policy merges takes the single-row path: the rows before it
    /// are written first and the rows after it matched again, since the merge changed the
    /// survivor; the next chunk then waits for this one's commit before it is matched.
    ///
    /// One difference from a single capture: candidates are the leads with the same email,
    /// phone or company domain, not those that share only a company name. The only index on
    /// the company key is the trigram one, and at a million leads it costs about 10 ms per
    /// name, even for an exact match, as words such as "precision" or "logistics" recur in
    /// thousands of names: more per row than all the rest of the import. A company name with no
    /// shared email, phone or domain scores at most 70 (same name and same person), so an import
    /// does not flag a person already captured at the same company under another, or a
    /// free-mail, address; nor a similar name whose domain is shared only across website and
    /// email (one's website domain is the other's email domain).
    pub async fn import_chunks(
        &self,
        caller: &Caller,
        chunks: &mut mpsc::Receiver<PreparedChunk>,
        summary: &mut ImportSummary,
    ) -> Result<()> {
        let Some(first) = chunks.recv().await else {
            return Ok(());
        };
        let mut matched = self.match_chunk(caller, first, &[], summary).await?;
        loop {
            let MatchedChunk { in_flight, writes } = matched;
            // The next chunk is matched while this one is written, unless this one merges.
            let overlap = writes.rest.is_empty();
            let next = async {
                let chunk = chunks.recv().await?;
                Some(if overlap {
                    Next::Matched(self.match_chunk(caller, chunk, &in_flight, summary).await)
                } else {
                    Next::Waiting(chunk)
                })
            };
            let (written, next) = tokio::join!(self.write_chunk(caller, writes), next);
            written?.add_to(summary);
            matched = match next {
                None => return Ok(()),
                Some(Next::Matched(next)) => next?,
                Some(Next::Waiting(chunk)) => self.match_chunk(caller, chunk, &[], summary).await?,
            };
        }
    }

    /// Checks a chunk's campaigns, counts and reports its invalid rows, and decides its valid
    /// rows in order up to the first one its policy merges. `in_flight` are the new leads of
    /// the chunk being written meanwhile.
    async fn match_chunk(
        &self,
        caller: &Caller,
        chunk: PreparedChunk,
        in_flight: &[InFlight],
        summary: &mut ImportSummary,
    ) -> Result<MatchedChunk> {
        let mut connection = self.pool.acquire().await?;
        let campaigns: Vec<Uuid> = chunk
            .rows
            .iter()
            .filter_map(|(_, row)| row.as_ref().ok()?.capture.campaign_id)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let known_campaigns = known_campaigns(&mut connection, &campaigns).await?;
        let mut rows = Vec::with_capacity(chunk.rows.len());
        for (line, row) in chunk.rows {
            summary.rows_received += 1;
            match row {
                Err(violations) => {
                    summary.rejected += 1;
                    summary
                        .errors
                        .extend(violations.into_iter().map(|violation| RowError {
                            line,
                            field: violation.field,
                            message: violation.description,
                        }));
                }
                Ok(row)
                    if row
                        .capture
                        .campaign_id
                        .is_some_and(|id| !known_campaigns.contains(&id)) =>
                {
                    let field = "row.campaign_id";
                    summary.rejected += 1;
                    summary.errors.push(RowError {
                        line,
                        field: field.to_owned(),
                        message: LeadsError::invalid(field, UNKNOWN_CAMPAIGN).to_string(),
                    });
                }
                Ok(row) => rows.push(row),
            }
        }
        let mut index = self.candidates_of(&mut connection, &rows).await?;
        drop(connection);
        for lead in in_flight {
            index.add(
                lead.known.clone(),
                lead.email.as_deref(),
                lead.phone.as_deref(),
                lead.domain.as_deref(),
            );
        }
        let mut matched = MatchedChunk {
            in_flight: Vec::with_capacity(rows.len()),
            writes: ChunkWrites {
                new_leads: NewLeads::with_capacity(rows.len(), Some(caller.user_id)),
                rest: Vec::new(),
                policies: chunk.policies,
            },
        };
        let mut rows = rows.into_iter();
        while let Some(row) = rows.next() {
            match index.decide(row, &matched.writes.policies) {
                Decision::New(new) => {
                    summary.created += 1;
                    if new.flagged.is_some() {
                        summary.flagged += 1;
                    }
                    matched.in_flight.push(InFlight::of(&new));
                    matched.writes.new_leads.push(new);
                }
                Decision::Merge(row) => {
                    // It and the rows after it are captured in order when the chunk is written.
                    matched.writes.rest = std::iter::once(row).chain(rows).collect();
                    break;
                }
            }
        }
        Ok(matched)
    }

    /// Writes a matched chunk in one transaction: its new leads in bulk, then its remaining
    /// rows (from a merged one on) in order, row by row or in bulk between merges.
    async fn write_chunk(&self, caller: &Caller, writes: ChunkWrites) -> Result<Counts> {
        let ChunkWrites {
            new_leads,
            rest,
            policies,
        } = writes;
        let mut counts = Counts::default();
        let mut transaction = self.pool.begin().await?;
        let actor = Some(caller.user_id);
        let pool_team_path = &caller.team_path;
        let assign = !rules_of(&mut transaction, pool_team_path).await?.is_empty();
        self.write_new(&mut transaction, new_leads, assign).await?;
        let mut rest = rest.as_slice();
        while let Some((merged, after)) = rest.split_first() {
            let (_, outcome) = self
                .capture_one(
                    &mut transaction,
                    actor,
                    None,
                    pool_team_path,
                    merged.capture.clone(),
                    &policies,
                )
                .await?;
            counts.count(outcome);
            // The merge changed its survivor: the rows after it are matched again.
            let mut index = self.candidates_of(&mut transaction, after).await?;
            let mut new_leads = NewLeads::with_capacity(after.len(), actor);
            let mut stopped = after.len();
            for (position, row) in after.iter().enumerate() {
                match index.decide(row.clone(), &policies) {
                    Decision::New(new) => {
                        counts.count(match new.flagged {
                            Some((of, score)) => CaptureOutcome::Flagged { of, score },
                            None => CaptureOutcome::Unique,
                        });
                        new_leads.push(new);
                    }
                    Decision::Merge(_) => {
                        stopped = position;
                        break;
                    }
                }
            }
            self.write_new(&mut transaction, new_leads, assign).await?;
            rest = &after[stopped..];
        }
        self.outbox.commit(transaction).await?;
        Ok(counts)
    }

    /// The live leads that share an email, phone or company domain with any of `rows`.
    async fn candidates_of(
        &self,
        connection: &mut PgConnection,
        rows: &[Incoming],
    ) -> Result<CandidateIndex> {
        let mut emails = HashSet::new();
        let mut phones = HashSet::new();
        let mut domains = HashSet::new();
        for keys in rows.iter().map(|row| &row.keys) {
            emails.extend(keys.email.clone());
            phones.extend(keys.phone.clone());
            domains.extend(keys.domain.clone());
        }
        let list = |set: HashSet<String>| set.into_iter().collect::<Vec<_>>();
        let mut found = store::leads::duplicate_candidates_of_many(
            connection,
            &list(emails),
            &list(phones),
            &list(domains),
        )
        .await?;
        found.sort_by_key(|candidate| (candidate.lead.created_at, candidate.lead.id));
        let mut index = CandidateIndex::default();
        for candidate in found {
            // Stored phones are E.164.
            let points = LeadContactPoints::from_fields(&candidate.lead.fields(), None);
            let lead = &candidate.lead;
            index.add(
                Known {
                    id: lead.id,
                    created_at: lead.created_at,
                    points,
                },
                lead.email.as_deref(),
                lead.phone.as_deref(),
                candidate.stored_domain.as_deref(),
            );
        }
        Ok(index)
    }

    /// Writes new (not merged) leads with their history lines and events, one statement each,
    /// then assigns them by the pool's rules when it has any.
    async fn write_new(
        &self,
        connection: &mut PgConnection,
        new_leads: NewLeads,
        assign: bool,
    ) -> Result<()> {
        if new_leads.leads.is_empty() {
            return Ok(());
        }
        let NewLeads {
            copy_text,
            history,
            events,
            leads,
            ..
        } = new_leads;
        store::leads::copy_rows(connection, &copy_text).await?;
        store::history::record_many(connection, &history).await?;
        let (ids, events): (Vec<String>, Vec<(i64, pb::LeadCaptured)>) = events
            .into_iter()
            .map(|(id, version, event)| (id, (version, event)))
            .unzip();
        let events: Vec<(Aggregate<'_>, pb::LeadCaptured)> = ids
            .iter()
            .zip(events)
            .map(|(id, (version, event))| {
                (
                    Aggregate {
                        kind: "lead",
                        id,
                        version,
                    },
                    event,
                )
            })
            .collect();
        self.outbox.enqueue_many(connection, &events).await?;
        if assign {
            for mut lead in leads {
                self.assign_by_rules(connection, None, &mut lead).await?;
            }
        }
        Ok(())
    }
}

/// A chunk whose rows are decided up to the first one its policy merges.
struct MatchedChunk {
    /// Its new leads as candidates of the next chunk's rows.
    in_flight: Vec<InFlight>,
    writes: ChunkWrites,
}

/// What writing a matched chunk does.
struct ChunkWrites {
    new_leads: NewLeads,
    /// From the merged row on, to be captured in order.
    rest: Vec<Incoming>,
    policies: Policies,
}

/// The next chunk while one is written: matched meanwhile, or waiting for the write.
enum Next {
    Matched(Result<MatchedChunk>),
    Waiting(PreparedChunk),
}

/// Which of `ids` are campaigns.
async fn known_campaigns(connection: &mut PgConnection, ids: &[Uuid]) -> Result<HashSet<Uuid>> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let found = store::campaigns::existing_campaigns(connection, ids).await?;
    Ok(found.into_iter().collect())
}
