//! `latency`: end-to-end latency, commit → consumer handler, at a fixed offered rate.
//!
//! Platform: each event is its own transaction (enqueue + `Outbox::commit`), sent open-loop at
//! its scheduled time; the relay and an `EventConsumer` run as in a service, and the handler
//! records when it saw each event. Latency is measured from the *scheduled* send time, so any
//! queueing in front of the database is counted (no coordinated omission).
//!
//! Baseline: the same events published straight to JetStream (awaiting the publish ack) at the
//! same schedule, read by a durable pull consumer that acks after receiving.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use async_nats::jetstream::{
    self,
    consumer::{AckPolicy, DeliverPolicy, pull},
};
use crm_platform::{
    consumer::{ConsumerSpec, EventConsumer, EventHandler, HandlerFuture, ReceivedEvent},
    outbox::{Aggregate, Outbox, OutboxRelay},
};
use crm_proto::crm::common::v1::EventMetadata;
use futures::StreamExt;
use prost::Message;
use sqlx::PgConnection;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{
    measure::{self, Arrivals, Latencies, Schedule, SendOutcome},
    report::{Row, ScenarioReport, Target},
    setup::{self, BenchEnv, PRODUCER, RAW_PRODUCER},
};

/// How long after the last scheduled send the run waits for stragglers.
const DRAIN_GRACE: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, Debug)]
pub struct LatencyOptions {
    /// Offered events per second.
    pub rate: f64,
    /// Measured duration (a one-second warm-up comes before it).
    pub duration: Duration,
    /// Diagnostic: the relay commits with `synchronous_commit=off`.
    pub relay_async_commit: bool,
}

impl LatencyOptions {
    fn warmup(&self) -> usize {
        self.rate.ceil() as usize
    }

    fn measured(&self) -> usize {
        (self.rate * self.duration.as_secs_f64()).round() as usize
    }

    fn total(&self) -> usize {
        self.warmup() + self.measured()
    }
}

pub async fn run(
    options: LatencyOptions,
    overrides: &BTreeMap<String, String>,
) -> anyhow::Result<ScenarioReport> {
    anyhow::ensure!(options.rate > 0.0, "--rate must be positive");
    anyhow::ensure!(
        options.measured() > 0,
        "--rate x --duration-secs gives no events"
    );
    let mut env = BenchEnv::create(overrides).await?;
    let result = measure(&mut env, options).await;
    env.cleanup().await;
    result
}

/// What one phase (platform or raw) measured.
struct Phase {
    /// Scheduled send → handler (or receive).
    end_to_end: Latencies,
    /// Scheduled send → commit returned (or publish acked).
    send: Latencies,
    /// Commit returned (or publish acked) → handler (or receive).
    delivery: Latencies,
    /// Platform only: commit → stored in the stream, and stored → handler.
    stages: Option<(Latencies, Latencies)>,
    outcome: SendOutcome,
}

