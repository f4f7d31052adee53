//! SQL for the priority board: the open deals in scope that can make the board, scored by
//! PostgreSQL in `float8` so that only a few rows leave the database.
//!
//! A rep may have thousands of open deals; shipping them all and scoring them in `Decimal` took
//! most of a board call. So the database scores every deal with the board's formula (without
//! its constant factor 100 / sum of weights) in `float8` and returns only those within
//! [`PRESELECTION_MARGIN`] of the `limit`-th best float score; the service ranks those exactly
//! (`board::rank`). Every deal whose exact score could reach the top `limit` — ties included,
//! whatever breaks them — is within the margin, so the board is the one ranking all deals would
//! give. (Returning the best `limit` + 64 by float score and asking again when more deals
//! crowd the margin measured slower in `crm-bench priority-board`: 27 ms at p95 against 23.)

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::auth::Visibility;
use rust_decimal::{Decimal, prelude::ToPrimitive};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{
    analytics::{Scope, count, push_scope},
    corrupt,
};
use crate::domain::{
    board::BoardCandidate, opportunity::OpportunityStatus, settings::BoardSettings,
};

/// How far the pre-selection reaches below its cut: more than the error of a score computed in
/// `float8` (about 1e-13 for scores up to 100 × the largest weight), far less than the smallest
/// difference `Decimal` scores can make visible.
const PRESELECTION_MARGIN: f64 = 1e-9;

/// What the board is asked for: whose deals, its size, its day and its settings.
#[derive(Clone, Copy)]
pub(crate) struct BoardQuery<'a> {
    pub visibility: &'a Visibility,
    pub scope: &'a Scope,
    pub pipeline_id: Option<Uuid>,
    /// Corporate amounts count only in this currency (the current corporate one).
    pub corporate_currency: Option<&'a str>,
    pub limit: u32,
    /// The board's moment: its day (`as_of`) for closeness, itself for days without activity.
    pub now: DateTime<Utc>,
    pub as_of: NaiveDate,
    pub settings: &'a BoardSettings,
}

/// What [`board_candidates`] found: the deals that may make the board, and how many open deals
/// the scope holds.
pub(crate) struct BoardCandidates {
    pub candidates: Vec<BoardCandidate>,
    pub total_open_deals: u64,
}

/// The open deals in scope that can be among the board's `limit` best on its day, with only
/// the columns their score needs, and the count of all open deals in scope: one statement.
pub(crate) async fn board_candidates(
    connection: &mut PgConnection,
    board: BoardQuery<'_>,
) -> sqlx::Result<BoardCandidates> {
    let mut query = QueryBuilder::<Postgres>::new("WITH scored AS MATERIALIZED (SELECT *, ");
    push_approximate_score(&mut query, &board);
    query.push(" FROM (SELECT ");
    push_candidate_columns(&mut query, &board);
    push_open_deals(&mut query, &board);
    query
        .push(
            ") AS open_deals), cut AS (SELECT approximate FROM scored ORDER BY approximate DESC \
               OFFSET ",
        )
        .push_bind(i64::from(board.limit.max(1)) - 1)
        .push(
            " LIMIT 1) SELECT id, effective_probability, corporate_amount, expected_close_date, \
             days_without_activity, stale_after_days, (SELECT count(*) FROM scored) AS \
             total_open_deals FROM scored \
             WHERE approximate >= coalesce((SELECT approximate FROM cut), '-Infinity'::float8) - ",
        )
        .push_bind(PRESELECTION_MARGIN);
    let rows: Vec<CandidateRow> = query.build_query_as().fetch_all(connection).await?;
    let total_open_deals = match rows.first() {
        Some(row) => count(row.total_open_deals)?,
        None => 0,
    };
    let candidates = rows
        .into_iter()
        .map(BoardCandidate::try_from)
        .collect::<sqlx::Result<_>>()?;
    Ok(BoardCandidates {
        candidates,
        total_open_deals,
    })
}

