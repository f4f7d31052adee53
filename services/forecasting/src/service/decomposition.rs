//! Decomposing a quota (F3): a parent's quota split among its children one level down — by
//! weights, by last year's bookings or evenly, new reps' ramp applied — and the children's
//! quotas written in one transaction, a quota_set event each.

use chrono::NaiveDate;
use crm_platform::{auth::Caller, org::OrgDirectory};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{
    Forecasting, Result,
    quotas::{read_period, refusal, resolve_holder, setter_refused, team_of, tree},
};
use crate::{
    domain::{
        quota::{self, Child, DecompositionError, Holder, RampSchedule, TeamTree},
        scope::{OUT_OF_REACH, RequestedScope, Scope},
        target::TargetKind,
    },
    error::ForecastingError,
    store::{
        self,
        quotas::{NewQuota, StoredQuota},
    },
};

/// How a decomposition weighs the children.
#[derive(Clone, Debug)]
pub enum Basis {
    /// The children named, with their weights.
    Weights(Vec<(RequestedScope, Decimal)>),
    LastYearBookings,
    Evenly,
}

/// A decomposition request, read.
pub struct Decomposition {
    pub parent: RequestedScope,
    pub kind: TargetKind,
    pub basis: Basis,
    pub ramp: RampSchedule,
    /// Reps in their ramp, with their first day; none: the directory's first day of each rep
    /// split among (the ramp covers those it still reaches).
    pub new_reps: Vec<(Uuid, NaiveDate)>,
}

impl Forecasting {
    /// Splits the parent's quota among its children one level down and writes theirs, all in
    /// one transaction (event quota_set for each). Returns the parent's and the children's.
    pub async fn decompose_quota(
        &self,
        caller: &Caller,
        request: Decomposition,
        period: &str,
    ) -> Result<(StoredQuota, Vec<StoredQuota>)> {
        let kind = request.kind;
        if !kind.is_additive() {
            return Err(refusal(
                "kind",
                "an average or a growth rate does not add up: only revenue, activity and new-account targets are decomposed",
            ));
        }
        let mut transaction = self.pool.begin().await?;
        let (period, currency) = read_period(&mut transaction, "period", period).await?;
        let (parent, _) = resolve_holder(&mut transaction, "parent", request.parent).await?;
        let parent_scope = match &parent {
            Holder::Rep(_) => {
                return Err(refusal(
                    "parent",
                    "a rep's quota has nobody below it to split among",
                ));
            }
            Holder::Company => Scope::Company,
            Holder::Team(team) => Scope::Team(team.clone()),
        };
        if !parent_scope.readable_by(caller) {
            return Err(ForecastingError::permission_denied(OUT_OF_REACH));
        }
        let parent_quota = store::quotas::lock(&mut transaction, &parent, kind, &period)
            .await?
            .ok_or_else(|| {
                refusal(
                    "parent",
                    format!(
                        "holds no {} quota for {period}: set it first",
                        kind.as_str()
                    ),
                )
            })?;
        let tree = tree(&mut transaction).await?;
        let in_tree = tree.children(&parent);
        let named = match &request.basis {
            Basis::Weights(weights) => {
                let mut named = Vec::with_capacity(weights.len());
                for (index, (child, weight)) in weights.iter().enumerate() {
                    let field = format!("weights[{index}].child");
                    let (child, _) =
                        resolve_holder(&mut transaction, &field, child.clone()).await?;
                    if !in_tree.contains(&child) {
                        return Err(refusal(
                            &field,
                            "is not one level below the parent (a team directly inside it, or a rep sitting directly in it)",
                        ));
                    }
                    named.push((child, *weight));
                }
                named
            }
            Basis::Evenly | Basis::LastYearBookings => in_tree
                .iter()
                .map(|child| (child.clone(), Decimal::ONE))
                .collect(),
        };
        if named.is_empty() {
            return Err(refusal("parent", "has no teams or reps one level below it"));
        }
        for (index, (user_id, _)) in request.new_reps.iter().enumerate() {
            if !named
                .iter()
                .any(|(child, _)| *child == Holder::Rep(*user_id))
            {
                return Err(refusal(
                    &format!("new_reps[{index}].user_id"),
                    "is not one of the children the quota is split among",
                ));
            }
        }
        // The reps in their ramp: those named, or — none named — every rep split among whose
        // first day (the directory's) the ramp still covers.
        let started: Vec<(Uuid, NaiveDate)> = if request.new_reps.is_empty() {
            let reps: Vec<Uuid> = named
                .iter()
                .filter_map(|(child, _)| match child {
                    Holder::Rep(user_id) => Some(*user_id),
                    _ => None,
                })
                .collect();
            OrgDirectory::started_on(&mut transaction, &reps)
                .await?
                .into_iter()
                .collect()
        } else {
            request.new_reps.clone()
        };
        let year_earlier = period.a_year_earlier();
        let mut children = Vec::with_capacity(named.len());
        for (holder, weight) in named {
            quota::check_setter(caller, &holder, team_of(&tree, &holder).as_ref())
                .map_err(setter_refused)?;
            let weight = match request.basis {
                Basis::LastYearBookings => match holder_scope(&tree, &holder) {
                    Some(scope) => {
                        store::actuals::won(
                            &mut transaction,
                            &scope,
                            year_earlier.start(),
                            year_earlier.end(),
                            currency,
                        )
                        .await?
                        .0
                    }
                    None => Decimal::ZERO,
                },
                _ => weight,
            };
            let ramp_percent = started
                .iter()
                .find(|(user_id, _)| holder == Holder::Rep(*user_id))
                .map_or(100, |(_, started_on)| {
                    request.ramp.percent_for(*started_on, period.start())
                });
            children.push(Child {
                holder,
                weight,
                ramp_percent,
            });
        }
        let places = kind.places(parent_quota.currency.map_or(0, |code| code.minor_units()));
        let parts = quota::decompose(parent_quota.target, places, &children)
            .map_err(|error| decomposition_refused(&request.basis, error))?;
        let mut written = Vec::with_capacity(parts.len());
        for (holder, amount) in parts {
            let team = team_of(&tree, &holder);
            let stored = store::quotas::upsert(
                &mut transaction,
                &NewQuota {
                    holder: &holder,
                    holder_team_path: team.as_ref(),
                    kind,
                    period: &period,
                    currency: parent_quota.currency,
                    target: amount,
                    set_by: caller.user_id,
                },
            )
            .await?;
            self.publish(&mut transaction, &stored).await?;
            written.push(stored);
        }
        written.sort_by(|left, right| left.holder.cmp(&right.holder));
        self.outbox.commit(transaction).await?;
        Ok((parent_quota, written))
    }
}

