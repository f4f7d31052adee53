//! `stage-change`: `ChangeStage` over gRPC — the deal's row, its stage history, the funnel's
//! roll-up, the audit trail and the outbox in one transaction — against the same transaction's
//! statements sent straight to PostgreSQL, as `write-rpc` compares `UpdateAccount`.
//!
//! The opportunities service runs in this process with a fresh database; each client is a rep
//! of its own (so clients do not queue on one deal or one roll-up row) who creates a deal
//! through the API (`CreateOpportunity`, in Qualify) and then moves it to Develop and back,
//! stages without exit criteria, one move per call. The baseline runs in a second fresh
//! database holding copies of the same rows: each call is one transaction of the statements the
//! service sends — the deal read and locked, the pipeline and its stages read, the open stay
//! closed, its exit rolled up, the next stay opened and rolled up, the deal row rewritten at
//! the next version, the audit row, the `OpportunityStageChanged` event (the deal's full state,
//! built from the row) into the outbox, commit — with a relay publishing its events meanwhile,
//! as the service's relay publishes the RPCs'. The two alternate in rounds.

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use crm_platform::{auth::Role, outbox::Outbox};
use crm_proto::crm::{
    common::v1::Money as MoneyMessage,
    opportunities::v1::{
        ChangeStageRequest, CreateOpportunityRequest, OpportunityInput,
        opportunity_service_client::OpportunityServiceClient,
    },
};
use crm_test_support::authorized;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    opportunities::{self, DEVELOP, Hosted, QUALIFY},
    report::{Row, ScenarioReport, Target},
    setup::BenchEnv,
    stage_change_tx,
    write_rpc::{LoadFigure, run_closed_loop, with_relay},
};

/// Rounds of baseline and RPC, alternating, so that a change in background load hits both.
const ROUNDS: u32 = 2;
/// The service's own tables the baseline's database gets copies of.
const COPIED_TABLES: [&str; 7] = [
    "org_users",
    "org_settings",
    "account_replicas",
    "opportunities",
    "stage_history",
    "opportunity_changes",
    "funnel_stage_months",
];

#[derive(Clone, Copy, Debug)]
pub struct StageChangeOptions {
    pub clients: usize,
    pub duration: Duration,
}

pub async fn run(
    options: StageChangeOptions,
    overrides: &BTreeMap<String, String>,
) -> anyhow::Result<ScenarioReport> {
    anyhow::ensure!(options.clients > 0, "--clients must be at least 1");
    let hosted = Hosted::start(options.clients as u32, overrides).await?;
    let mut env = match BenchEnv::create_with(overrides, crm_opportunities::migrator).await {
        Ok(env) => env,
        Err(error) => {
            hosted.cleanup().await;
            return Err(error);
        }
    };
    let result = measure(&hosted, &mut env, options).await;
    hosted.cleanup().await;
    env.cleanup().await;
    result
}

