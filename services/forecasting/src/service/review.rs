//! Rankings and the period review (F7): the leaderboard of a team's reps or sub-teams, a
//! scope's attainment trend, and the review of a period — results from the pipeline sums (the
//! deals won, by the day won, credited to the owner), the closed deals from the read model,
//! the reps from the directory.
//!
//! Targets are the revenue quotas of F3 (QuotaService) of the period, in the corporate
//! currency; a holder without one has no target (ranked after those with one). The forecast
//! judged in a review is the scope's own forecast call (F4).

use std::collections::BTreeMap;

use crm_platform::{
    auth::{Caller, TeamPath, Visibility},
    config::{ConfigError, ServiceSettings},
    fiscal::FiscalPeriod,
    money::CurrencyCode,
};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Counting, Forecasting, Result};
use crate::{
    domain::{
        accuracy::Comparison,
        call::{AccuracyLevel, call_accuracy},
        deal::DealStatus,
        forecast::{MonthTotals, child_of},
        quota::Holder,
        ranking::{Contender, PeriodFigures, Standing, TrendPoint, attainment_trend, leaderboard},
        review::{ClosedDeal, Collections, Outcome, PeriodReview, RepTarget, ReviewInput, review},
        scope::{RequestedScope, Scope},
        target::TargetKind,
    },
    error::ForecastingError,
    store::{self, pipeline::Grouping, review::Person},
};

/// How the organisation shows its leaderboards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReviewSettings {
    /// Whether a rep sees the team's figures on their team's leaderboard, or only their own
    /// line (`CRM_FORECASTING_LEADERBOARD_VISIBLE_TO_REPS`, default true).
    pub leaderboard_visible_to_reps: bool,
}

impl ReviewSettings {
    pub fn from_settings(settings: &ServiceSettings) -> std::result::Result<Self, ConfigError> {
        Ok(Self {
            leaderboard_visible_to_reps: settings.boolean("LEADERBOARD_VISIBLE_TO_REPS", true)?,
        })
    }
}

/// Whose leaderboard a request asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeaderboardScope {
    /// The caller's team (an admin's: the company).
    Mine,
    Team(TeamPath),
    Company,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaderboardKind {
    Rep,
    Team,
}

/// Who is ranked: a rep (with the directory's name) or a sub-team.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ranked {
    Rep(Uuid),
    Team(String),
}

pub struct Leaderboard {
    pub counting: Counting,
    pub kind: LeaderboardKind,
    pub standings: Vec<Standing<Ranked>>,
    pub names: BTreeMap<Uuid, String>,
    /// How many were ranked, hidden ones included.
    pub ranked: usize,
    pub others_hidden: bool,
}

pub struct Trend {
    pub counting: Counting,
    pub points: Vec<TrendPoint<FiscalPeriod>>,
}

pub struct Review {
    pub counting: Counting,
    pub review: PeriodReview,
    pub names: BTreeMap<Uuid, String>,
}

/// The trend's length when the request names none.
pub const DEFAULT_TREND_PERIODS: u32 = 4;
/// The review's count of largest wins and losses when the request names none.
pub const DEFAULT_TOP: usize = 5;