async fn measure(env: &mut BenchEnv, options: LatencyOptions) -> anyhow::Result<ScenarioReport> {
    let platform = platform_phase(env, options).await?;
    let raw = raw_phase(env, options).await?;

    let mut report = ScenarioReport::new(
        "latency",
        format!(
            "end-to-end latency at {} events/s for {} s, scheduled send -> consumer handler",
            options.rate,
            options.duration.as_secs_f64()
        ),
        "platform",
        "raw JetStream",
    );
    let (p, r) = (&platform.end_to_end, &raw.end_to_end);
    report
        .row(Row::new("p50", "ms", p.ms(0.5), r.ms(0.5)))
        .row(Row::new("p99", "ms", p.ms(0.99), r.ms(0.99)).target(Target::AtMost(10.0)))
        .row(Row::new("p999", "ms", p.ms(0.999), r.ms(0.999)))
        .row(Row::new("max", "ms", p.max_ms(), r.max_ms()))
        .row(Row::new("mean", "ms", p.mean_ms(), r.mean_ms()))
        .row(Row::new("delivered", "events", Some(p.count() as f64), Some(r.count() as f64)).target(Target::AtLeast(options.measured() as f64)))
        .row(Row::new("p50 from commit", "ms", platform.delivery.ms(0.5), r.ms(0.5)))
        .row(Row::new("p99 from commit", "ms", platform.delivery.ms(0.99), r.ms(0.99)))
        .note(format!(
            "open loop: {} measured events after a {}-event warm-up (excluded); p50..mean count from each event's scheduled send time, so the producer's own transaction (and any wait for a connection) is included",
            options.measured(),
            options.warmup()
        ))
        .note("'from commit' rows: platform from the producer's commit returning to the handler, next to the raw path's whole scheduled -> received")
        .note(format!(
            "platform, scheduled -> commit returned: {}",
            platform.send.summary()
        ))
        .note(format!(
            "platform, commit returned -> handler: {}",
            platform.delivery.summary()
        ))
        .note(format!(
            "platform, commit returned -> in stream (relay): {}",
            platform.stages.as_ref().map(|(relay, _)| relay.summary()).unwrap_or_default()
        ))
        .note(format!(
            "platform, in stream -> handler (consumer): {}",
            platform.stages.as_ref().map(|(_, consumer)| consumer.summary()).unwrap_or_default()
        ))
        .note(format!("raw, scheduled -> publish acked: {}", raw.send.summary()))
        .note(format!("raw, publish acked -> received: {}", raw.delivery.summary()))
        .note(format!(
            "relay batch {} / consumer batch {} / pool {} connections",
            env.settings.outbox.batch_size, env.settings.consumer.batch_size, env.settings.database_max_connections
        ));
    if options.relay_async_commit {
        report.note("DIAGNOSTIC RUN: the relay's connections use synchronous_commit=off (--relay-async-commit)");
    }
    for (name, phase) in [("platform", &platform), ("raw", &raw)] {
        if phase.outcome.errors > 0 {
            report.note(format!(
                "WARNING: {name}: {} of {} sends failed, first: {}",
                phase.outcome.errors,
                phase.outcome.sent,
                phase.outcome.first_error.as_deref().unwrap_or("?")
            ));
        }
        if phase.outcome.worst_spawn_lag > Duration::from_millis(5) {
            report.note(format!(
                "{name}: the pacer fell behind by up to {:.1} ms (counted in the latencies)",
                phase.outcome.worst_spawn_lag.as_secs_f64() * 1000.0
            ));
        }
    }
    Ok(report)
}

/// Records when the handler saw each event (the sequence number is the aggregate version).
struct RecordArrival {
    arrivals: Arc<Arrivals>,
}

impl EventHandler for RecordArrival {
    fn handle<'a>(
        &'a self,
        _connection: &'a mut PgConnection,
        event: &'a ReceivedEvent,
    ) -> HandlerFuture<'a> {
        Box::pin(async move {
            let metadata: EventMetadata = event.decode()?;
            self.arrivals.record(metadata.aggregate_version as usize);
            Ok(())
        })
    }
}

async fn platform_phase(env: &mut BenchEnv, options: LatencyOptions) -> anyhow::Result<Phase> {
    let stream = env.ensure_stream(PRODUCER).await?;
    // The producing service's pool (its writes and its relay) and, as if in another service,
    // the consumer's.
    let pool = env.pool(env.settings.database_max_connections).await?;
    let consumer_pool = env.database.pool.clone();
    let outbox = Outbox::new();
    let total = options.total();
    let base = Instant::now();
    let committed = Arc::new(Arrivals::new(base, total));
    let handled = Arc::new(Arrivals::new(base, total));

    let shutdown = CancellationToken::new();
    let relay_pool = env.relay_pool(options.relay_async_commit).await?;
    let relay = OutboxRelay::new(
        relay_pool.clone(),
        env.jetstream.clone(),
        env.naming.clone(),
        PRODUCER,
        outbox.clone(),
        env.settings.outbox.clone(),
        env.settings.consumer.inbox_retention,
        env.metrics.clone(),
    );
    let relay_task = tokio::spawn(relay.run(shutdown.clone()));
    let consumer = EventConsumer::new(
        consumer_pool,
        env.jetstream.clone(),
        env.naming.clone(),
        ConsumerSpec {
            name: "bench-latency".to_owned(),
            producer: PRODUCER.to_owned(),
            subjects: vec![setup::base_subject(PRODUCER)],
        },
        env.settings.consumer.clone(),
        Arc::new(RecordArrival {
            arrivals: handled.clone(),
        }),
        env.metrics.clone(),
    );
    consumer.ensure().await?;
    let consumer_task = tokio::spawn(consumer.run(shutdown.clone()));
    // A light observer on the same stream (no acks, no database) splits the path into relay
    // (commit -> stored in the stream) and consumer (stored -> handler).
    let in_stream = Arc::new(Arrivals::new(base, total));
    let observer_task = observe(
        &stream,
        env.subject(PRODUCER),
        "bench-observer",
        AckPolicy::None,
        in_stream.clone(),
        shutdown.clone(),
    )
    .await?;

    let schedule = Schedule::new(options.rate, total, Duration::from_millis(200));
    let outcome = measure::open_loop(schedule, |seq| {
        let (pool, outbox, committed) = (pool.clone(), outbox.clone(), committed.clone());
        async move {
            let aggregate_id = Uuid::now_v7().to_string();
            let mut transaction = pool.begin().await?;
            outbox
                .enqueue(
                    &mut transaction,
                    Aggregate {
                        kind: "bench",
                        id: &aggregate_id,
                        version: seq as i64,
                    },
                    &setup::payload(seq as u64, &aggregate_id),
                )
                .await?;
            outbox.commit(transaction).await?;
            committed.record(seq);
            Ok(())
        }
    })
    .await;
    handled.wait_all(schedule.end() + DRAIN_GRACE).await;
    shutdown.cancel();
    let _ = relay_task.await;
    let _ = consumer_task.await;
    let _ = observer_task.await;
    pool.close().await;
    relay_pool.close().await;
    let mut phase = phase(schedule, options, &committed, &handled, outcome);
    let measured = options.warmup()..options.total();
    phase.stages = Some((
        Latencies::between(
            measured.clone(),
            |seq| committed.at(seq),
            |seq| in_stream.at(seq),
        ),
        Latencies::between(measured, |seq| in_stream.at(seq), |seq| handled.at(seq)),
    ));
    Ok(phase)
}

