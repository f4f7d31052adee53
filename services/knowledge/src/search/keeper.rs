//! Keeps this replica's search index up to date: on start it rebuilds the index from the
//! database when it is empty, was written under another analysis version, or is behind what
//! the service's stream still holds (or ahead of a stream that was recreated); then it follows
//! the stream from the sequence its last commit recorded, applying each event's versions in use
//! and committing in small batches. Until the first catch-up (to the stream's end as it was at
//! start) the process is held not ready and searches answer UNAVAILABLE. Each replica follows
//! with an ephemeral consumer of its own: nothing is shared, nothing acknowledged.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use async_nats::jetstream;
use crm_platform::{
    consumer::ReceivedEvent,
    events::{DomainEvent, EventNaming},
    follow::{self, Followed},
    readiness::ReadinessHold,
    retry::Backoff,
};
use crm_proto::crm::knowledge::v1 as pb;
use futures::StreamExt;
use prost::Message;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use super::{
    index::{Hit, IndexedArticle, SearchIndex, SearchQuery},
    workers::Workers,
};
use crate::{convert, store};

/// Events applied before a commit at most; fewer when the stream goes quiet.
const BATCH: usize = 500;
/// How long the follower waits for the next event before committing what it has.
const QUIET: Duration = Duration::from_millis(20);
/// How long the stream stays quiet before the index's segments are merged
/// ([`SearchIndex::settle`]).
const SETTLE: Duration = Duration::from_secs(1);
/// Articles read from the database per page while rebuilding.
const REBUILD_PAGE: i64 = 1_000;

/// The index, whether it has caught up once (searches wait for it), and the threads
/// searches run on.
#[derive(Clone)]
pub struct LiveIndex {
    pub index: Arc<SearchIndex>,
    caught_up: Arc<AtomicBool>,
    workers: Workers,
}

impl LiveIndex {
    pub fn new(index: SearchIndex) -> Self {
        Self {
            index: Arc::new(index),
            caught_up: Arc::new(AtomicBool::new(false)),
            workers: Workers::per_core("knowledge-search"),
        }
    }

    pub fn is_caught_up(&self) -> bool {
        self.caught_up.load(Ordering::Acquire)
    }

    /// Runs `query` in its turn on the search threads (it is CPU work on the index's memory
    /// maps, kept off the async workers).
    pub async fn search(&self, query: SearchQuery) -> Result<Vec<Hit>, String> {
        let index = self.index.clone();
        self.workers
            .run(move || index.search(&query))
            .await?
            .map_err(|error| error.to_string())
    }
}

/// What the keeper follows and where it rebuilds from.
pub struct Keeper {
    pub live: LiveIndex,
    pub pool: PgPool,
    pub jetstream: jetstream::Context,
    pub naming: EventNaming,
    pub producer: &'static str,
}

/// The article an event carries, if it is one of the articles' events.
fn indexed(event: &ReceivedEvent) -> anyhow::Result<Option<IndexedArticle>> {
    let subject = event.subject.as_str();
    let snapshot = if subject == pb::ArticleChanged::subject() {
        pb::ArticleChanged::decode(event.payload.clone())?.article
    } else if subject == pb::ArticlePublished::subject() {
        pb::ArticlePublished::decode(event.payload.clone())?.article
    } else if subject == pb::ArticleArchived::subject() {
        pb::ArticleArchived::decode(event.payload.clone())?.article
    } else {
        return Ok(None);
    };
    let snapshot = snapshot.ok_or_else(|| anyhow::anyhow!("event carries no article"))?;
    convert::indexed_from_snapshot(&snapshot)
        .map(Some)
        .map_err(|problem| anyhow::anyhow!("article in event {}: {problem}", event.id))
}

