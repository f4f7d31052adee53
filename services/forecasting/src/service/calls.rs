//! Forecast calls (F4): a rep's or a team's call made for an open period with what the pipeline
//! said at that moment, the calls of a scope, and a team's roll-up of the current calls.

use std::collections::BTreeMap;

use crm_platform::{
    auth::{Caller, Role, TeamPath},
    error::{FieldViolation, reasons::INCONSISTENT_FIELDS},
    fiscal::FiscalPeriod,
    money::{CurrencyCode, Money},
    org::OrgDirectory,
    paging::{Listing, Page},
};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Counting, Forecasting, Result};
use crate::{
    domain::{
        call::{
            CallAdjustment, CallNumbers, CallScope, ForecastCall, TeamCallParts, TeamLevel,
            roll_up, team_call,
        },
        deal::ForecastCategory,
        forecast::{Forecast, OPEN_CATEGORIES},
        scope::{RequestedScope, Scope},
    },
    error::ForecastingError,
    store::{self, calls::StoredCall, pipeline::Grouping},
};

/// A call's three amounts as a request gives them (commit, best case, pipeline).
pub type CallAmounts = [Money; 3];

/// What a caller submits.
pub struct CallInput {
    /// A team's call; `None`: the caller's own (a rep's; a manager's or admin's team's).
    pub team: Option<TeamPath>,
    pub period: String,
    /// A rep's call.
    pub numbers: Option<CallAmounts>,
    /// A team's call's adjustment.
    pub adjustment: Option<CallAmounts>,
    pub note: String,
}

/// A team's roll-up of the current calls, with the calls it holds.
pub struct CallRollUp {
    pub counting: Counting,
    pub calls: Vec<ForecastCall>,
    pub reps: Vec<(Uuid, TeamPath)>,
}

impl CallRollUp {
    pub fn levels(&self) -> Result<TeamLevel<'_>> {
        let Scope::Team(team) = &self.counting.scope else {
            return Err(ForecastingError::invalid(
                "team_path",
                "a roll-up is a team's",
            ));
        };
        roll_up(team, &self.reps, &self.calls).map_err(overflow)
    }
}

fn overflow(error: impl std::fmt::Display) -> ForecastingError {
    ForecastingError::invalid("period", format!("the calls add up beyond range: {error}"))
}

fn refusal(field: &str, text: impl Into<String>) -> ForecastingError {
    FieldViolation::refusal(INCONSISTENT_FIELDS, field, text).into()
}

/// The amounts in `currency`, the corporate one (refused otherwise: they could not be added to
/// the others).
fn amounts(field: &str, given: &CallAmounts, currency: CurrencyCode) -> Result<[Decimal; 3]> {
    let names = ["commit", "best_case", "pipeline"];
    let mut violations = Vec::new();
    for (name, money) in names.iter().zip(given) {
        if money.currency != currency {
            violations.push(FieldViolation::refusal(
                INCONSISTENT_FIELDS,
                format!("{field}.{name}.currency_code"),
                format!("calls are made in the corporate currency, {currency}"),
            ));
        }
    }
    if !violations.is_empty() {
        return Err(violations.into());
    }
    Ok([given[0].amount, given[1].amount, given[2].amount])
}

