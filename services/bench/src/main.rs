//! `crm-bench`: the platform's performance figures next to raw PostgreSQL and JetStream
//! baselines, on the machine at hand.
//!
//! Each scenario runs in its own fresh database and event namespace and removes its streams
//! and database at the end, so runs never see each other.
//!
//! ```text
//! crm-bench relay --events 50000
//! crm-bench latency --rate 1000 --duration-secs 10
//! crm-bench write-rpc --clients 16 --duration-secs 10
//! crm-bench import --rows 1000000
//! crm-bench gateway --clients 32 --duration-secs 10
//! crm-bench priority-board --duration-secs 10
//! crm-bench funnel --deals 1000000 --duration-secs 10
//! crm-bench stage-change --clients 16 --duration-secs 10
//! crm-bench forecast --deals 1000000 --rate 1000 --duration-secs 10
//! crm-bench all --json --set CRM_OUTBOX_BATCH_SIZE=1000
//! ```
#![forbid(unsafe_code)]

mod forecast;
mod forecast_data;
mod forecast_lag;
mod funnel;
mod funnel_queries;
mod gateway;
mod idle_rss;
mod import;
mod knowledge;
mod latency;
mod measure;
mod opportunities;
mod opportunities_data;
mod priority_board;
mod relay;
mod report;
mod setup;
mod stage_change;
mod stage_change_tx;
mod statements;
mod write_rpc;

use std::{collections::BTreeMap, process::ExitCode, time::Duration};

use clap::{Parser, ValueEnum};
use crm_test_support::{nats_url, postgres_url};
use serde_json::{Value, json};
use sqlx::Connection;

use crate::report::ScenarioReport;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// Every scenario in turn but `funnel` (whose data set takes minutes to load).
    All,
    /// Outbox relay throughput: a pre-filled backlog drained to JetStream.
    Relay,
    /// End-to-end latency commit -> consumer handler at a fixed offered rate.
    Latency,
    /// Write throughput: two-row transactions straight to PostgreSQL (and the RPC, when added).
    WriteRpc,
    /// Resident memory of idle service processes (needs `crm` and `crm-accounts` built in release).
    IdleRss,
    /// Streaming import of leads with dedupe on, against a raw COPY of the same rows.
    Import,
    /// One read through the gateway's HTTP/JSON front door against the same read straight to
    /// the service over gRPC: latency at low load and throughput.
    Gateway,
    /// A rep's priority board (10,000 open deals) over gRPC against its candidate query.
    PriorityBoard,
    /// GetFunnel over 1,000,000 deals (company and one rep) against the roll-up's aggregates.
    /// Loading its data takes minutes: not part of `all`.
    Funnel,
    /// ChangeStage throughput against the same transaction straight to PostgreSQL.
    StageChange,
    /// The forecasting service over 1,000,000 open deals loaded through the event path: the
    /// company's roll-up against a plain GROUP BY, a rebuild of the read model, and the event
    /// lag at `--rate` changes a second. Loading takes minutes: not part of `all`.
    Forecast,
    /// The compensation service's statement run: 1,000 reps over 100,000 ledger entries, twice
    /// (byte-identical), then the month's close. Not part of `all`.
    Statements,
    /// Knowledge search over 100,000 articles at 16 clients against an ILIKE scan, and the
    /// index's catch-up of 10,000 changed articles. Loading takes minutes: not part of `all`.
    Knowledge,
}