async fn measure(
    hosted: &Hosted,
    env: &mut BenchEnv,
    options: StageChangeOptions,
) -> anyhow::Result<ScenarioReport> {
    let load_before = crate::measure::load_average();
    let pool = hosted.pool();
    let reps = opportunities::reps(options.clients)?;
    opportunities::file_users(pool, &reps).await?;
    opportunities::set_corporate_currency(pool).await?;
    let account_id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO account_replicas (id, name, status, version) VALUES ($1, 'Northwind Customer', 1, 1)",
    )
    .bind(account_id)
    .execute(pool)
    .await?;
    let channel = hosted.channel().await?;
    let tokens: Vec<String> = reps.iter().map(|rep| hosted.token(&rep.caller)).collect();
    anyhow::ensure!(
        reps.iter().all(|rep| rep.caller.role == Role::Rep),
        "every client is a rep"
    );
    let expected_close = (chrono::Utc::now().date_naive() + chrono::Days::new(60)).to_string();
    let mut deals = Vec::with_capacity(reps.len());
    for (n, token) in tokens.iter().enumerate() {
        let created = OpportunityServiceClient::new(channel.clone())
            .create_opportunity(authorized(
                CreateOpportunityRequest {
                    opportunity: Some(OpportunityInput {
                        name: format!("Line 3 retrofit {n}"),
                        account_id: account_id.to_string(),
                        amount: Some(MoneyMessage {
                            currency_code: "CNY".to_owned(),
                            amount: "1250000.00".to_owned(),
                        }),
                        expected_close_date: expected_close.clone(),
                        ..Default::default()
                    }),
                    opportunity_id: String::new(),
                },
                token,
            ))
            .await?
            .into_inner();
        let deal = created
            .opportunity
            .ok_or_else(|| anyhow::anyhow!("CreateOpportunity returned no deal"))?;
        deals.push(deal.id.parse::<Uuid>()?);
    }
    let raw_pool = env.pool(options.clients as u32).await?;
    copy_tables(pool, &raw_pool).await?;

    let deals = Arc::new(deals);
    let tokens = Arc::new(tokens);
    // Whether each client's deal is in Develop now (so its next move goes back to Qualify).
    let in_develop: Arc<Vec<AtomicBool>> =
        Arc::new(deals.iter().map(|_| AtomicBool::new(false)).collect());
    let slice = options.duration / ROUNDS;
    let mut raw_rounds = Vec::new();
    let mut rpc_rounds = Vec::new();
    for _ in 0..ROUNDS {
        let (raw_deals, raw_pool_round) = (deals.clone(), raw_pool.clone());
        raw_rounds.push(
            with_relay(env, crm_opportunities::NAME, |outbox| {
                raw_stage_changes(
                    "the same statements straight to PostgreSQL, a relay publishing",
                    raw_pool_round,
                    outbox,
                    raw_deals,
                    options.clients,
                    slice,
                )
            })
            .await?,
        );
        let (channel, deals, tokens, in_develop) = (
            channel.clone(),
            deals.clone(),
            tokens.clone(),
            in_develop.clone(),
        );
        rpc_rounds.push(
            run_closed_loop(
                "gRPC ChangeStage (row + history + roll-up + audit + outbox)",
                options.clients,
                slice,
                move |client, _iteration| {
                    let mut deals_client = OpportunityServiceClient::new(channel.clone());
                    let in_develop = in_develop.clone();
                    let target = if in_develop[client].load(Ordering::Acquire) {
                        QUALIFY
                    } else {
                        DEVELOP
                    };
                    let request = authorized(
                        ChangeStageRequest {
                            opportunity_id: deals[client].to_string(),
                            stage_id: target.to_string(),
                            expected_version: 0,
                        },
                        &tokens[client],
                    );
                    async move {
                        let reply = deals_client.change_stage(request).await?.into_inner();
                        let stage = reply
                            .opportunity
                            .and_then(|deal| deal.stage)
                            .map(|stage| stage.stage_id)
                            .unwrap_or_default();
                        anyhow::ensure!(
                            stage == target.to_string(),
                            "the deal is in {stage}, not {target}"
                        );
                        in_develop[client].store(target == DEVELOP, Ordering::Release);
                        Ok(())
                    }
                },
            )
            .await,
        );
    }
    let raw_unpublished = raw_stage_changes(
        "the same statements straight to PostgreSQL, no relay",
        raw_pool.clone(),
        Outbox::new(),
        deals.clone(),
        options.clients,
        slice,
    )
    .await;
    let sizes = (payload_size(pool).await?, payload_size(&raw_pool).await?);
    raw_pool.close().await;
    let rpc = merged(rpc_rounds);
    let raw = merged(raw_rounds);
    let mut report = report(&rpc, &raw, &raw_unpublished, options);
    report.note(format!(
        "event payloads in the outbox, average: the service's {:.0} bytes, the baseline's {:.0} bytes",
        sizes.0, sizes.1
    ));
    report.note(format!(
        "load average (1/5/15 min) before: {}, after: {}",
        load_before.as_deref().unwrap_or("-"),
        crate::measure::load_average().as_deref().unwrap_or("-"),
    ));
    Ok(report)
}

