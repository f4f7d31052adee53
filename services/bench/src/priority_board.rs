//! `priority-board`: one rep's priority board over gRPC, against the board's candidate query
//! sent straight to PostgreSQL.
//!
//! The opportunities service runs in this process with a fresh database. Loaded straight into
//! it (`opportunities_data`): the rep's 10,000 open deals, and 100,000 deals of every status of
//! 40 other reps around them (so the rep's deals are a slice of the table, found by the
//! `opportunities_owner_open` index). The rep asks for their own board, `GetPriorityBoard` with
//! `limit` 50, from one client, sequentially, alternating call by call with the baseline: the
//! same candidate `SELECT` the service sends (every open deal of the rep scored in `float8`,
//! those within a margin of the 50th best returned with their scoring columns and the count of
//! all: the statement and binds of `store::board::board_candidates` for a rep's own board),
//! decoded into the same typed rows, on a connection of its own.
//!
//! What the RPC does beyond the baseline: the token check, a read-only snapshot transaction,
//! the board settings and the corporate currency (one row each), scoring the candidates exactly
//! in `Decimal` and sorting them, the top 50 deals read whole, their plans' late milestones,
//! their pipeline, and the reply. The deals' last activities spread over 45 days, so in the
//! 14-day default pipeline about two thirds of them are stale and their staleness varies.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use chrono::NaiveDate;
use crm_platform::auth::Role;
use crm_proto::crm::opportunities::v1::{
    GetPriorityBoardRequest, GetPriorityBoardResponse,
    analytics_service_client::AnalyticsServiceClient,
};
use crm_test_support::authorized;
use futures::FutureExt;
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    measure::{self, Probe, Sampling},
    opportunities::{self, Hosted, Person},
    opportunities_data::{self, DealBatch},
    report::{self, ScenarioReport},
};

/// The rep's open deals (issue #10: "a rep with 10,000 open deals").
const OPEN_DEALS: i64 = 10_000;
const OTHER_REPS: usize = 40;
const OTHER_DEALS: i64 = 100_000;
const LIMIT: u32 = 50;
/// The goal: p95 at most 20 ms.
const P95_GOAL_MS: f64 = 20.0;

#[derive(Clone, Copy, Debug)]
pub struct BoardOptions {
    /// Measured seconds (at least `min_samples` calls of each side either way).
    pub duration: Duration,
}

/// The statement `store::board::board_candidates` sends for a rep's own board (the caller's
/// visibility and the scope each add an owner predicate), with the seeded board settings
/// (weights 35 / 30 / 20 / 15, scale 1,000,000, horizon 90 days): every open deal of the rep,
/// beside its pipeline's wait before going stale, scored in `float8`, those within the margin of
/// the 50th best returned with the count of all.
const CANDIDATES: &str = "WITH scored AS MATERIALIZED (SELECT *, $1 * \
     effective_probability::float8 / 100 + $2 * CASE WHEN corporate_amount > 0 THEN least(1, \
     corporate_amount::float8 / $3) ELSE 0 END + $4 * CASE WHEN expected_close_date <= $5 THEN 1 \
     ELSE greatest(0, 1 - (expected_close_date - $6)::float8 / $7) END + $8 * CASE WHEN \
     stale_after_days > 0 AND days_without_activity >= stale_after_days THEN least(1, \
     days_without_activity::float8 / (2 * stale_after_days)) ELSE 0 END AS approximate FROM \
     (SELECT opportunities.id, effective_probability, CASE WHEN corporate_currency = $9 THEN \
     corporate_amount END AS corporate_amount, expected_close_date, greatest(0, \
     floor(date_part('epoch', $10 - last_activity_at) / 86400))::int AS days_without_activity, \
     pipelines.stale_after_days FROM opportunities JOIN pipelines ON pipelines.id = \
     opportunities.pipeline_id WHERE status = $11 AND owner_id = $12 AND owner_id = $13) AS \
     open_deals), cut AS (SELECT approximate FROM scored ORDER BY approximate DESC OFFSET $14 \
     LIMIT 1) SELECT id, effective_probability, corporate_amount, expected_close_date, \
     days_without_activity, stale_after_days, (SELECT count(*) FROM scored) AS total_open_deals \
     FROM scored WHERE approximate >= coalesce((SELECT approximate FROM cut), \
     '-Infinity'::float8) - $15";

type Candidate = (Uuid, i16, Option<Decimal>, NaiveDate, i32, i32, i64);

pub async fn run(
    options: BoardOptions,
    overrides: &BTreeMap<String, String>,
) -> anyhow::Result<ScenarioReport> {
    let hosted = Hosted::start(4, overrides).await?;
    let result = measure_board(&hosted, options).await;
    hosted.cleanup().await;
    result
}

