//! `forecast`: the forecasting service's read model over 1,000,000 open deals.
//!
//! The opportunities and forecasting services run in this process with fresh databases. The
//! deals reach forecasting the way they do in production: `opportunity_created` events written
//! to the opportunities service's outbox (5,000 to a transaction, not through its use cases),
//! published by its relay, applied by forecasting's consumer, which keeps each deal and its
//! contribution to the weighted pipeline's sums (`pipeline_months`). Then:
//!
//! - **roll-up**: `GetPipelineForecast` for the company's fiscal year (an admin) and for one
//!   rep, from one client, alternating call by call with the baseline: the same figures as one
//!   plain GROUP BY over the `deals` table (the same rows). Goal p95 ≤ 50 ms for the company.
//! - **rebuild**: `crm_forecasting::rebuild_read_model` replays the stream into a fresh read
//!   model; its time, and whether the company's forecast is identical after it.
//! - **event lag** at `--rate` changes a second (default 1,000) for `--duration-secs`: each
//!   change an `opportunity_amount_changed` of a distinct deal committed in its own transaction
//!   through the service's outbox (waking its relay, as the use cases do); measured from the
//!   commit to the moment the read model holds the new version (polled every 2 ms), against
//!   the same commit to the moment the event is read from JetStream by a plain subscriber (the
//!   transport alone). Goal p99 ≤ 100 ms.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use chrono::{Datelike, NaiveDate, Utc};
use crm_platform::{auth::Role, outbox::Aggregate};
use crm_proto::crm::forecasting::v1::{
    ForecastScope, GetPipelineForecastRequest, GetPipelineForecastResponse,
    forecast_service_client::ForecastServiceClient,
};
use crm_test_support::authorized;
use futures::FutureExt;
use rust_decimal::Decimal;
use tokio::time::Instant;
use tonic::transport::Channel;
use uuid::Uuid;

use crate::{
    forecast_data::{self, RawPipeline, deal, deal_id},
    measure::{self, Probe, Sampling},
    opportunities::{self, Hosted, Person},
    report::{self, Row, ScenarioReport, Target},
};

const REPS: usize = 500;
/// Events to an outbox transaction while loading.
const LOAD_CHUNK: usize = 5_000;
const COMPANY_GOAL_MS: f64 = 50.0;
const REP_GOAL_MS: f64 = 50.0;
const LAG_P99_GOAL_MS: f64 = 100.0;
/// Give up waiting for the read model after this long.
const LOAD_TIMEOUT: Duration = Duration::from_secs(3_600);

#[derive(Clone, Copy, Debug)]
pub struct ForecastOptions {
    pub deals: usize,
    /// Measured seconds per roll-up view and of the lag run.
    pub duration: Duration,
    /// Deal changes a second in the lag run.
    pub rate: f64,
}

pub async fn run(
    options: ForecastOptions,
    overrides: &BTreeMap<String, String>,
) -> anyhow::Result<ScenarioReport> {
    anyhow::ensure!(options.deals > 0, "--deals must be at least 1");
    let server = crate::setup::ProductionSettings::apply().await?;
    let mut result = hosted_run(options, overrides).await;
    if let Ok(report) = &mut result {
        report.note(server.note());
    }
    server.restore().await;
    result
}

async fn hosted_run(
    options: ForecastOptions,
    overrides: &BTreeMap<String, String>,
) -> anyhow::Result<ScenarioReport> {
    // The accounts service too: the rebuild replays its stream with the deals'.
    let hosted = Hosted::start_modules(
        &[
            crm_opportunities::module(),
            crm_forecasting::module(),
            crm_accounts::module(),
        ],
        4,
        overrides,
    )
    .await?;
    let result = measure_forecast(&hosted, options).await;
    hosted.cleanup().await;
    result
}

/// Vacuums and analyses every table of the pool's database, then checkpoints: the vacuum's
/// writes are flushed now, not by a checkpoint spread over the measurement that follows.
async fn settle(pool: &sqlx::PgPool) -> anyhow::Result<()> {
    sqlx::query("VACUUM ANALYZE").execute(pool).await?;
    crate::setup::checkpoint().await
}

/// The server's WAL position, in bytes.
async fn wal_position(pool: &sqlx::PgPool) -> anyhow::Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint")
            .fetch_one(pool)
            .await?,
    )
}

/// How many deals the read model holds.
async fn held(pool: &sqlx::PgPool) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM deals")
        .fetch_one(pool)
        .await?)
}

/// Whether the read model holds `deal`: one index probe, where a count walks every row (a
/// tenth of a second of the machine's CPU at 700,000 deals, taken from the consumer it waits
/// for).
async fn holds(pool: &sqlx::PgPool, deal: Uuid) -> anyhow::Result<bool> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM deals WHERE id = $1)")
            .bind(deal)
            .fetch_one(pool)
            .await?,
    )
}