/// The baseline's closed loop: each client moves its deal with the raw transaction.
async fn raw_stage_changes(
    label: &str,
    pool: PgPool,
    outbox: Outbox,
    deals: Arc<Vec<Uuid>>,
    clients: usize,
    duration: Duration,
) -> LoadFigure {
    run_closed_loop(label, clients, duration, move |client, _iteration| {
        let (pool, outbox, deal) = (pool.clone(), outbox.clone(), deals[client]);
        async move { stage_change_tx::change_stage(&pool, &outbox, deal).await }
    })
    .await
}

/// Copies the service's rows (the users, the deals and what their creation wrote) into the
/// baseline's database, so both start from the same rows.
async fn copy_tables(from: &PgPool, to: &PgPool) -> anyhow::Result<()> {
    for table in COPIED_TABLES {
        let rows: Vec<serde_json::Value> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT to_jsonb(t) FROM {table} t"
        )))
        .fetch_all(from)
        .await?;
        // Generated columns (opportunities.member_ids) are PostgreSQL's to fill.
        let columns: Vec<String> = sqlx::query_scalar(
            "SELECT quote_ident(column_name) FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER' \
             ORDER BY ordinal_position",
        )
        .bind(table)
        .fetch_all(to)
        .await?;
        let columns = columns.join(", ");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {table} ({columns}) SELECT {columns} FROM jsonb_populate_recordset(NULL::{table}, $1) ON CONFLICT DO NOTHING"
        )))
        .bind(serde_json::Value::Array(rows))
        .execute(to)
        .await?;
    }
    Ok(())
}

/// The average size of the event payloads in a database's outbox.
async fn payload_size(pool: &PgPool) -> anyhow::Result<f64> {
    let size: Option<f64> =
        sqlx::query_scalar("SELECT avg(octet_length(payload))::float8 FROM outbox")
            .fetch_one(pool)
            .await?;
    Ok(size.unwrap_or(0.0))
}

/// The rounds of one side as one figure.
fn merged(rounds: Vec<LoadFigure>) -> LoadFigure {
    let mut rounds = rounds.into_iter();
    let mut total = rounds.next().expect("at least one round");
    for round in rounds {
        total.operations += round.operations;
        total.errors += round.errors;
        total.elapsed += round.elapsed;
        total.latency.merge(&round.latency);
        if total.first_error.is_none() {
            total.first_error = round.first_error;
        }
    }
    total
}

fn report(
    rpc: &LoadFigure,
    raw: &LoadFigure,
    raw_unpublished: &LoadFigure,
    options: StageChangeOptions,
) -> ScenarioReport {
    let mut report = ScenarioReport::new(
        "stage-change",
        format!(
            "ChangeStage throughput, {} concurrent clients (a rep and a deal each), {} rounds of {:.1} s per side",
            options.clients,
            ROUNDS,
            (options.duration / ROUNDS).as_secs_f64()
        ),
        "gRPC ChangeStage",
        "raw same tx + relay",
    );
    report
        .row(
            Row::new(
                "throughput",
                "tx/s",
                Some(rpc.per_second()),
                Some(raw.per_second()),
            )
            .target(Target::RatioAtLeast(0.5)),
        )
        .row(Row::new(
            "throughput, raw without relay",
            "tx/s",
            Some(rpc.per_second()),
            Some(raw_unpublished.per_second()),
        ))
        .row(Row::new(
            "latency p50",
            "ms",
            rpc.latency.ms(0.5),
            raw.latency.ms(0.5),
        ))
        .row(Row::new(
            "latency p99",
            "ms",
            rpc.latency.ms(0.99),
            raw.latency.ms(0.99),
        ))
        .row(Row::new(
            "latency max",
            "ms",
            rpc.latency.max_ms(),
            raw.latency.max_ms(),
        ));
    for figure in [rpc, raw, raw_unpublished] {
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
    report.note("the RPC also checks the caller's token and visibility, checks the move (an open stage in use; exit criteria on a move forward) and builds the reply; its relay publishes meanwhile");
    report.note("per call on both sides: 10 statements (deal FOR UPDATE, pipeline, stages, close stay, roll-up exit, open stay, roll-up entry, deal row, audit row, outbox row) and the commit");
    report
}
