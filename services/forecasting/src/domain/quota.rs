//! Quotas (F3): who holds a target — the company, a team, a rep — and the team tree they sit
//! in; the top-down decomposition of a parent's amount among its children (by weights, by last
//! year's bookings or evenly, scaled by new reps' ramp) that adds up to the parent exactly;
//! the consistency check that names every parent whose children do not add up; and who may
//! set a quota. Pure: the service counts bookings and reads the tree, this decides.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use crm_platform::auth::{Caller, Role, TeamPath};
use rust_decimal::Decimal;
use uuid::Uuid;

/// Who a quota is for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Holder {
    Company,
    /// A team and its whole subtree.
    Team(TeamPath),
    /// One user (their team is the tree's to say).
    Rep(Uuid),
}

impl Holder {
    /// `company`, `team`, `rep`: how the store and the events name the level.
    pub fn level(&self) -> &'static str {
        match self {
            Holder::Company => "company",
            Holder::Team(_) => "team",
            Holder::Rep(_) => "rep",
        }
    }

    /// The holder's id within its level: "" for the company, the team path, the user id.
    pub fn key(&self) -> String {
        match self {
            Holder::Company => String::new(),
            Holder::Team(path) => path.as_str().to_owned(),
            Holder::Rep(user_id) => user_id.to_string(),
        }
    }
}

/// Company first, then teams by path (a parent before its subtree), then reps by id: the
/// order reports list holders in, and decomposition's tie-break.
impl Ord for Holder {
    fn cmp(&self, other: &Self) -> Ordering {
        let rank = |holder: &Holder| match holder {
            Holder::Company => 0,
            Holder::Team(_) => 1,
            Holder::Rep(_) => 2,
        };
        rank(self)
            .cmp(&rank(other))
            .then_with(|| match (self, other) {
                (Holder::Team(left), Holder::Team(right)) => left.as_str().cmp(right.as_str()),
                (Holder::Rep(left), Holder::Rep(right)) => left.cmp(right),
                _ => Ordering::Equal,
            })
    }
}

impl PartialOrd for Holder {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The team above `team` (`/n/east/e1/` → `/n/east/`); `None` for a top-level team, whose
/// parent is the company.
pub fn parent_team(team: &TeamPath) -> Option<TeamPath> {
    let inner = team.as_str().trim_end_matches('/');
    let (parent, _) = inner.rsplit_once('/')?;
    TeamPath::parse(parent).ok()
}

/// The organisation as quotas see it: every team (with all the teams above it) and every rep
/// with the team they sit in. A parent's children are its direct sub-teams and the reps sitting
/// directly in it; the company's are the top-level teams.
#[derive(Clone, Debug, Default)]
pub struct TeamTree {
    /// By path; every ancestor of a team is a team.
    teams: BTreeMap<String, TeamPath>,
    reps: BTreeMap<Uuid, TeamPath>,
}

impl TeamTree {
    pub fn new(
        teams: impl IntoIterator<Item = TeamPath>,
        reps: impl IntoIterator<Item = (Uuid, TeamPath)>,
    ) -> Self {
        let mut tree = TeamTree::default();
        for team in teams {
            tree.add_team(team);
        }
        for (user_id, team) in reps {
            tree.add_team(team.clone());
            tree.reps.insert(user_id, team);
        }
        tree
    }

    fn add_team(&mut self, team: TeamPath) {
        let mut next = Some(team);
        while let Some(team) = next {
            next = parent_team(&team);
            self.teams.insert(team.as_str().to_owned(), team);
        }
    }

    /// Whether `team` is a team of the organisation (someone sits in it or below it).
    pub fn has_team(&self, team: &TeamPath) -> bool {
        self.teams.contains_key(team.as_str())
    }

    /// The team a rep sits in, if the tree knows them.
    pub fn team_of(&self, user_id: Uuid) -> Option<&TeamPath> {
        self.reps.get(&user_id)
    }

    /// The holder one level up: a rep's team, a team's parent team (the company for a
    /// top-level team); `None` for the company and for reps the tree does not know.
    pub fn parent(&self, holder: &Holder) -> Option<Holder> {
        match holder {
            Holder::Company => None,
            Holder::Team(team) => Some(parent_team(team).map_or(Holder::Company, Holder::Team)),
            Holder::Rep(user_id) => self.reps.get(user_id).cloned().map(Holder::Team),
        }
    }

