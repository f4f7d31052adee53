//! `relay`: outbox relay throughput, commit → JetStream ack.
//!
//! A backlog is written to the outbox first (not timed), then the relay is started and timed
//! until its published counter (incremented after the marking transaction commits) reaches the
//! backlog. Baseline: the same payloads with the same headers published straight to a second
//! stream, pipelined with as many acks in flight as the relay's batch size.

use std::{collections::BTreeMap, collections::VecDeque, time::Duration};

use crm_platform::{
    metrics::ProducerLabels,
    outbox::{Aggregate, Outbox, OutboxRelay},
};
use prost::Message;
use sqlx::PgPool;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{
    report::{Row, ScenarioReport, Target},
    setup::{self, BenchEnv, PRODUCER, RAW_PRODUCER},
};

/// Rows per fill transaction.
const FILL_TRANSACTION_ROWS: usize = 5_000;
/// Concurrent fill transactions.
const FILL_WORKERS: usize = 2;
/// Give up on a drain after this long (the target is 10 s).
const DRAIN_TIMEOUT: Duration = Duration::from_secs(180);

pub async fn run(
    events: usize,
    relay_async_commit: bool,
    overrides: &BTreeMap<String, String>,
) -> anyhow::Result<ScenarioReport> {
    let mut env = BenchEnv::create(overrides).await?;
    let result = measure(&mut env, events, relay_async_commit).await;
    env.cleanup().await;
    result
}

