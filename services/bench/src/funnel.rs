//! `funnel`: `GetFunnel` over 24 months of a large organisation, for the company (an admin, no
//! scope) and for one rep, against the same aggregates sent straight to PostgreSQL.
//!
//! The opportunities service runs in this process with a fresh database. Loaded straight into
//! it (`opportunities_data`): 1,000,000 deals with ~5,000,000 stays over ~24 months, owned by
//! 500 reps in a team tree (5 regions, 20 areas, 100 teams); then the funnel's roll-up is
//! rebuilt from them with the service's own `crm_opportunities::rebuild_funnel_roll_up`, and
//! the tables are vacuumed and analysed, as an operator does after a bulk load.
//!
//! Measured from one client, sequentially, alternating call by call with the baseline:
//! `GetFunnel` of the Direct pipeline over the last 24 months (the current one included) and
//! the baseline, the three aggregates the service sends (stage flows and outcomes summed over
//! the roll-up, open deals counted now; the statements and binds of `store::analytics` for the
//! caller's visibility and scope) in one read-only repeatable-read transaction, as the service
//! reads them. For context, not as a baseline: the same figures aggregated over
//! `stage_history` and `opportunities` themselves, without the roll-up.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use chrono::{Datelike, Months, NaiveDate, Utc};
use crm_platform::auth::Role;
use crm_proto::crm::opportunities::v1::{
    DealScope, GetFunnelRequest, GetFunnelResponse, MonthRange,
    analytics_service_client::AnalyticsServiceClient,
};
use crm_test_support::authorized;
use futures::FutureExt;
use tonic::transport::Channel;

use crate::{
    funnel_queries::{
        HISTORY_RUNS, Period, RollUpFigures, StageCounts, View, history_aggregate, roll_up,
    },
    measure::{self, Latencies, Probe, Sampling},
    opportunities::{self, DIRECT, Hosted, Person},
    opportunities_data::{self, DealBatch},
    report::{self, Row, ScenarioReport},
};

const REPS: usize = 500;
/// The months of the period, the current one included.
const MONTHS: u32 = 24;
/// The goals: p95 at most 500 ms for the company, 50 ms for one rep.
const COMPANY_GOAL_MS: f64 = 500.0;
const REP_GOAL_MS: f64 = 50.0;

#[derive(Clone, Copy, Debug)]
pub struct FunnelOptions {
    pub deals: i64,
    /// Measured seconds per view (at least a minimum of calls of each side either way).
    pub duration: Duration,
}

impl Period {
    fn ending_this_month(today: NaiveDate) -> anyhow::Result<Self> {
        let last = today.with_day(1).expect("every month has a first day");
        let first = last
            .checked_sub_months(Months::new(MONTHS - 1))
            .ok_or_else(|| anyhow::anyhow!("no period before {last}"))?;
        let end = last
            .checked_add_months(Months::new(1))
            .ok_or_else(|| anyhow::anyhow!("no month after {last}"))?;
        Ok(Self { first, last, end })
    }

    fn range(&self) -> MonthRange {
        MonthRange {
            from_month: self.first.format("%Y-%m").to_string(),
            to_month: self.last.format("%Y-%m").to_string(),
        }
    }
}

pub async fn run(
    options: FunnelOptions,
    overrides: &BTreeMap<String, String>,
) -> anyhow::Result<ScenarioReport> {
    anyhow::ensure!(options.deals > 0, "--deals must be at least 1");
    let hosted = Hosted::start(4, overrides).await?;
    let result = measure_funnel(&hosted, options).await;
    hosted.cleanup().await;
    result
}