impl Forecasting {
    /// The leaderboard of a team subtree (or the company) for a period.
    pub async fn leaderboard(
        &self,
        caller: &Caller,
        settings: ReviewSettings,
        requested: LeaderboardScope,
        kind: LeaderboardKind,
        period: &str,
    ) -> Result<Leaderboard> {
        let mut connection = self.pool.acquire().await?;
        let requested = match (requested, caller.visibility()) {
            (LeaderboardScope::Mine, Visibility::All) => LeaderboardScope::Company,
            (LeaderboardScope::Mine, _) => LeaderboardScope::Team(caller.team_path.clone()),
            (requested, _) => requested,
        };
        // A rep reads their own team's leaderboard beside their own numbers (the others' lines
        // only if the organisation shows them); every other scope by the common rule.
        let reps_own_team = match (&requested, caller.visibility()) {
            (LeaderboardScope::Team(team), Visibility::Own(_)) => *team == caller.team_path,
            _ => false,
        };
        let counting = if reps_own_team {
            let mut counting = self
                .counting(
                    &mut connection,
                    caller,
                    RequestedScope::Mine,
                    "period",
                    period,
                )
                .await?;
            counting.scope = Scope::Team(caller.team_path.clone());
            counting
        } else {
            let scope = match requested {
                LeaderboardScope::Team(team) => RequestedScope::Team(team),
                LeaderboardScope::Mine | LeaderboardScope::Company => RequestedScope::Company,
            };
            self.counting(&mut connection, caller, scope, "period", period)
                .await?
        };
        let won = won_by_owner(&mut connection, &counting).await?;
        let targets = revenue_targets(&mut connection, &counting, &counting.period).await?;
        let (mut contenders, names) = match kind {
            LeaderboardKind::Rep => rep_contenders(&mut connection, &counting.scope, won).await?,
            LeaderboardKind::Team => {
                let base = match &counting.scope {
                    Scope::Team(team) => team.clone(),
                    Scope::Company | Scope::Rep { .. } => caller.team_path.clone(),
                };
                (
                    team_contenders(&mut connection, &base, won).await?,
                    BTreeMap::new(),
                )
            }
        };
        for contender in &mut contenders {
            let holder = match &contender.id {
                Ranked::Rep(user_id) => Some(Holder::Rep(*user_id)),
                Ranked::Team(path) => TeamPath::parse(path).ok().map(Holder::Team),
            };
            contender.target = holder.and_then(|holder| targets.get(&holder).copied());
        }
        let mut standings = leaderboard(contenders);
        let ranked = standings.len();
        let others_hidden = reps_own_team && !settings.leaderboard_visible_to_reps;
        if others_hidden {
            standings.retain(|standing| match &standing.id {
                Ranked::Rep(user_id) => *user_id == caller.user_id,
                Ranked::Team(path) => caller.team_path.as_str().starts_with(path.as_str()),
            });
        }
        Ok(Leaderboard {
            counting,
            kind,
            standings,
            names,
            ranked,
            others_hidden,
        })
    }

    /// The wins feed: the organisation's latest won deals, newest first, at most `limit` — for
    /// a rep only their own while the organisation hides the leaderboard from reps.
    pub async fn recent_wins(
        &self,
        caller: &Caller,
        settings: ReviewSettings,
        limit: u32,
    ) -> Result<Vec<store::review::Win>> {
        let own_only = matches!(caller.visibility(), Visibility::Own(_))
            && !settings.leaderboard_visible_to_reps;
        let mut connection = self.pool.acquire().await?;
        let owner = own_only.then_some(caller.user_id);
        Ok(store::review::recent_wins(&mut connection, owner, i64::from(limit)).await?)
    }

    /// A scope's target, result and attainment over `periods` periods ending with `period`.
    pub async fn attainment_trend(
        &self,
        caller: &Caller,
        requested: RequestedScope,
        period: &str,
        periods: u32,
    ) -> Result<Trend> {
        let mut connection = self.pool.acquire().await?;
        let counting = self
            .counting(&mut connection, caller, requested, "period", period)
            .await?;
        let last = counting.period;
        let count = i32::try_from(periods.max(1)).unwrap_or(1);
        let periods: Vec<FiscalPeriod> = (0..count).rev().map(|back| last.shifted(-back)).collect();
        let first = periods.first().copied().unwrap_or(last);
        let sums = store::pipeline::sums(
            &mut connection,
            &counting.scope,
            first.start(),
            last.end(),
            Grouping::ByMonth,
        )
        .await?;
        let currency = counting.currency.map(|code| code.as_str());
        let holder = holder_of(&counting.scope);
        let mut figures: Vec<PeriodFigures<FiscalPeriod>> = Vec::with_capacity(periods.len());
        for period in periods {
            let targets = revenue_targets(&mut connection, &counting, &period).await?;
            figures.push(PeriodFigures {
                period,
                target: targets.get(&holder).copied(),
                result: sums
                    .iter()
                    .filter(|sum| is_won_in(sum, currency) && period.contains(sum.month))
                    .map(|sum| sum.totals.amount)
                    .sum(),
            });
        }
        Ok(Trend {
            points: attainment_trend(&figures),
            counting,
        })
    }

