//! The transactional outbox and its relay.
//!
//! A service writes an event with [`Outbox::enqueue`] in the same transaction as the change it
//! describes and commits with [`Outbox::commit`], which wakes this process's relay at once.
//! Other replicas' commits are picked up by polling. What waits is queued in `outbox_pending`
//! (a row per unpublished event, written by a trigger on the outbox's inserts: platform
//! migration 11). The relay claims queued rows with `FOR UPDATE SKIP LOCKED` (never "id > last
//! seen", which loses rows that commit out of sequence order), publishes them pipelined, and
//! marks each row only after JetStream acked it: its queue row deleted, its outbox row stamped.

use std::{collections::HashMap, sync::Arc, time::Duration};

use async_nats::jetstream::{self, message::PublishMessage};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{
    config::OutboxSettings,
    events::{DomainEvent, EventNaming, headers},
    metrics::{Metrics, ProducerLabels},
    retry::Backoff,
    telemetry,
};

/// Advisory lock of the relays of one database (see [`OutboxRelay::relay_batch`]).
const RELAY_LOCK_KEY: i64 = 0x0c72_0b0c;

/// The record an event is about: events of one aggregate are published in order.
#[derive(Clone, Copy, Debug)]
pub struct Aggregate<'a> {
    pub kind: &'static str,
    pub id: &'a str,
    /// The aggregate's version after this change.
    pub version: i64,
}

/// A service's handle on its outbox. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Outbox {
    wake: Arc<Notify>,
}

impl Default for Outbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Outbox {
    pub fn new() -> Self {
        Self {
            wake: Arc::new(Notify::new()),
        }
    }