impl Forecasting {
    /// Makes a call (see `ForecastCallService.SubmitCall`): one transaction that reads the
    /// pipeline and, for a team, the current calls below, and writes the call.
    pub async fn submit_call(
        &self,
        caller: &Caller,
        input: CallInput,
    ) -> Result<(StoredCall, CurrencyCode)> {
        let requested = match (&input.team, caller.role) {
            (Some(team), _) => RequestedScope::Team(team.clone()),
            (None, Role::Rep) => RequestedScope::Rep(caller.user_id),
            (None, _) => RequestedScope::Team(caller.team_path.clone()),
        };
        let mut transaction = self.pool.begin().await?;
        OrgDirectory::default()
            .remember(&mut transaction, caller)
            .await?;
        let counting = self
            .counting(&mut transaction, caller, requested, "period", &input.period)
            .await?;
        let now = crm_platform::time::now();
        if counting.period.end() <= now.date_naive() {
            return Err(refusal(
                "period",
                format!(
                    "{} has ended: a call is made while its period is open",
                    counting.period
                ),
            ));
        }
        let Some(currency) = counting.currency else {
            return Err(refusal(
                "period",
                "the organisation has no corporate currency yet: calls are made in it",
            ));
        };
        let (scope, numbers, team, filed_under) = match &counting.scope {
            Scope::Rep { user_id, .. } => {
                if input.adjustment.is_some() {
                    return Err(refusal(
                        "adjustment",
                        "a rep's call gives its numbers; an adjustment is a team call's",
                    ));
                }
                let Some(given) = &input.numbers else {
                    return Err(ForecastingError::invalid(
                        "numbers",
                        "is required for a rep's call",
                    ));
                };
                let [commit, best_case, pipeline] = amounts("numbers", given, currency)?;
                let numbers = CallNumbers::new("numbers", commit, best_case, pipeline)?;
                let filed_under = OrgDirectory::default()
                    .filing_team(&mut transaction, caller)
                    .await?;
                (CallScope::Rep(*user_id), numbers, None, filed_under)
            }
            Scope::Team(team) => {
                if input.numbers.is_some() {
                    return Err(refusal(
                        "numbers",
                        "a team's call is the calls below it with an adjustment: give adjustment, not numbers",
                    ));
                }
                let adjustment = match &input.adjustment {
                    Some(given) => {
                        let [commit, best_case, pipeline] = amounts("adjustment", given, currency)?;
                        CallAdjustment {
                            commit,
                            best_case,
                            pipeline,
                        }
                    }
                    None => CallAdjustment::default(),
                };
                let below = self
                    .roll_up_in(&mut transaction, &counting, currency)
                    .await?;
                let rolled_up = below.levels()?.below;
                let numbers = team_call("adjustment", &rolled_up, &adjustment)?;
                let parts = TeamCallParts {
                    rolled_up,
                    adjustment,
                };
                (
                    CallScope::Team(team.clone()),
                    numbers,
                    Some(parts),
                    team.clone(),
                )
            }
            Scope::Company => return Err(ForecastingError::invalid("team_path", "is required")),
        };
        let pipeline = pipeline_at(
            &mut transaction,
            &counting.scope,
            &counting.period,
            currency,
        )
        .await?;
        let call = ForecastCall {
            id: Uuid::now_v7(),
            scope,
            period: counting.period,
            submitted_by: caller.user_id,
            submitted_at: now,
            numbers,
            team,
            note: input.note,
            pipeline,
        };
        store::calls::insert(&mut transaction, &call, &filed_under, currency).await?;
        transaction.commit().await?;
        Ok((
            StoredCall {
                call,
                team_path: filed_under,
            },
            currency,
        ))
    }

    /// A page of a scope's calls for a period, newest first.
    pub async fn list_calls(
        &self,
        caller: &Caller,
        requested: RequestedScope,
        period: &str,
        page: &Page,
    ) -> Result<(Counting, Listing<StoredCall>)> {
        let mut connection = self.pool.acquire().await?;
        let counting = self
            .counting(&mut connection, caller, requested, "period", period)
            .await?;
        let listing = match counting.currency {
            Some(currency) => {
                store::calls::list(
                    &mut connection,
                    &counting.scope,
                    &counting.period,
                    currency,
                    page,
                )
                .await?
            }
            None => Listing {
                records: Vec::new(),
                next_page_token: String::new(),
            },
        };
        Ok((counting, listing))
    }

    /// A team's roll-up of the current calls for a period; the caller's team when `team` is
    /// `None`.
    pub async fn call_roll_up(
        &self,
        caller: &Caller,
        team: Option<TeamPath>,
        period: &str,
    ) -> Result<CallRollUp> {
        let team = team.unwrap_or_else(|| caller.team_path.clone());
        let mut connection = self.pool.acquire().await?;
        let counting = self
            .counting(
                &mut connection,
                caller,
                RequestedScope::Team(team),
                "period",
                period,
            )
            .await?;
        match counting.currency {
            Some(currency) => self.roll_up_in(&mut connection, &counting, currency).await,
            None => Ok(CallRollUp {
                counting,
                calls: Vec::new(),
                reps: Vec::new(),
            }),
        }
    }

    async fn roll_up_in(
        &self,
        connection: &mut PgConnection,
        counting: &Counting,
        currency: CurrencyCode,
    ) -> Result<CallRollUp> {
        let Scope::Team(team) = &counting.scope else {
            return Err(ForecastingError::invalid(
                "team_path",
                "a roll-up is a team's",
            ));
        };
        let reps = store::calls::reps_of(connection, team, &counting.period).await?;
        let calls = store::calls::all(connection, &counting.scope, &counting.period, currency)
            .await?
            .into_iter()
            .map(|stored| stored.call)
            .collect();
        Ok(CallRollUp {
            counting: counting.clone(),
            calls,
            reps,
        })
    }
}

/// What the scope's pipeline says now: won in the period, and the open deals by category.
async fn pipeline_at(
    connection: &mut PgConnection,
    scope: &Scope,
    period: &FiscalPeriod,
    currency: CurrencyCode,
) -> Result<BTreeMap<ForecastCategory, Decimal>> {
    let sums = store::pipeline::sums(
        connection,
        scope,
        period.start(),
        period.end(),
        Grouping::ByMonth,
    )
    .await?;
    let forecast = Forecast::from_sums(&sums, Some(currency.as_str()));
    let mut pipeline: BTreeMap<ForecastCategory, Decimal> = OPEN_CATEGORIES
        .iter()
        .map(|category| (*category, forecast.category(*category).amount))
        .collect();
    pipeline.insert(ForecastCategory::Closed, forecast.closed.amount);
    Ok(pipeline)
}