/// Benchmarks of the CRM platform against raw PostgreSQL and JetStream baselines.
#[derive(Debug, Parser)]
#[command(name = "crm-bench", version)]
struct Cli {
    /// Which scenario to run.
    #[arg(value_enum, default_value_t = Scenario::All)]
    scenario: Scenario,
    /// relay: the outbox backlog to drain.
    #[arg(long, default_value_t = 50_000)]
    events: usize,
    /// latency: offered events per second; forecast: deal changes per second in the lag run.
    #[arg(long, default_value_t = 1_000.0)]
    rate: f64,
    /// latency, write-rpc, gateway, priority-board, funnel (per view) and stage-change: measured
    /// seconds.
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    /// import: rows to stream through ImportLeads (and to COPY).
    #[arg(long, default_value_t = 1_000_000)]
    rows: u64,
    /// funnel: deals to load (with about five stays each); forecast: open deals to load.
    #[arg(long, default_value_t = 1_000_000)]
    deals: i64,
    /// write-rpc, gateway and stage-change: concurrent clients (default: 16 for write-rpc and
    /// stage-change, 32 for gateway).
    #[arg(long)]
    clients: Option<usize>,
    /// Diagnostic, not a production setting: give the relay connections with
    /// synchronous_commit=off, to see what marking rows published without waiting for the
    /// WAL flush would gain.
    #[arg(long)]
    relay_async_commit: bool,
    /// Print the results as JSON on stdout (tables go to stderr).
    #[arg(long)]
    json: bool,
    /// A platform setting for the scenarios, e.g. `--set CRM_OUTBOX_BATCH_SIZE=1000`
    /// (production defaults otherwise). Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    settings: Vec<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("crm-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the chosen scenarios; `Ok(false)` when one of them could not be measured.
async fn run(cli: Cli) -> anyhow::Result<bool> {
    let mut overrides = BTreeMap::new();
    for setting in &cli.settings {
        let (key, value) = setting
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--set {setting:?}: expected KEY=VALUE"))?;
        overrides.insert(key.trim().to_owned(), value.trim().to_owned());
    }
    // Production's tracing layers, so spans cost what they cost in a service. Warnings only,
    // except the platform's info spans (the consumer's per-event span), which must stay on.
    let log_filter = std::env::var("CRM_LOG")
        .unwrap_or_else(|_| "warn,crm_platform=info,crm_platform::db=warn".to_owned());
    let mut telemetry_values = overrides.clone();
    telemetry_values.insert("CRM_LOG".to_owned(), log_filter);
    // stdout is for the tables (and `--json`).
    telemetry_values.insert("CRM_LOG_TARGET".to_owned(), "stderr".to_owned());
    let _telemetry =
        crm_platform::telemetry::init("crm-bench", &setup::settings(None, &telemetry_values)?)?;
    // Settings are checked once up front, so a bad --set fails before any work.
    setup::settings(None, &overrides)?;

    let say = |text: &str| {
        if cli.json {
            eprint!("{text}");
        } else {
            print!("{text}");
        }
    };

    let context = machine_context().await?;
    say(&render_context(&context));

    let duration = Duration::from_secs(cli.duration_secs);
    // The funnel's data set takes minutes to load: it runs only when asked for by name.
    let wanted = |scenario: Scenario| {
        cli.scenario == scenario
            || (cli.scenario == Scenario::All
                && !matches!(
                    scenario,
                    Scenario::Funnel
                        | Scenario::Forecast
                        | Scenario::Statements
                        | Scenario::Knowledge
                ))
    };
    let mut reports: Vec<Value> = Vec::new();
    let mut all_measured = true;
    let mut record = |name: &str, result: anyhow::Result<ScenarioReport>| match result {
        Ok(report) => {
            say(&report.render());
            reports.push(report.to_json());
        }
        Err(error) => {
            all_measured = false;
            say(&format!("\n== {name}: FAILED ==\n  {error:#}\n"));
            reports.push(json!({ "scenario": name, "error": format!("{error:#}") }));
        }
    };

    if wanted(Scenario::Relay) {
        record(
            "relay",
            relay::run(cli.events, cli.relay_async_commit, &overrides).await,
        );
    }
    if wanted(Scenario::Latency) {
        let options = latency::LatencyOptions {
            rate: cli.rate,
            duration,
            relay_async_commit: cli.relay_async_commit,
        };
        record("latency", latency::run(options, &overrides).await);
    }
    if wanted(Scenario::WriteRpc) {
        let options = write_rpc::WriteOptions {
            clients: cli.clients.unwrap_or(16),
            duration,
        };
        record("write-rpc", write_rpc::run(options, &overrides).await);
    }
    if wanted(Scenario::Gateway) {
        let options = gateway::GatewayOptions {
            clients: cli.clients.unwrap_or(32),
            duration,
        };
        record("gateway", gateway::run(options, &overrides).await);
    }
    if wanted(Scenario::PriorityBoard) {
        let options = priority_board::BoardOptions { duration };
        record(
            "priority-board",
            priority_board::run(options, &overrides).await,
        );
    }
    if wanted(Scenario::StageChange) {
        let options = stage_change::StageChangeOptions {
            clients: cli.clients.unwrap_or(16),
            duration,
        };
        record("stage-change", stage_change::run(options, &overrides).await);
    }
    if wanted(Scenario::Funnel) {
        let options = funnel::FunnelOptions {
            deals: cli.deals,
            duration,
        };
        record("funnel", funnel::run(options, &overrides).await);
    }
    if wanted(Scenario::Forecast) {
        let options = forecast::ForecastOptions {
            deals: usize::try_from(cli.deals).unwrap_or(0),
            duration,
            rate: cli.rate,
        };
        record("forecast", forecast::run(options, &overrides).await);
    }
    if wanted(Scenario::Statements) {
        record("statements", statements::run(&overrides).await);
    }
    if wanted(Scenario::Knowledge) {
        record("knowledge", knowledge::run(duration, &overrides).await);
    }
    if wanted(Scenario::IdleRss) {
        record("idle-rss", idle_rss::run().await);
    }
    if wanted(Scenario::Import) {
        let options = import::ImportOptions { rows: cli.rows };
        record("import", import::run(options).await);
    }

    if cli.json {
        let output = json!({ "context": context, "scenarios": reports });
        println!("{}", serde_json::to_string_pretty(&output)?);
    }
    Ok(all_measured)
}

/// The machine the figures were taken on.
async fn machine_context() -> anyhow::Result<Value> {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mut connection = setup::admin_connection().await.map_err(|error| {
        anyhow::anyhow!("connecting to PostgreSQL at {}: {error}", postgres_url())
    })?;
    let postgres: String = sqlx::query_scalar("SELECT version()")
        .fetch_one(&mut connection)
        .await?;
    let mut postgres_settings = serde_json::Map::new();
    for name in [
        "synchronous_commit",
        "fsync",
        "autovacuum",
        "wal_compression",
        "shared_buffers",
        "max_connections",
    ] {
        let value: String = sqlx::query_scalar(
            "SELECT setting || COALESCE(unit, '') FROM pg_settings WHERE name = $1",
        )
        .bind(name)
        .fetch_one(&mut connection)
        .await?;
        postgres_settings.insert(name.to_owned(), Value::String(value));
    }
    connection.close().await?;
    let client = async_nats::connect(nats_url())
        .await
        .map_err(|error| anyhow::anyhow!("connecting to NATS at {}: {error}", nats_url()))?;
    let info = client.server_info();
    drop(client);
    Ok(json!({
        "cores": cores,
        "postgres": postgres,
        "postgres_settings": postgres_settings,
        "nats_server": info.version,
        "nats_go": info.go,
        "nats_max_payload": info.max_payload,
        "jetstream": info.jetstream,
        "bench_version": env!("CARGO_PKG_VERSION"),
        "build": if cfg!(debug_assertions) { "debug" } else { "release" },
    }))
}

fn render_context(context: &Value) -> String {
    let text = |key: &str| match &context[key] {
        Value::String(value) => value.clone(),
        other => other.to_string(),
    };
    let settings = context["postgres_settings"]
        .as_object()
        .map(|settings| {
            settings
                .iter()
                .map(|(name, value)| format!("{name}={}", value.as_str().unwrap_or("?")))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    format!(
        "== machine ==\n  cores:       {}\n  postgres:    {}\n               {settings}\n  nats-server: {} ({}, JetStream {})\n  crm-bench:   {} ({} build)\n",
        text("cores"),
        text("postgres"),
        text("nats_server"),
        text("nats_go"),
        if context["jetstream"].as_bool() == Some(true) {
            "on"
        } else {
            "off"
        },
        text("bench_version"),
        text("build"),
    )
}