    /// Writes `event` into the outbox inside the caller's transaction and returns its id.
    pub async fn enqueue<E: DomainEvent>(
        &self,
        connection: &mut PgConnection,
        aggregate: Aggregate<'_>,
        event: &E,
    ) -> Result<Uuid, sqlx::Error> {
        let event_id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO outbox (id, subject, event_type, aggregate_type, aggregate_id, \
             aggregate_version, payload, traceparent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(event_id)
        .bind(E::subject())
        .bind(E::full_name())
        .bind(aggregate.kind)
        .bind(aggregate.id)
        .bind(aggregate.version)
        .bind(event.encode_to_vec())
        .bind(telemetry::current_traceparent())
        .execute(connection)
        .await?;
        Ok(event_id)
    }

    /// [`Outbox::enqueue`] for the record `kind` with this id, at `version` (after the change):
    /// the call every use case makes.
    pub async fn enqueue_for<E: DomainEvent>(
        &self,
        connection: &mut PgConnection,
        kind: &'static str,
        id: Uuid,
        version: i64,
        event: &E,
    ) -> Result<Uuid, sqlx::Error> {
        let id = id.to_string();
        self.enqueue(
            connection,
            Aggregate {
                kind,
                id: &id,
                version,
            },
            event,
        )
        .await
    }

    /// [`Outbox::enqueue`] for many events in one statement (a bulk write: one round trip
    /// instead of one per event). Same columns and semantics; rows get their sequence numbers
    /// in input order, so events of one aggregate are published in the order given. Returns
    /// the event ids in input order.
    pub async fn enqueue_many<E: DomainEvent>(
        &self,
        connection: &mut PgConnection,
        events: &[(Aggregate<'_>, E)],
    ) -> Result<Vec<Uuid>, sqlx::Error> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = events.iter().map(|_| Uuid::now_v7()).collect();
        let kinds: Vec<&str> = events.iter().map(|(aggregate, _)| aggregate.kind).collect();
        let aggregate_ids: Vec<&str> = events.iter().map(|(aggregate, _)| aggregate.id).collect();
        let versions: Vec<i64> = events
            .iter()
            .map(|(aggregate, _)| aggregate.version)
            .collect();
        let payloads: Vec<Vec<u8>> = events
            .iter()
            .map(|(_, event)| event.encode_to_vec())
            .collect();
        // ORDER BY ordinality: the identity (seq) is drawn after the sort, in input order.
        sqlx::query(
            "INSERT INTO outbox (id, subject, event_type, aggregate_type, aggregate_id, \
             aggregate_version, payload, traceparent) \
             SELECT e.id, $5, $6, e.kind, e.aggregate_id, e.version, e.payload, $7 \
             FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], $8::bytea[]) \
             WITH ORDINALITY AS e(id, kind, aggregate_id, version, payload, position) \
             ORDER BY e.position",
        )
        .bind(&ids)
        .bind(&kinds)
        .bind(&aggregate_ids)
        .bind(&versions)
        .bind(E::subject())
        .bind(E::full_name())
        .bind(telemetry::current_traceparent())
        .bind(&payloads)
        .execute(connection)
        .await?;
        Ok(ids)
    }

    /// Commits the transaction and wakes the relay, so events leave right after the commit.
    ///
    /// In a call with an idempotency key the commit is made when the call has answered, with
    /// the key and the reply in the same transaction ([`crate::replies`]): a use case's commit
    /// is its last step (it must not read its write back through another connection).
    pub async fn commit(
        &self,
        transaction: Transaction<'static, Postgres>,
    ) -> Result<(), sqlx::Error> {
        let Some(transaction) = crate::replies::on_commit(self, transaction).await? else {
            return Ok(());
        };
        transaction.commit().await?;
        self.wake.notify_one();
        Ok(())
    }

    /// Wakes the relay (after a commit made some other way, or an operator replay).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Marks published rows since `since` unpublished so the relay sends them again (after a
/// broker lost data). Consumers are idempotent, so events they already had have no effect.
pub async fn replay_since(pool: &PgPool, since: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(
        "WITH replayed AS (UPDATE outbox SET published_at = NULL, last_error = NULL \
         WHERE published_at IS NOT NULL AND occurred_at >= $1 \
         RETURNING seq, id, aggregate_id, occurred_at) \
         INSERT INTO outbox_pending (seq, id, aggregate_id, occurred_at) \
         SELECT seq, id, aggregate_id, occurred_at FROM replayed ON CONFLICT (seq) DO NOTHING",
    )
    .bind(since)
    .execute(pool)
    .await?;
    Ok(result.rows_affected())
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("outbox database error")]
    Database(#[from] sqlx::Error),
    #[error("publishing event {event_id} failed after {published} of the batch were acknowledged")]
    Publish {
        event_id: Uuid,
        published: usize,
        #[source]
        source: async_nats::jetstream::context::PublishError,
    },
}

#[derive(sqlx::FromRow)]
struct OutboxRow {
    id: Uuid,
    seq: i64,
    subject: String,
    event_type: String,
    aggregate_type: String,
    aggregate_id: String,
    aggregate_version: i64,
    payload: Vec<u8>,
    traceparent: Option<String>,
    occurred_at: DateTime<Utc>,
}

/// Publishes one service's outbox to JetStream.
pub struct OutboxRelay {
    pool: PgPool,
    /// Where the backlog gauges and the clean-up run: the relay's pool unless told otherwise.
    housekeeping_pool: PgPool,
    jetstream: jetstream::Context,
    naming: EventNaming,
    producer: String,
    outbox: Outbox,
    settings: OutboxSettings,
    inbox_retention: Duration,
    metrics: Metrics,
}

impl OutboxRelay {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        pool: PgPool,
        jetstream: jetstream::Context,
        naming: EventNaming,
        producer: impl Into<String>,
        outbox: Outbox,
        settings: OutboxSettings,
        inbox_retention: Duration,
        metrics: Metrics,
    ) -> Self {
        Self {
            housekeeping_pool: pool.clone(),
            pool,
            jetstream,
            naming,
            producer: producer.into(),
            outbox,
            settings,
            inbox_retention,
            metrics,
        }
    }

    /// Runs the gauges and the clean-up on `pool`, so that their statements (deletes of up to
    /// 10,000 rows, a vacuum) never hold the relay's own connection between two batches.
    pub fn with_housekeeping_pool(mut self, pool: PgPool) -> Self {
        self.housekeeping_pool = pool;
        self
    }

    /// Relays until `shutdown`; a batch in flight is finished first.
    pub async fn run(self, shutdown: CancellationToken) {
        let labels = ProducerLabels {
            producer: self.producer.clone(),
        };
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
        // Gauges and clean-up run beside the relay, never between its batches.
        let housekeeping = tokio::spawn(
            Housekeeping {
                pool: self.housekeeping_pool.clone(),
                metrics: self.metrics.clone(),
                labels: labels.clone(),
                retention: self.settings.retention,
                inbox_retention: self.inbox_retention,
            }
            .run(shutdown.clone()),
        );
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            match self.relay_batch().await {
                Ok(published) => {
                    backoff.reset();
                    if published as u32 >= self.settings.batch_size {
                        continue;
                    }
                    if published > 0 && !self.settings.linger.is_zero() {
                        // Busy: let the next commits gather instead of claiming them one by one.
                        tokio::time::sleep(self.settings.linger).await;
                        continue;
                    }
                    tokio::select! {
                        _ = self.outbox.wake.notified() => {}
                        _ = tokio::time::sleep(self.settings.poll_interval) => {}
                        _ = shutdown.cancelled() => break,
                    }
                }
                Err(error) => {
                    self.metrics
                        .outbox_publish_failures
                        .get_or_create(&labels)
                        .inc();
                    tracing::warn!(
                        producer = %self.producer,
                        error = %crate::error::error_chain(&error),
                        "outbox relay failed, retrying"
                    );
                    if !backoff.wait(&shutdown).await {
                        break;
                    }
                }
            }
        }
        let _ = housekeeping.await;
        tracing::debug!(producer = %self.producer, "outbox relay stopped");
    }

    /// Claims, publishes and marks one batch; returns how many events were published.
    pub async fn relay_batch(&self) -> Result<usize, RelayError> {
        // Most wakes find nothing (a consumer wakes its service's relay after every batch it
        // commits, enqueued or not): one look at the queue, instead of a transaction with its
        // lock and claim that only rolls back.
        let queued: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM outbox_pending)")
            .fetch_one(&self.pool)
            .await?;
        if !queued {
            return Ok(0);
        }
        let mut transaction = self.pool.begin().await?;
        // A lost mark only means the event is published again, which JetStream's duplicate
        // window and the consumers' inboxes absorb, so the mark need not wait for a flush.
        sqlx::query("SET LOCAL synchronous_commit = off")
            .execute(&mut *transaction)
            .await?;
        // Alone (exclusive), no other relay holds rows, so aggregate order needs no check.
        // Otherwise take the lock shared, which keeps any relay from going exclusive while
        // this one holds rows, and check.
        let alone: bool = sqlx::query_scalar(
            "SELECT CASE WHEN pg_try_advisory_xact_lock($1) THEN true \
             ELSE (SELECT false FROM (SELECT pg_advisory_xact_lock_shared($1)) AS shared) END",
        )
        .bind(RELAY_LOCK_KEY)
        .fetch_one(&mut *transaction)
        .await?;
        let claimed: Vec<OutboxRow> = sqlx::query_as(
            "SELECT o.id, o.seq, o.subject, o.event_type, o.aggregate_type, o.aggregate_id, \
             o.aggregate_version, o.payload, o.traceparent, o.occurred_at \
             FROM outbox_pending p JOIN outbox o ON o.id = p.id \
             ORDER BY p.seq LIMIT $1 FOR UPDATE OF p SKIP LOCKED",
        )
        .bind(i64::from(self.settings.batch_size))
        .fetch_all(&mut *transaction)
        .await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let rows = if alone {
            claimed
        } else {
            self.without_blocked_aggregates(&mut transaction, claimed)
                .await?
        };

        // Pipelined: every publish is on the wire before the first ack is awaited.
        let mut pending = Vec::with_capacity(rows.len());
        let mut send_error = None;
        for row in &rows {
            match self
                .jetstream
                .send_publish(self.naming.subject(&row.subject), self.message(row))
                .await
            {
                Ok(ack) => pending.push(ack),
                Err(error) => {
                    send_error = Some(error);
                    break;
                }
            }
        }
        let mut acknowledged = Vec::with_capacity(pending.len());
        let mut acknowledged_seqs = Vec::with_capacity(pending.len());
        let mut failure = None;
        for (row, ack) in rows.iter().zip(pending) {
            if failure.is_some() {
                // Dropping the future is fine: the row stays unpublished and is sent again;
                // JetStream drops the copy by Nats-Msg-Id if this one did land.
                continue;
            }
            match ack.await {
                Ok(_) => {
                    acknowledged.push(row.id);
                    acknowledged_seqs.push(row.seq);
                }
                Err(error) => failure = Some((row.id, error)),
            }
        }
        if failure.is_none()
            && let Some(error) = send_error
        {
            failure = Some((rows[acknowledged.len()].id, error));
        }

        if !acknowledged.is_empty() {
            sqlx::query(
                "WITH done AS (DELETE FROM outbox_pending WHERE seq = ANY($1) RETURNING id) \
                 UPDATE outbox SET published_at = now(), attempts = attempts + 1, last_error = NULL \
                 WHERE id IN (SELECT id FROM done)",
            )
            .bind(&acknowledged_seqs)
            .execute(&mut *transaction)
            .await?;
        }
        if let Some((event_id, error)) = &failure {
            sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1")
                .bind(event_id)
                .bind(error.to_string())
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await?;
        let published = acknowledged.len();
        self.metrics
            .outbox_published
            .get_or_create(&ProducerLabels {
                producer: self.producer.clone(),
            })
            .inc_by(published as u64);
        match failure {
            None => Ok(published),
            Some((event_id, source)) => Err(RelayError::Publish {
                event_id,
                published,
                source,
            }),
        }
    }

    /// Drops rows whose aggregate has an earlier unpublished event this relay did not claim:
    /// another replica holds it, and publishing ours first would reorder the aggregate.
    async fn without_blocked_aggregates(
        &self,
        transaction: &mut Transaction<'_, Postgres>,
        claimed: Vec<OutboxRow>,
    ) -> Result<Vec<OutboxRow>, sqlx::Error> {
        let mut first_claimed: HashMap<&str, i64> = HashMap::new();
        for row in &claimed {
            first_claimed.entry(&row.aggregate_id).or_insert(row.seq);
        }
        let aggregate_ids: Vec<&str> = first_claimed.keys().copied().collect();
        let earliest: Vec<(String, i64)> = sqlx::query_as(
            "SELECT aggregate_id, min(seq) FROM outbox_pending \
             WHERE aggregate_id = ANY($1) GROUP BY aggregate_id",
        )
        .bind(&aggregate_ids)
        .fetch_all(&mut **transaction)
        .await?;
        let blocked: Vec<String> = earliest
            .into_iter()
            .filter(|(aggregate_id, min_seq)| {
                first_claimed
                    .get(aggregate_id.as_str())
                    .is_some_and(|claimed_seq| min_seq < claimed_seq)
            })
            .map(|(aggregate_id, _)| aggregate_id)
            .collect();
        if blocked.is_empty() {
            return Ok(claimed);
        }
        tracing::debug!(blocked = blocked.len(), "aggregates held by another relay");
        Ok(claimed
            .into_iter()
            .filter(|row| !blocked.contains(&row.aggregate_id))
            .collect())
    }

    fn message(&self, row: &OutboxRow) -> PublishMessage {
        let id = row.id.to_string();
        let mut message = PublishMessage::build()
            .payload(Bytes::copy_from_slice(&row.payload))
            .message_id(&id)
            .header(headers::EVENT_ID, id.as_str())
            .header(headers::EVENT_TYPE, row.event_type.as_str())
            .header(headers::AGGREGATE_TYPE, row.aggregate_type.as_str())
            .header(headers::AGGREGATE_ID, row.aggregate_id.as_str())
            .header(
                headers::AGGREGATE_VERSION,
                row.aggregate_version.to_string().as_str(),
            )
            .header(headers::OCCURRED_AT, row.occurred_at.to_rfc3339().as_str());
        if let Some(traceparent) = &row.traceparent {
            message = message.header(headers::TRACEPARENT, traceparent.as_str());
        }
        message
    }
}

/// Backlog gauges, and clean-up of published outbox rows and old inbox rows.
struct Housekeeping {
    pool: PgPool,
    metrics: Metrics,
    labels: ProducerLabels,
    retention: Duration,
    inbox_retention: Duration,
}

impl Housekeeping {
    async fn run(self, shutdown: CancellationToken) {
        let mut interval = tokio::time::interval(Duration::from_secs(5));
        loop {
            tokio::select! {
                _ = interval.tick() => self.once().await,
                _ = shutdown.cancelled() => return,
            }
        }
    }