#[derive(sqlx::FromRow)]
struct CandidateRow {
    id: Uuid,
    effective_probability: i16,
    corporate_amount: Option<Decimal>,
    expected_close_date: NaiveDate,
    days_without_activity: i32,
    stale_after_days: i32,
    total_open_deals: i64,
}

impl TryFrom<CandidateRow> for BoardCandidate {
    type Error = sqlx::Error;

    fn try_from(row: CandidateRow) -> sqlx::Result<Self> {
        Ok(BoardCandidate {
            id: row.id,
            effective_probability: u8::try_from(row.effective_probability).map_err(corrupt)?,
            corporate_amount: row.corporate_amount,
            expected_close_date: row.expected_close_date,
            days_without_activity: u32::try_from(row.days_without_activity).map_err(corrupt)?,
            stale_after_days: u32::try_from(row.stale_after_days).map_err(corrupt)?,
        })
    }
}

/// `date_part` of the interval, in `float8`, rather than `extract`, whose `numeric` arithmetic
/// over 10,000 deals doubled the statement's time (24 against 13 ms, pgbench, 2026-12-02);
/// whole days of an interval of seconds are exact in `float8`.
///
/// What a deal's score is made of: its probability, its corporate amount (only in the current
/// corporate currency), its close date, its whole days without activity (as
/// `stale::days_without_activity` counts them) and its pipeline's wait before going stale.
fn push_candidate_columns(query: &mut QueryBuilder<Postgres>, board: &BoardQuery<'_>) {
    query
        .push("opportunities.id, effective_probability, CASE WHEN corporate_currency = ")
        .push_bind(board.corporate_currency.map(str::to_owned))
        .push(
            " THEN corporate_amount END AS corporate_amount, expected_close_date, \
             greatest(0, floor(date_part('epoch', ",
        )
        .push_bind(board.now)
        .push(
            " - last_activity_at) / 86400))::int AS days_without_activity, \
             pipelines.stale_after_days",
        );
}

/// The approximate score of a candidate: the formula of `board::score` without its constant
/// factor 100 / (sum of weights), in `float8`.
fn push_approximate_score(query: &mut QueryBuilder<Postgres>, board: &BoardQuery<'_>) {
    let settings = board.settings;
    query
        .push_bind(f64::from(settings.probability_weight))
        .push(" * effective_probability::float8 / 100 + ")
        .push_bind(f64::from(settings.amount_weight))
        .push(" * CASE WHEN corporate_amount > 0 THEN least(1, corporate_amount::float8 / ")
        .push_bind(settings.amount_scale.to_f64().unwrap_or(f64::MAX))
        .push(") ELSE 0 END + ")
        .push_bind(f64::from(settings.closeness_weight))
        .push(" * CASE WHEN expected_close_date <= ")
        .push_bind(board.as_of)
        .push(" THEN 1 ELSE greatest(0, 1 - (expected_close_date - ")
        .push_bind(board.as_of)
        .push(")::float8 / ")
        .push_bind(f64::from(settings.close_horizon_days.max(1)))
        .push(") END + ")
        .push_bind(f64::from(settings.staleness_weight))
        .push(
            " * CASE WHEN stale_after_days > 0 AND days_without_activity >= stale_after_days \
             THEN least(1, days_without_activity::float8 / (2 * stale_after_days)) ELSE 0 END \
             AS approximate",
        );
}

/// ` FROM opportunities JOIN pipelines … WHERE …`: the open deals of the board's scope (and
/// pipeline), each beside its pipeline (for its wait before going stale; the scope's columns
/// are the deal's alone).
fn push_open_deals(query: &mut QueryBuilder<Postgres>, board: &BoardQuery<'_>) {
    query
        .push(
            " FROM opportunities JOIN pipelines ON pipelines.id = opportunities.pipeline_id \
             WHERE status = ",
        )
        .push_bind(OpportunityStatus::Open as i16);
    if let Some(pipeline_id) = board.pipeline_id {
        query.push(" AND pipeline_id = ").push_bind(pipeline_id);
    }
    push_scope(query, board.visibility, board.scope);
}