async fn measure(
    env: &mut BenchEnv,
    events: usize,
    relay_async_commit: bool,
) -> anyhow::Result<ScenarioReport> {
    anyhow::ensure!(events > 0, "--events must be at least 1");
    let stream = env.ensure_stream(PRODUCER).await?;
    let pool = env.pool(env.settings.database_max_connections).await?;
    let outbox = Outbox::new();

    // Fill (not timed).
    let fill_started = Instant::now();
    fill(&pool, &outbox, events).await?;
    sqlx::query("ANALYZE outbox").execute(&pool).await?;
    let fill_time = fill_started.elapsed();

    // Drain.
    let published = env
        .metrics
        .outbox_published
        .get_or_create(&ProducerLabels {
            producer: PRODUCER.to_owned(),
        })
        .clone();
    let relay_pool = env.relay_pool(relay_async_commit).await?;
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
    let shutdown = CancellationToken::new();
    let started = Instant::now();
    let relay_task = tokio::spawn(relay.run(shutdown.clone()));
    let drained = loop {
        if published.get() as usize >= events {
            break Some(started.elapsed());
        }
        if started.elapsed() > DRAIN_TIMEOUT {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    shutdown.cancel();
    let _ = relay_task.await;
    let failures = env
        .metrics
        .outbox_publish_failures
        .get_or_create(&ProducerLabels {
            producer: PRODUCER.to_owned(),
        })
        .get();
    let unpublished: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox_pending")
        .fetch_one(&pool)
        .await?;
    let in_stream = stream.get_info().await?.state.messages;
    pool.close().await;
    relay_pool.close().await;
    let Some(drain_time) = drained else {
        anyhow::bail!(
            "the relay published {} of {events} events within {DRAIN_TIMEOUT:?} ({failures} failed batches)",
            published.get()
        );
    };
    anyhow::ensure!(
        unpublished == 0,
        "{unpublished} outbox rows are still unpublished after the relay reported all published"
    );

    // Raw baseline.
    let batch = env.settings.outbox.batch_size as usize;
    let raw_time = raw_publish(env, events, batch).await?;

    let relay_rate = events as f64 / drain_time.as_secs_f64();
    let raw_rate = events as f64 / raw_time.as_secs_f64();
    let mut report = ScenarioReport::new(
        "relay",
        format!("outbox relay throughput, {events} event backlog, commit -> JetStream ack"),
        "relay",
        "raw JetStream",
    );
    report
        .row(Row::new("throughput", "events/s", Some(relay_rate), Some(raw_rate)).target(Target::RatioAtLeast(0.40)))
        .row(Row::new("drain time", "s", Some(drain_time.as_secs_f64()), Some(raw_time.as_secs_f64())).target(Target::AtMost(10.0)))
        .row(Row::new(
            "mean time per batch",
            "ms",
            Some(drain_time.as_secs_f64() * 1000.0 / events.div_ceil(batch) as f64),
            Some(raw_time.as_secs_f64() * 1000.0 / events.div_ceil(batch) as f64),
        ))
        .note(format!(
            "relay batch size {batch} (CRM_OUTBOX_BATCH_SIZE); raw baseline keeps the same number of acks in flight (sliding window)"
        ))
        .note(format!(
            "fill of {events} rows took {:.2} s (not timed; {FILL_WORKERS} writers x {FILL_TRANSACTION_ROWS}-row transactions, then ANALYZE)",
            fill_time.as_secs_f64()
        ))
        .note(format!(
            "stream holds {in_stream} messages; {failures} failed relay batches; 0 rows left unpublished"
        ));
    if relay_async_commit {
        report.note("DIAGNOSTIC RUN: the relay's connections use synchronous_commit=off (--relay-async-commit)");
    }
    if in_stream != events as u64 {
        report.note(format!(
            "WARNING: expected {events} messages in the stream, found {in_stream}"
        ));
    }
    Ok(report)
}

/// Writes `events` outbox rows, one distinct aggregate each, in large transactions.
async fn fill(pool: &PgPool, outbox: &Outbox, events: usize) -> anyhow::Result<()> {
    let chunks: Vec<(usize, usize)> = (0..events)
        .step_by(FILL_TRANSACTION_ROWS)
        .map(|start| (start, (start + FILL_TRANSACTION_ROWS).min(events)))
        .collect();
    let chunks = std::sync::Arc::new(std::sync::Mutex::new(chunks.into_iter()));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..FILL_WORKERS {
        let (pool, outbox, chunks) = (pool.clone(), outbox.clone(), chunks.clone());
        workers.spawn(async move {
            loop {
                let Some((start, end)) = chunks.lock().expect("chunk list").next() else {
                    return Ok::<_, anyhow::Error>(());
                };
                let mut transaction = pool.begin().await?;
                for seq in start..end {
                    let aggregate_id = Uuid::now_v7().to_string();
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
                }
                // A plain commit: the relay is not running yet, there is nobody to wake.
                transaction.commit().await?;
            }
        });
    }
    while let Some(result) = workers.join_next().await {
        result??;
    }
    Ok(())
}

/// Publishes `events` messages like the relay's straight to a second stream, with at most
/// `window` acks outstanding; returns the time until the last ack.
async fn raw_publish(env: &mut BenchEnv, events: usize, window: usize) -> anyhow::Result<Duration> {
    let stream = env.ensure_stream(RAW_PRODUCER).await?;
    let subject = env.subject(RAW_PRODUCER);
    // The same payloads as the outbox rows (ids and aggregates are fresh); encoding them is
    // part of the service's write, not of the relay's work, so it is not timed.
    let prepared: Vec<(Uuid, String, Vec<u8>)> = (0..events)
        .map(|seq| {
            let aggregate_id = Uuid::now_v7().to_string();
            let payload = setup::payload(seq as u64, &aggregate_id).encode_to_vec();
            (Uuid::now_v7(), aggregate_id, payload)
        })
        .collect();
    let started = Instant::now();
    let mut in_flight = VecDeque::with_capacity(window);
    for (seq, (event_id, aggregate_id, payload)) in prepared.iter().enumerate() {
        if in_flight.len() >= window.max(1)
            && let Some(ack) = in_flight.pop_front()
        {
            ack.await?;
        }
        let message = setup::raw_message(*event_id, aggregate_id, seq as u64, payload);
        in_flight.push_back(env.jetstream.send_publish(subject.clone(), message).await?);
    }
    for ack in in_flight {
        ack.await?;
    }
    let elapsed = started.elapsed();
    let in_stream = stream.get_info().await?.state.messages;
    anyhow::ensure!(
        in_stream == events as u64,
        "raw baseline: expected {events} messages in the stream, found {in_stream}"
    );
    Ok(elapsed)
}
