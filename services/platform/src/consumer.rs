//! Durable JetStream consumers with an inbox: the handler's writes and the inbox row commit in
//! one transaction, and only then is the message acked, so a redelivered event has no second
//! effect. Failures are retried with backoff and then moved to a dead-letter subject.

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use async_nats::jetstream::{
    self, AckKind,
    consumer::{AckPolicy, DeliverPolicy, pull},
    message::PublishMessage,
};
use bytes::Bytes;
use futures::StreamExt;
use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

use crate::{
    config::ConsumerSettings,
    events::{EventNaming, headers},
    metrics::{ConsumerLabels, ConsumerOutcomeLabels, Metrics},
    outbox::Outbox,
    retry::Backoff,
    telemetry,
};

/// An event as a handler sees it.
#[derive(Clone, Debug)]
pub struct ReceivedEvent {
    pub id: Uuid,
    pub event_type: String,
    /// The base subject, without the deployment's namespace.
    pub subject: String,
    pub aggregate_id: String,
    pub aggregate_version: i64,
    pub payload: Bytes,
    pub deliveries: i64,
}

impl ReceivedEvent {
    /// Decodes the payload; a payload that does not decode can never succeed, so it is permanent.
    pub fn decode<M: prost::Message + Default>(&self) -> Result<M, HandlerError> {
        M::decode(self.payload.clone()).map_err(|error| {
            HandlerError::Permanent(anyhow::anyhow!(
                "payload of {} does not decode: {error}",
                self.event_type
            ))
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Worth retrying: the database was busy, a dependency was down.
    #[error("transient: {0:#}")]
    Transient(anyhow::Error),
    /// Will fail the same way every time: straight to the dead-letter subject.
    #[error("permanent: {0:#}")]
    Permanent(anyhow::Error),
}

impl From<sqlx::Error> for HandlerError {
    fn from(error: sqlx::Error) -> Self {
        HandlerError::Transient(error.into())
    }
}

pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = Result<(), HandlerError>> + Send + 'a>>;

/// Applies one event inside the consumer's transaction.
pub trait EventHandler: Send + Sync + 'static {
    fn handle<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a ReceivedEvent,
    ) -> HandlerFuture<'a>;

    /// Applies several events at once, oldest first (a batch's, duplicates already dropped),
    /// for a handler that can write many aggregates in a few statements instead of a few per
    /// event; the effect must be that of [`handle`](Self::handle) on each in turn. `None` (the
    /// default): the handler takes events one at a time. A failure fails the whole call: the
    /// consumer then handles the batch again one event at a time, so that only the failing
    /// event is retried or dead-lettered.
    fn handle_many<'a>(
        &'a self,
        _connection: &'a mut PgConnection,
        _events: &'a [ReceivedEvent],
    ) -> Option<HandlerFuture<'a>> {
        None
    }
}

/// What one consumer listens to.
#[derive(Clone, Debug)]
pub struct ConsumerSpec {
    /// Durable name, `<consuming service>-<purpose>`, e.g. `accounts-lead-conversions`.
    pub name: String,
    /// The producing service whose stream is read.
    pub producer: String,
    /// Base subjects, e.g. `crm.leads.v1.lead_converted`.
    pub subjects: Vec<String>,
}

/// How often a consumer looks for a producer's stream that does not exist yet.
pub const STREAM_POLL: Duration = Duration::from_millis(500);

/// The producer's stream does not exist (yet).
#[derive(Debug, thiserror::Error)]
#[error("stream {0} does not exist yet")]
struct StreamMissing(String);

fn is_stream_not_found(error: &jetstream::context::GetStreamError) -> bool {
    matches!(
        error.kind(),
        jetstream::context::GetStreamErrorKind::JetStream(inner)
            if inner.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND
    )
}

pub struct EventConsumer {
    pool: PgPool,
    jetstream: jetstream::Context,
    naming: EventNaming,
    spec: ConsumerSpec,
    settings: ConsumerSettings,
    handler: Arc<dyn EventHandler>,
    metrics: Metrics,
    /// Woken after each commit: handlers may enqueue events of their own.
    outbox: Option<Outbox>,
}

enum Outcome {
    Applied,
    NotSubscribed,
    Duplicate,
    Retry(HandlerError),
    DeadLetter(HandlerError),
}

impl Outcome {
    fn label(&self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::NotSubscribed => "not_subscribed",
            Outcome::Duplicate => "duplicate",
            Outcome::Retry(_) => "retried",
            Outcome::DeadLetter(_) => "dead_lettered",
        }
    }
}

