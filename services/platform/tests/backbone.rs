//! The event backbone against real PostgreSQL and NATS: nothing lost, nothing applied twice.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_nats::jetstream::{self, message::PublishMessage};
use crm_platform::{
    config::Settings,
    consumer::{
        ConsumerSpec, EventConsumer, EventHandler, HandlerError, HandlerFuture, ReceivedEvent,
    },
    events::{self, DomainEvent, EventNaming, headers},
    host::connect_nats,
    metrics::{ConsumerLabels, Metrics, ProducerLabels},
    outbox::{Aggregate, Outbox, OutboxRelay},
    telemetry,
};
use crm_proto::crm::common::v1::EventMetadata as TestEvent;
use crm_test_support::{NatsServer, TestDatabase, eventually, nats_url, test_settings, unique_id};
use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const PRODUCER: &str = "common";

/// Records every application in a table with no unique key, so a second application of the
/// same event would show up as a second row.
struct RecordingHandler {
    fail_first_deliveries: i64,
    /// Fails the first delivery of this aggregate's events only.
    fail_first_delivery_of: Option<String>,
    always_fail: bool,
    trace_ids: Arc<Mutex<HashMap<String, String>>>,
    /// Takes a batch's events at once (`handle_many`), recording each batch's size.
    takes_batches: bool,
    batch_sizes: Arc<Mutex<Vec<usize>>>,
}

impl RecordingHandler {
    fn new() -> Self {
        Self {
            fail_first_deliveries: 0,
            fail_first_delivery_of: None,
            always_fail: false,
            trace_ids: Arc::default(),
            takes_batches: false,
            batch_sizes: Arc::default(),
        }
    }
}

impl EventHandler for RecordingHandler {
    fn handle<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a ReceivedEvent,
    ) -> HandlerFuture<'a> {
        Box::pin(async move {
            if self.always_fail {
                return Err(HandlerError::Transient(anyhow::anyhow!(
                    "downstream is broken"
                )));
            }
            if event.deliveries == 1
                && self.fail_first_delivery_of.as_deref() == Some(event.aggregate_id.as_str())
            {
                return Err(HandlerError::Transient(anyhow::anyhow!(
                    "this one is flaky"
                )));
            }
            if event.deliveries <= self.fail_first_deliveries {
                return Err(HandlerError::Transient(anyhow::anyhow!("flaky dependency")));
            }
            let payload: TestEvent = event.decode()?;
            self.trace_ids.lock().unwrap().insert(
                payload.aggregate_id.clone(),
                telemetry::trace_id(&tracing::Span::current()),
            );
            sqlx::query(
                "INSERT INTO applied (event_id, aggregate_id, version) VALUES ($1, $2, $3)",
            )
            .bind(event.id)
            .bind(&event.aggregate_id)
            .bind(event.aggregate_version)
            .execute(connection)
            .await?;
            Ok(())
        })
    }

    fn handle_many<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        events: &'a [ReceivedEvent],
    ) -> Option<HandlerFuture<'a>> {
        if !self.takes_batches {
            return None;
        }
        self.batch_sizes.lock().unwrap().push(events.len());
        Some(Box::pin(async move {
            for event in events {
                self.handle(connection, event).await?;
            }
            Ok(())
        }))
    }
}

struct Backbone {
    database: TestDatabase,
    settings: Settings,
    naming: EventNaming,
    jetstream: jetstream::Context,
    outbox: Outbox,
    metrics: Metrics,
    shutdown: CancellationToken,
}

impl Backbone {
    async fn new(nats_url: &str) -> Self {
        let database = TestDatabase::platform_only().await;
        sqlx::query("CREATE TABLE applied (event_id uuid NOT NULL, aggregate_id text NOT NULL, version bigint NOT NULL)")
            .execute(&database.pool)
            .await
            .unwrap();
        let namespace = unique_id();
        let settings = test_settings(&namespace, &[], nats_url);
        let jetstream = connect_nats(&settings).await.unwrap();
        let naming = EventNaming::new(Some(namespace));
        Self {
            database,
            settings,
            naming,
            jetstream,
            outbox: Outbox::new(),
            metrics: Metrics::new(),
            shutdown: CancellationToken::new(),
        }
    }

