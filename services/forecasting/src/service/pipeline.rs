//! The weighted pipeline (F1) and its categories (F2): deal events moving each deal's
//! contribution, the forecast of a scope and period, its roll-up along the team tree, the deals
//! behind it, and a rep's per-deal category override.

use crm_platform::{
    auth::{Caller, TeamPath},
    deals::lines::DealLine,
    error::{FieldViolation, reasons::INCONSISTENT_FIELDS},
    fiscal::{FiscalPeriod, PeriodKind},
    paging::{Listing, Page},
};
use std::collections::{BTreeMap, HashMap};

use sqlx::PgConnection;
use uuid::Uuid;

use super::{Counting, Forecasting, Result};
use crate::{
    domain::{
        deal::{DealStatus, ForecastCategory, PipelineDeal},
        forecast::{CategoryOverride, Contribution, Forecast, MonthTotals, RollUpLines},
        scope::{RequestedScope, Scope},
        sums::SumChanges,
    },
    error::ForecastingError,
    store::{
        self,
        deals::{DealFilter, StoredDeal},
        overrides::StoredOverride,
        pipeline::Grouping,
    },
};

/// A forecast of a period and of each of its parts (a quarter's months, a year's quarters).
pub struct ForecastWithParts {
    pub counting: Counting,
    pub forecast: Forecast,
    pub parts: Vec<(FiscalPeriod, Forecast)>,
}

/// A team's forecast and its lines along the team tree.
pub struct RollUp {
    pub counting: Counting,
    pub total: Forecast,
    pub lines: RollUpLines,
}

/// A deal as the forecast counts it, with the override's record when one is set.
pub struct DealForecast {
    pub stored: StoredDeal,
    pub category_override: Option<StoredOverride>,
}

/// The parts a period's forecast is broken into.
fn part_kind(period: &FiscalPeriod) -> Option<PeriodKind> {
    match period.kind() {
        PeriodKind::Year => Some(PeriodKind::Quarter),
        PeriodKind::Quarter => Some(PeriodKind::Month),
        PeriodKind::Month => None,
    }
}

impl Forecasting {
    /// The weighted pipeline of a scope for a period, and of each of the period's parts.
    pub async fn pipeline_forecast(
        &self,
        caller: &Caller,
        requested: RequestedScope,
        period: &str,
    ) -> Result<ForecastWithParts> {
        let mut connection = self.pool.acquire().await?;
        let counting = self
            .counting(&mut connection, caller, requested, "period", period)
            .await?;
        let sums = store::pipeline::sums(
            &mut connection,
            &counting.scope,
            counting.period.start(),
            counting.period.end(),
            Grouping::ByMonth,
        )
        .await?;
        let currency = counting.currency.map(|code| code.as_str());
        let forecast = Forecast::from_sums(&sums, currency);
        let parts = part_kind(&counting.period)
            .map(|kind| counting.period.parts(kind))
            .unwrap_or_default()
            .into_iter()
            .map(|part| {
                let within = sums.iter().filter(|sum| part.contains(sum.month));
                let forecast = Forecast::from_sums(within, currency);
                (part, forecast)
            })
            .collect();
        Ok(ForecastWithParts {
            counting,
            forecast,
            parts,
        })
    }

    /// A team's forecast for a period with its lines along the team tree; the caller's team
    /// when `team` is `None`.
    pub async fn pipeline_roll_up(
        &self,
        caller: &Caller,
        team: Option<TeamPath>,
        period: &str,
    ) -> Result<RollUp> {
        let team = team.unwrap_or_else(|| caller.team_path.clone());
        let mut connection = self.pool.acquire().await?;
        let counting = self
            .counting(
                &mut connection,
                caller,
                RequestedScope::Team(team.clone()),
                "period",
                period,
            )
            .await?;
        let sums: Vec<MonthTotals> = store::pipeline::sums(
            &mut connection,
            &counting.scope,
            counting.period.start(),
            counting.period.end(),
            Grouping::ByOwner,
        )
        .await?;
        let currency = counting.currency.map(|code| code.as_str());
        Ok(RollUp {
            total: Forecast::from_sums(&sums, currency),
            lines: RollUpLines::of(&team, &sums, currency),
            counting,
        })
    }

    /// The deals a forecast of the period counts, optionally of one category.
    pub async fn forecast_deals(
        &self,
        caller: &Caller,
        requested: RequestedScope,
        period: &str,
        category: Option<ForecastCategory>,
        page: &Page,
    ) -> Result<(Counting, Listing<StoredDeal>)> {
        let mut connection = self.pool.acquire().await?;
        let counting = self
            .counting(&mut connection, caller, requested, "period", period)
            .await?;
        let filter = DealFilter {
            scope: &counting.scope,
            from: counting.period.start(),
            until: counting.period.end(),
            category,
        };
        let listing = store::deals::list(&mut connection, &filter, page).await?;
        Ok((counting, listing))
    }