async fn raw_phase(env: &mut BenchEnv, options: LatencyOptions) -> anyhow::Result<Phase> {
    let stream = env.ensure_stream(RAW_PRODUCER).await?;
    let subject = env.subject(RAW_PRODUCER);
    let total = options.total();
    let base = Instant::now();
    let acked = Arc::new(Arrivals::new(base, total));
    let received = Arc::new(Arrivals::new(base, total));

    let shutdown = CancellationToken::new();
    let consumer_task = observe(
        &stream,
        subject.clone(),
        "bench-raw",
        AckPolicy::Explicit,
        received.clone(),
        shutdown.clone(),
    )
    .await?;

    let schedule = Schedule::new(options.rate, total, Duration::from_millis(200));
    let outcome = measure::open_loop(schedule, |seq| {
        let (jetstream, subject, acked) = (env.jetstream.clone(), subject.clone(), acked.clone());
        async move {
            let aggregate_id = Uuid::now_v7().to_string();
            let payload = setup::payload(seq as u64, &aggregate_id).encode_to_vec();
            let message = setup::raw_message(Uuid::now_v7(), &aggregate_id, seq as u64, &payload);
            jetstream.send_publish(subject, message).await?.await?;
            acked.record(seq);
            Ok(())
        }
    })
    .await;
    received.wait_all(schedule.end() + DRAIN_GRACE).await;
    shutdown.cancel();
    let _ = consumer_task.await;
    Ok(phase(schedule, options, &acked, &received, outcome))
}

fn phase(
    schedule: Schedule,
    options: LatencyOptions,
    sent: &Arrivals,
    seen: &Arrivals,
    outcome: SendOutcome,
) -> Phase {
    let measured = options.warmup()..options.total();
    let scheduled = |seq| Some(schedule.at(seq));
    Phase {
        end_to_end: Latencies::between(measured.clone(), scheduled, |seq| seen.at(seq)),
        send: Latencies::between(measured.clone(), scheduled, |seq| sent.at(seq)),
        delivery: Latencies::between(measured, |seq| sent.at(seq), |seq| seen.at(seq)),
        stages: None,
        outcome,
    }
}

/// A pull consumer that records when each event (by sequence number) arrived, acking it when
/// the policy asks for acks. Runs until `shutdown`.
async fn observe(
    stream: &jetstream::stream::Stream,
    subject: String,
    name: &str,
    ack_policy: AckPolicy,
    arrivals: Arc<Arrivals>,
    shutdown: CancellationToken,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let consumer = stream
        .create_consumer(pull::Config {
            durable_name: Some(name.to_owned()),
            filter_subject: subject,
            deliver_policy: DeliverPolicy::All,
            ack_policy,
            max_ack_pending: 10_000,
            ..Default::default()
        })
        .await?;
    let mut messages = consumer.messages().await?;
    let acks = ack_policy != AckPolicy::None;
    Ok(tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                next = messages.next() => match next {
                    Some(Ok(message)) => {
                        if let Ok(metadata) = EventMetadata::decode(message.payload.clone()) {
                            arrivals.record(metadata.aggregate_version as usize);
                        }
                        if acks && let Err(error) = message.ack().await {
                            eprintln!("warning: pull consumer ack failed: {error}");
                        }
                    }
                    Some(Err(error)) => eprintln!("warning: pull consumer: {error}"),
                    None => break,
                }
            }
        }
    }))
}
