//! Forecast calls (F4): what a rep says their period will bring, and what a manager says of
//! their team — the roll-up of the calls below them with the manager's adjustment and note.
//! Every call is kept with what the pipeline said when it was made; the level's current call
//! is its latest, and at period end each call is judged against what was booked (F5).
//!
//! A call's numbers are cumulative, as sales organisations say them: commit is what will be
//! booked in the period for sure (what already was included), best case is commit and the
//! upside, pipeline everything that still could be — so commit ≤ best case ≤ pipeline, and the
//! numbers of several levels add up category by category.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use crm_platform::{
    auth::TeamPath,
    error::{FieldViolation, reasons::INCONSISTENT_FIELDS},
    fiscal::FiscalPeriod,
};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::domain::{
    accuracy::{Accuracy, Comparison, Overflow},
    deal::ForecastCategory,
};

/// Whose call it is: a rep's own, or a team's (its subtree's), made by a manager above it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CallScope {
    Rep(Uuid),
    Team(TeamPath),
}

/// A call's three numbers, in the corporate currency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallNumbers {
    pub commit: Decimal,
    pub best_case: Decimal,
    pub pipeline: Decimal,
}

impl CallNumbers {
    pub const ZERO: CallNumbers = CallNumbers {
        commit: Decimal::ZERO,
        best_case: Decimal::ZERO,
        pipeline: Decimal::ZERO,
    };

    /// The numbers a caller gave under `at` ("numbers"): none negative (invalid), and in order
    /// (a refusal: each is a fine number, together they say nothing sensible).
    pub fn new(
        at: &str,
        commit: Decimal,
        best_case: Decimal,
        pipeline: Decimal,
    ) -> Result<Self, Vec<FieldViolation>> {
        let numbers = CallNumbers {
            commit,
            best_case,
            pipeline,
        };
        let mut violations = Vec::new();
        for (field, value) in numbers.fields() {
            if value < Decimal::ZERO {
                violations.push(FieldViolation::new(
                    format!("{at}.{field}"),
                    "must not be negative",
                ));
            }
        }
        if violations.is_empty() {
            violations = numbers.order_violations(at, "");
        }
        if violations.is_empty() {
            Ok(numbers)
        } else {
            Err(violations)
        }
    }

    fn fields(&self) -> [(&'static str, Decimal); 3] {
        [
            ("commit", self.commit),
            ("best_case", self.best_case),
            ("pipeline", self.pipeline),
        ]
    }

    /// The refusals of numbers out of order; `why` says where they came from.
    fn order_violations(&self, at: &str, why: &str) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        if self.commit > self.best_case {
            violations.push(FieldViolation::refusal(
                INCONSISTENT_FIELDS,
                format!("{at}.commit"),
                format!("must not be above best_case{why}"),
            ));
        }
        if self.best_case > self.pipeline {
            violations.push(FieldViolation::refusal(
                INCONSISTENT_FIELDS,
                format!("{at}.best_case"),
                format!("must not be above pipeline{why}"),
            ));
        }
        violations
    }

    pub fn checked_add(&self, other: &CallNumbers) -> Result<CallNumbers, Overflow> {
        Ok(CallNumbers {
            commit: self.commit.checked_add(other.commit).ok_or(Overflow)?,
            best_case: self
                .best_case
                .checked_add(other.best_case)
                .ok_or(Overflow)?,
            pipeline: self.pipeline.checked_add(other.pipeline).ok_or(Overflow)?,
        })
    }
}

/// What a manager adds to (or, negative, takes from) the roll-up of the calls below them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallAdjustment {
    pub commit: Decimal,
    pub best_case: Decimal,
    pub pipeline: Decimal,
}

/// A team's call: the roll-up of the current calls below it plus the manager's adjustment,
/// which must leave numbers a call could have (refused on `at`'s fields: "adjustment").
pub fn team_call(
    at: &str,
    rolled_up: &CallNumbers,
    adjustment: &CallAdjustment,
) -> Result<CallNumbers, Vec<FieldViolation>> {
    let add = |base: Decimal, by: Decimal| base.checked_add(by);
    let (Some(commit), Some(best_case), Some(pipeline)) = (
        add(rolled_up.commit, adjustment.commit),
        add(rolled_up.best_case, adjustment.best_case),
        add(rolled_up.pipeline, adjustment.pipeline),
    ) else {
        return Err(vec![FieldViolation::new(at, "is too large")]);
    };
    let numbers = CallNumbers {
        commit,
        best_case,
        pipeline,
    };
    let mut violations: Vec<FieldViolation> = numbers
        .fields()
        .into_iter()
        .filter(|(_, value)| *value < Decimal::ZERO)
        .map(|(field, _)| {
            FieldViolation::refusal(
                INCONSISTENT_FIELDS,
                format!("{at}.{field}"),
                "takes more than the calls below add up to",
            )
        })
        .collect();
    if violations.is_empty() {
        violations = numbers.order_violations(at, " once added to the calls below");
    }
    if violations.is_empty() {
        Ok(numbers)
    } else {
        Err(violations)
    }
}

