//! Quotas and targets (F3): setting a target, decomposing a parent's one level down in one
//! transaction, listing them, checking that children add up, and attainment of every kind.
//! Every write publishes `quota_set` through the outbox in its transaction.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveTime};
use crm_platform::{
    auth::{Caller, TeamPath},
    error::{FieldViolation, reasons::INCONSISTENT_FIELDS},
    fiscal::FiscalPeriod,
    money::{CurrencyCode, Money},
    org::OrgDirectory,
};
use crm_proto::crm::forecasting::v1::QuotaSet;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Counting, Forecasting, Result};
use crate::{
    convert,
    domain::{
        activity::LoggedActivity,
        quota::{
            self, Child, DecompositionError, Finding, Holder, RampSchedule, SetterRefusal, TeamTree,
        },
        scope::{OUT_OF_REACH, RequestedScope, Scope},
        target::{Counted, Measure, TargetKind},
    },
    error::ForecastingError,
    store::{
        self,
        quotas::{NewQuota, StoredQuota},
    },
};

/// A target as a request gives it.
#[derive(Clone, Debug)]
pub enum TargetInput {
    Amount(Money),
    Value(Decimal),
}

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
    /// Reps in their ramp, with their first day.
    pub new_reps: Vec<(Uuid, NaiveDate)>,
}

/// Every kind's target and what was done, for a scope and period.
pub struct Attainment {
    pub counting: Counting,
    pub targets: BTreeMap<TargetKind, StoredQuota>,
    pub counted: Counted,
}

fn refusal(field: &str, description: impl Into<String>) -> ForecastingError {
    FieldViolation::refusal(INCONSISTENT_FIELDS, field, description).into()
}

fn setter_refused(refusal: SetterRefusal) -> ForecastingError {
    ForecastingError::permission_denied(match refusal {
        SetterRefusal::CompanyIsAdmins => "only an admin sets the company's quota",
        SetterRefusal::OwnQuota => {
            "nobody sets their own quota: a manager above them or an admin does"
        }
        SetterRefusal::NotAboveHolder => {
            "a manager sets quotas strictly below themselves (teams inside their team, reps of their subtree); a rep sets none"
        }
    })
}

impl Forecasting {
    /// Sets the target of `kind` for a holder and period (event quota_set).
    pub async fn set_quota(
        &self,
        caller: &Caller,
        holder: RequestedScope,
        kind: TargetKind,
        period: &str,
        target: TargetInput,
    ) -> Result<StoredQuota> {
        let mut transaction = self.pool.begin().await?;
        let (period, currency) = read_period(&mut transaction, "period", period).await?;
        let (holder, team) = resolve_holder(&mut transaction, "holder", holder).await?;
        quota::check_setter(caller, &holder, team.as_ref()).map_err(setter_refused)?;
        let (currency, target) = target_figure(kind, currency, target)?;
        let stored = store::quotas::upsert(
            &mut transaction,
            &NewQuota {
                holder: &holder,
                holder_team_path: team.as_ref(),
                kind,
                period: &period,
                currency,
                target,
                set_by: caller.user_id,
            },
        )
        .await?;
        self.publish(&mut transaction, &stored).await?;
        self.outbox.commit(transaction).await?;
        Ok(stored)
    }

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
            let ramp_percent = request
                .new_reps
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

    /// The quotas of a period in a scope.
    pub async fn list_quotas(
        &self,
        caller: &Caller,
        requested: RequestedScope,
        period: &str,
        kind: Option<TargetKind>,
    ) -> Result<(Counting, Vec<StoredQuota>)> {
        let mut connection = self.pool.acquire().await?;
        let counting = self
            .counting(&mut connection, caller, requested, "period", period)
            .await?;
        let quotas =
            store::quotas::in_scope(&mut connection, &counting.scope, &counting.period, kind)
                .await?;
        Ok((counting, quotas))
    }