    /// The review of a period for a scope, with its `top` largest wins and losses.
    pub async fn period_review(
        &self,
        caller: &Caller,
        requested: RequestedScope,
        period: &str,
        top: usize,
    ) -> Result<Review> {
        let mut connection = self.pool.acquire().await?;
        let counting = self
            .counting(&mut connection, caller, requested, "period", period)
            .await?;
        let closed = match counting.currency {
            Some(currency) => {
                store::review::closed_deals(
                    &mut connection,
                    &counting.scope,
                    counting.period.start(),
                    counting.period.end(),
                    currency.as_str(),
                )
                .await?
            }
            None => Vec::new(),
        };
        let reps = store::review::reps(&mut connection, &counting.scope).await?;
        let mut names: BTreeMap<Uuid, String> = reps
            .iter()
            .map(|rep| (rep.user_id, rep.display_name.clone()))
            .collect();
        let others: Vec<Uuid> = closed
            .iter()
            .map(|deal| deal.owner_id)
            .filter(|owner| !names.contains_key(owner))
            .collect();
        for person in store::review::people(&mut connection, &others).await? {
            names.insert(person.user_id, person.display_name);
        }
        let collections = match counting.currency {
            Some(currency) => Some(collections_of(&mut connection, &closed, currency).await?),
            None => None,
        };
        let targets = revenue_targets(&mut connection, &counting, &counting.period).await?;
        let mut review = review(ReviewInput {
            target: targets.get(&holder_of(&counting.scope)).copied(),
            reps: reps
                .iter()
                .map(|rep| RepTarget {
                    rep_id: rep.user_id,
                    target: targets.get(&Holder::Rep(rep.user_id)).copied(),
                })
                .collect(),
            closed,
            // The scope's own call is judged below, against the result.
            forecast: None,
            collections,
            top,
            money_places: counting.currency.map_or(2, |code| code.minor_units()),
        });
        review.forecast = own_call_accuracy(&mut connection, &counting, review.result).await?;
        Ok(Review {
            counting,
            review,
            names,
        })
    }
}

/// The period's bookings (its won deals) and what was collected on them so far, net of
/// refunds: the share of the period's business that has been paid for.
async fn collections_of(
    connection: &mut PgConnection,
    closed: &[ClosedDeal],
    currency: CurrencyCode,
) -> Result<Collections> {
    let won: Vec<&ClosedDeal> = closed
        .iter()
        .filter(|deal| deal.outcome == Outcome::Won)
        .collect();
    let ids: Vec<Uuid> = won.iter().map(|deal| deal.id).collect();
    Ok(Collections {
        booked: won.iter().map(|deal| deal.amount).sum(),
        collected: store::collections::collected(connection, &ids, currency.as_str()).await?,
    })
}

/// The scope's own current call for the period (its latest: a rep's, or a team's) — its
/// commit — against `result`, once the period is over (a call is judged when its period has
/// ended, as the calls' accuracy is, F5); `None` before, or without a call (the company makes
/// none).
async fn own_call_accuracy(
    connection: &mut PgConnection,
    counting: &Counting,
    result: Decimal,
) -> Result<Option<Comparison>> {
    let Some(currency) = counting.currency else {
        return Ok(None);
    };
    let level = match &counting.scope {
        Scope::Rep { user_id, .. } => AccuracyLevel::Rep(*user_id),
        Scope::Team(team) => AccuracyLevel::Team(team.as_str().to_owned()),
        Scope::Company => return Ok(None),
    };
    if counting.period.end() > crm_platform::time::now().date_naive() {
        return Ok(None);
    }
    let calls = store::calls::all(connection, &counting.scope, &counting.period, currency).await?;
    let Some(current) = calls
        .into_iter()
        .rfind(|stored| AccuracyLevel::of(&stored.call.scope) == level)
    else {
        return Ok(None);
    };
    let judged = call_accuracy(&current.call, result)
        .map_err(|error| ForecastingError::invalid("period", error.to_string()))?;
    Ok(Some(judged.commit))
}

/// Who holds a scope's own quota.
fn holder_of(scope: &Scope) -> Holder {
    match scope {
        Scope::Rep { user_id, .. } => Holder::Rep(*user_id),
        Scope::Team(team) => Holder::Team(team.clone()),
        Scope::Company => Holder::Company,
    }
}

