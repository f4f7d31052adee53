//! SQL of the forecast calls (`forecast_calls`): a call inserted (never updated), the calls of
//! a scope for a period, and the reps a team's roll-up shows.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use crm_platform::{
    access::push_within,
    auth::TeamPath,
    fiscal::{FiscalPeriod, PeriodKind},
    money::CurrencyCode,
    paging::{Listing, Page, SortKey},
};
use rust_decimal::Decimal;
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::domain::{
    call::{CallAdjustment, CallNumbers, CallScope, ForecastCall, TeamCallParts},
    deal::ForecastCategory,
    scope::Scope,
};

pub fn period_kind(kind: PeriodKind) -> &'static str {
    match kind {
        PeriodKind::Month => "month",
        PeriodKind::Quarter => "quarter",
        PeriodKind::Year => "year",
    }
}

/// Writes `call` (its pipeline's categories absent from the map are 0), filed under `team_path`.
pub async fn insert(
    connection: &mut PgConnection,
    call: &ForecastCall,
    team_path: &TeamPath,
    currency: CurrencyCode,
) -> sqlx::Result<()> {
    let (kind, user_id) = match &call.scope {
        CallScope::Rep(user_id) => ("rep", Some(*user_id)),
        CallScope::Team(_) => ("team", None),
    };
    let pipeline = |category| call.pipeline.get(&category).copied().unwrap_or_default();
    let team = call.team.as_ref();
    sqlx::query(
        "INSERT INTO forecast_calls (id, kind, user_id, team_path, period_kind, period_start, \
         period_end, period_label, submitted_by, submitted_at, currency, commit_amount, \
         best_case_amount, pipeline_amount, rolled_up_commit, rolled_up_best_case, \
         rolled_up_pipeline, adjustment_commit, adjustment_best_case, adjustment_pipeline, \
         note, pipeline_closed, pipeline_commit, pipeline_best_case, pipeline_pipeline, \
         pipeline_omitted) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
         $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)",
    )
    .bind(call.id)
    .bind(kind)
    .bind(user_id)
    .bind(team_path.as_str())
    .bind(period_kind(call.period.kind()))
    .bind(call.period.start())
    .bind(call.period.end())
    .bind(call.period.to_string())
    .bind(call.submitted_by)
    .bind(call.submitted_at)
    .bind(currency.as_str())
    .bind(call.numbers.commit)
    .bind(call.numbers.best_case)
    .bind(call.numbers.pipeline)
    .bind(team.map(|team| team.rolled_up.commit))
    .bind(team.map(|team| team.rolled_up.best_case))
    .bind(team.map(|team| team.rolled_up.pipeline))
    .bind(team.map(|team| team.adjustment.commit))
    .bind(team.map(|team| team.adjustment.best_case))
    .bind(team.map(|team| team.adjustment.pipeline))
    .bind(&call.note)
    .bind(pipeline(ForecastCategory::Closed))
    .bind(pipeline(ForecastCategory::Commit))
    .bind(pipeline(ForecastCategory::BestCase))
    .bind(pipeline(ForecastCategory::Pipeline))
    .bind(pipeline(ForecastCategory::Omitted))
    .execute(connection)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct CallRow {
    id: Uuid,
    kind: String,
    user_id: Option<Uuid>,
    team_path: String,
    submitted_by: Uuid,
    submitted_at: DateTime<Utc>,
    commit_amount: Decimal,
    best_case_amount: Decimal,
    pipeline_amount: Decimal,
    rolled_up_commit: Option<Decimal>,
    rolled_up_best_case: Option<Decimal>,
    rolled_up_pipeline: Option<Decimal>,
    adjustment_commit: Option<Decimal>,
    adjustment_best_case: Option<Decimal>,
    adjustment_pipeline: Option<Decimal>,
    note: String,
    pipeline_closed: Decimal,
    pipeline_commit: Decimal,
    pipeline_best_case: Decimal,
    pipeline_pipeline: Decimal,
    pipeline_omitted: Decimal,
}

/// A call as stored, with the team it is filed under.
pub struct StoredCall {
    pub call: ForecastCall,
    pub team_path: TeamPath,
}