    /// Every parent of the scope whose children's quotas of `kind` do not add up.
    pub async fn check_quotas(
        &self,
        caller: &Caller,
        requested: RequestedScope,
        period: &str,
        kind: TargetKind,
    ) -> Result<(Counting, Vec<(Finding, Option<CurrencyCode>)>)> {
        if !kind.is_additive() {
            return Err(refusal(
                "kind",
                "an average or a growth rate does not add up: check revenue, activity or new-account targets",
            ));
        }
        let mut connection = self.pool.acquire().await?;
        let counting = self
            .counting(&mut connection, caller, requested, "period", period)
            .await?;
        let quotas = store::quotas::in_scope(
            &mut connection,
            &counting.scope,
            &counting.period,
            Some(kind),
        )
        .await?;
        let tree = tree(&mut connection).await?;
        let currencies: BTreeMap<Holder, Option<CurrencyCode>> = quotas
            .iter()
            .map(|quota| (quota.holder.clone(), quota.currency))
            .collect();
        let targets = quotas
            .into_iter()
            .map(|quota| (quota.holder, quota.target))
            .collect();
        let findings = quota::check(&tree, &targets)
            .into_iter()
            .map(|finding| {
                let currency = currencies.get(&finding.parent).copied().flatten();
                (finding, currency)
            })
            .collect();
        Ok((counting, findings))
    }

    /// Every kind's target of the scope's own holder, and what the scope did in the period.
    pub async fn attainment(
        &self,
        caller: &Caller,
        requested: RequestedScope,
        period: &str,
    ) -> Result<Attainment> {
        let mut connection = self.pool.acquire().await?;
        let counting = self
            .counting(&mut connection, caller, requested, "period", period)
            .await?;
        let (scope, period) = (&counting.scope, &counting.period);
        let holder = match scope {
            Scope::Company => Holder::Company,
            Scope::Team(team) => Holder::Team(team.clone()),
            Scope::Rep { user_id, .. } => Holder::Rep(*user_id),
        };
        let targets = store::quotas::in_scope(&mut connection, scope, period, None)
            .await?
            .into_iter()
            .filter(|quota| quota.holder == holder)
            .map(|quota| (quota.kind, quota))
            .collect();
        let counted = counted(
            &mut connection,
            &counting,
            crm_platform::time::now().date_naive(),
        )
        .await?;
        Ok(Attainment {
            counting,
            targets,
            counted,
        })
    }

    async fn publish(&self, connection: &mut PgConnection, quota: &StoredQuota) -> Result<()> {
        let event = QuotaSet {
            quota: Some(convert::quota(quota)),
            changed_by: quota.set_by.to_string(),
            occurred_at: Some(crm_platform::time::to_timestamp(quota.set_at)),
        };
        self.outbox
            .enqueue_for(connection, "quota", quota.id, quota.version, &event)
            .await?;
        Ok(())
    }
}

/// Keeps `activity` in the activity replica unless it holds it at that version or newer (the
/// consumer's transaction).
pub async fn apply_activity(
    connection: &mut PgConnection,
    activity: &LoggedActivity,
) -> sqlx::Result<()> {
    if !store::activities::upsert(connection, activity).await? {
        tracing::debug!(
            activity_id = %activity.id,
            version = activity.version,
            "activity event not newer than the replica's, ignored"
        );
    }
    Ok(())
}

/// What the scope did in the period: won revenue this year and a year earlier, new accounts,
/// and activities over the days up to `today` (the whole period once it has ended).
async fn counted(
    connection: &mut PgConnection,
    counting: &Counting,
    today: NaiveDate,
) -> Result<Counted> {
    let (scope, period) = (&counting.scope, &counting.period);
    let (won_amount, won_deals) = store::actuals::won(
        connection,
        scope,
        period.start(),
        period.end(),
        counting.currency,
    )
    .await?;
    let earlier = period.a_year_earlier();
    let (won_amount_a_year_earlier, _) = store::actuals::won(
        connection,
        scope,
        earlier.start(),
        earlier.end(),
        counting.currency,
    )
    .await?;
    let new_accounts =
        store::actuals::new_accounts(connection, scope, period.start(), period.end()).await?;
    let counted_until = period
        .end()
        .min(today.succ_opt().unwrap_or(today))
        .max(period.start());
    let at_midnight = |day: NaiveDate| day.and_time(NaiveTime::MIN).and_utc();
    let (calls, meetings, visits) = store::activities::counts(
        connection,
        scope,
        at_midnight(period.start()),
        at_midnight(counted_until),
    )
    .await?;
    let count = |value: i64| u64::try_from(value).unwrap_or_default();
    Ok(Counted {
        won_amount,
        won_deals: count(won_deals),
        won_amount_a_year_earlier,
        new_accounts: count(new_accounts),
        calls: count(calls),
        meetings: count(meetings),
        visits: count(visits),
        days_counted: u32::try_from((counted_until - period.start()).num_days()).unwrap_or(0),
    })
}