impl EventConsumer {
    pub fn new(
        pool: PgPool,
        jetstream: jetstream::Context,
        naming: EventNaming,
        spec: ConsumerSpec,
        settings: ConsumerSettings,
        handler: Arc<dyn EventHandler>,
        metrics: Metrics,
    ) -> Self {
        Self {
            pool,
            jetstream,
            naming,
            spec,
            settings,
            handler,
            metrics,
            outbox: None,
        }
    }

    /// Wakes this outbox's relay after each committed batch, so events the handler enqueued
    /// leave at once instead of at the next poll.
    pub fn waking(mut self, outbox: Outbox) -> Self {
        self.outbox = Some(outbox);
        self
    }

    /// Creates (or updates) the durable consumer on the producer's stream.
    pub async fn ensure(&self) -> anyhow::Result<jetstream::consumer::Consumer<pull::Config>> {
        let stream_name = self.naming.stream(&self.spec.producer);
        let stream = self
            .jetstream
            .get_stream(&stream_name)
            .await
            .map_err(|error| {
                if is_stream_not_found(&error) {
                    anyhow::Error::new(StreamMissing(stream_name.clone()))
                } else {
                    anyhow::anyhow!("stream {stream_name} is not available: {error}")
                }
            })?;
        let config = pull::Config {
            durable_name: Some(self.spec.name.clone()),
            // NATS 2.9 has one filter subject per consumer: several subjects are read through
            // the producer's wildcard and the others are acknowledged unread.
            filter_subject: match self.spec.subjects.as_slice() {
                [subject] => self.naming.subject(subject),
                _ => self.naming.producer_subjects(&self.spec.producer),
            },
            deliver_policy: DeliverPolicy::All,
            ack_policy: AckPolicy::Explicit,
            ack_wait: self.settings.ack_wait,
            // Unlimited on the server: this consumer dead-letters after `max_deliver` itself,
            // so the server never drops an event silently.
            max_deliver: -1,
            max_ack_pending: 10_000,
            ..Default::default()
        };
        let consumer = stream
            .create_consumer(config)
            .await
            .map_err(|error| anyhow::anyhow!("creating consumer {}: {error}", self.spec.name))?;
        Ok(consumer)
    }