/// The scope whose numbers a holder's quota is measured against; `None` for a rep the tree
/// does not know.
fn holder_scope(tree: &TeamTree, holder: &Holder) -> Option<Scope> {
    Some(match holder {
        Holder::Company => Scope::Company,
        Holder::Team(team) => Scope::Team(team.clone()),
        Holder::Rep(user_id) => Scope::Rep {
            user_id: *user_id,
            team_path: tree.team_of(*user_id)?.clone(),
        },
    })
}

fn decomposition_refused(basis: &Basis, error: DecompositionError) -> ForecastingError {
    match error {
        DecompositionError::NoBasis => refusal(
            "basis",
            match basis {
                Basis::LastYearBookings => {
                    "nobody below the parent booked anything in the same period last year: split by weights or evenly"
                }
                _ => "every weight is 0 (after the ramp): nobody to split the quota among",
            },
        ),
        DecompositionError::NoChildren => {
            refusal("parent", "has no teams or reps one level below it")
        }
        DecompositionError::DuplicateChild(_) => refusal("weights", "names a child twice"),
        DecompositionError::NegativeWeight(_) => {
            refusal("weights", "a weight must not be negative")
        }
        DecompositionError::RampAboveFull(_) => refusal("ramp_percents", "each month is 0 to 100"),
        DecompositionError::NegativeAmount => refusal("parent", "the parent's quota is negative"),
        DecompositionError::FinerThanUnit => refusal(
            "parent",
            "the parent's quota is finer than the unit it is split in",
        ),
        DecompositionError::TooLarge => {
            refusal("weights", "the figures are too large to split exactly")
        }
    }
}