/// The period a label names in the organisation's calendar, and the corporate currency.
async fn read_period(
    connection: &mut PgConnection,
    field: &str,
    label: &str,
) -> Result<(FiscalPeriod, Option<CurrencyCode>)> {
    let settings = OrgDirectory::settings(&mut *connection).await?;
    let period = settings
        .fiscal_calendar
        .parse(label)
        .map_err(|error| refusal(field, error))?;
    Ok((period, settings.corporate_currency))
}

/// The holder a request names (exactly one of user, team, company), with a rep's team from
/// the directory (NOT_FOUND for a user it does not know) or a team's own path.
async fn resolve_holder(
    connection: &mut PgConnection,
    field: &str,
    requested: RequestedScope,
) -> Result<(Holder, Option<TeamPath>)> {
    Ok(match requested {
        RequestedScope::Mine => {
            return Err(refusal(
                field,
                "names whose quota: give one of user_id, team_path and company",
            ));
        }
        RequestedScope::Company => (Holder::Company, None),
        RequestedScope::Team(team) => (Holder::Team(team.clone()), Some(team)),
        RequestedScope::Rep(user_id) => {
            let team = OrgDirectory::team_of(connection, user_id)
                .await?
                .ok_or_else(|| ForecastingError::not_found("user", user_id))?;
            (Holder::Rep(user_id), Some(team))
        }
    })
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

fn team_of(tree: &TeamTree, holder: &Holder) -> Option<TeamPath> {
    match holder {
        Holder::Company => None,
        Holder::Team(team) => Some(team.clone()),
        Holder::Rep(user_id) => tree.team_of(*user_id).cloned(),
    }
}

async fn tree(connection: &mut PgConnection) -> Result<TeamTree> {
    let (teams, reps) = store::quotas::directory_tree(connection).await?;
    Ok(TeamTree::new(teams, reps))
}

/// The target's figure in the form its kind takes: an amount of the corporate currency for
/// money kinds, a value at the kind's decimals for the others; negative only for growth.
fn target_figure(
    kind: TargetKind,
    currency: Option<CurrencyCode>,
    target: TargetInput,
) -> Result<(Option<CurrencyCode>, Decimal)> {
    match (kind.measure(), target) {
        (Measure::Money, TargetInput::Amount(money)) => {
            let Some(corporate) = currency else {
                return Err(refusal(
                    "target.amount",
                    "the organisation has no corporate currency yet: money targets are counted in it",
                ));
            };
            if money.currency != corporate {
                return Err(refusal(
                    "target.amount.currency_code",
                    format!(
                        "must be the corporate currency, {corporate}: targets are counted in it"
                    ),
                ));
            }
            money.require_non_negative("target")?;
            Ok((Some(corporate), money.amount))
        }
        (Measure::Money, TargetInput::Value(_)) => Err(refusal(
            "target",
            format!(
                "a {} target is an amount of money: give target.amount",
                kind.as_str()
            ),
        )),
        (_, TargetInput::Amount(_)) => Err(refusal(
            "target",
            format!(
                "a {} target is a value, not money: give target.value",
                kind.as_str()
            ),
        )),
        (_, TargetInput::Value(value)) => {
            let places = kind.places(0);
            if value.normalize().scale() > places {
                return Err(refusal(
                    "target.value",
                    format!("a {} target has at most {places} decimals", kind.as_str()),
                ));
            }
            if kind != TargetKind::Growth && value.is_sign_negative() && !value.is_zero() {
                return Err(refusal("target.value", "must not be negative"));
            }
            Ok((None, value))
        }
    }
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