    fn pool(&self) -> &PgPool {
        &self.database.pool
    }

    async fn ensure_stream(&self) {
        events::ensure_stream(
            &self.jetstream,
            &self.naming,
            PRODUCER,
            Duration::from_secs(120),
        )
        .await
        .unwrap();
    }

    fn relay(&self, metrics: Metrics) -> OutboxRelay {
        OutboxRelay::new(
            self.pool().clone(),
            self.jetstream.clone(),
            self.naming.clone(),
            PRODUCER,
            self.outbox.clone(),
            self.settings.outbox.clone(),
            self.settings.consumer.inbox_retention,
            metrics,
        )
    }

    fn start_relay(&self) {
        tokio::spawn(self.relay(self.metrics.clone()).run(self.shutdown.clone()));
    }

    fn start_consumer(&self, handler: RecordingHandler, max_deliver: u32) {
        let mut settings = self.settings.consumer.clone();
        settings.max_deliver = max_deliver;
        let consumer = EventConsumer::new(
            self.pool().clone(),
            self.jetstream.clone(),
            self.naming.clone(),
            ConsumerSpec {
                name: "test-recorder".into(),
                producer: PRODUCER.into(),
                subjects: vec![TestEvent::subject()],
            },
            settings,
            Arc::new(handler),
            self.metrics.clone(),
        );
        tokio::spawn(consumer.run(self.shutdown.clone()));
    }

    /// One event per transaction, as a service writes them.
    async fn write_events(&self, aggregates: usize, versions: i64) {
        for version in 1..=versions {
            for aggregate in 0..aggregates {
                let aggregate_id = format!("agg-{aggregate}");
                let mut transaction = self.pool().begin().await.unwrap();
                let event = TestEvent {
                    aggregate_id: aggregate_id.clone(),
                    aggregate_version: version as u64,
                    ..Default::default()
                };
                self.outbox
                    .enqueue(
                        &mut transaction,
                        Aggregate {
                            kind: "test",
                            id: &aggregate_id,
                            version,
                        },
                        &event,
                    )
                    .await
                    .unwrap();
                self.outbox.commit(transaction).await.unwrap();
            }
        }
    }

    async fn applied_counts(&self) -> (i64, i64) {
        sqlx::query_as("SELECT count(*), count(DISTINCT event_id) FROM applied")
            .fetch_one(self.pool())
            .await
            .unwrap()
    }

    async fn stream_messages(&self) -> u64 {
        let mut stream = self
            .jetstream
            .get_stream(self.naming.stream(PRODUCER))
            .await
            .unwrap();
        stream.info().await.unwrap().state.messages
    }

    async fn cleanup(&self) {
        self.shutdown.cancel();
        for stream in [
            self.naming.stream(PRODUCER),
            self.naming.dead_letter_stream(),
        ] {
            let _ = self.jetstream.delete_stream(stream).await;
        }
    }
}

#[tokio::test]
async fn outbox_delivers_every_event_exactly_once_across_a_nats_outage() {
    let mut nats = NatsServer::start().await;
    let backbone = Backbone::new(&nats.url()).await;
    backbone.ensure_stream().await;
    backbone.start_relay();
    backbone.start_consumer(RecordingHandler::new(), 5);

    // The broker goes down; the service keeps accepting writes into its outbox.
    nats.stop().await;
    backbone.write_events(20, 10).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let unpublished: i64 =
        sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            .fetch_one(backbone.pool())
            .await
            .unwrap();
    assert_eq!(
        unpublished, 200,
        "nothing can be published while NATS is down"
    );
    assert_eq!(
        queued(backbone.pool()).await,
        200,
        "the queue holds what waits"
    );

    nats.restart().await;
    eventually(
        Duration::from_secs(30),
        "all 200 events applied",
        || async { backbone.applied_counts().await.0 >= 200 },
    )
    .await;
    // Give any duplicate a chance to arrive before asserting there is none.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(backbone.applied_counts().await, (200, 200));
    assert_eq!(backbone.stream_messages().await, 200);
    let published: i64 =
        sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL")
            .fetch_one(backbone.pool())
            .await
            .unwrap();
    assert_eq!(published, 200);
    assert_eq!(
        queued(backbone.pool()).await,
        0,
        "the queue is empty once all is published"
    );
    backbone.cleanup().await;
}