async fn measure_funnel(hosted: &Hosted, options: FunnelOptions) -> anyhow::Result<ScenarioReport> {
    let load_before = measure::load_average();
    // One connection of the bench's own: the load, the rebuild, then the baselines.
    let baseline_pool = hosted.baseline_pool(1).await?;
    let pool = &baseline_pool;
    let reps = opportunities::reps(REPS)?;
    let admin = Person::new(Role::Admin, "/northwind/", "Bench Admin")?;
    let mut people = reps.clone();
    people.push(admin.clone());
    opportunities::file_users(pool, &people).await?;
    opportunities::set_corporate_currency(pool).await?;
    let now = Utc::now();
    let period = Period::ending_this_month(now.date_naive())?;

    let started = Instant::now();
    let loaded = opportunities_data::load(
        pool,
        &[DealBatch {
            first: 1,
            count: options.deals,
            owners: &reps,
            all_open: false,
            now: now.timestamp(),
        }],
    )
    .await?;
    let load_time = started.elapsed();
    let started = Instant::now();
    crm_opportunities::rebuild_funnel_roll_up(pool).await?;
    let rebuild_time = started.elapsed();
    let started = Instant::now();
    opportunities_data::vacuum_analyze(pool).await?;
    let vacuum_time = started.elapsed();
    let (open, won, lost) = opportunities_data::status_counts(pool).await?;
    let roll_up_rows: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM funnel_stage_months), (SELECT count(*) FROM funnel_outcome_months)",
    )
    .fetch_one(pool)
    .await?;

    let channel = hosted.channel().await?;
    // A rep in the middle of the tree.
    let rep = &reps[REPS / 2 + 7];
    let company = View::Company;
    let one_rep = View::Rep(rep.id());
    let admin_token: Arc<str> = hosted.token(&admin.caller).into();
    let rep_token: Arc<str> = hosted.token(&rep.caller).into();

    let mut report = ScenarioReport::new(
        "funnel",
        format!(
            "GetFunnel, Direct pipeline, {MONTHS} months ({} to {}), 1 client, sequential",
            period.first.format("%Y-%m"),
            period.last.format("%Y-%m")
        ),
        "gRPC GetFunnel",
        "raw roll-up SQL",
    );
    let views = [
        ("company view", company, admin_token, COMPANY_GOAL_MS, 3, 30),
        ("one rep", one_rep, rep_token, REP_GOAL_MS, 20, 200),
    ];
    for (label, view, token, goal, warm_up, min_samples) in views {
        let scope = match view {
            View::Company => None,
            View::Rep(rep) => Some(DealScope {
                owner_id: rep.to_string(),
                team_path: String::new(),
            }),
        };
        let request = GetFunnelRequest {
            pipeline_id: DIRECT.to_string(),
            period: Some(period.range()),
            scope,
        };
        let reply = funnel(&channel, &request, &token).await?;
        let figures = roll_up(&baseline_pool, view, period).await?;
        report.note(agreement(label, &reply, &figures));
        let statements: Arc<Mutex<[Latencies; 3]>> = Arc::default();
        let (rpc_channel, rpc_request, rpc_token) =
            (channel.clone(), request.clone(), token.clone());
        let rpc: Probe = Box::new(move || {
            let (channel, request, token) =
                (rpc_channel.clone(), rpc_request.clone(), rpc_token.clone());
            async move {
                funnel(&channel, &request, &token).await?;
                Ok(())
            }
            .boxed()
        });
        let (raw_pool, raw_statements) = (baseline_pool.clone(), statements.clone());
        let raw: Probe = Box::new(move || {
            let (pool, statements) = (raw_pool.clone(), raw_statements.clone());
            async move {
                let figures = roll_up(&pool, view, period).await?;
                let mut statements = statements.lock().expect("not poisoned");
                for (latency, timing) in statements.iter_mut().zip(figures.timings) {
                    latency.record(timing);
                }
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
            &format!("{label}: "),
            &latencies[0],
            &latencies[1],
            goal,
        );
        let statement_p50s: Vec<Option<f64>> = statements
            .lock()
            .expect("not poisoned")
            .iter()
            .map(|latency| latency.ms(0.5))
            .collect();
        for (name, p50) in ["stage flows", "outcomes", "open deals"]
            .iter()
            .zip(statement_p50s)
        {
            report.row(Row::new(
                format!("{label}: raw {name} statement p50"),
                "ms",
                None,
                p50,
            ));
        }
        report.note(format!(
            "{label}: {} samples per side after {warm_up} unmeasured calls each; RPC {} / raw {}",
            latencies[0].count(),
            latencies[0].summary(),
            latencies[1].summary()
        ));
        let history = history_aggregate(&baseline_pool, view, period).await?;
        report.row(Row::new(
            format!("{label}: without the roll-up (stage_history), p50 of {HISTORY_RUNS}"),
            "ms",
            None,
            history.0.ms(0.5),
        ));
        report.note(format!(
            "{label}: the same counts aggregated over stage_history and opportunities without the roll-up {} the roll-up's ({})",
            if history.1 == figures.stages { "equal" } else { "DIFFER from" },
            history.0.summary()
        ));
    }
    baseline_pool.close().await;
    report.note(format!(
        "data: {deals} deals ({open} open, {won} won, {lost} lost) with {stays} stays, {REPS} reps; loaded with SQL in {load:.1} s, the roll-up rebuilt by rebuild_funnel_roll_up ({stage_rows} stage-month and {outcome_rows} outcome-month rows) in {rebuild:.1} s, VACUUM ANALYZE {vacuum:.1} s",
        deals = loaded.deals,
        stays = loaded.stays,
        stage_rows = roll_up_rows.0,
        outcome_rows = roll_up_rows.1,
        load = load_time.as_secs_f64(),
        rebuild = rebuild_time.as_secs_f64(),
        vacuum = vacuum_time.as_secs_f64()
    ));
    report.note("the RPC beyond the baseline: token check, the pipeline with its stages and the corporate currency read in the same snapshot, the funnel's figures computed and the reply");
    report.note(format!(
        "load average (1/5/15 min) before: {}, after: {}",
        load_before.as_deref().unwrap_or("-"),
        measure::load_average().as_deref().unwrap_or("-"),
    ));
    Ok(report)
}

async fn funnel(
    channel: &Channel,
    request: &GetFunnelRequest,
    token: &str,
) -> anyhow::Result<GetFunnelResponse> {
    Ok(AnalyticsServiceClient::new(channel.clone())
        .get_funnel(authorized(request.clone(), token))
        .await?
        .into_inner())
}

/// Whether `GetFunnel`'s counts are the roll-up's, as a note.
fn agreement(label: &str, reply: &GetFunnelResponse, raw: &RollUpFigures) -> String {
    let stages: StageCounts = reply
        .stages
        .iter()
        .filter_map(|stage| {
            let id = stage.stage.as_ref()?.stage_id.parse().ok()?;
            let counts = [stage.entered, stage.exited, stage.advanced, stage.lost]
                .map(|count| i64::try_from(count).unwrap_or(i64::MAX));
            Some((id, counts))
        })
        .filter(|(_, counts)| counts.iter().any(|count| *count != 0))
        .collect();
    let figures = reply.figures.clone().unwrap_or_default();
    let same = stages == raw.stages
        && (figures.won as i64, figures.lost as i64) == raw.won_lost
        && figures.open_deals as i64 == raw.open;
    let entered: i64 = raw.stages.values().map(|counts| counts[0]).sum();
    format!(
        "{label}: GetFunnel's counts {} the raw roll-up's (entered {entered}, won {}, lost {}, open {})",
        if same { "equal" } else { "DIFFER from" },
        raw.won_lost.0,
        raw.won_lost.1,
        raw.open
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_period_is_the_last_24_months_with_the_current_one() {
        let period =
            Period::ending_this_month(NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()).unwrap();
        assert_eq!(period.first, NaiveDate::from_ymd_opt(2025, 1, 1).unwrap());
        assert_eq!(period.last, NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
        assert_eq!(period.end, NaiveDate::from_ymd_opt(2027, 1, 1).unwrap());
        let range = period.range();
        assert_eq!(
            (range.from_month.as_str(), range.to_month.as_str()),
            ("2025-01", "2026-12")
        );
    }
}