/// A team call's parts: what the calls below said when it was made, and what the manager did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamCallParts {
    pub rolled_up: CallNumbers,
    pub adjustment: CallAdjustment,
}

/// One call, as it was made; never changed afterwards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForecastCall {
    pub id: Uuid,
    pub scope: CallScope,
    pub period: FiscalPeriod,
    pub submitted_by: Uuid,
    pub submitted_at: DateTime<Utc>,
    pub numbers: CallNumbers,
    /// Set for a team's call.
    pub team: Option<TeamCallParts>,
    /// Why: a manager's adjustment, a rep's remark.
    pub note: String,
    /// What the scope's pipeline said at that moment, by forecast category (closed: booked in
    /// the period so far), so a call can be read against what its maker saw.
    pub pipeline: BTreeMap<ForecastCategory, Decimal>,
}

/// The current call of each scope among `calls`: its latest by `submitted_at` (the later id,
/// time-ordered, between two at the same instant).
pub fn current_calls(calls: &[ForecastCall]) -> HashMap<&CallScope, &ForecastCall> {
    let mut current: HashMap<&CallScope, &ForecastCall> = HashMap::new();
    for call in calls {
        let entry = current.entry(&call.scope).or_insert(call);
        if (call.submitted_at, call.id) > (entry.submitted_at, entry.id) {
            *entry = call;
        }
    }
    current
}

/// A rep of a roll-up with their current call, if they made one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepLevel<'a> {
    pub user_id: Uuid,
    pub call: Option<&'a ForecastCall>,
}

/// A team of a roll-up: the current calls of its reps and sub-teams, and its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamLevel<'a> {
    pub team_path: TeamPath,
    /// The reps directly in the team, by id.
    pub reps: Vec<RepLevel<'a>>,
    /// By path.
    pub sub_teams: Vec<TeamLevel<'a>>,
    /// The team's own current call (its manager's), if any.
    pub call: Option<&'a ForecastCall>,
    /// Σ of the reps' current calls and the sub-teams' `number`s: what the calls below say now
    /// (the team's call holds what they said when it was made).
    pub below: CallNumbers,
    /// What the team says to the level above: its own call, or without one, `below`.
    pub number: CallNumbers,
    /// Reps in the subtree without a call: what `below` is still missing.
    pub reps_without_call: usize,
}

/// The roll-up of `team`'s subtree: `reps` are the reps with their current teams (a rep's calls
/// count where the rep is now; calls of people not listed are left out), `calls` the calls of
/// the period (the current one of each scope counts).
pub fn roll_up<'a>(
    team: &TeamPath,
    reps: &[(Uuid, TeamPath)],
    calls: &'a [ForecastCall],
) -> Result<TeamLevel<'a>, Overflow> {
    let current = current_calls(calls);
    let mut paths: BTreeSet<String> = BTreeSet::new();
    let team_paths = reps
        .iter()
        .map(|(_, path)| path)
        .chain(calls.iter().filter_map(|call| match &call.scope {
            CallScope::Team(path) => Some(path),
            CallScope::Rep(_) => None,
        }));
    for path in team_paths.filter(|path| path.is_within(team)) {
        paths.insert(path.as_str().to_owned());
    }
    level(team, &paths, reps, &current)
}

