//! SQL for the funnel (the priority board's is in [`super::board`]): sums of the monthly
//! roll-up, open deals now, closed deals by competitor — each filtered by the caller's
//! visibility and the requested scope with the kit's predicates — and the roll-up's rebuild
//! from the stage history.

use chrono::NaiveDate;
use crm_platform::{
    access::{OWNER_COLUMNS, push_visibility, push_within},
    auth::{TeamPath, Visibility},
};
use rust_decimal::Decimal;
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{corrupt, stored_team};
use crate::domain::{
    funnel::{OpenDeals, Outcomes, StageFlows},
    opportunity::OpportunityStatus,
};

/// Whose deals a figure counts, once the service has checked the caller may ask for it; the
/// caller's visibility applies on top.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Everything the caller sees.
    Visible,
    Owner(Uuid),
    Team(TeamPath),
}

/// Whether sums are per owner (CompareReps) or for the whole scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grouping {
    Scope,
    Owner,
}

impl Grouping {
    fn owner_column(self) -> &'static str {
        match self {
            Grouping::Scope => "NULL::uuid",
            Grouping::Owner => "owner_id",
        }
    }
}

/// The first days of the first and the last month of a period, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Months {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

pub(super) fn push_scope(
    query: &mut QueryBuilder<Postgres>,
    visibility: &Visibility,
    scope: &Scope,
) {
    push_visibility(query, visibility, OWNER_COLUMNS);
    match scope {
        Scope::Visible => {}
        Scope::Owner(owner_id) => {
            query.push(" AND owner_id = ").push_bind(*owner_id);
        }
        Scope::Team(team_path) => {
            query.push(" AND ");
            push_within(query, OWNER_COLUMNS.team_path, team_path);
        }
    }
}

pub(super) fn count(value: i64) -> sqlx::Result<u64> {
    u64::try_from(value).map_err(corrupt)
}

#[derive(sqlx::FromRow)]
struct StageFlowRow {
    owner_id: Option<Uuid>,
    stage_id: Uuid,
    entered: i64,
    exited: i64,
    advanced: i64,
    lost: i64,
    seconds_in_stage: Decimal,
}