    /// The holders one level down, in [`Holder`] order.
    pub fn children(&self, holder: &Holder) -> Vec<Holder> {
        let parent = Some(holder.clone());
        let teams = self
            .teams
            .values()
            .filter(|team| self.parent(&Holder::Team((*team).clone())) == parent)
            .map(|team| Holder::Team(team.clone()));
        let reps = self
            .reps
            .iter()
            .filter(|(_, team)| parent == Some(Holder::Team((*team).clone())))
            .map(|(user_id, _)| Holder::Rep(*user_id));
        teams.chain(reps).collect()
    }
}

/// One child's part of a decomposition.
#[derive(Clone, Debug, PartialEq)]
pub struct Child {
    pub holder: Holder,
    /// The basis: an explicit weight, last year's bookings of the same period, or 1 for an
    /// even split. Not negative.
    pub weight: Decimal,
    /// Percent of a full quota the child carries in the period (a new rep's ramp), 0..=100.
    pub ramp_percent: u8,
}

/// Why a parent's amount cannot be split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecompositionError {
    NoChildren,
    DuplicateChild(Holder),
    NegativeWeight(Holder),
    RampAboveFull(Holder),
    /// Every weight (after the ramp) is 0: nobody to give the amount to in proportion.
    NoBasis,
    NegativeAmount,
    /// The amount has more decimals than the unit it is split in (a cent, one call).
    FinerThanUnit,
    /// Amounts or weights beyond what exact integer arithmetic holds.
    TooLarge,
}

/// Splits `total` among `children` in proportion to weight × ramp, in units of
/// 10^-`places` (a cent for `places` 2, one call for 0). Each child gets the floor of its exact
/// share; the units left over go one each to the children with the largest remainders, ties
/// to the lowest holder ([`Holder`] order) — so the parts add up to `total` exactly and the
/// same input always gives the same split. Computed in integers, never through a division
/// that rounds.
pub fn decompose(
    total: Decimal,
    places: u32,
    children: &[Child],
) -> Result<Vec<(Holder, Decimal)>, DecompositionError> {
    if children.is_empty() {
        return Err(DecompositionError::NoChildren);
    }
    if total.is_sign_negative() && !total.is_zero() {
        return Err(DecompositionError::NegativeAmount);
    }
    let mut seen = std::collections::BTreeSet::new();
    for child in children {
        if !seen.insert(&child.holder) {
            return Err(DecompositionError::DuplicateChild(child.holder.clone()));
        }
        if child.weight.is_sign_negative() && !child.weight.is_zero() {
            return Err(DecompositionError::NegativeWeight(child.holder.clone()));
        }
        if child.ramp_percent > 100 {
            return Err(DecompositionError::RampAboveFull(child.holder.clone()));
        }
    }
    let units = integer_at_scale(total, places).ok_or(DecompositionError::FinerThanUnit)?;
    let weight_scale = children
        .iter()
        .map(|child| child.weight.normalize().scale())
        .max()
        .unwrap_or(0);
    let weights = children
        .iter()
        .map(|child| {
            integer_at_scale(child.weight, weight_scale)
                .and_then(|weight| weight.checked_mul(i128::from(child.ramp_percent)))
                .ok_or(DecompositionError::TooLarge)
        })
        .collect::<Result<Vec<i128>, _>>()?;
    let sum = weights
        .iter()
        .try_fold(0i128, |sum, weight| sum.checked_add(*weight))
        .ok_or(DecompositionError::TooLarge)?;
    if sum == 0 {
        return Err(DecompositionError::NoBasis);
    }
    let mut parts = Vec::with_capacity(children.len());
    for weight in &weights {
        let exact = units
            .checked_mul(*weight)
            .ok_or(DecompositionError::TooLarge)?;
        parts.push((exact / sum, exact % sum));
    }
    let given: i128 = parts.iter().map(|(floor, _)| floor).sum();
    let mut by_remainder: Vec<usize> = (0..children.len()).collect();
    by_remainder.sort_by(|&left, &right| {
        parts[right]
            .1
            .cmp(&parts[left].1)
            .then_with(|| children[left].holder.cmp(&children[right].holder))
    });
    // Fewer units are left over than there are children: each floor lost less than one.
    let left_over = usize::try_from(units - given).unwrap_or(0);
    for &index in by_remainder.iter().take(left_over) {
        parts[index].0 += 1;
    }
    children
        .iter()
        .zip(parts)
        .map(|(child, (units, _))| {
            let amount = Decimal::try_from_i128_with_scale(units, places)
                .map_err(|_| DecompositionError::TooLarge)?;
            Ok((child.holder.clone(), amount))
        })
        .collect()
}

/// `value` × 10^`scale` when that is a whole number (`None` when `value` is finer, or too
/// large for an `i128`).
fn integer_at_scale(value: Decimal, scale: u32) -> Option<i128> {
    let value = value.normalize();
    let shift = scale.checked_sub(value.scale())?;
    value.mantissa().checked_mul(10i128.checked_pow(shift)?)
}

/// A new rep's ramp: the percent of a full quota they carry in their first months of tenure
/// (`[25, 50, 75]`: a quarter in the month they start, half the next, three quarters the
/// third), a full quota afterwards.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RampSchedule {
    steps: Vec<u8>,
}

/// A ramp longer than two years is a typing mistake, not a ramp.
pub const MOST_RAMP_MONTHS: usize = 24;