    /// Consumes until `shutdown`; reconnects with backoff if the stream goes away. A stream
    /// that does not exist yet is its producer not having started (services start in any
    /// order): waited for quietly and looked for every [`STREAM_POLL`], so the first events
    /// are read moments after the producer creates it, not after a grown backoff.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
        let mut waiting_for_stream = false;
        while !shutdown.is_cancelled() {
            match self.consume(&shutdown).await {
                Ok(()) => break,
                Err(error) => {
                    if let Some(StreamMissing(stream)) = error.downcast_ref::<StreamMissing>() {
                        if !waiting_for_stream {
                            tracing::info!(consumer = %self.spec.name, %stream, "waiting for the producer's stream (its service has not created it yet)");
                            waiting_for_stream = true;
                        }
                        tokio::select! {
                            () = tokio::time::sleep(STREAM_POLL) => continue,
                            () = shutdown.cancelled() => break,
                        }
                    }
                    tracing::warn!(consumer = %self.spec.name, error = %format!("{error:#}"), "consumer failed, restarting");
                    if !backoff.wait(&shutdown).await {
                        break;
                    }
                }
            }
        }
        tracing::debug!(consumer = %self.spec.name, "consumer stopped");
    }

    async fn consume(&self, shutdown: &CancellationToken) -> anyhow::Result<()> {
        let consumer = self.ensure().await?;
        let messages = consumer.messages().await?;
        // Lag is sampled beside the message loop, never between batches.
        let lag = tokio::spawn(sample_lag(
            self.jetstream.clone(),
            self.naming.stream(&self.spec.producer),
            self.spec.name.clone(),
            self.metrics.clone(),
        ));
        // The sampler ends with the consume loop.
        let _stop_sampling = tokio_util::task::AbortOnDropHandle::new(lag);
        // Whatever is ready, up to the batch size, is handled in one transaction.
        let mut batches = messages.ready_chunks(self.settings.batch_size as usize);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                batch = batches.next() => {
                    let Some(batch) = batch else {
                        anyhow::bail!("message stream ended");
                    };
                    let mut messages = Vec::with_capacity(batch.len());
                    for message in batch {
                        messages.push(message.map_err(|error| anyhow::anyhow!("receiving: {error}"))?);
                    }
                    self.handle_batch(messages).await?;
                }
            }
        }
    }

    /// One transaction for the batch: the inbox rows in one statement, then the handlers. If
    /// a handler fails, the batch is done again with each event in its own savepoint, so the
    /// failing event rolls back alone while the others commit.
    async fn handle_batch(&self, messages: Vec<jetstream::Message>) -> anyhow::Result<()> {
        let outcomes = match self.apply_batch(&messages).await? {
            Some(outcomes) => outcomes,
            None => self.apply_one_by_one(&messages).await?,
        };
        self.settle(&messages, outcomes).await
    }

    /// The fast path: `None` when some handler failed (nothing was committed).
    async fn apply_batch(
        &self,
        messages: &[jetstream::Message],
    ) -> anyhow::Result<Option<Vec<Outcome>>> {
        let parsed: Vec<Result<ReceivedEvent, HandlerError>> = messages
            .iter()
            .map(|message| {
                self.parse(
                    message,
                    message.info().map(|info| info.delivered).unwrap_or(1),
                )
            })
            .collect();
        let wanted: Vec<&ReceivedEvent> = parsed
            .iter()
            .filter_map(|event| event.as_ref().ok())
            .filter(|event| self.spec.subjects.contains(&event.subject))
            .collect();
        let mut transaction = self.pool.begin().await?;
        let ids: Vec<Uuid> = wanted.iter().map(|event| event.id).collect();
        let types: Vec<&str> = wanted
            .iter()
            .map(|event| event.event_type.as_str())
            .collect();
        let mut fresh: std::collections::HashSet<Uuid> = sqlx::query_scalar(
            "INSERT INTO inbox (consumer, event_id, event_type) \
             SELECT $1, event.id, event.type FROM unnest($2::uuid[], $3::text[]) AS event(id, type) \
             ON CONFLICT DO NOTHING RETURNING event_id",
        )
        .bind(&self.spec.name)
        .bind(&ids)
        .bind(&types)
        .fetch_all(&mut *transaction)
        .await?
        .into_iter()
        .collect();
        let mut outcomes = Vec::with_capacity(messages.len());
        // The fresh events and, beside them, their messages (for the spans).
        let (mut fresh_messages, mut fresh_events) = (Vec::new(), Vec::new());
        for (message, event) in messages.iter().zip(parsed) {
            let event = match event {
                Err(error) => {
                    outcomes.push(Outcome::DeadLetter(error));
                    continue;
                }
                Ok(event) if !self.spec.subjects.contains(&event.subject) => {
                    outcomes.push(Outcome::NotSubscribed);
                    continue;
                }
                Ok(event) => event,
            };
            // Removing marks the id used, so a copy later in this batch is a duplicate.
            if !fresh.remove(&event.id) {
                outcomes.push(Outcome::Duplicate);
                continue;
            }
            outcomes.push(Outcome::Applied);
            fresh_messages.push(message);
            fresh_events.push(event);
        }
        if !self
            .handle_fresh(&mut transaction, &fresh_messages, &fresh_events)
            .await
        {
            transaction.rollback().await?;
            return Ok(None);
        }
        transaction.commit().await?;
        Ok(Some(outcomes))
    }

    /// Hands the batch's fresh events to the handler: all at once when it takes them so, under
    /// one span linked to each producer's, else one by one, each under a span that continues
    /// its producer's trace. `false` when the handler failed.
    async fn handle_fresh(
        &self,
        transaction: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        messages: &[&jetstream::Message],
        events: &[ReceivedEvent],
    ) -> bool {
        if events.is_empty() {
            return true;
        }
        if let Some(all) = self.handler.handle_many(transaction, events) {
            let span = tracing::info_span!(
                "consume events",
                consumer = %self.spec.name,
                events = events.len(),
                otel.kind = "consumer",
            );
            for message in messages {
                telemetry::link_remote(&span, traceparent(message));
            }
            return all.instrument(span).await.is_ok();
        }
        for (message, event) in messages.iter().zip(events) {
            let span = self.event_span(message, event);
            if self
                .handler
                .handle(transaction, event)
                .instrument(span)
                .await
                .is_err()
            {
                return false;
            }
        }
        true
    }

    fn event_span(&self, message: &jetstream::Message, event: &ReceivedEvent) -> tracing::Span {
        let span = tracing::info_span!(
            "consume event",
            consumer = %self.spec.name,
            event_type = %event.event_type,
            event_id = %event.id,
            otel.kind = "consumer",
        );
        telemetry::set_remote_parent(&span, traceparent(message));
        span
    }

    /// The careful path: each event in a savepoint.
    async fn apply_one_by_one(
        &self,
        messages: &[jetstream::Message],
    ) -> anyhow::Result<Vec<Outcome>> {
        let mut transaction = self.pool.begin().await?;
        let mut outcomes = Vec::with_capacity(messages.len());
        for message in messages {
            let deliveries = message.info().map(|info| info.delivered).unwrap_or(1);
            let event = match self.parse(message, deliveries) {
                Ok(event) if !self.spec.subjects.contains(&event.subject) => {
                    outcomes.push(Outcome::NotSubscribed);
                    continue;
                }
                Ok(event) => event,
                Err(error) => {
                    outcomes.push(Outcome::DeadLetter(error));
                    continue;
                }
            };
            let span = self.event_span(message, &event);
            let outcome = self
                .apply(&mut transaction, &event)
                .instrument(span)
                .await?;
            let outcome = match outcome {
                Outcome::Retry(error)
                    if matches!(error, HandlerError::Permanent(_))
                        || deliveries >= i64::from(self.settings.max_deliver) =>
                {
                    Outcome::DeadLetter(error)
                }
                other => other,
            };
            outcomes.push(outcome);
        }
        transaction.commit().await?;
        Ok(outcomes)
    }

    /// After the commit: acknowledge, retry later, or dead-letter each message.
    async fn settle(
        &self,
        messages: &[jetstream::Message],
        outcomes: Vec<Outcome>,
    ) -> anyhow::Result<()> {
        let labels = ConsumerLabels {
            consumer: self.spec.name.clone(),
        };
        if let Some(outbox) = &self.outbox {
            outbox.wake();
        }
        for (message, outcome) in messages.iter().zip(&outcomes) {
            if message.info().map(|info| info.delivered).unwrap_or(1) > 1 {
                self.metrics
                    .consumer_redeliveries
                    .get_or_create(&labels)
                    .inc();
            }
            self.metrics
                .consumer_events
                .get_or_create(&ConsumerOutcomeLabels {
                    consumer: self.spec.name.clone(),
                    outcome: outcome.label().to_owned(),
                })
                .inc();
            match outcome {
                Outcome::Applied | Outcome::Duplicate | Outcome::NotSubscribed => {
                    ack(message, AckKind::Ack).await
                }
                Outcome::Retry(error) => {
                    let deliveries = message.info().map(|info| info.delivered).unwrap_or(1);
                    let delay = retry_delay(deliveries);
                    tracing::warn!(consumer = %self.spec.name, %error, deliveries, retry_in_ms = delay.as_millis() as u64, "event failed, will retry");
                    ack(message, AckKind::Nak(Some(delay))).await;
                }
                Outcome::DeadLetter(error) => {
                    self.dead_letter(message, error).await?;
                    self.metrics
                        .consumer_dead_letters
                        .get_or_create(&labels)
                        .inc();
                    ack(message, AckKind::Term).await;
                }
            }
        }
        Ok(())
    }

    async fn apply(
        &self,
        transaction: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        event: &ReceivedEvent,
    ) -> anyhow::Result<Outcome> {
        sqlx::query("SAVEPOINT consumer_event")
            .execute(&mut **transaction)
            .await?;
        let inserted = sqlx::query(
            "INSERT INTO inbox (consumer, event_id, event_type) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&self.spec.name)
        .bind(event.id)
        .bind(&event.event_type)
        .execute(&mut **transaction)
        .await?
        .rows_affected();
        if inserted == 0 {
            sqlx::query("RELEASE SAVEPOINT consumer_event")
                .execute(&mut **transaction)
                .await?;
            return Ok(Outcome::Duplicate);
        }
        match self.handler.handle(transaction, event).await {
            Ok(()) => {
                sqlx::query("RELEASE SAVEPOINT consumer_event")
                    .execute(&mut **transaction)
                    .await?;
                Ok(Outcome::Applied)
            }
            Err(error) => {
                sqlx::query("ROLLBACK TO SAVEPOINT consumer_event")
                    .execute(&mut **transaction)
                    .await?;
                Ok(Outcome::Retry(error))
            }
        }
    }

    fn parse(
        &self,
        message: &jetstream::Message,
        deliveries: i64,
    ) -> Result<ReceivedEvent, HandlerError> {
        received(&self.naming, message, deliveries)
    }

    /// Publishes the event, with its headers and the reason, to the dead-letter subject and
    /// waits for the ack: the original is terminated only once the copy is safe.
    async fn dead_letter(
        &self,
        message: &jetstream::Message,
        error: &HandlerError,
    ) -> anyhow::Result<()> {
        let mut headers = message.headers.clone().unwrap_or_default();
        headers.insert(headers::DEAD_LETTER_REASON, error.to_string().as_str());
        headers.insert(headers::ORIGINAL_SUBJECT, message.subject.as_str());
        let deliveries = message.info().map(|info| info.delivered).unwrap_or(1);
        headers.insert(headers::DELIVERIES, deliveries.to_string().as_str());
        let mut publish = PublishMessage::build().payload(message.payload.clone());
        for (name, values) in headers.iter() {
            for value in values {
                publish = publish.header(name.clone(), value.clone());
            }
        }
        tracing::error!(consumer = %self.spec.name, %error, subject = %message.subject, "event moved to dead letters");
        self.jetstream
            .send_publish(self.naming.dead_letter_subject(&self.spec.name), publish)
            .await?
            .await?;
        Ok(())
    }
}