/// Rows in the relay's queue (`outbox_pending`).
async fn queued(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM outbox_pending")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Every writer of the outbox queues what it writes unpublished, one row or many in a
/// statement (the trigger of platform migration 11), and nothing already published.
#[tokio::test]
async fn every_unpublished_row_written_to_the_outbox_is_queued_once() {
    let database = TestDatabase::platform_only().await;
    let insert = |published: bool, count: i64| {
        sqlx::query(
            "INSERT INTO outbox (id, subject, event_type, aggregate_type, aggregate_id, \
             aggregate_version, payload, published_at) \
             SELECT gen_random_uuid(), 's', 't', 'a', 'x' || n, n, '\\x00', \
             CASE WHEN $1 THEN now() END FROM generate_series(1, $2) n",
        )
        .bind(published)
        .bind(count)
    };
    insert(false, 1).execute(&database.pool).await.unwrap();
    insert(false, 50).execute(&database.pool).await.unwrap();
    insert(true, 5).execute(&database.pool).await.unwrap();
    let (queued_rows, matching): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE p.id = o.id AND p.aggregate_id = o.aggregate_id \
         AND p.occurred_at = o.occurred_at AND o.published_at IS NULL) \
         FROM outbox_pending p JOIN outbox o ON o.seq = p.seq",
    )
    .fetch_one(&database.pool)
    .await
    .unwrap();
    assert_eq!((queued_rows, matching), (51, 51));
}

/// Services start in any order: a consumer whose producer has not created its stream yet
/// waits for it and reads the first events moments after it appears — not after a backoff
/// grown over the wait (it had reached 10 s before the stream came).
#[tokio::test]
async fn a_consumer_started_before_its_stream_reads_the_first_events_at_once() {
    let backbone = Backbone::new(&nats_url()).await;
    backbone.start_consumer(RecordingHandler::new(), 5);
    // Longer than the backoff takes to reach its 10 s ceiling (0.2 + 0.4 + … + 6.4 s).
    tokio::time::sleep(Duration::from_secs(13)).await;
    backbone.ensure_stream().await;
    backbone.start_relay();
    backbone.write_events(1, 1).await;
    let started = std::time::Instant::now();
    eventually(
        Duration::from_secs(20),
        "the first event applied",
        || async { backbone.applied_counts().await.0 >= 1 },
    )
    .await;
    // The old backoff would next have looked at 22.6 s, 9.6 s after the stream appeared.
    assert!(
        started.elapsed() < Duration::from_secs(7),
        "the first event took {:?}",
        started.elapsed()
    );
    backbone.cleanup().await;
}

