//! Receivables (O8): the open instalments of the schedules the caller may read on a day, aged,
//! with their sums overall, per rep and per team.

use chrono::NaiveDate;
use crm_platform::auth::{Caller, TeamPath};
use uuid::Uuid;

use super::{Opportunities, Result};
use crate::{
    domain::receivable::{self, Receivable, ReceivableTotals},
    store::collections as store_collections,
};

/// What ListReceivables filters on.
#[derive(Debug, Clone, Default)]
pub struct ReceivableFilter {
    /// `None`: today (UTC).
    pub as_of: Option<NaiveDate>,
    pub owner_id: Option<Uuid>,
    pub team_path: Option<TeamPath>,
}

/// The receivables and their sums.
#[derive(Debug, Clone)]
pub struct Receivables {
    pub as_of: NaiveDate,
    pub receivables: Vec<Receivable>,
    pub totals: Vec<ReceivableTotals>,
    pub by_owner: Vec<ReceivableTotals>,
    pub by_team: Vec<ReceivableTotals>,
}

impl Opportunities {
    pub async fn list_receivables(
        &self,
        caller: &Caller,
        filter: &ReceivableFilter,
    ) -> Result<Receivables> {
        let mut connection = self.pool.acquire().await?;
        let schedules = store_collections::visible_schedules(&mut connection, caller, None).await?;
        let schedules: Vec<_> = schedules
            .into_iter()
            .filter(|s| filter.owner_id.is_none_or(|owner| s.owner_id == owner))
            .filter(|s| {
                filter
                    .team_path
                    .as_ref()
                    .is_none_or(|team| s.owner_team_path.is_within(team))
            })
            .collect();
        let as_of = filter
            .as_of
            .unwrap_or_else(|| crm_platform::time::now().date_naive());
        let receivables = receivable::receivables(&schedules, as_of);
        Ok(Receivables {
            as_of,
            totals: receivable::totals_by(&receivables, |_| String::new()),
            by_owner: receivable::totals_by(&receivables, |r| r.owner_id.to_string()),
            by_team: receivable::totals_by(&receivables, |r| r.owner_team_path.to_string()),
            receivables,
        })
    }
}