/// Keeps the consumer-lag gauge current.
async fn sample_lag(
    jetstream: jetstream::Context,
    stream: String,
    consumer: String,
    metrics: Metrics,
) {
    let labels = ConsumerLabels {
        consumer: consumer.clone(),
    };
    let mut interval = tokio::time::interval(Duration::from_secs(5));
    loop {
        interval.tick().await;
        let Ok(handle) = jetstream.get_stream(&stream).await else {
            continue;
        };
        if let Ok(info) = handle.consumer_info(&consumer).await {
            metrics
                .consumer_lag
                .get_or_create(&labels)
                .set(info.num_pending as i64);
        }
    }
}

/// The W3C trace context the producer sent with the event.
fn traceparent(message: &jetstream::Message) -> Option<&str> {
    message
        .headers
        .as_ref()
        .and_then(|h| h.get(headers::TRACEPARENT))
        .map(|v| v.as_str())
}

async fn ack(message: &jetstream::Message, kind: AckKind) {
    // A lost ack means one more delivery, which the inbox absorbs.
    if let Err(error) = message.ack_with(kind).await {
        tracing::warn!(%error, "acknowledging an event failed");
    }
}

/// 1 s, 2 s, 4 s … capped at 60 s.
fn retry_delay(deliveries: i64) -> Duration {
    Backoff::new(Duration::from_secs(1), Duration::from_secs(60))
        .delay_of_attempt(u32::try_from(deliveries.max(1)).unwrap_or(u32::MAX))
}

