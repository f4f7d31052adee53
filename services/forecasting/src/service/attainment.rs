//! Attainment (F3): every target kind of a scope's own holder against what the scope did in
//! the period — won revenue, won deals, new accounts, activities — and the activity log's
//! replica those counts read.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveTime};
use crm_platform::auth::Caller;
use sqlx::PgConnection;

use super::{Counting, Forecasting, Result};
use crate::{
    domain::{
        activity::LoggedActivity,
        quota::Holder,
        scope::{RequestedScope, Scope},
        target::{Counted, TargetKind},
    },
    store::{self, quotas::StoredQuota},
};

/// Every kind's target and what was done, for a scope and period.
pub struct Attainment {
    pub counting: Counting,
    pub targets: BTreeMap<TargetKind, StoredQuota>,
    pub counted: Counted,
}

impl Forecasting {
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