impl Keeper {
    /// Runs until `shutdown`; `hold` is released at the first catch-up. The index's writer is
    /// open while it runs.
    pub async fn run(self, hold: ReadinessHold, shutdown: CancellationToken) {
        /// Lets the index's write lock go however the keeper stops.
        struct Writing<'a>(&'a SearchIndex);
        impl Drop for Writing<'_> {
            fn drop(&mut self) {
                self.0.close_writer();
            }
        }
        let _writing = Writing(&self.live.index);
        let mut hold = Some(hold);
        let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
        loop {
            let outcome = tokio::select! {
                _ = shutdown.cancelled() => return,
                outcome = self.keep(&mut hold) => outcome,
            };
            if let Err(error) = outcome {
                // What was applied and not committed goes: the next attempt starts from the
                // last commit.
                self.live.index.close_writer();
                let delay = backoff.next_delay();
                tracing::warn!(error = %format!("{error:#}"), ?delay, "search index: following stopped; starting again");
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(delay) => {}
                }
            }
        }
    }

    /// One attempt: rebuild if needed, then follow until an error.
    async fn keep(&self, hold: &mut Option<ReadinessHold>) -> anyhow::Result<()> {
        let index = &self.live.index;
        // Another process may hold the directory a moment longer (a restart): wait for it.
        index.open_writer()?;
        let (first, last) = follow::stream_bounds(&self.jetstream, &self.naming, self.producer)
            .await?
            .unwrap_or((1, 0));
        let held = index.state().map(|state| state.sequence);
        let rebuild = match held {
            None => true,
            // The stream no longer holds the next event, or was recreated behind the index.
            Some(sequence) => sequence + 1 < first || sequence > last,
        };
        if rebuild {
            self.rebuild(last).await?;
        }
        let from = index.state().map_or(0, |state| state.sequence) + 1;
        if from > last {
            self.caught_up(hold);
        }
        let events = follow::follow(&self.jetstream, &self.naming, self.producer, from).await?;
        let mut events = Box::pin(events);
        let mut settled = false;
        loop {
            // Wait for the next event as long as it takes — settling the index once the stream
            // has been quiet a while — then take what follows quickly.
            let next = loop {
                if settled {
                    break events.next().await;
                }
                match tokio::time::timeout(SETTLE, events.next()).await {
                    Ok(next) => break next,
                    Err(_) => settled = self.settle().await?,
                }
            };
            let Some(first_event) = next else {
                anyhow::bail!("the stream ended");
            };
            settled = false;
            let mut batch: Vec<Followed> = vec![first_event?];
            while batch.len() < BATCH {
                match tokio::time::timeout(QUIET, events.next()).await {
                    Ok(Some(next)) => batch.push(next?),
                    Ok(None) => anyhow::bail!("the stream ended"),
                    Err(_) => break,
                }
            }
            let reached = self.apply(&batch)?;
            if reached >= last {
                self.caught_up(hold);
            }
        }
    }

    /// Applies a batch of events and commits with the last one's sequence.
    fn apply(&self, batch: &[Followed]) -> anyhow::Result<u64> {
        let index = &self.live.index;
        let mut reached = 0;
        for followed in batch {
            match indexed(&followed.event) {
                Ok(Some(article)) => {
                    index.apply(&article)?;
                }
                Ok(None) => {}
                // Malformed: as bad on every reading; the database still has the article.
                Err(error) => {
                    tracing::warn!(error = %format!("{error:#}"), "search index: event set aside")
                }
            }
            reached = followed.sequence;
        }
        index.commit(reached)?;
        Ok(reached)
    }

    /// Merges the index's segments ([`SearchIndex::settle`]); `false` when a merge of
    /// tantivy's own holds some of them (the next quiet moment tries again).
    async fn settle(&self) -> anyhow::Result<bool> {
        let index = &self.live.index;
        let before = index.segments();
        let started = std::time::Instant::now();
        let settled = index.settle().await?;
        if index.segments() < before {
            tracing::info!(
                segments = index.segments(),
                merged = before - index.segments() + 1,
                elapsed = ?started.elapsed(),
                "search index: segments merged"
            );
        }
        Ok(settled)
    }

    fn caught_up(&self, hold: &mut Option<ReadinessHold>) {
        if !self.live.caught_up.swap(true, Ordering::AcqRel) {
            tracing::info!(
                documents = self.live.index.documents(),
                "search index caught up"
            );
        }
        if let Some(hold) = hold.take() {
            hold.release();
        }
    }

    /// Everything again from the database, as of stream sequence `sequence` (read before the
    /// database, so later events re-apply what the read may have missed; older ones are
    /// skipped by revision).
    async fn rebuild(&self, sequence: u64) -> anyhow::Result<()> {
        let index = &self.live.index;
        tracing::info!(sequence, "search index: rebuilding from the database");
        let started = std::time::Instant::now();
        index.clear()?;
        let mut after = None;
        let mut articles = 0usize;
        loop {
            let mut connection = self.pool.acquire().await?;
            let page = store::articles::live_page(&mut connection, after, REBUILD_PAGE).await?;
            drop(connection);
            let Some(last) = page.last() else {
                break;
            };
            after = Some(last.id);
            for article in &page {
                index.apply(article)?;
            }
            articles += page.len();
        }
        index.commit(sequence)?;
        tracing::info!(articles, elapsed = ?started.elapsed(), "search index rebuilt");
        Ok(())
    }
}
