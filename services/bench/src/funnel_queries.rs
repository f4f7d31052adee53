//! The `funnel` scenario's SQL: the service's three aggregates over the roll-up (the
//! baseline) and the same counts over the stage history without it (context).

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use chrono::{NaiveDate, TimeZone, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::{measure::Latencies, opportunities::DIRECT};

/// Runs of the aggregate over the stage history (seconds each; context only).
pub const HISTORY_RUNS: usize = 3;

/// The period: its first month, its last, and the first day after it.
#[derive(Clone, Copy, Debug)]
pub struct Period {
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub end: NaiveDate,
}

/// Whose funnel: everything (an admin's, no scope) or one rep's own.
#[derive(Clone, Copy, Debug)]
pub enum View {
    Company,
    Rep(Uuid),
}

impl View {
    /// The owner predicates the service adds: for a rep their visibility (own deals) and the
    /// scope (the rep), for an admin without a scope none.
    fn push(self, query: &mut QueryBuilder<Postgres>) {
        if let View::Rep(rep) = self {
            query.push(" AND owner_id = ").push_bind(rep);
            query.push(" AND owner_id = ").push_bind(rep);
        }
    }
}

/// Per stage: entered, exited, advanced, lost.
pub type StageCounts = HashMap<Uuid, [i64; 4]>;

/// The baseline's answer and how long each statement took.
pub struct RollUpFigures {
    pub stages: StageCounts,
    pub won_lost: (i64, i64),
    pub open: i64,
    pub timings: [Duration; 3],
}

/// The service's three aggregates (`store::analytics::{stage_flows, outcomes, open_deals}` as
/// built for the view) in a read-only repeatable-read transaction.
pub async fn roll_up(pool: &PgPool, view: View, period: Period) -> anyhow::Result<RollUpFigures> {
    let mut transaction = pool.begin().await?;
    crm_platform::db::read_one_snapshot(&mut transaction).await?;
    let started = Instant::now();
    let mut query = QueryBuilder::<Postgres>::new(
        "SELECT NULL::uuid AS owner_id, stage_id, sum(entered)::bigint, sum(exited)::bigint, \
         sum(advanced)::bigint, sum(lost)::bigint, sum(seconds_in_stage) \
         FROM funnel_stage_months WHERE pipeline_id = ",
    );
    query
        .push_bind(DIRECT)
        .push(" AND month BETWEEN ")
        .push_bind(period.first)
        .push(" AND ")
        .push_bind(period.last);
    view.push(&mut query);
    query.push(" GROUP BY 1, 2");
    type FlowRow = (
        Option<Uuid>,
        Uuid,
        i64,
        i64,
        i64,
        i64,
        rust_decimal::Decimal,
    );
    let flows: Vec<FlowRow> = query.build_query_as().fetch_all(&mut *transaction).await?;
    let flows_time = started.elapsed();

    let started = Instant::now();
    let mut query = QueryBuilder::<Postgres>::new(
        "SELECT NULL::uuid AS owner_id, sum(won)::bigint, sum(lost)::bigint, sum(won_amount), \
         sum(won_with_amount)::bigint, sum(cycle_seconds) \
         FROM funnel_outcome_months WHERE pipeline_id = ",
    );
    query
        .push_bind(DIRECT)
        .push(" AND month BETWEEN ")
        .push_bind(period.first)
        .push(" AND ")
        .push_bind(period.last);
    view.push(&mut query);
    query.push(" GROUP BY 1");
    type OutcomeRow = (
        Option<Uuid>,
        i64,
        i64,
        rust_decimal::Decimal,
        i64,
        rust_decimal::Decimal,
    );
    let outcomes: Vec<OutcomeRow> = query.build_query_as().fetch_all(&mut *transaction).await?;
    let outcomes_time = started.elapsed();

    let started = Instant::now();
    let mut query = QueryBuilder::<Postgres>::new(
        "SELECT NULL::uuid AS owner_id, count(*), \
         coalesce(sum(corporate_amount) FILTER (WHERE corporate_currency = ",
    );
    query
        .push_bind(Some("CNY"))
        .push("), 0) FROM opportunities WHERE status = ")
        .push_bind(1_i16)
        .push(" AND pipeline_id = ")
        .push_bind(DIRECT);
    view.push(&mut query);
    query.push(" GROUP BY 1");
    let open: Vec<(Option<Uuid>, i64, rust_decimal::Decimal)> =
        query.build_query_as().fetch_all(&mut *transaction).await?;
    let open_time = started.elapsed();
    transaction.commit().await?;
    Ok(RollUpFigures {
        stages: flows
            .into_iter()
            .map(|(_, stage, entered, exited, advanced, lost, _)| {
                (stage, [entered, exited, advanced, lost])
            })
            .collect(),
        won_lost: outcomes
            .first()
            .map(|(_, won, lost, ..)| (*won, *lost))
            .unwrap_or_default(),
        open: open.first().map(|(_, count, _)| *count).unwrap_or_default(),
        timings: [flows_time, outcomes_time, open_time],
    })
}

/// The stage counts aggregated over the stage history itself, with the outcomes and open deals
/// from the deals, `HISTORY_RUNS` times: what the funnel would cost without its roll-up.
pub async fn history_aggregate(
    pool: &PgPool,
    view: View,
    period: Period,
) -> anyhow::Result<(Latencies, StageCounts)> {
    let start = Utc.from_utc_datetime(&period.first.and_hms_opt(0, 0, 0).expect("midnight"));
    let end = Utc.from_utc_datetime(&period.end.and_hms_opt(0, 0, 0).expect("midnight"));
    let mut latencies = Latencies::new();
    let mut counts = StageCounts::new();
    for _ in 0..HISTORY_RUNS {
        let started = Instant::now();
        let mut query = QueryBuilder::<Postgres>::new(
            "SELECT h.stage_id, count(*) FILTER (WHERE h.entered_at >= ",
        );
        query
            .push_bind(start)
            .push(" AND h.entered_at < ")
            .push_bind(end);
        let exited = |query: &mut QueryBuilder<Postgres>, extra: &str| {
            query
                .push(" AND h.exited_at >= ")
                .push_bind(start)
                .push(" AND h.exited_at < ")
                .push_bind(end)
                .push(format!(" AND h.exit_kind IN {extra}"));
        };
        query.push("), count(*) FILTER (WHERE true");
        exited(&mut query, "(1, 2, 3, 4)");
        query.push("), count(*) FILTER (WHERE true");
        exited(&mut query, "(1, 3)");
        query.push("), count(*) FILTER (WHERE true");
        exited(&mut query, "(4)");
        query.push(
            ") FROM stage_history h JOIN stages s ON s.id = h.stage_id AND s.kind = 1 \
             JOIN opportunities o ON o.id = h.opportunity_id AND o.status <> 4 \
             WHERE h.pipeline_id = ",
        );
        query
            .push_bind(DIRECT)
            .push(" AND h.entered_at < ")
            .push_bind(end)
            .push(" AND (h.exited_at IS NULL OR h.exited_at >= ")
            .push_bind(start)
            .push(")");
        if let View::Rep(rep) = view {
            query.push(" AND h.owner_id = ").push_bind(rep);
        }
        query.push(" GROUP BY 1");
        let rows: Vec<(Uuid, i64, i64, i64, i64)> = query.build_query_as().fetch_all(pool).await?;
        let mut outcomes = QueryBuilder::<Postgres>::new(
            "SELECT count(*) FILTER (WHERE status = 2), count(*) FILTER (WHERE status = 3), \
             coalesce(sum(corporate_amount) FILTER (WHERE status = 2), 0) FROM opportunities \
             WHERE status IN (2, 3) AND pipeline_id = ",
        );
        outcomes
            .push_bind(DIRECT)
            .push(" AND closed_on >= ")
            .push_bind(period.first)
            .push(" AND closed_on < ")
            .push_bind(period.end);
        if let View::Rep(rep) = view {
            outcomes.push(" AND owner_id = ").push_bind(rep);
        }
        let _: (i64, i64, rust_decimal::Decimal) =
            outcomes.build_query_as().fetch_one(pool).await?;
        let mut open = QueryBuilder::<Postgres>::new(
            "SELECT count(*), coalesce(sum(corporate_amount), 0) FROM opportunities \
             WHERE status = 1 AND pipeline_id = ",
        );
        open.push_bind(DIRECT);
        if let View::Rep(rep) = view {
            open.push(" AND owner_id = ").push_bind(rep);
        }
        let _: (i64, rust_decimal::Decimal) = open.build_query_as().fetch_one(pool).await?;
        latencies.record(started.elapsed());
        counts = rows
            .into_iter()
            .map(|(stage, entered, exited, advanced, lost)| {
                (stage, [entered, exited, advanced, lost])
            })
            .filter(|(_, counts)| counts.iter().any(|count| *count != 0))
            .collect();
    }
    Ok((latencies, counts))
}