async fn measure_forecast(
    hosted: &Hosted,
    options: ForecastOptions,
) -> anyhow::Result<ScenarioReport> {
    let load_before = measure::load_average();
    let opportunities = hosted.context(crm_opportunities::NAME)?;
    let forecasting = hosted.context(crm_forecasting::NAME)?;
    let raw_pool = hosted.baseline_pool_of(crm_forecasting::NAME, 1).await?;
    let reps = opportunities::reps(REPS)?;
    let admin = Person::new(Role::Admin, "/northwind/", "Bench Admin")?;
    let mut people = reps.clone();
    people.push(admin.clone());
    opportunities::file_users(&raw_pool, &people).await?;
    opportunities::set_corporate_currency(&raw_pool).await?;
    // The calendar year is the fiscal year until the organisation sets another.
    let year = Utc::now().date_naive().year();
    let year_start = NaiveDate::from_ymd_opt(year, 1, 1).expect("a year has a first day");
    let year_end = NaiveDate::from_ymd_opt(year + 1, 1, 1).expect("a year has a first day");
    let period = format!("FY{year}");

    // Load through the event path.
    let started = Instant::now();
    for first in (0..options.deals).step_by(LOAD_CHUNK) {
        let last = (first + LOAD_CHUNK).min(options.deals);
        let events: Vec<(String, _)> = (first..last)
            .map(|n| {
                let state = deal(n, &reps, year_start, 1, 0);
                (state.id.clone(), forecast_data::created(state))
            })
            .collect();
        let batch: Vec<_> = events
            .iter()
            .map(|(id, event)| {
                let aggregate = Aggregate {
                    kind: "opportunity",
                    id: id.as_str(),
                    version: 1,
                };
                (aggregate, event.clone())
            })
            .collect();
        let mut transaction = opportunities.pool.begin().await?;
        opportunities
            .outbox
            .enqueue_many(&mut transaction, &batch)
            .await?;
        opportunities.outbox.commit(transaction).await?;
    }
    let filled = started.elapsed();
    let target = i64::try_from(options.deals)?;
    // The events arrive in the order they were written, so the last deal's arrival is the
    // load's end as a rule; the count confirms it (a redelivery can reorder a few).
    let last = deal_id(options.deals - 1);
    loop {
        if holds(&raw_pool, last).await? && held(&raw_pool).await? >= target {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < LOAD_TIMEOUT,
            "the read model holds {} of {target} deals after {LOAD_TIMEOUT:?}",
            held(&raw_pool).await?
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let loaded = started.elapsed();
    // The measured phases run on settled databases: what autovacuum does in the minutes after
    // such a load (the outbox's million marked rows, the read model's million new ones), done
    // now instead of beside the measurements.
    let settling = Instant::now();
    settle(&opportunities.pool).await?;
    settle(&raw_pool).await?;
    let settled = settling.elapsed();
    let sums: i64 = sqlx::query_scalar("SELECT count(*) FROM pipeline_months")
        .fetch_one(&raw_pool)
        .await?;

    let mut report = ScenarioReport::new(
        "forecast",
        format!(
            "forecasting over {} open deals of {REPS} reps, fiscal year {period}",
            options.deals
        ),
        "forecasting service",
        "raw",
    );
    report.note(format!(
        "load: {} opportunity_created events written to the opportunities outbox in {:.1} s; relayed and applied by forecasting-deals, the read model holding all of them after {:.1} s ({:.0} events/s end to end); {sums} rows of sums",
        options.deals,
        filled.as_secs_f64(),
        loaded.as_secs_f64(),
        options.deals as f64 / loaded.as_secs_f64()
    ));
    report.note(format!(
        "after the load, and again after the rebuild: VACUUM ANALYZE of the opportunities and forecasting databases, then CHECKPOINT ({:.1} s after the load, not timed)",
        settled.as_secs_f64()
    ));

    // Roll-up latency.
    let channel = hosted.channel().await?;
    let rep = &reps[REPS / 2 + 7];
    let admin_token: Arc<str> = hosted.token(&admin.caller).into();
    let rep_token: Arc<str> = hosted.token(&rep.caller).into();
    let views = [
        ("company", None, admin_token, COMPANY_GOAL_MS, 3, 30),
        ("one rep", Some(rep.id()), rep_token, REP_GOAL_MS, 20, 200),
    ];
    let mut company_before = None;
    for (label, owner, token, goal, warm_up, min_samples) in views {
        let request = GetPipelineForecastRequest {
            scope: owner.map(|owner| ForecastScope {
                user_id: owner.to_string(),
                ..Default::default()
            }),
            period: period.clone(),
        };
        let reply = forecast(&channel, &request, &token).await?;
        let raw = forecast_data::raw_pipeline(&raw_pool, year_start, year_end, owner).await?;
        report.note(agreement(label, &reply, &raw));
        if owner.is_none() {
            company_before = Some(reply);
        }
        let (rpc_channel, rpc_request, rpc_token) =
            (channel.clone(), request.clone(), token.clone());
        let rpc: Probe = Box::new(move || {
            let (channel, request, token) =
                (rpc_channel.clone(), rpc_request.clone(), rpc_token.clone());
            async move {
                forecast(&channel, &request, &token).await?;
                Ok(())
            }
            .boxed()
        });
        let pool = raw_pool.clone();
        let raw: Probe = Box::new(move || {
            let pool = pool.clone();
            async move {
                forecast_data::raw_pipeline(&pool, year_start, year_end, owner).await?;
                Ok(())
            }
            .boxed()
        });
        let sampling = Sampling {
            warm_up,
            duration: options.duration,
            min_samples,
        };
        let latencies = measure::alternating(&[rpc, raw], sampling).await?;
        report::latency_rows(
            &mut report,
            &format!("{label} roll-up: "),
            &latencies[0],
            &latencies[1],
            goal,
        );
        report.note(format!(
            "{label} roll-up: {} samples per side; RPC {} / plain GROUP BY over deals {}",
            latencies[0].count(),
            latencies[0].summary(),
            latencies[1].summary()
        ));
    }

    // Rebuild.
    let started = Instant::now();
    let replayed = crm_forecasting::rebuild_read_model(
        &forecasting.pool,
        &forecasting.jetstream,
        &forecasting.naming,
    )
    .await?;
    let rebuilt = started.elapsed();
    // The rebuild replaced every row: its million dead versions are vacuumed before the lag
    // is measured (the rebuild analysed the tables itself).
    settle(&raw_pool).await?;
    let applied: u64 = replayed.iter().map(|(_, replayed)| replayed.applied).sum();
    report.row(Row::new(
        format!("rebuild of {applied} deal events (one transaction)"),
        "s",
        Some(rebuilt.as_secs_f64()),
        Some(loaded.as_secs_f64()),
    ));
    let after = forecast(
        &channel,
        &GetPipelineForecastRequest {
            scope: None,
            period: period.clone(),
        },
        // A token of its own: a million deals' rebuild outlasts the first one.
        &hosted.token(&admin.caller),
    )
    .await?;
    report.note(format!(
        "rebuild: {applied} events replayed in {:.1} s ({:.0} events/s; baseline column: the live load's end-to-end time); the company's forecast after it is {} the one before",
        rebuilt.as_secs_f64(),
        applied as f64 / rebuilt.as_secs_f64(),
        if company_before.as_ref() == Some(&after) { "identical to" } else { "DIFFERENT from" }
    ));

    // Event lag.
    let wal_before = wal_position(&raw_pool).await?;
    let lag = crate::forecast_lag::event_lag(hosted, &reps, year_start, options).await?;
    let wal = wal_position(&raw_pool).await? - wal_before;
    report
        .row(
            Row::new(
                format!("event lag at {} changes/s: p99", options.rate),
                "ms",
                lag.0.ms(0.99),
                lag.1.ms(0.99),
            )
            .target(Target::AtMost(LAG_P99_GOAL_MS)),
        )
        .row(Row::new(
            "event lag: p50",
            "ms",
            lag.0.ms(0.5),
            lag.1.ms(0.5),
        ))
        .row(Row::new(
            "event lag: p95",
            "ms",
            lag.0.ms(0.95),
            lag.1.ms(0.95),
        ));
    report.note(format!(
        "event lag: commit → read model {} ({} missing) / commit → read from JetStream {} ({} missing); the read model polled every 2 ms",
        lag.0.summary(),
        lag.0.missing,
        lag.1.summary(),
        lag.1.missing
    ));
    report.note(format!(
        "event lag: the server wrote {:.0} MB of WAL during the lag run ({:.1} kB a change, both databases and the checkpoints' full page images)",
        wal as f64 / 1e6,
        wal as f64 / 1e3 / crate::forecast_lag::changes(options) as f64
    ));
    report.note(format!(
        "load average (1/5/15 min) before: {}, after: {}",
        load_before.as_deref().unwrap_or("-"),
        measure::load_average().as_deref().unwrap_or("-"),
    ));
    raw_pool.close().await;
    Ok(report)
}

async fn forecast(
    channel: &Channel,
    request: &GetPipelineForecastRequest,
    token: &str,
) -> anyhow::Result<GetPipelineForecastResponse> {
    Ok(ForecastServiceClient::new(channel.clone())
        .get_pipeline_forecast(authorized(request.clone(), token))
        .await?
        .into_inner())
}

/// Whether the RPC's open deals and weighted amount are the plain GROUP BY's, as a note.
fn agreement(label: &str, reply: &GetPipelineForecastResponse, raw: &RawPipeline) -> String {
    let forecast = reply.forecast.clone().unwrap_or_default();
    let open = forecast.open.unwrap_or_default();
    let weighted: Decimal = open
        .weighted_amount
        .as_ref()
        .and_then(|money| money.amount.parse().ok())
        .unwrap_or_default();
    let raw_weighted = crm_platform::money::round_commercial(raw.open_weighted, 2).normalize();
    let same = i64::from(open.deal_count) == raw.open_deals && weighted == raw_weighted;
    format!(
        "{label}: the forecast's open deals and weighted amount {} the plain GROUP BY's ({} deals, CNY {raw_weighted}; {} omitted)",
        if same { "equal" } else { "DIFFER from" },
        raw.open_deals,
        raw.omitted_deals
    )
}