impl CallRow {
    fn into_stored(self, period: &FiscalPeriod) -> sqlx::Result<StoredCall> {
        let decode = |what: String| sqlx::Error::Decode(what.into());
        let team_path = TeamPath::parse(&self.team_path).map_err(decode)?;
        let scope = match (self.kind.as_str(), self.user_id) {
            ("rep", Some(user_id)) => CallScope::Rep(user_id),
            ("team", None) => CallScope::Team(team_path.clone()),
            (kind, _) => return Err(decode(format!("forecast call kind {kind:?}"))),
        };
        let team = match (
            self.rolled_up_commit,
            self.rolled_up_best_case,
            self.rolled_up_pipeline,
            self.adjustment_commit,
            self.adjustment_best_case,
            self.adjustment_pipeline,
        ) {
            (
                Some(commit),
                Some(best_case),
                Some(pipeline),
                Some(by_commit),
                Some(by_best),
                Some(by_pipeline),
            ) => Some(TeamCallParts {
                rolled_up: CallNumbers {
                    commit,
                    best_case,
                    pipeline,
                },
                adjustment: CallAdjustment {
                    commit: by_commit,
                    best_case: by_best,
                    pipeline: by_pipeline,
                },
            }),
            _ => None,
        };
        Ok(StoredCall {
            call: ForecastCall {
                id: self.id,
                scope,
                period: *period,
                submitted_by: self.submitted_by,
                submitted_at: self.submitted_at,
                numbers: CallNumbers {
                    commit: self.commit_amount,
                    best_case: self.best_case_amount,
                    pipeline: self.pipeline_amount,
                },
                team,
                note: self.note,
                pipeline: BTreeMap::from([
                    (ForecastCategory::Closed, self.pipeline_closed),
                    (ForecastCategory::Commit, self.pipeline_commit),
                    (ForecastCategory::BestCase, self.pipeline_best_case),
                    (ForecastCategory::Pipeline, self.pipeline_pipeline),
                    (ForecastCategory::Omitted, self.pipeline_omitted),
                ]),
            },
            team_path,
        })
    }
}

/// The calls of `scope` for `period` in `currency`: a rep's own; a team's — its teams' calls
/// and the calls of the reps in it now (the directory's team, else the one the call was filed
/// under); the company's, all.
fn push_calls(
    query: &mut QueryBuilder<Postgres>,
    scope: &Scope,
    period: &FiscalPeriod,
    currency: CurrencyCode,
) {
    query
        .push(
            "SELECT c.* FROM forecast_calls c LEFT JOIN org_users u ON u.user_id = c.user_id \
             WHERE c.period_kind = ",
        )
        .push_bind(period_kind(period.kind()))
        .push(" AND c.period_start = ")
        .push_bind(period.start())
        .push(" AND c.currency = ")
        .push_bind(currency.as_str());
    match scope {
        Scope::Company => {}
        Scope::Rep { user_id, .. } => {
            query
                .push(" AND c.kind = 'rep' AND c.user_id = ")
                .push_bind(*user_id);
        }
        Scope::Team(team) => {
            query.push(" AND ");
            push_within(query, "coalesce(u.team_path, c.team_path)", team);
        }
    }
}

/// Every call of `scope` for `period` (see [`push_calls`]), oldest first.
pub async fn all(
    connection: &mut PgConnection,
    scope: &Scope,
    period: &FiscalPeriod,
    currency: CurrencyCode,
) -> sqlx::Result<Vec<StoredCall>> {
    let mut query = QueryBuilder::new("");
    push_calls(&mut query, scope, period, currency);
    query.push(" ORDER BY c.submitted_at, c.id");
    query
        .build_query_as::<CallRow>()
        .fetch_all(connection)
        .await?
        .into_iter()
        .map(|row| row.into_stored(period))
        .collect()
}

/// A page of the calls of `scope` for `period`, newest first.
pub async fn list(
    connection: &mut PgConnection,
    scope: &Scope,
    period: &FiscalPeriod,
    currency: CurrencyCode,
    page: &Page,
) -> sqlx::Result<Listing<StoredCall>> {
    let mut query = QueryBuilder::new("SELECT * FROM (");
    push_calls(&mut query, scope, period, currency);
    query.push(") AS calls WHERE true");
    page.push_keyset(&mut query);
    let rows = query
        .build_query_as::<CallRow>()
        .fetch_all(connection)
        .await?
        .into_iter()
        .map(|row| row.into_stored(period))
        .collect::<sqlx::Result<Vec<_>>>()?;
    Ok(Listing::from_rows(rows, page, |stored| {
        (SortKey::Time(stored.call.submitted_at), stored.call.id)
    }))
}

/// The reps of `team`'s subtree with their teams now: the directory's active reps there, and
/// anyone now there who made a rep call for `period` (a rep who became a manager still has
/// their calls shown).
pub async fn reps_of(
    connection: &mut PgConnection,
    team: &TeamPath,
    period: &FiscalPeriod,
) -> sqlx::Result<Vec<(Uuid, TeamPath)>> {
    let mut query =
        QueryBuilder::<Postgres>::new("SELECT u.user_id, u.team_path FROM org_users u WHERE ");
    push_within(&mut query, "u.team_path", team);
    query
        .push(
            " AND ((u.role = 'rep' AND u.active) OR EXISTS (SELECT 1 FROM forecast_calls c \
             WHERE c.kind = 'rep' AND c.user_id = u.user_id AND c.period_kind = ",
        )
        .push_bind(period_kind(period.kind()))
        .push(" AND c.period_start = ")
        .push_bind(period.start())
        .push(")) ORDER BY u.user_id");
    query
        .build_query_as::<(Uuid, String)>()
        .fetch_all(connection)
        .await?
        .into_iter()
        .map(|(user_id, path)| {
            let path = TeamPath::parse(&path).map_err(|error| sqlx::Error::Decode(error.into()))?;
            Ok((user_id, path))
        })
        .collect()
}
