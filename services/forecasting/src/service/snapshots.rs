//! Weekly snapshots and what they show (F5): the job that takes one snapshot per ISO week
//! whatever the number of replicas, the movement of a period's pipeline between two of them,
//! and the accuracy of the calls of a period that has ended.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use crm_platform::{
    auth::{Caller, TeamPath},
    error::{FieldViolation, reasons::INCONSISTENT_FIELDS},
    paging::{Listing, Page},
    schedule,
};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{
    Counting, Forecasting, Result,
    statistics::{MethodJudged, judge_methods},
};
use crate::{
    domain::{
        accuracy::{Accuracy, Overflow},
        call::{AccuracyLevel, CallAccuracy, accuracy_levels, call_accuracy, level_accuracy},
        deal::DealStatus,
        movement::{PipelineMovement, movement},
        scope::{RequestedScope, Scope},
    },
    error::ForecastingError,
    store::{
        self,
        calls::StoredCall,
        pipeline::Grouping,
        snapshots::{MovementDeals, SnapshotWeek},
    },
};

/// The weekly snapshot job's name (its lock and the log's `job` field).
pub const WEEKLY_SNAPSHOT: &str = "forecasting.weekly_snapshot";

/// The Monday of `day`'s ISO week.
pub fn week_start(day: NaiveDate) -> NaiveDate {
    day.checked_sub_days(Days::new(u64::from(day.weekday().num_days_from_monday())))
        .unwrap_or(day)
}

/// `2026-W49`.
pub fn week_label(week_start: NaiveDate) -> String {
    let week = week_start.iso_week();
    format!("{}-W{:02}", week.year(), week.week())
}

/// How a period's pipeline moved between two snapshots.
pub struct MovementBetween {
    pub counting: Counting,
    pub from: SnapshotWeek,
    pub to: SnapshotWeek,
    pub movement: PipelineMovement,
    pub names: HashMap<Uuid, String>,
}

/// One level's calls of a period judged against what it booked.
pub struct LevelJudged {
    pub scope: Scope,
    pub booked: Decimal,
    /// Newest first.
    pub calls: Vec<(StoredCall, CallAccuracy)>,
    pub summary: Accuracy,
}

pub struct PeriodAccuracy {
    pub counting: Counting,
    pub levels: Vec<LevelJudged>,
    /// The statistical methods' forecasts of the scope's bookings, judged beside its calls.
    pub methods: Vec<MethodJudged>,
}

fn refusal(field: &str, text: impl Into<String>) -> ForecastingError {
    FieldViolation::refusal(INCONSISTENT_FIELDS, field, text).into()
}

fn overflow(error: Overflow) -> ForecastingError {
    ForecastingError::invalid("period", error.to_string())
}

impl Forecasting {
    /// The weekly snapshot job's body at `now`: takes the snapshot of `now`'s ISO week unless
    /// it was taken, under the job's lock. Returns the deals written (0 when the week had its
    /// snapshot or another replica is taking it).
    pub async fn run_weekly_snapshot(&self, now: DateTime<Utc>) -> Result<u64> {
        let mut transaction = self.pool.begin().await?;
        if !schedule::try_lock(&mut transaction, WEEKLY_SNAPSHOT).await? {
            transaction.rollback().await?;
            return Ok(0);
        }
        let week = week_start(now.date_naive());
        match store::snapshots::take(&mut transaction, week, now).await? {
            Some(written) => {
                transaction.commit().await?;
                tracing::info!(week = %week_label(week), deals = written, "weekly snapshot taken");
                Ok(written)
            }
            None => {
                transaction.rollback().await?;
                Ok(0)
            }
        }
    }

    /// A page of the snapshots taken, newest first (any signed-in caller: weeks, no numbers).
    pub async fn list_snapshots(&self, page: &Page) -> Result<Listing<SnapshotWeek>> {
        let mut connection = self.pool.acquire().await?;
        Ok(store::snapshots::list(&mut connection, page).await?)
    }