    async fn once(&self) {
        let labels = &self.labels;
        let backlog: Result<(i64, Option<f64>), _> = sqlx::query_as(
            "SELECT count(*), EXTRACT(EPOCH FROM now() - min(occurred_at))::float8 \
             FROM outbox_pending",
        )
        .fetch_one(&self.pool)
        .await;
        match backlog {
            Ok((count, oldest)) => {
                self.metrics.outbox_backlog.get_or_create(labels).set(count);
                self.metrics
                    .outbox_oldest_age_seconds
                    .get_or_create(labels)
                    .set(oldest.unwrap_or(0.0));
            }
            Err(error) => tracing::warn!(%error, "reading outbox backlog failed"),
        }
        // Bounded deletes keep each statement short next to the relay's own work. Ordered by
        // the indexed day, so they walk that index and stop at the first row too young: with
        // stale statistics (a bulk load autovacuum has not analysed yet) a bare LIMIT makes the
        // planner expect the rows early in a sequential scan, and scanning a million rows that
        // none qualify took a second of a core every five (docs/benchmarks.md, "Forecasting").
        let cleanup = sqlx::query(
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox \
             WHERE occurred_at < now() - make_interval(secs => $1) AND published_at IS NOT NULL \
             ORDER BY occurred_at LIMIT 10000)",
        )
        .bind(self.retention.as_secs_f64())
        .execute(&self.pool)
        .await
        .and(
            sqlx::query(
                "DELETE FROM inbox WHERE ctid IN (SELECT ctid FROM inbox \
                 WHERE processed_at < now() - make_interval(secs => $1) \
                 ORDER BY processed_at LIMIT 10000)",
            )
            .bind(self.inbox_retention.as_secs_f64())
            .execute(&self.pool)
            .await,
        );
        if let Err(error) = cleanup {
            tracing::warn!(%error, "outbox/inbox retention clean-up failed");
        }
        // The queue's dead rows — one per event published since — are what every claim steps
        // over until a vacuum removes them; autovacuum looks at a table once a minute at most.
        // The queue is small, so vacuuming it is cheap (a replica's vacuum skips the table
        // while another's runs).
        if let Err(error) = sqlx::raw_sql("VACUUM (SKIP_LOCKED) outbox_pending")
            .execute(&self.pool)
            .await
        {
            tracing::warn!(%error, "vacuuming the outbox queue failed");
        }
    }
}