async fn measure_board(hosted: &Hosted, options: BoardOptions) -> anyhow::Result<ScenarioReport> {
    let load_before = measure::load_average();
    // One connection of the bench's own: the load, then the baseline.
    let baseline_pool = hosted.baseline_pool(1).await?;
    let pool = &baseline_pool;
    let rep = Person::new(Role::Rep, "/northwind/region-0/area-0/team-0/", "Board Rep")?;
    let others = opportunities::reps(OTHER_REPS)?;
    let mut people = others.clone();
    people.push(rep.clone());
    opportunities::file_users(pool, &people).await?;
    opportunities::set_corporate_currency(pool).await?;
    let now = chrono::Utc::now().timestamp();
    let started = std::time::Instant::now();
    let loaded = opportunities_data::load(
        pool,
        &[
            DealBatch {
                first: 1,
                count: OTHER_DEALS,
                owners: &others,
                all_open: false,
                now,
            },
            DealBatch {
                first: OTHER_DEALS + 1,
                count: OPEN_DEALS,
                owners: std::slice::from_ref(&rep),
                all_open: true,
                now,
            },
        ],
    )
    .await?;
    opportunities_data::vacuum_analyze(pool).await?;
    let load_time = started.elapsed();

    let channel = hosted.channel().await?;
    let token: Arc<str> = hosted.token(&rep.caller).into();
    let request = move || {
        authorized(
            GetPriorityBoardRequest {
                scope: None,
                pipeline_id: String::new(),
                limit: LIMIT,
            },
            &token,
        )
    };
    let first = AnalyticsServiceClient::new(channel.clone())
        .get_priority_board(request())
        .await?
        .into_inner();
    let baseline = candidates(&baseline_pool, rep.id()).await?;
    let baseline_total = baseline.first().map_or(0, |(.., total)| *total);
    anyhow::ensure!(
        u64::from(first.total_open_deals) == OPEN_DEALS as u64
            && baseline_total == OPEN_DEALS
            && baseline.len() >= LIMIT as usize
            && first.items.len() == LIMIT as usize,
        "the board counts {} open deals and shows {} (the baseline counts {baseline_total} and reads {}); expected {OPEN_DEALS} and {LIMIT}",
        first.total_open_deals,
        first.items.len(),
        baseline.len()
    );
    // The pre-selection must not change the ranking: the top of a longer board is this board.
    let longer = AnalyticsServiceClient::new(channel.clone())
        .get_priority_board(authorized(
            GetPriorityBoardRequest {
                scope: None,
                pipeline_id: String::new(),
                limit: 4 * LIMIT,
            },
            &hosted.token(&rep.caller),
        ))
        .await?
        .into_inner();
    let ids = |board: &GetPriorityBoardResponse, n: usize| -> Vec<String> {
        board
            .items
            .iter()
            .take(n)
            .filter_map(|item| item.opportunity.as_ref().map(|deal| deal.id.clone()))
            .collect()
    };
    anyhow::ensure!(
        ids(&first, LIMIT as usize) == ids(&longer, LIMIT as usize),
        "the board of {LIMIT} is not the top of the board of {}",
        4 * LIMIT
    );

    let rpc: Probe = Box::new(move || {
        let mut client = AnalyticsServiceClient::new(channel.clone());
        let request = request();
        async move {
            client.get_priority_board(request).await?;
            Ok(())
        }
        .boxed()
    });
    let (raw_pool, rep_id) = (baseline_pool.clone(), rep.id());
    let raw: Probe = Box::new(move || {
        let pool = raw_pool.clone();
        async move {
            candidates(&pool, rep_id).await?;
            Ok(())
        }
        .boxed()
    });
    let sampling = Sampling {
        warm_up: 20,
        duration: options.duration,
        min_samples: 200,
    };
    let latencies = measure::alternating(&[rpc, raw], sampling).await?;
    baseline_pool.close().await;
    let (rpc, raw) = (&latencies[0], &latencies[1]);

    let mut report = ScenarioReport::new(
        "priority-board",
        format!(
            "GetPriorityBoard (limit {LIMIT}) of a rep with {OPEN_DEALS} open deals, 1 client, sequential"
        ),
        "gRPC GetPriorityBoard",
        "raw candidate SELECT",
    );
    report::latency_rows(&mut report, "", rpc, raw, P95_GOAL_MS);
    report.note(format!(
        "data: {} deals ({} of the rep, all open; {} of {OTHER_REPS} other reps, every status) with {} stays, loaded with SQL and vacuumed in {:.1} s",
        loaded.deals,
        OPEN_DEALS,
        OTHER_DEALS,
        loaded.stays,
        load_time.as_secs_f64()
    ));
    report.note(format!(
        "the candidate statement returns {} of the {OPEN_DEALS} open deals (those within the margin of the 50th best float score)",
        baseline.len()
    ));
    report.note(format!(
        "{} samples per side, alternating call by call after {} unmeasured calls each; {} / {}",
        rpc.count(),
        sampling.warm_up,
        rpc.summary(),
        raw.summary()
    ));
    report.note("the RPC beyond the baseline: token check, a read-only snapshot, board settings and corporate currency, scoring the returned candidates exactly and sorting them, the top 50 deals read whole, their plans' late milestones and their pipeline, the reply");
    report.note(format!(
        "load average (1/5/15 min) before: {}, after: {}",
        load_before.as_deref().unwrap_or("-"),
        measure::load_average().as_deref().unwrap_or("-"),
    ));
    Ok(report)
}

/// The board's candidates of the rep's own board, straight from PostgreSQL.
async fn candidates(pool: &PgPool, rep_id: Uuid) -> anyhow::Result<Vec<Candidate>> {
    let now = chrono::Utc::now();
    let today = now.date_naive();
    Ok(sqlx::query_as(CANDIDATES)
        .bind(35.0_f64)
        .bind(30.0_f64)
        .bind(1_000_000.0_f64)
        .bind(20.0_f64)
        .bind(today)
        .bind(today)
        .bind(90.0_f64)
        .bind(15.0_f64)
        .bind(Some("CNY"))
        .bind(now)
        .bind(1_i16)
        .bind(rep_id)
        .bind(rep_id)
        .bind(i64::from(LIMIT) - 1)
        .bind(1e-9_f64)
        .fetch_all(pool)
        .await?)
}