/// The revenue quotas of `period` held in the scope, by holder, in the corporate currency now
/// (a quota set in another one cannot be compared with the results).
async fn revenue_targets(
    connection: &mut PgConnection,
    counting: &Counting,
    period: &FiscalPeriod,
) -> Result<BTreeMap<Holder, Decimal>> {
    let quotas = store::quotas::in_scope(
        connection,
        &counting.scope,
        period,
        Some(TargetKind::Revenue),
    )
    .await?;
    Ok(quotas
        .into_iter()
        .filter(|quota| quota.currency.is_some() && quota.currency == counting.currency)
        .map(|quota| (quota.holder, quota.target))
        .collect())
}

/// A sum of deals won, in the corporate currency now (deals converted into another cannot be
/// added to them).
fn is_won_in(sum: &MonthTotals, currency: Option<&str>) -> bool {
    sum.status == DealStatus::Won && currency.is_some() && sum.currency.as_deref() == currency
}

/// What each owner of the scope won in the period, with the owner's team path.
async fn won_by_owner(
    connection: &mut PgConnection,
    counting: &Counting,
) -> Result<Vec<(Uuid, String, Decimal)>> {
    let sums = store::pipeline::sums(
        connection,
        &counting.scope,
        counting.period.start(),
        counting.period.end(),
        Grouping::ByOwner,
    )
    .await?;
    let currency = counting.currency.map(|code| code.as_str());
    let mut won: BTreeMap<(Uuid, String), Decimal> = BTreeMap::new();
    for sum in sums.iter().filter(|sum| is_won_in(sum, currency)) {
        *won.entry((sum.owner_id, sum.owner_team_path.clone()))
            .or_default() += sum.totals.amount;
    }
    Ok(won
        .into_iter()
        .map(|((owner, team), amount)| (owner, team, amount))
        .collect())
}

/// The directory's reps of the scope and every other owner who won in it, with their names.
async fn rep_contenders(
    connection: &mut PgConnection,
    scope: &Scope,
    won: Vec<(Uuid, String, Decimal)>,
) -> Result<(Vec<Contender<Ranked>>, BTreeMap<Uuid, String>)> {
    let mut results: BTreeMap<Uuid, Decimal> = BTreeMap::new();
    for (owner, _, amount) in won {
        *results.entry(owner).or_default() += amount;
    }
    let reps: Vec<Person> = store::review::reps(connection, scope).await?;
    for rep in &reps {
        results.entry(rep.user_id).or_default();
    }
    let owners: Vec<Uuid> = results.keys().copied().collect();
    let names = store::review::people(connection, &owners)
        .await?
        .into_iter()
        .map(|person| (person.user_id, person.display_name))
        .collect();
    let contenders = results
        .into_iter()
        .map(|(user_id, result)| Contender {
            id: Ranked::Rep(user_id),
            target: None,
            result,
        })
        .collect();
    Ok((contenders, names))
}

/// The sub-teams directly below `base` (each with its subtree), those without a win included.
/// Owners directly in `base` are on its rep leaderboard, not here.
async fn team_contenders(
    connection: &mut PgConnection,
    base: &TeamPath,
    won: Vec<(Uuid, String, Decimal)>,
) -> Result<Vec<Contender<Ranked>>> {
    let mut results: BTreeMap<String, Decimal> = BTreeMap::new();
    for path in store::review::team_paths_within(connection, base).await? {
        if let Some(team) = child_of(base, &path) {
            results.entry(team).or_default();
        }
    }
    for (_, path, amount) in won {
        if let Some(team) = child_of(base, &path) {
            *results.entry(team).or_default() += amount;
        }
    }
    Ok(results
        .into_iter()
        .map(|(team, result)| Contender {
            id: Ranked::Team(team),
            target: None,
            result,
        })
        .collect())
}

/// A request's `top`, defaulted.
pub fn top_or_default(top: u32) -> usize {
    match top {
        0 => DEFAULT_TOP,
        top => usize::try_from(top).unwrap_or(DEFAULT_TOP),
    }
}
