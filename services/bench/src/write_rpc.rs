//! `write-rpc`: write throughput of a create call, against the same writes straight to
//! PostgreSQL.
//!
//! The load generator is generic: [`run_closed_loop`] drives any async operation from N
//! concurrent clients for a fixed time. The baseline, [`run_raw_transaction_baseline`], is the
//! two-row transaction a create call boils down to (one domain row + one outbox row).
//! The RPC figure is a second call of [`run_closed_loop`] with an operation that sends
//! `CreateAccount` to the accounts service, passed to [`report`] next to the baseline; until
//! that exists the report shows the baseline alone.

use std::{
    collections::BTreeMap,
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use crm_platform::outbox::{Aggregate, Outbox};
use sqlx::PgPool;
use tokio::{task::JoinSet, time::Instant};
use uuid::Uuid;

use crate::{
    measure::Latencies,
    report::{Row, ScenarioReport},
    setup::{self, BenchEnv},
};

#[derive(Clone, Copy, Debug)]
pub struct WriteOptions {
    /// Concurrent clients, each with one operation in flight.
    pub clients: usize,
    pub duration: Duration,
}

/// What a closed-loop run achieved.
pub struct LoadFigure {
    pub label: String,
    pub operations: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    pub latency: Latencies,
}

impl LoadFigure {
    /// Successful operations per second.
    pub fn per_second(&self) -> f64 {
        self.operations as f64 / self.elapsed.as_secs_f64()
    }
}

/// Runs `operation(client, iteration)` from `clients` concurrent clients, each starting its next
/// operation when the previous one finished, until `duration` has passed.
pub async fn run_closed_loop<F, Fut>(
    label: impl Into<String>,
    clients: usize,
    duration: Duration,
    operation: F,
) -> LoadFigure
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let operation = Arc::new(operation);
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = JoinSet::new();
    for client in 0..clients.max(1) {
        let (operation, errors) = (operation.clone(), errors.clone());
        tasks.spawn(async move {
            let mut latency = Latencies::new();
            let mut first_error = None;
            let mut iteration = 0u64;
            while Instant::now() < deadline {
                let begun = Instant::now();
                match operation(client, iteration).await {
                    Ok(()) => latency.record(begun.elapsed()),
                    Err(error) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        first_error.get_or_insert_with(|| format!("{error:#}"));
                    }
                }
                iteration += 1;
            }
            (latency, first_error)
        });
    }
    let mut latency = Latencies::new();
    let mut first_error = None;
    while let Some(result) = tasks.join_next().await {
        match result {
            Ok((client_latency, client_error)) => {
                latency.merge(&client_latency);
                if first_error.is_none() {
                    first_error = client_error;
                }
            }
            Err(error) => {
                first_error.get_or_insert_with(|| format!("client task failed: {error}"));
            }
        }
    }
    LoadFigure {
        label: label.into(),
        operations: latency.count(),
        errors: errors.load(Ordering::Relaxed),
        first_error,
        elapsed: started.elapsed(),
        latency,
    }
}

/// Two rows in one transaction straight to PostgreSQL: a `bench_rows` row and its outbox
/// event, committed through the outbox (which wakes a relay if one runs).
pub async fn run_raw_transaction_baseline(
    pool: PgPool,
    outbox: Outbox,
    options: WriteOptions,
) -> LoadFigure {
    run_closed_loop(
        "two-row transaction straight to PostgreSQL",
        options.clients,
        options.duration,
        move |_client, _iteration| {
            let (pool, outbox) = (pool.clone(), outbox.clone());
            async move {
                let id = Uuid::now_v7();
                let aggregate_id = id.to_string();
                let mut transaction = pool.begin().await?;
                sqlx::query("INSERT INTO bench_rows (id, name) VALUES ($1, $2)")
                    .bind(id)
                    .bind("Northwind Traders")
                    .execute(&mut *transaction)
                    .await?;
                outbox
                    .enqueue(
                        &mut transaction,
                        Aggregate {
                            kind: "bench",
                            id: &aggregate_id,
                            version: 1,
                        },
                        &setup::payload(1, &aggregate_id),
                    )
                    .await?;
                outbox.commit(transaction).await?;
                Ok(())
            }
        },
    )
    .await
}