impl RampSchedule {
    /// Each step 0..=100, at most [`MOST_RAMP_MONTHS`] of them. `Err` says what is wrong.
    pub fn new(steps: Vec<u32>) -> Result<Self, String> {
        if steps.len() > MOST_RAMP_MONTHS {
            return Err(format!(
                "has {} months; a ramp has at most {MOST_RAMP_MONTHS}",
                steps.len()
            ));
        }
        let steps = steps
            .into_iter()
            .map(|step| u8::try_from(step).ok().filter(|step| *step <= 100))
            .collect::<Option<Vec<u8>>>()
            .ok_or("each month's percent must be 0 to 100")?;
        Ok(RampSchedule { steps })
    }

    /// The percent of a full quota in the `tenure_month`th month (1-based) of tenure.
    pub fn percent_in(&self, tenure_month: u32) -> u8 {
        let index = tenure_month.saturating_sub(1) as usize;
        self.steps.get(index).copied().unwrap_or(100)
    }

    /// The percent for someone who started on `started_on`, in the period starting on
    /// `period_start`: the period's first month counted in their tenure (the month they start
    /// is month 1; someone starting later in the period is in month 1 too).
    pub fn percent_for(&self, started_on: NaiveDate, period_start: NaiveDate) -> u8 {
        let months = (period_start.year() - started_on.year()) * 12 + period_start.month() as i32
            - started_on.month() as i32;
        self.percent_in(u32::try_from(months + 1).unwrap_or(1).max(1))
    }
}

/// What is wrong with one parent's quota against its children's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FindingKind {
    /// Some children hold quotas and they add up to another amount.
    ChildrenDoNotAddUp {
        children_sum: Decimal,
        /// Children's sum − the parent's quota: positive when more was handed down than the
        /// parent holds.
        difference: Decimal,
    },
    /// The parent holds a quota and none of its children does (or it has no children).
    NoChildQuotas,
}

/// One inconsistent parent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub parent: Holder,
    pub quota: Decimal,
    pub kind: FindingKind,
    /// The parent's children in the tree that hold no quota, in [`Holder`] order.
    pub children_without_quota: Vec<Holder>,
}

/// Every parent among `quotas` (one kind, one period) whose children's quotas do not add up
/// to its own, and every one none of whose children holds a quota, in [`Holder`] order.
/// Reps' quotas are leaves. A quota whose parent holds none is no finding: nothing was
/// handed down to it.
pub fn check(tree: &TeamTree, quotas: &BTreeMap<Holder, Decimal>) -> Vec<Finding> {
    quotas
        .iter()
        .filter(|(parent, _)| !matches!(parent, Holder::Rep(_)))
        .filter_map(|(parent, quota)| {
            let children = tree.children(parent);
            let (with, without): (Vec<&Holder>, Vec<&Holder>) = children
                .iter()
                .partition(|child| quotas.contains_key(*child));
            let children_without_quota = without.into_iter().cloned().collect();
            if with.is_empty() {
                return Some(Finding {
                    parent: parent.clone(),
                    quota: *quota,
                    kind: FindingKind::NoChildQuotas,
                    children_without_quota,
                });
            }
            let children_sum: Decimal = with.iter().filter_map(|child| quotas.get(*child)).sum();
            (children_sum != *quota).then(|| Finding {
                parent: parent.clone(),
                quota: *quota,
                kind: FindingKind::ChildrenDoNotAddUp {
                    children_sum,
                    difference: children_sum - *quota,
                },
                children_without_quota,
            })
        })
        .collect()
}

/// Why someone may not set a quota.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetterRefusal {
    /// Only an admin sets the company's quota.
    CompanyIsAdmins,
    /// Nobody sets their own quota.
    OwnQuota,
    /// A manager sets quotas strictly below themselves: teams inside their team, reps of
    /// their subtree; a rep sets none.
    NotAboveHolder,
}

/// Whether `caller` may set a quota for `holder`; `holder_team` is a rep's team (ignored for
/// the other levels). The approvals rule of the opportunities service, for quotas.
pub fn check_setter(
    caller: &Caller,
    holder: &Holder,
    holder_team: Option<&TeamPath>,
) -> Result<(), SetterRefusal> {
    match holder {
        Holder::Company if caller.role == Role::Admin => Ok(()),
        Holder::Company => Err(SetterRefusal::CompanyIsAdmins),
        Holder::Rep(user_id) if *user_id == caller.user_id => Err(SetterRefusal::OwnQuota),
        _ if caller.role == Role::Admin => Ok(()),
        _ if caller.role != Role::Manager => Err(SetterRefusal::NotAboveHolder),
        Holder::Team(team) if team.is_within(&caller.team_path) && *team != caller.team_path => {
            Ok(())
        }
        Holder::Rep(_) if holder_team.is_some_and(|team| team.is_within(&caller.team_path)) => {
            Ok(())
        }
        _ => Err(SetterRefusal::NotAboveHolder),
    }
}

#[cfg(test)]
#[path = "quota_tests.rs"]
mod tests;