/// The event a JetStream message carries, as a handler sees it; a message without a valid
/// event id can never be handled (permanent).
pub(crate) fn received(
    naming: &EventNaming,
    message: &jetstream::Message,
    deliveries: i64,
) -> Result<ReceivedEvent, HandlerError> {
    let header = |name: &str| {
        message
            .headers
            .as_ref()
            .and_then(|h| h.get(name))
            .map(|v| v.as_str().to_owned())
    };
    let id = header(headers::EVENT_ID)
        .and_then(|id| Uuid::parse_str(&id).ok())
        .ok_or_else(|| {
            HandlerError::Permanent(anyhow::anyhow!(
                "event has no valid {} header",
                headers::EVENT_ID
            ))
        })?;
    Ok(ReceivedEvent {
        id,
        event_type: header(headers::EVENT_TYPE).unwrap_or_default(),
        subject: naming.base_subject(message.subject.as_str()).to_owned(),
        aggregate_id: header(headers::AGGREGATE_ID).unwrap_or_default(),
        aggregate_version: header(headers::AGGREGATE_VERSION)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        payload: message.payload.clone(),
        deliveries,
    })
}

/// What a [`replay`] went through.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Events of the spec's subjects handed to the handler and applied.
    pub applied: u64,
    /// Events the handler refused as malformed (permanent): the live consumer dead-lettered
    /// them too, and they are left out again.
    pub set_aside: u64,
    /// Messages of the stream outside the spec's subjects.
    pub skipped: u64,
}

/// How many events a replay applies between savepoints.
const REPLAY_CHUNK: usize = 500;