fn level<'a>(
    team: &TeamPath,
    paths: &BTreeSet<String>,
    reps: &[(Uuid, TeamPath)],
    current: &HashMap<&CallScope, &'a ForecastCall>,
) -> Result<TeamLevel<'a>, Overflow> {
    let mut below = CallNumbers::ZERO;
    let mut reps_without_call = 0;
    let mut members: Vec<RepLevel<'a>> = reps
        .iter()
        .filter(|(_, path)| path == team)
        .map(|(user_id, _)| RepLevel {
            user_id: *user_id,
            call: current.get(&CallScope::Rep(*user_id)).copied(),
        })
        .collect();
    members.sort_by_key(|rep| rep.user_id);
    members.dedup_by_key(|rep| rep.user_id);
    for rep in &members {
        match rep.call {
            Some(call) => below = below.checked_add(&call.numbers)?,
            None => reps_without_call += 1,
        }
    }
    let mut sub_teams = Vec::new();
    for child in direct_children(team, paths) {
        let sub_team = level(&child, paths, reps, current)?;
        below = below.checked_add(&sub_team.number)?;
        reps_without_call += sub_team.reps_without_call;
        sub_teams.push(sub_team);
    }
    let call = current.get(&CallScope::Team(team.clone())).copied();
    Ok(TeamLevel {
        team_path: team.clone(),
        reps: members,
        sub_teams,
        call,
        below,
        number: call.map_or(below, |call| call.numbers),
        reps_without_call,
    })
}

/// The teams one level below `team` on the way to any of `paths` (`/a/b/c/` under `/a/` gives
/// `/a/b/`), in order.
fn direct_children(team: &TeamPath, paths: &BTreeSet<String>) -> Vec<TeamPath> {
    let mut children: BTreeSet<String> = BTreeSet::new();
    for path in paths {
        let Some(rest) = path.strip_prefix(team.as_str()) else {
            continue;
        };
        if let Some((segment, _)) = rest.split_once('/') {
            children.insert(format!("{}{segment}/", team.as_str()));
        }
    }
    children
        .into_iter()
        .filter_map(|child| TeamPath::parse(&child).ok())
        .collect()
}

/// A call judged at period end against what its scope booked in the period: the commit (the
/// number the maker stands behind) and the best case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallAccuracy {
    pub commit: Comparison,
    pub best_case: Comparison,
}

pub fn call_accuracy(call: &ForecastCall, booked: Decimal) -> Result<CallAccuracy, Overflow> {
    Ok(CallAccuracy {
        commit: Comparison::of(call.numbers.commit, booked)?,
        best_case: Comparison::of(call.numbers.best_case, booked)?,
    })
}

/// A level's calls of one period judged together (their commits): how far off, and how
/// biased, that level's calls ran while the period was open.
pub fn level_accuracy<'a>(
    calls: impl IntoIterator<Item = &'a ForecastCall>,
    booked: Decimal,
) -> Result<Accuracy, Overflow> {
    Accuracy::of(calls.into_iter().map(|call| (call.numbers.commit, booked)))
}

/// A level a period's accuracy is shown for, in the order shown: the company, the teams by
/// path, the reps by id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AccuracyLevel {
    Company,
    /// A team subtree, by its path.
    Team(String),
    Rep(Uuid),
}

impl AccuracyLevel {
    /// The level whose call `scope` is.
    pub fn of(scope: &CallScope) -> Self {
        match scope {
            CallScope::Rep(user_id) => AccuracyLevel::Rep(*user_id),
            CallScope::Team(team) => AccuracyLevel::Team(team.as_str().to_owned()),
        }
    }

    /// What the level booked, from the won amounts of the period by owner
    /// (`(owner, the owner's team path, amount)`): a rep's own, a team subtree's, all.
    pub fn booked(&self, won: &[(Uuid, &str, Decimal)]) -> Result<Decimal, Overflow> {
        won.iter()
            .filter(|(owner, team_path, _)| match self {
                AccuracyLevel::Company => true,
                AccuracyLevel::Team(team) => team_path.starts_with(team.as_str()),
                AccuracyLevel::Rep(user_id) => owner == user_id,
            })
            .try_fold(Decimal::ZERO, |sum, (_, _, amount)| {
                sum.checked_add(*amount).ok_or(Overflow)
            })
    }
}

/// The levels of a period's accuracy under `root`, each with its calls in the order given: the
/// root first, with or without calls of its own, then every other level that made calls.
pub fn accuracy_levels<T>(
    root: AccuracyLevel,
    calls: impl IntoIterator<Item = (AccuracyLevel, T)>,
) -> Vec<(AccuracyLevel, Vec<T>)> {
    let mut by_level: BTreeMap<AccuracyLevel, Vec<T>> = BTreeMap::new();
    for (level, call) in calls {
        by_level.entry(level).or_default().push(call);
    }
    let root_calls = by_level.remove(&root).unwrap_or_default();
    std::iter::once((root, root_calls))
        .chain(by_level)
        .collect()
}

#[cfg(test)]
#[path = "call_tests.rs"]
mod tests;