    /// Sets (`Some`) or removes (`None`) the category an open deal is counted in while it stays
    /// in its stage. By the owner, a manager above them or an admin; NOT_FOUND for a deal out
    /// of reach, as for one never heard of.
    pub async fn set_deal_category(
        &self,
        caller: &Caller,
        deal_id: Uuid,
        category: Option<ForecastCategory>,
        note: &str,
    ) -> Result<DealForecast> {
        if category.is_some_and(|category| !CategoryOverride::is_choosable(category)) {
            return Err(FieldViolation::refusal(
                INCONSISTENT_FIELDS,
                "category",
                "a deal is counted as closed only once it is won: choose pipeline, best case, commit or omitted",
            )
            .into());
        }
        let mut transaction = self.pool.begin().await?;
        let stored = store::deals::lock(&mut transaction, deal_id)
            .await?
            .filter(|stored| {
                stored.deal.status != DealStatus::Archived
                    && Scope::Rep {
                        user_id: stored.deal.owner_id,
                        team_path: stored.deal.owner_team_path.clone(),
                    }
                    .readable_by(caller)
            })
            .ok_or_else(|| ForecastingError::not_found("opportunity", deal_id))?;
        if stored.deal.status != DealStatus::Open {
            return Err(ForecastingError::DealNotOpen {
                id: deal_id,
                status: stored.deal.status,
            });
        }
        let deal = &stored.deal;
        let chosen = category.map(|category| CategoryOverride {
            stage_id: deal.stage_id,
            category,
        });
        move_contribution(
            &mut transaction,
            Contribution::of(deal, stored.category_override.as_ref()),
            Contribution::of(deal, chosen.as_ref()),
        )
        .await?;
        let recorded = match category {
            Some(category) => Some(
                store::overrides::set(
                    &mut transaction,
                    deal_id,
                    deal.stage_id,
                    category,
                    note,
                    caller.user_id,
                )
                .await?,
            ),
            None => {
                store::overrides::remove(&mut transaction, deal_id).await?;
                None
            }
        };
        transaction.commit().await?;
        Ok(DealForecast {
            stored: StoredDeal {
                category_override: chosen,
                deal: stored.deal,
            },
            category_override: recorded,
        })
    }
}

/// A deal's state as one event carries it, with its line items (for the analysis by product).
pub struct DealChange {
    pub deal: PipelineDeal,
    pub lines: Vec<DealLine>,
}

/// Keeps each deal of `changes` in the read model unless it holds the deal at that version or
/// newer, and moves each deal's contribution to the weighted pipeline from where its old
/// version counted to where the newest one does — the effect of applying the changes one by
/// one, in a few statements however many there are: of several versions of one deal only the
/// newest is written, and the sums' moves are added up per sum first. A deal's line items are
/// replaced with its row, only when the row is written.
pub async fn apply_deals(
    connection: &mut PgConnection,
    changes: &[DealChange],
) -> sqlx::Result<()> {
    let mut newest: BTreeMap<Uuid, &DealChange> = BTreeMap::new();
    for change in changes {
        newest
            .entry(change.deal.id)
            .and_modify(|held| {
                if held.deal.version < change.deal.version {
                    *held = change;
                }
            })
            .or_insert(change);
    }
    let ids: Vec<Uuid> = newest.keys().copied().collect();
    let mut stored: HashMap<Uuid, StoredDeal> = store::deals::lock_all(connection, &ids)
        .await?
        .into_iter()
        .map(|held| (held.deal.id, held))
        .collect();
    let mut sums = SumChanges::default();
    let mut lines: Vec<(Uuid, &[DealLine])> = Vec::new();
    let unheard: Vec<&PipelineDeal> = newest
        .values()
        .map(|change| &change.deal)
        .filter(|deal| !stored.contains_key(&deal.id))
        .collect();
    let inserted = store::deals::insert_all(connection, &unheard).await?;
    let mut raced = Vec::new();
    for deal in &unheard {
        match inserted.get(&deal.id) {
            Some(chosen) => {
                sums.move_deal(None, Contribution::of(deal, chosen.as_ref()).as_ref());
                // A deal the read model did not hold has no lines in it either.
                lines.push((deal.id, &newest[&deal.id].lines));
            }
            // Another replica inserted it meanwhile: its row is there to lock now.
            None => raced.push(deal.id),
        }
    }
    for held in store::deals::lock_all(connection, &raced).await? {
        stored.insert(held.deal.id, held);
    }
    let mut replaced = Vec::new();
    for change in newest.values() {
        let deal = &change.deal;
        let Some(held) = stored.get(&deal.id) else {
            continue;
        };
        if held.deal.version >= deal.version {
            tracing::debug!(
                opportunity_id = %deal.id,
                version = deal.version,
                held = held.deal.version,
                "deal event not newer than the read model's, ignored"
            );
            continue;
        }
        let chosen = held.category_override.as_ref();
        sums.move_deal(
            Contribution::of(&held.deal, chosen).as_ref(),
            Contribution::of(deal, chosen).as_ref(),
        );
        replaced.push(deal);
        lines.push((deal.id, &change.lines));
    }
    store::deals::replace_all(connection, &replaced).await?;
    store::lines::insert_all(connection, &lines).await?;
    store::pipeline::change(connection, &sums.into_changes()).await
}

/// Takes the old contribution away and adds the new one, when they differ.
async fn move_contribution(
    connection: &mut PgConnection,
    old: Option<Contribution>,
    new: Option<Contribution>,
) -> sqlx::Result<()> {
    let mut sums = SumChanges::default();
    sums.move_deal(old.as_ref(), new.as_ref());
    store::pipeline::change(connection, &sums.into_changes()).await
}