    /// How the scope's pipeline for `period` moved from the snapshot of `from`'s week to that
    /// of `to`'s.
    pub async fn movement(
        &self,
        caller: &Caller,
        requested: RequestedScope,
        period: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<MovementBetween> {
        let (from, to) = (week_start(from), week_start(to));
        if from > to {
            return Err(refusal("to_week", "must not be before from_week"));
        }
        let mut connection = self.pool.acquire().await?;
        let counting = self
            .counting(&mut connection, caller, requested, "period", period)
            .await?;
        let mut weeks = Vec::with_capacity(2);
        for (field, week) in [("from_week", from), ("to_week", to)] {
            match store::snapshots::week(&mut connection, week).await? {
                Some(snapshot) => weeks.push(snapshot),
                None => {
                    return Err(refusal(
                        field,
                        format!("no snapshot was taken in {}", week_label(week)),
                    ));
                }
            }
        }
        let deals = match counting.currency {
            Some(currency) => {
                store::snapshots::movement_deals(
                    &mut connection,
                    &counting.scope,
                    &counting.period,
                    currency,
                    from,
                    to,
                )
                .await?
            }
            None => MovementDeals {
                from: Vec::new(),
                to: Vec::new(),
                names: HashMap::new(),
            },
        };
        let movement = movement(&counting.period, &deals.from, &deals.to).map_err(overflow)?;
        let to = weeks.pop().ok_or(sqlx::Error::RowNotFound)?;
        let from = weeks.pop().ok_or(sqlx::Error::RowNotFound)?;
        Ok(MovementBetween {
            counting,
            from,
            to,
            movement,
            names: deals.names,
        })
    }

    /// The calls of a period that has ended, each level's against what it booked: the scope
    /// first, then every team below it that made calls (by path), then every rep (by id).
    pub async fn accuracy(
        &self,
        caller: &Caller,
        requested: RequestedScope,
        period: &str,
    ) -> Result<PeriodAccuracy> {
        let mut connection = self.pool.acquire().await?;
        let counting = self
            .counting(&mut connection, caller, requested, "period", period)
            .await?;
        if counting.period.end() > crm_platform::time::now().date_naive() {
            return Err(refusal(
                "period",
                format!(
                    "{} has not ended: a call is judged once its period is over",
                    counting.period
                ),
            ));
        }
        let Some(currency) = counting.currency else {
            return Ok(PeriodAccuracy {
                counting,
                levels: Vec::new(),
                methods: Vec::new(),
            });
        };
        let calls =
            store::calls::all(&mut connection, &counting.scope, &counting.period, currency).await?;
        let sums = store::pipeline::sums(
            &mut connection,
            &counting.scope,
            counting.period.start(),
            counting.period.end(),
            Grouping::ByOwner,
        )
        .await?;
        // What each owner booked, with their team: the levels' bookings are added from these.
        let won: Vec<(Uuid, &str, Decimal)> = sums
            .iter()
            .filter(|sum| {
                sum.status == DealStatus::Won && sum.currency.as_deref() == Some(currency.as_str())
            })
            .map(|sum| {
                (
                    sum.owner_id,
                    sum.owner_team_path.as_str(),
                    sum.totals.amount,
                )
            })
            .collect();
        let root = match &counting.scope {
            Scope::Rep { user_id, .. } => AccuracyLevel::Rep(*user_id),
            Scope::Team(team) => AccuracyLevel::Team(team.as_str().to_owned()),
            Scope::Company => AccuracyLevel::Company,
        };
        let methods = judge_methods(
            &mut connection,
            &counting.scope,
            currency,
            &counting.period,
            root.booked(&won).map_err(overflow)?,
        )
        .await?;
        let grouped = accuracy_levels(
            root,
            calls
                .into_iter()
                .map(|stored| (AccuracyLevel::of(&stored.call.scope), stored)),
        );
        let mut levels = Vec::with_capacity(grouped.len());
        for (level, mut level_calls) in grouped {
            let booked = level.booked(&won).map_err(overflow)?;
            let summary = level_accuracy(level_calls.iter().map(|stored| &stored.call), booked)
                .map_err(overflow)?;
            let scope = match level {
                AccuracyLevel::Company => Scope::Company,
                AccuracyLevel::Team(path) => Scope::Team(
                    TeamPath::parse(&path)
                        .map_err(|error| ForecastingError::invalid("scope", error))?,
                ),
                // Shown by id; the team is the one its latest call was filed under.
                AccuracyLevel::Rep(user_id) => Scope::Rep {
                    user_id,
                    team_path: level_calls.last().map_or_else(
                        || caller.team_path.clone(),
                        |stored| stored.team_path.clone(),
                    ),
                },
            };
            level_calls.reverse();
            let calls = level_calls
                .into_iter()
                .map(|stored| {
                    let judged = call_accuracy(&stored.call, booked).map_err(overflow)?;
                    Ok((stored, judged))
                })
                .collect::<Result<Vec<_>>>()?;
            levels.push(LevelJudged {
                scope,
                booked,
                calls,
                summary,
            });
        }
        Ok(PeriodAccuracy {
            counting,
            levels,
            methods,
        })
    }
}