/// Hands every event of `spec` on its producer's stream, oldest first, to `handler` inside the
/// caller's transaction `connection`: for rebuilding a read model from the events (`crm
/// forecasting rebuild`). It reads what the stream holds when it starts, with an ephemeral
/// ordered consumer, and records nothing in the inbox: a read model rebuilt this way must be
/// idempotent by itself (kept by aggregate version), which is also what makes a live
/// consumer's later deliveries harmless. Events go in chunks under a savepoint; a chunk with a
/// failing event is done again one by one, a malformed event set aside, a transient failure
/// ending the replay (the caller's transaction then rolls back, changing nothing).
pub async fn replay(
    jetstream: &jetstream::Context,
    naming: &EventNaming,
    spec: &ConsumerSpec,
    connection: &mut PgConnection,
    handler: &dyn EventHandler,
) -> anyhow::Result<Replayed> {
    let stream_name = naming.stream(&spec.producer);
    let stream = jetstream
        .get_stream(&stream_name)
        .await
        .map_err(|error| anyhow::anyhow!("stream {stream_name} is not available: {error}"))?;
    let consumer = stream
        .create_consumer(pull::OrderedConfig {
            filter_subject: match spec.subjects.as_slice() {
                [subject] => naming.subject(subject),
                _ => naming.producer_subjects(&spec.producer),
            },
            deliver_policy: DeliverPolicy::All,
            ..Default::default()
        })
        .await
        .map_err(|error| anyhow::anyhow!("replaying {stream_name}: {error}"))?;
    // What the stream holds now; events published meanwhile reach the live consumer.
    let pending = consumer.cached_info().num_pending;
    let mut messages = consumer
        .messages()
        .await
        .map_err(|error| anyhow::anyhow!("replaying {stream_name}: {error}"))?
        .take(usize::try_from(pending).unwrap_or(usize::MAX));
    let mut replayed = Replayed::default();
    let mut chunk = Vec::with_capacity(REPLAY_CHUNK);
    loop {
        let next = messages.next().await;
        let done = next.is_none();
        if let Some(message) = next {
            let message =
                message.map_err(|error| anyhow::anyhow!("replaying {stream_name}: {error}"))?;
            match received(naming, &message, 1) {
                Ok(event) if spec.subjects.contains(&event.subject) => chunk.push(event),
                Ok(_) => replayed.skipped += 1,
                Err(_) => replayed.set_aside += 1,
            }
        }
        if chunk.len() == REPLAY_CHUNK || (done && !chunk.is_empty()) {
            replay_chunk(connection, handler, &chunk, &mut replayed).await?;
            chunk.clear();
        }
        if done {
            return Ok(replayed);
        }
    }
}

async fn replay_chunk(
    connection: &mut PgConnection,
    handler: &dyn EventHandler,
    chunk: &[ReceivedEvent],
    replayed: &mut Replayed,
) -> anyhow::Result<()> {
    sqlx::query("SAVEPOINT replay_chunk")
        .execute(&mut *connection)
        .await?;
    let failed = if let Some(all) = handler.handle_many(connection, chunk) {
        all.await.is_err()
    } else {
        let mut failed = false;
        for event in chunk {
            if handler.handle(connection, event).await.is_err() {
                failed = true;
                break;
            }
        }
        failed
    };
    if !failed {
        sqlx::query("RELEASE SAVEPOINT replay_chunk")
            .execute(&mut *connection)
            .await?;
        replayed.applied += chunk.len() as u64;
        return Ok(());
    }
    sqlx::query("ROLLBACK TO SAVEPOINT replay_chunk")
        .execute(&mut *connection)
        .await?;
    for event in chunk {
        sqlx::query("SAVEPOINT replay_event")
            .execute(&mut *connection)
            .await?;
        match handler.handle(connection, event).await {
            Ok(()) => {
                sqlx::query("RELEASE SAVEPOINT replay_event")
                    .execute(&mut *connection)
                    .await?;
                replayed.applied += 1;
            }
            Err(HandlerError::Permanent(error)) => {
                sqlx::query("ROLLBACK TO SAVEPOINT replay_event")
                    .execute(&mut *connection)
                    .await?;
                tracing::warn!(event_id = %event.id, event_type = %event.event_type, error = %format!("{error:#}"), "replay set a malformed event aside");
                replayed.set_aside += 1;
            }
            Err(error @ HandlerError::Transient(_)) => {
                anyhow::bail!("replaying event {}: {error}", event.id)
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delay_grows_and_is_capped() {
        assert_eq!(retry_delay(1), Duration::from_secs(1));
        assert_eq!(retry_delay(3), Duration::from_secs(4));
        assert_eq!(retry_delay(100), Duration::from_secs(60));
    }
}