/// The accounts service's write RPCs over gRPC, the service running in this process (its relay
/// publishing the events meanwhile), from `clients` concurrent callers on one HTTP/2 channel:
/// `UpdateAccount` (one row and its outbox row: the platform's write path) and `CreateAccount`
/// (which also searches for duplicates).
pub async fn run_account_rpcs(
    options: WriteOptions,
    nats_url: &str,
) -> anyhow::Result<(LoadFigure, LoadFigure)> {
    use crm_proto::crm::accounts::v1::{
        AccountInput, AccountPatch, CreateAccountRequest, UpdateAccountRequest,
        account_service_client::AccountServiceClient,
    };
    let connections = options.clients.to_string();
    let mut app = crm_test_support::TestApp::spawn_with(
        &[crm_accounts::module()],
        nats_url,
        &[
            ("CRM_DATABASE_MAX_CONNECTIONS", connections.as_str()),
            ("CRM_LOG", "warn"),
        ],
    )
    .await;
    let channel = app.channel().await;
    let token = app.token(&crm_test_support::user("rep", "/northwind/east/east-1"));
    let create_token = token.clone();
    let create = move |name: String| {
        crm_test_support::authorized(
            CreateAccountRequest {
                account: Some(AccountInput {
                    name,
                    ..Default::default()
                }),
                ..Default::default()
            },
            &create_token,
        )
    };
    // Each client updates its own account, so updates do not queue on one row.
    let mut own_accounts = Vec::with_capacity(options.clients);
    for _ in 0..options.clients {
        let response = AccountServiceClient::new(channel.clone())
            .create_account(create(company_name()))
            .await?;
        own_accounts.push(response.into_inner().account.expect("created").id);
    }
    let own_accounts = Arc::new(own_accounts);
    let (update_channel, update_token) = (channel.clone(), token.clone());
    let update = run_closed_loop(
        "gRPC UpdateAccount (row + outbox row)",
        options.clients,
        options.duration,
        move |client, iteration| {
            let mut accounts = AccountServiceClient::new(update_channel.clone());
            let request = crm_test_support::authorized(
                UpdateAccountRequest {
                    account_id: own_accounts[client].clone(),
                    patch: Some(AccountPatch {
                        industry: Some(format!("industry {iteration}")),
                        ..Default::default()
                    }),
                    expected_version: 0,
                },
                &update_token,
            );
            async move {
                accounts.update_account(request).await?;
                Ok(())
            }
        },
    )
    .await;
    let create_channel = channel.clone();
    let created = run_closed_loop(
        "gRPC CreateAccount (with duplicate search)",
        options.clients,
        options.duration,
        move |_client, _iteration| {
            let mut accounts = AccountServiceClient::new(create_channel.clone());
            let request = create(company_name());
            async move {
                accounts.create_account(request).await?;
                Ok(())
            }
        },
    )
    .await;
    let context = app
        .services
        .context("accounts")
        .expect("accounts is hosted");
    let (jetstream, stream) = (context.jetstream.clone(), context.naming.stream("accounts"));
    app.services.shutdown().await?;
    let _ = jetstream.delete_stream(stream).await;
    for database in &app.databases {
        database.pool.close().await;
        let _ = setup::drop_database(&database.name).await;
    }
    Ok((update, created))
}

/// A distinct company-like name of three letter words. Near-identical names ("Account 17")
/// or hex strings would make every create's trigram duplicate search match thousands of rows,
/// which real company names do not.
fn company_name() -> String {
    let random = Uuid::new_v4().as_u128();
    let word = |shift: u32| -> String {
        (0..6)
            .map(|i| (b'a' + ((random >> (shift + i * 5)) % 26) as u8) as char)
            .collect()
    };
    format!("{} {} {}", word(0), word(32), word(64))
}