#[tokio::test]
async fn a_redelivered_event_is_applied_once() {
    let backbone = Backbone::new(&nats_url()).await;
    backbone.ensure_stream().await;
    // The same event (same Crm-Event-Id) arrives twice, as after a lost ack or an operator
    // replay outside JetStream's duplicate window (a new Nats-Msg-Id defeats broker dedupe).
    let event_id = Uuid::now_v7().to_string();
    let payload = prost::Message::encode_to_vec(&TestEvent {
        aggregate_id: "agg-1".into(),
        ..Default::default()
    });
    for copy in 0..2 {
        backbone
            .jetstream
            .send_publish(
                backbone.naming.subject(&TestEvent::subject()),
                PublishMessage::build()
                    .payload(payload.clone().into())
                    .message_id(format!("{event_id}-{copy}"))
                    .header(headers::EVENT_ID, event_id.as_str())
                    .header(headers::AGGREGATE_ID, "agg-1"),
            )
            .await
            .unwrap()
            .await
            .unwrap();
    }
    // And a handler that fails the first delivery of every event makes JetStream redeliver.
    let mut handler = RecordingHandler::new();
    handler.fail_first_deliveries = 1;
    backbone.start_consumer(handler, 5);

    eventually(Duration::from_secs(20), "the event applied", || async {
        backbone.applied_counts().await.0 >= 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(backbone.applied_counts().await, (1, 1));
    let labels = ConsumerLabels {
        consumer: "test-recorder".into(),
    };
    assert!(
        backbone
            .metrics
            .consumer_redeliveries
            .get_or_create(&labels)
            .get()
            >= 1
    );
    backbone.cleanup().await;
}

#[tokio::test]
async fn two_relays_on_one_outbox_publish_each_event_once_in_aggregate_order() {
    let backbone = Backbone::new(&nats_url()).await;
    backbone.ensure_stream().await;
    backbone.write_events(40, 25).await;

    // Two replicas with their own metrics, so each one's publishes can be counted.
    let (metrics_a, metrics_b) = (Metrics::new(), Metrics::new());
    let (relay_a, relay_b) = (
        backbone.relay(metrics_a.clone()),
        backbone.relay(metrics_b.clone()),
    );
    let drain = |relay: OutboxRelay| async move {
        let mut idle_rounds = 0;
        while idle_rounds < 3 {
            if relay.relay_batch().await.unwrap() == 0 {
                idle_rounds += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            } else {
                idle_rounds = 0;
            }
        }
    };
    tokio::join!(drain(relay_a), drain(relay_b));

    let labels = ProducerLabels {
        producer: PRODUCER.into(),
    };
    let published_a = metrics_a.outbox_published.get_or_create(&labels).get();
    let published_b = metrics_b.outbox_published.get_or_create(&labels).get();
    assert_eq!(
        published_a + published_b,
        1000,
        "each event published exactly once"
    );
    assert_eq!(backbone.stream_messages().await, 1000);

    // Read the stream back: every aggregate's versions arrive in order.
    let stream = backbone
        .jetstream
        .get_stream(backbone.naming.stream(PRODUCER))
        .await
        .unwrap();
    let mut last_version: HashMap<String, i64> = HashMap::new();
    for sequence in 1..=1000u64 {
        let message = stream.get_raw_message(sequence).await.unwrap();
        let aggregate = message
            .headers
            .get(headers::AGGREGATE_ID)
            .unwrap()
            .as_str()
            .to_owned();
        let version: i64 = message
            .headers
            .get(headers::AGGREGATE_VERSION)
            .unwrap()
            .as_str()
            .parse()
            .unwrap();
        let previous = last_version.insert(aggregate.clone(), version).unwrap_or(0);
        assert_eq!(
            version,
            previous + 1,
            "aggregate {aggregate} out of order at stream seq {sequence}"
        );
    }
    backbone.cleanup().await;
}

#[tokio::test]
async fn a_poison_event_goes_to_the_dead_letter_stream_after_the_retry_limit() {
    let backbone = Backbone::new(&nats_url()).await;
    backbone.ensure_stream().await;
    events::ensure_dead_letter_stream(&backbone.jetstream, &backbone.naming)
        .await
        .unwrap();
    backbone.start_relay();
    let mut handler = RecordingHandler::new();
    handler.always_fail = true;
    backbone.start_consumer(handler, 2);
    backbone.write_events(1, 1).await;

    let labels = ConsumerLabels {
        consumer: "test-recorder".into(),
    };
    eventually(Duration::from_secs(20), "one dead letter", || async {
        backbone
            .metrics
            .consumer_dead_letters
            .get_or_create(&labels)
            .get()
            == 1
    })
    .await;
    let dead_letters = backbone
        .jetstream
        .get_stream(backbone.naming.dead_letter_stream())
        .await
        .unwrap();
    let message = dead_letters.get_raw_message(1).await.unwrap();
    assert!(
        message
            .headers
            .get(headers::DEAD_LETTER_REASON)
            .unwrap()
            .as_str()
            .contains("downstream is broken")
    );
    assert_eq!(
        message.headers.get(headers::DELIVERIES).unwrap().as_str(),
        "2"
    );
    assert_eq!(backbone.applied_counts().await.0, 0);
    backbone.cleanup().await;
}

#[tokio::test]
async fn the_consumer_span_continues_the_producer_trace() {
    let backbone = Backbone::new(&nats_url()).await;
    backbone.ensure_stream().await;
    backbone.start_relay();
    let handler = RecordingHandler::new();
    let trace_ids = handler.trace_ids.clone();
    backbone.start_consumer(handler, 5);

    let span = tracing::info_span!("produce");
    let producer_trace_id = telemetry::trace_id(&span);
    {
        let _entered = span.enter();
        backbone.write_events(1, 1).await;
    }
    eventually(Duration::from_secs(10), "event consumed", || async {
        trace_ids.lock().unwrap().contains_key("agg-0")
    })
    .await;
    assert_eq!(trace_ids.lock().unwrap()["agg-0"], producer_trace_id);
    assert_ne!(producer_trace_id, "00000000000000000000000000000000");
    backbone.cleanup().await;
}

#[tokio::test]
async fn replay_republishes_events_and_consumers_ignore_what_they_had() {
    let backbone = Backbone::new(&nats_url()).await;
    backbone.ensure_stream().await;
    backbone.start_relay();
    backbone.start_consumer(RecordingHandler::new(), 5);
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    backbone.write_events(5, 2).await;
    eventually(Duration::from_secs(10), "10 events applied", || async {
        backbone.applied_counts().await.0 == 10
    })
    .await;

    let replayed = crm_platform::outbox::replay_since(backbone.pool(), before)
        .await
        .unwrap();
    assert_eq!(replayed, 10);
    backbone.outbox.wake();
    eventually(
        Duration::from_secs(10),
        "replayed rows published again",
        || async {
            let unpublished: i64 =
                sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                    .fetch_one(backbone.pool())
                    .await
                    .unwrap();
            unpublished == 0
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(backbone.applied_counts().await, (10, 10));
    backbone.cleanup().await;
}

/// Ten events arriving as one batch, the first delivery of one failing: the nine others are
/// applied once, the failing one on its redelivery. Answers the sizes of the batches a handler
/// taking them at once was given.
async fn one_failing_event_of_a_batch(takes_batches: bool) -> Vec<usize> {
    let backbone = Backbone::new(&nats_url()).await;
    backbone.ensure_stream().await;
    // Written before the consumer starts, so they arrive as one batch.
    backbone.write_events(10, 1).await;
    backbone.start_relay();
    eventually(
        Duration::from_secs(10),
        "10 events in the stream",
        || async { backbone.stream_messages().await == 10 },
    )
    .await;
    let mut handler = RecordingHandler::new();
    handler.fail_first_delivery_of = Some("agg-3".into());
    handler.takes_batches = takes_batches;
    let batch_sizes = handler.batch_sizes.clone();
    backbone.start_consumer(handler, 5);

    eventually(
        Duration::from_secs(5),
        "the 9 healthy events applied",
        || async { backbone.applied_counts().await.0 >= 9 },
    )
    .await;
    eventually(
        Duration::from_secs(20),
        "the flaky one applied on redelivery",
        || async { backbone.applied_counts().await.0 >= 10 },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(backbone.applied_counts().await, (10, 10));
    backbone.cleanup().await;
    batch_sizes.lock().unwrap().clone()
}

#[tokio::test]
async fn one_failing_event_in_a_batch_does_not_hold_back_or_duplicate_the_others() {
    assert!(one_failing_event_of_a_batch(false).await.is_empty());
}

#[tokio::test]
async fn a_handler_taking_batches_gets_them_at_once_and_a_failure_falls_back_to_one_by_one() {
    let sizes = one_failing_event_of_a_batch(true).await;
    // The ten together (the failing attempt), then the redelivered one alone.
    assert!(sizes.iter().any(|&size| size > 1), "batches: {sizes:?}");
    assert_eq!(sizes.last(), Some(&1), "batches: {sizes:?}");
}

/// The outbox is vacuumed by PostgreSQL's own settings (migration 10 reset what migration 9
/// set: vacuuming a million-row outbox after every 10,000 changes, unthrottled, slowed the relay
/// at a million deals by a factor of thirty).
#[tokio::test]
async fn the_outbox_is_vacuumed_by_postgresql_s_own_settings() {
    let database = TestDatabase::platform_only().await;
    let options: Option<Vec<String>> =
        sqlx::query_scalar("SELECT reloptions FROM pg_class WHERE relname = 'outbox'")
            .fetch_one(&database.pool)
            .await
            .unwrap();
    assert_eq!(options.unwrap_or_default(), Vec::<String>::new());
}
