//! Quotas and targets (F3): setting a target, listing them, checking that children add up;
//! and what the quota use cases share (the period, the holder, the tree, the refusals, the
//! quota_set event every write publishes through the outbox in its transaction). Decomposing
//! is in `decomposition.rs`, attainment in `attainment.rs`.

use std::collections::BTreeMap;

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

use super::{Counting, Forecasting, Result};
use crate::{
    convert,
    domain::{
        quota::{self, Finding, Holder, SetterRefusal, TeamTree},
        scope::RequestedScope,
        target::{Measure, TargetKind},
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

pub(super) fn refusal(field: &str, description: impl Into<String>) -> ForecastingError {
    FieldViolation::refusal(INCONSISTENT_FIELDS, field, description).into()
}

pub(super) fn setter_refused(refusal: SetterRefusal) -> ForecastingError {
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
        if let Holder::Team(team) = &holder
            && !tree(&mut transaction).await?.has_team(team)
        {
            return Err(refusal(
                "holder.team_path",
                "is not a team of the organisation: nobody sits in it or below it",
            ));
        }
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

    pub(super) async fn publish(
        &self,
        connection: &mut PgConnection,
        quota: &StoredQuota,
    ) -> Result<()> {
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

/// The period a label names in the organisation's calendar, and the corporate currency.
pub(super) async fn read_period(
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
pub(super) async fn resolve_holder(
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

pub(super) fn team_of(tree: &TeamTree, holder: &Holder) -> Option<TeamPath> {
    match holder {
        Holder::Company => None,
        Holder::Team(team) => Some(team.clone()),
        Holder::Rep(user_id) => tree.team_of(*user_id).cloned(),
    }
}

pub(super) async fn tree(connection: &mut PgConnection) -> Result<TeamTree> {
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