/// The roll-up's stage flows of a pipeline over the months, summed per stage (and per owner).
pub(crate) async fn stage_flows(
    connection: &mut PgConnection,
    visibility: &Visibility,
    scope: &Scope,
    pipeline_id: Uuid,
    months: Months,
    grouping: Grouping,
) -> sqlx::Result<Vec<(Option<Uuid>, Uuid, StageFlows)>> {
    let owner = grouping.owner_column();
    let mut query = QueryBuilder::<Postgres>::new(format!(
        "SELECT {owner} AS owner_id, stage_id, sum(entered)::bigint AS entered, \
         sum(exited)::bigint AS exited, sum(advanced)::bigint AS advanced, \
         sum(lost)::bigint AS lost, sum(seconds_in_stage) AS seconds_in_stage \
         FROM funnel_stage_months WHERE pipeline_id = "
    ));
    query
        .push_bind(pipeline_id)
        .push(" AND month BETWEEN ")
        .push_bind(months.first)
        .push(" AND ")
        .push_bind(months.last);
    push_scope(&mut query, visibility, scope);
    query.push(" GROUP BY 1, 2");
    let rows: Vec<StageFlowRow> = query.build_query_as().fetch_all(connection).await?;
    rows.into_iter()
        .map(|row| {
            let flows = StageFlows {
                entered: count(row.entered)?,
                exited: count(row.exited)?,
                advanced: count(row.advanced)?,
                lost: count(row.lost)?,
                seconds_in_stage: row.seconds_in_stage,
            };
            Ok((row.owner_id, row.stage_id, flows))
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct OutcomeRow {
    owner_id: Option<Uuid>,
    won: i64,
    lost: i64,
    won_amount: Decimal,
    won_with_amount: i64,
    cycle_seconds: Decimal,
}

/// The roll-up's outcomes of a pipeline over the months (closed in them), summed (per owner).
pub(crate) async fn outcomes(
    connection: &mut PgConnection,
    visibility: &Visibility,
    scope: &Scope,
    pipeline_id: Uuid,
    months: Months,
    grouping: Grouping,
) -> sqlx::Result<Vec<(Option<Uuid>, Outcomes)>> {
    let owner = grouping.owner_column();
    let mut query = QueryBuilder::<Postgres>::new(format!(
        "SELECT {owner} AS owner_id, sum(won)::bigint AS won, sum(lost)::bigint AS lost, \
         sum(won_amount) AS won_amount, sum(won_with_amount)::bigint AS won_with_amount, \
         sum(cycle_seconds) AS cycle_seconds FROM funnel_outcome_months WHERE pipeline_id = "
    ));
    query
        .push_bind(pipeline_id)
        .push(" AND month BETWEEN ")
        .push_bind(months.first)
        .push(" AND ")
        .push_bind(months.last);
    push_scope(&mut query, visibility, scope);
    query.push(" GROUP BY 1");
    let rows: Vec<OutcomeRow> = query.build_query_as().fetch_all(connection).await?;
    rows.into_iter()
        .map(|row| {
            let outcomes = Outcomes {
                won: count(row.won)?,
                lost: count(row.lost)?,
                won_amount: row.won_amount,
                won_with_amount: count(row.won_with_amount)?,
                cycle_seconds: row.cycle_seconds,
            };
            Ok((row.owner_id, outcomes))
        })
        .collect()
}

/// Open deals of a pipeline now, with their corporate amounts in `corporate_currency`.
pub(crate) async fn open_deals(
    connection: &mut PgConnection,
    visibility: &Visibility,
    scope: &Scope,
    pipeline_id: Uuid,
    corporate_currency: Option<&str>,
    grouping: Grouping,
) -> sqlx::Result<Vec<(Option<Uuid>, OpenDeals)>> {
    let owner = grouping.owner_column();
    let mut query = QueryBuilder::<Postgres>::new(format!(
        "SELECT {owner} AS owner_id, count(*), \
         coalesce(sum(corporate_amount) FILTER (WHERE corporate_currency = "
    ));
    query
        .push_bind(corporate_currency.map(str::to_owned))
        .push("), 0) FROM opportunities WHERE status = ")
        .push_bind(OpportunityStatus::Open as i16)
        .push(" AND pipeline_id = ")
        .push_bind(pipeline_id);
    push_scope(&mut query, visibility, scope);
    query.push(" GROUP BY 1");
    let rows: Vec<(Option<Uuid>, i64, Decimal)> =
        query.build_query_as().fetch_all(connection).await?;
    rows.into_iter()
        .map(|(owner_id, deals, amount)| {
            Ok((
                owner_id,
                OpenDeals {
                    count: count(deals)?,
                    amount,
                },
            ))
        })
        .collect()
}

/// One competitor over the closed deals it was on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CompetitorTally {
    pub competitor_id: Uuid,
    /// The catalogue's name (the deal's copy if the catalogue has none).
    pub competitor_name: String,
    pub won: u64,
    pub lost: u64,
    /// Lost deals on which the competitor is "lost to".
    pub lost_to: u64,
    /// Their corporate amounts in `corporate_currency`.
    pub lost_revenue: Decimal,
}

#[derive(sqlx::FromRow)]
struct TallyRow {
    competitor_id: Uuid,
    competitor_name: String,
    won: i64,
    lost: i64,
    lost_to: i64,
    lost_revenue: Decimal,
}

/// Won and lost deals closed on `from..until` (in scope, optionally of one pipeline), per
/// competitor on them.
pub(crate) async fn competitor_tallies(
    connection: &mut PgConnection,
    visibility: &Visibility,
    scope: &Scope,
    pipeline_id: Option<Uuid>,
    from: NaiveDate,
    until: NaiveDate,
    corporate_currency: Option<&str>,
) -> sqlx::Result<Vec<CompetitorTally>> {
    const LOST_TO: &str = "(o.status = 3 AND (c.element ->> 'status')::int = 3)";
    let mut query = QueryBuilder::<Postgres>::new(format!(
        "SELECT t.competitor_id, coalesce(k.name, t.competitor_name) AS competitor_name, t.won, \
         t.lost, t.lost_to, t.lost_revenue FROM (SELECT (c.element ->> 'competitor_id')::uuid AS competitor_id, \
         max(c.element ->> 'competitor_name') AS competitor_name, \
         count(*) FILTER (WHERE o.status = 2) AS won, \
         count(*) FILTER (WHERE o.status = 3) AS lost, \
         count(*) FILTER (WHERE {LOST_TO}) AS lost_to, \
         coalesce(sum(o.corporate_amount) FILTER (WHERE {LOST_TO} AND o.corporate_currency = "
    ));
    query
        .push_bind(corporate_currency.map(str::to_owned))
        .push(
            "), 0) AS lost_revenue \
             FROM opportunities o CROSS JOIN LATERAL jsonb_array_elements(o.competitors) AS c(element) \
             WHERE o.status IN (2, 3) AND o.closed_on >= ",
        )
        .push_bind(from)
        .push(" AND o.closed_on < ")
        .push_bind(until);
    if let Some(pipeline_id) = pipeline_id {
        query.push(" AND o.pipeline_id = ").push_bind(pipeline_id);
    }
    push_scope(&mut query, visibility, scope);
    query.push(" GROUP BY 1) t LEFT JOIN competitors k ON k.id = t.competitor_id");
    let rows: Vec<TallyRow> = query.build_query_as().fetch_all(connection).await?;
    rows.into_iter()
        .map(|row| {
            Ok(CompetitorTally {
                competitor_id: row.competitor_id,
                competitor_name: row.competitor_name,
                won: count(row.won)?,
                lost: count(row.lost)?,
                lost_to: count(row.lost_to)?,
                lost_revenue: row.lost_revenue,
            })
        })
        .collect()
}

/// The team a user's deals are owned under (all of a user's deals move with them); `None` for
/// a user who owns none.
pub(crate) async fn team_of_deals(
    connection: &mut PgConnection,
    owner_id: Uuid,
) -> sqlx::Result<Option<TeamPath>> {
    let team: Option<String> =
        sqlx::query_scalar("SELECT owner_team_path FROM opportunities WHERE owner_id = $1 LIMIT 1")
            .bind(owner_id)
            .fetch_optional(connection)
            .await?;
    team.map(|path| stored_team(&path)).transpose()
}

/// Recomputes both roll-up tables from the stage history and the deals, as the incremental
/// writes of `store::history` would have left them (rows that only add up to zero aside):
///
/// - a stay in an open stage counts as entered in the month (UTC) it began, for the owner it
///   was entered under; and, when it ended by a move forward or back, a win or a loss, as
///   exited in the month it ended (advanced when forward or won, lost when lost, with its whole
///   seconds), for the owner at that moment — the owner of the deal's next stay, which the same
///   transaction entered;
/// - a won or lost deal counts in the month of its close, for its owner, with its corporate
///   amount (when it has one) and the seconds from its creation to the close;
/// - archived deals count nothing, and a reopened deal only by what it did since.
///
/// Truncating takes both tables' exclusive lock until the caller's transaction ends, so writes
/// made meanwhile wait and then add to the rebuilt rows.
// Called by the operator command and the benchmark, which are being written.
#[allow(dead_code)]
pub(crate) async fn rebuild_roll_up(connection: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("TRUNCATE funnel_stage_months, funnel_outcome_months")
        .execute(&mut *connection)
        .await?;
    sqlx::query(
        "WITH stays AS ( \
             SELECT h.pipeline_id, h.stage_id, h.owner_id, h.owner_team_path, h.entered_at, \
                    h.exited_at, h.exit_kind, s.kind AS stage_kind, \
                    lead(h.owner_id) OVER deal AS next_owner_id, \
                    lead(h.owner_team_path) OVER deal AS next_team_path \
             FROM stage_history h \
             JOIN opportunities o ON o.id = h.opportunity_id \
             JOIN stages s ON s.id = h.stage_id \
             WHERE o.status <> 4 \
             WINDOW deal AS (PARTITION BY h.opportunity_id ORDER BY h.entered_at, h.id) \
         ), flows AS ( \
             SELECT pipeline_id, stage_id, owner_id, owner_team_path, entered_at AS at, \
                    1 AS entered, 0 AS exited, 0 AS advanced, 0 AS lost, 0::numeric AS seconds \
             FROM stays WHERE stage_kind = 1 \
             UNION ALL \
             SELECT pipeline_id, stage_id, coalesce(next_owner_id, owner_id), \
                    coalesce(next_team_path, owner_team_path), exited_at, \
                    0, 1, (exit_kind IN (1, 3))::int, (exit_kind = 4)::int, \
                    greatest(0, floor(extract(epoch FROM exited_at) - extract(epoch FROM entered_at))) \
             FROM stays WHERE stage_kind = 1 AND exited_at IS NOT NULL AND exit_kind IN (1, 2, 3, 4) \
         ) \
         INSERT INTO funnel_stage_months (pipeline_id, stage_id, owner_id, owner_team_path, month, \
             entered, exited, advanced, lost, seconds_in_stage) \
         SELECT pipeline_id, stage_id, owner_id, (array_agg(owner_team_path ORDER BY at))[1], \
                date_trunc('month', at AT TIME ZONE 'UTC')::date, \
                sum(entered), sum(exited), sum(advanced), sum(lost), sum(seconds) \
         FROM flows \
         GROUP BY pipeline_id, stage_id, owner_id, date_trunc('month', at AT TIME ZONE 'UTC')::date",
    )
    .execute(&mut *connection)
    .await?;
    sqlx::query(
        "INSERT INTO funnel_outcome_months (pipeline_id, owner_id, owner_team_path, month, won, \
             lost, won_amount, won_with_amount, cycle_seconds) \
         SELECT pipeline_id, owner_id, (array_agg(owner_team_path ORDER BY closed_at))[1], \
                date_trunc('month', closed_on)::date, \
                count(*) FILTER (WHERE status = 2), count(*) FILTER (WHERE status = 3), \
                coalesce(sum(corporate_amount) FILTER (WHERE status = 2 AND has_amount), 0), \
                count(*) FILTER (WHERE status = 2 AND has_amount), \
                coalesce(sum(greatest(0, floor(extract(epoch FROM closed_at) - extract(epoch FROM created_at)))) \
                    FILTER (WHERE status = 2), 0) \
         FROM (SELECT *, (corporate_currency IS NOT NULL AND corporate_amount IS NOT NULL \
                   AND exchange_rate IS NOT NULL AND rate_date IS NOT NULL) AS has_amount \
               FROM opportunities WHERE status IN (2, 3) AND closed_on IS NOT NULL) closed \
         GROUP BY pipeline_id, owner_id, date_trunc('month', closed_on)::date",
    )
    .execute(connection)
    .await
    .map(drop)
}