/// The scenario's table: the RPC figures against the raw baseline with its relay publishing
/// (`raw`), as the service's relay publishes during the RPCs; and against the baseline without
/// a relay (`raw_unpublished`), shown for comparison.
pub fn report(
    update: &LoadFigure,
    create: &LoadFigure,
    raw: &LoadFigure,
    raw_unpublished: &LoadFigure,
    options: WriteOptions,
) -> ScenarioReport {
    let rpc = Some(update);
    let mut report = ScenarioReport::new(
        "write-rpc",
        format!(
            "write throughput, {} concurrent clients for {} s",
            options.clients,
            options.duration.as_secs_f64()
        ),
        "gRPC UpdateAccount",
        "raw 2-row tx + relay",
    );
    report
        .row(
            Row::new(
                "throughput",
                "tx/s",
                rpc.map(LoadFigure::per_second),
                Some(raw.per_second()),
            )
            .target(crate::report::Target::RatioAtLeast(0.5)),
        )
        .row(Row::new(
            "throughput, raw without relay",
            "tx/s",
            rpc.map(LoadFigure::per_second),
            Some(raw_unpublished.per_second()),
        ))
        .row(Row::new(
            "latency p50",
            "ms",
            rpc.and_then(|f| f.latency.ms(0.5)),
            raw.latency.ms(0.5),
        ))
        .row(Row::new(
            "latency p99",
            "ms",
            rpc.and_then(|f| f.latency.ms(0.99)),
            raw.latency.ms(0.99),
        ))
        .row(Row::new(
            "latency max",
            "ms",
            rpc.and_then(|f| f.latency.max_ms()),
            raw.latency.max_ms(),
        ));
    report.row(Row::new(
        "CreateAccount (dedupe)",
        "tx/s",
        Some(create.per_second()),
        Some(raw.per_second()),
    ));
    report.row(Row::new(
        "CreateAccount p99",
        "ms",
        create.latency.ms(0.99),
        raw.latency.ms(0.99),
    ));
    for figure in [update, create, raw, raw_unpublished] {
        report.note(format!(
            "{}: {} operations in {:.2} s, {} errors{}",
            figure.label,
            figure.operations,
            figure.elapsed.as_secs_f64(),
            figure.errors,
            figure
                .first_error
                .as_deref()
                .map(|error| format!(" (first: {error})"))
                .unwrap_or_default()
        ));
    }
    report.note("the RPC also checks the caller's token, looks for duplicate accounts (pg_trgm), serialises creates of one name and records the caller's team; its relay publishes meanwhile");
    report.note("raw 2-row tx + relay: a relay publishes the baseline's events meanwhile, as the service's relay publishes the RPCs' (the same work on the same 2 cores); raw without relay: its outbox rows accumulate unpublished");
    report
}

/// Runs `work` with an outbox whose relay publishes to `producer`'s stream meanwhile, as a
/// service's does.
pub async fn with_relay<F, Fut>(
    env: &mut BenchEnv,
    producer: &'static str,
    work: F,
) -> anyhow::Result<LoadFigure>
where
    F: FnOnce(Outbox) -> Fut,
    Fut: Future<Output = LoadFigure>,
{
    env.ensure_stream(producer).await?;
    let outbox = Outbox::new();
    let relay_pool = env.relay_pool(false).await?;
    let relay = crm_platform::outbox::OutboxRelay::new(
        relay_pool.clone(),
        env.jetstream.clone(),
        env.naming.clone(),
        producer,
        outbox.clone(),
        env.settings.outbox.clone(),
        env.settings.consumer.inbox_retention,
        env.metrics.clone(),
    );
    let shutdown = tokio_util::sync::CancellationToken::new();
    let relay_task = tokio::spawn(relay.run(shutdown.clone()));
    let figure = work(outbox).await;
    shutdown.cancel();
    let _ = relay_task.await;
    relay_pool.close().await;
    Ok(figure)
}

pub async fn run(
    options: WriteOptions,
    overrides: &BTreeMap<String, String>,
) -> anyhow::Result<ScenarioReport> {
    anyhow::ensure!(options.clients > 0, "--clients must be at least 1");
    let mut env = BenchEnv::create(overrides).await?;
    let result = async {
        sqlx::query(
            "CREATE TABLE bench_rows (id uuid PRIMARY KEY, name text, created_at timestamptz DEFAULT now())",
        )
        .execute(&env.database.pool)
        .await?;
        // One connection per client, as a service sized for this concurrency would have.
        let pool = env.pool(options.clients as u32).await?;
        let raw = with_relay(&mut env, "bench", |outbox| {
            run_raw_transaction_baseline(pool.clone(), outbox, options)
        })
        .await?;
        let raw_unpublished =
            run_raw_transaction_baseline(pool.clone(), Outbox::new(), options).await;
        pool.close().await;
        let (update, create) = run_account_rpcs(options, &crm_test_support::nats_url()).await?;
        Ok::<_, anyhow::Error>(report(&update, &create, &raw, &raw_unpublished, options))
    }
    .await;
    env.cleanup().await;
    result
}
