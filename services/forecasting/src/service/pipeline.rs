//! The weighted pipeline (F1) and its categories (F2): deal events moving each deal's
//! contribution, the forecast of a scope and period, its roll-up along the team tree, the deals
//! behind it, and a rep's per-deal category override.

use crm_platform::{
    auth::{Caller, TeamPath},
    error::{FieldViolation, reasons::INCONSISTENT_FIELDS},
    fiscal::{FiscalPeriod, PeriodKind},
    paging::{Listing, Page},
};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Counting, Forecasting, Result};
use crate::{
    domain::{
        deal::{DealStatus, ForecastCategory, PipelineDeal},
        deal_lines::DealLine,
        forecast::{CategoryOverride, Contribution, Forecast, MonthTotals, RollUpLines},
        scope::{RequestedScope, Scope},
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

/// Keeps `deal` in the read model unless it holds the deal at that version or newer, and
/// moves the deal's contribution to the weighted pipeline from where its old version
/// counted to where this one does. The deal's line items (`lines`, for the analysis by
/// product) are replaced with its row, only when the row is written.
pub async fn apply_deal(
    connection: &mut PgConnection,
    deal: &PipelineDeal,
    lines: &[DealLine],
) -> sqlx::Result<()> {
    let stored = match store::deals::lock(connection, deal.id).await? {
        Some(stored) => stored,
        None => match store::deals::insert(connection, deal).await? {
            Some(category_override) => {
                if let Some(contribution) = Contribution::of(deal, category_override.as_ref()) {
                    store::pipeline::add(connection, &contribution).await?;
                }
                // A deal the read model did not hold has no lines in it either.
                return store::lines::insert(connection, deal.id, lines).await;
            }
            // Another replica inserted it meanwhile: its row is there to lock now.
            None => store::deals::lock(connection, deal.id)
                .await?
                .ok_or(sqlx::Error::RowNotFound)?,
        },
    };
    if stored.deal.version >= deal.version {
        tracing::debug!(
            opportunity_id = %deal.id,
            version = deal.version,
            held = stored.deal.version,
            "deal event not newer than the read model's, ignored"
        );
        return Ok(());
    }
    let chosen = stored.category_override.as_ref();
    let (old, new) = (
        Contribution::of(&stored.deal, chosen),
        Contribution::of(deal, chosen),
    );
    store::deals::replace(connection, deal, old.as_ref(), new.as_ref()).await?;
    store::lines::insert(connection, deal.id, lines).await
}

/// Takes the old contribution away and adds the new one, when they differ.
async fn move_contribution(
    connection: &mut PgConnection,
    old: Option<Contribution>,
    new: Option<Contribution>,
) -> sqlx::Result<()> {
    if old == new {
        return Ok(());
    }
    if let Some(old) = old {
        store::pipeline::take_away(connection, &old).await?;
    }
    if let Some(new) = new {
        store::pipeline::add(connection, &new).await?;
    }
    Ok(())
}
