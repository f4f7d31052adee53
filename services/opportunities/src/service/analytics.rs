//! The priority board and the funnel (O9, O10): who may ask for whose figures, and the figures,
//! each read in one snapshot and counting only the deals the caller may see.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use crm_platform::{
    auth::{Caller, Role, Visibility},
    money::CurrencyCode,
    org::OrgDirectory,
};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Opportunities, Result};
use crate::{
    domain::{
        board::{self, ScorePart},
        funnel::{self, FunnelFigures, OpenDeals, Outcomes, StageComparison, StageFlows},
        opportunity::Opportunity,
        pipeline::{Pipeline, Stage},
        plan::LateMilestones,
        settings::BoardSettings,
    },
    error::OpportunitiesError,
    store::{
        self,
        analytics::{CompetitorTally, Grouping, Months, Scope},
    },
};

/// The board: the top deals with their scores, and what they were scored with.
#[derive(Debug)]
pub(crate) struct Board {
    pub items: Vec<BoardItem>,
    pub settings: BoardSettings,
    pub as_of: NaiveDate,
    pub total_open_deals: u64,
    /// The pipelines of the deals shown.
    pub pipelines: HashMap<Uuid, Pipeline>,
}

#[derive(Debug)]
pub(crate) struct BoardItem {
    pub deal: Opportunity,
    /// Two decimals.
    pub score: Decimal,
    pub parts: Vec<ScorePart>,
    /// Its deal plan's slippage on the board's day (none without a plan).
    pub late_milestones: LateMilestones,
}

/// One stage's flows in a funnel.
#[derive(Debug, Clone)]
pub(crate) struct StageFunnel {
    pub stage: Stage,
    pub flows: StageFlows,
}

#[derive(Debug)]
pub(crate) struct Funnel {
    pub stages: Vec<StageFunnel>,
    pub figures: FunnelFigures,
    pub corporate_currency: Option<CurrencyCode>,
}

#[derive(Debug)]
pub(crate) struct RepFunnel {
    pub owner_id: Uuid,
    pub figures: FunnelFigures,
    pub stages: Vec<StageFunnel>,
    /// The stage the rep lost most deals from, and their conversion there minus the average's.
    pub weakest_stage: Option<(Stage, Option<Decimal>)>,
}

#[derive(Debug)]
pub(crate) struct RepComparison {
    pub average: FunnelFigures,
    pub average_stages: Vec<StageFunnel>,
    /// By owner id.
    pub reps: Vec<RepFunnel>,
    pub corporate_currency: Option<CurrencyCode>,
}

#[derive(Debug)]
pub(crate) struct CompetitorResult {
    pub tally: CompetitorTally,
    pub win_rate: Option<Decimal>,
}

#[derive(Debug)]
pub(crate) struct CompetitiveAnalysis {
    /// By lost revenue, largest first.
    pub competitors: Vec<CompetitorResult>,
    pub corporate_currency: Option<CurrencyCode>,
}

impl Opportunities {
    /// The open deals in scope ranked by their priority score on today's date (UTC), each with
    /// its plan's late milestones. An empty scope is the caller's own deals.
    pub(crate) async fn get_priority_board(
        &self,
        caller: &Caller,
        scope: Scope,
        pipeline_id: Option<Uuid>,
        limit: u32,
    ) -> Result<Board> {
        let scope = match scope {
            Scope::Visible => Scope::Owner(caller.user_id),
            scope => self.checked_scope(caller, scope).await?,
        };
        let now = crm_platform::time::now();
        let as_of = now.date_naive();
        let mut transaction = self.snapshot().await?;
        let settings = store::catalog::board_settings(&mut transaction, false).await?;
        let currency = corporate_currency(&mut transaction).await?;
        let found = store::board::board_candidates(
            &mut transaction,
            store::board::BoardQuery {
                visibility: &caller.visibility(),
                scope: &scope,
                pipeline_id,
                corporate_currency: currency.as_ref().map(CurrencyCode::as_str),
                limit,
                now,
                as_of,
                settings: &settings,
            },
        )
        .await?;
        let ranked = board::rank(&found.candidates, as_of, &settings);
        let top: Vec<_> = ranked.into_iter().take(limit as usize).collect();
        let ids: Vec<Uuid> = top.iter().map(|(candidate, _)| candidate.id).collect();
        let mut deals: HashMap<Uuid, Opportunity> = store::deals::get_deals(&mut transaction, &ids)
            .await?
            .into_iter()
            .map(|deal| (deal.id, deal))
            .collect();
        let mut late = store::plans::late_milestones(&mut transaction, &ids, as_of).await?;
        let mut pipelines = HashMap::new();
        for pipeline_id in deals
            .values()
            .map(|deal| deal.pipeline_id)
            .collect::<BTreeSet<_>>()
        {
            if let Some(pipeline) =
                store::pipelines::get_pipeline(&mut transaction, pipeline_id, false).await?
            {
                pipelines.insert(pipeline_id, pipeline);
            }
        }
        transaction.commit().await?;
        let items = top
            .into_iter()
            .filter_map(|(candidate, score)| {
                let deal = deals.remove(&candidate.id)?;
                Some(BoardItem {
                    score: board::rounded_score(&score),
                    parts: board::explain(&candidate, currency, as_of, &settings),
                    late_milestones: late.remove(&candidate.id).unwrap_or_default(),
                    deal,
                })
            })
            .collect();
        Ok(Board {
            items,
            settings,
            as_of,
            total_open_deals: found.total_open_deals,
            pipelines,
        })
    }

    /// A pipeline's funnel over the months for the scope (everything the caller sees when
    /// empty).
    pub(crate) async fn get_funnel(
        &self,
        caller: &Caller,
        pipeline_id: Uuid,
        months: Months,
        scope: Scope,
    ) -> Result<Funnel> {
        let scope = self.checked_scope(caller, scope).await?;
        let mut transaction = self.snapshot().await?;
        let pipeline = pipeline(&mut transaction, pipeline_id).await?;
        let currency = corporate_currency(&mut transaction).await?;
        let totals = self
            .funnel_totals(
                &mut transaction,
                caller,
                &scope,
                &pipeline,
                months,
                currency,
                Grouping::Scope,
            )
            .await?;
        transaction.commit().await?;
        let totals = totals.into_values().next().unwrap_or_default();
        Ok(Funnel {
            stages: stage_funnels(&pipeline, &totals.flows, &totals.flows),
            figures: funnel::figures(&totals.outcomes, &totals.open, currency),
            corporate_currency: currency,
        })
    }

    /// Each rep's funnel against the average of every deal in view (of `team_path`'s subtree
    /// when given), with the stage where the rep loses most deals.
    pub(crate) async fn compare_reps(
        &self,
        caller: &Caller,
        pipeline_id: Uuid,
        months: Months,
        scope: Scope,
    ) -> Result<RepComparison> {
        let scope = self.checked_scope(caller, scope).await?;
        let mut transaction = self.snapshot().await?;
        let pipeline = pipeline(&mut transaction, pipeline_id).await?;
        let currency = corporate_currency(&mut transaction).await?;
        let by_rep = self
            .funnel_totals(
                &mut transaction,
                caller,
                &scope,
                &pipeline,
                months,
                currency,
                Grouping::Owner,
            )
            .await?;
        transaction.commit().await?;
        // The rows partition the deals in view by owner, so their sum is the average's.
        let mut average = Totals::default();
        for totals in by_rep.values() {
            average.add(totals);
        }
        let average_stages = stage_funnels(&pipeline, &average.flows, &average.flows);
        let reps = by_rep
            .into_iter()
            .filter_map(|(owner_id, totals)| owner_id.map(|owner_id| (owner_id, totals)))
            .map(|(owner_id, totals)| {
                let comparisons: Vec<StageComparison> = average_stages
                    .iter()
                    .map(|average| StageComparison {
                        stage_id: average.stage.id,
                        position: average.stage.position,
                        rep: totals
                            .flows
                            .get(&average.stage.id)
                            .copied()
                            .unwrap_or_default(),
                        average: average.flows,
                    })
                    .collect();
                let weakest_stage = funnel::weakest_stage(&comparisons).and_then(|weakest| {
                    let stage = pipeline.stage(weakest.stage_id)?.clone();
                    Some((stage, weakest.gap))
                });
                RepFunnel {
                    owner_id,
                    figures: funnel::figures(&totals.outcomes, &totals.open, currency),
                    stages: stage_funnels(&pipeline, &totals.flows, &average.flows),
                    weakest_stage,
                }
            })
            .collect();
        Ok(RepComparison {
            average: funnel::figures(&average.outcomes, &average.open, currency),
            average_stages,
            reps,
            corporate_currency: currency,
        })
    }

    /// Won and lost deals closed in the months, per competitor on them, by lost revenue.
    pub(crate) async fn competitive_analysis(
        &self,
        caller: &Caller,
        months: Months,
        scope: Scope,
        pipeline_id: Option<Uuid>,
    ) -> Result<CompetitiveAnalysis> {
        let scope = self.checked_scope(caller, scope).await?;
        let until = months
            .last
            .checked_add_months(chrono::Months::new(1))
            .ok_or_else(|| OpportunitiesError::invalid("period.to_month", "is too far ahead"))?;
        let mut transaction = self.snapshot().await?;
        let currency = corporate_currency(&mut transaction).await?;
        let tallies = store::analytics::competitor_tallies(
            &mut transaction,
            &caller.visibility(),
            &scope,
            pipeline_id,
            months.first,
            until,
            currency.as_ref().map(CurrencyCode::as_str),
        )
        .await?;
        transaction.commit().await?;
        let mut competitors: Vec<CompetitorResult> = tallies
            .into_iter()
            .map(|tally| CompetitorResult {
                win_rate: funnel::win_rate(tally.won, tally.lost),
                tally,
            })
            .collect();
        competitors.sort_by(|a, b| {
            b.tally
                .lost_revenue
                .cmp(&a.tally.lost_revenue)
                .then(b.tally.lost_to.cmp(&a.tally.lost_to))
                .then(a.tally.competitor_name.cmp(&b.tally.competitor_name))
                .then(a.tally.competitor_id.cmp(&b.tally.competitor_id))
        });
        Ok(CompetitiveAnalysis {
            competitors,
            corporate_currency: currency,
        })
    }

    /// The scope if the caller may ask for it: a team subtree they see whole (admins any,
    /// managers their own subtree, reps none), or an owner whose deals they see (themselves;
    /// for managers a user in their subtree, as the directory or the user's deals place them).
    async fn checked_scope(&self, caller: &Caller, scope: Scope) -> Result<Scope> {
        match &scope {
            Scope::Visible => {}
            Scope::Team(team_path) => {
                let whole = match caller.visibility() {
                    Visibility::All => true,
                    Visibility::TeamSubtree(reach) => team_path.is_within(&reach),
                    Visibility::Own(_) => false,
                };
                if !whole {
                    return Err(OpportunitiesError::permission_denied(format!(
                        "team {team_path} is outside what you may see"
                    )));
                }
            }
            Scope::Owner(owner_id) if *owner_id == caller.user_id => {}
            Scope::Owner(owner_id) => {
                let reachable = match caller.role {
                    Role::Admin => true,
                    Role::Rep => false,
                    Role::Manager => {
                        let mut connection = self.pool.acquire().await?;
                        let team = match OrgDirectory::team_of(&mut connection, *owner_id).await? {
                            Some(team) => Some(team),
                            None => {
                                store::analytics::team_of_deals(&mut connection, *owner_id).await?
                            }
                        };
                        // A user this service has no record of owns nothing it could show.
                        team.is_none_or(|team| caller.can_access(*owner_id, &team))
                    }
                };
                if !reachable {
                    return Err(OpportunitiesError::permission_denied(format!(
                        "the deals of {owner_id} are outside what you may see"
                    )));
                }
            }
        }
        Ok(scope)
    }

    /// A read-only transaction over one snapshot, so the figures of a call agree.
    async fn snapshot(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        let mut transaction = self.pool.begin().await?;
        crm_platform::db::read_one_snapshot(&mut transaction).await?;
        Ok(transaction)
    }

    /// The roll-up's sums and the open deals, for the scope (one entry, key `None`) or per
    /// owner.
    #[allow(clippy::too_many_arguments)]
    async fn funnel_totals(
        &self,
        connection: &mut PgConnection,
        caller: &Caller,
        scope: &Scope,
        pipeline: &Pipeline,
        months: Months,
        currency: Option<CurrencyCode>,
        grouping: Grouping,
    ) -> Result<BTreeMap<Option<Uuid>, Totals>> {
        let visibility = caller.visibility();
        let mut totals: BTreeMap<Option<Uuid>, Totals> = BTreeMap::new();
        let flows = store::analytics::stage_flows(
            connection,
            &visibility,
            scope,
            pipeline.id,
            months,
            grouping,
        )
        .await?;
        for (owner_id, stage_id, stage_flows) in flows {
            *totals
                .entry(owner_id)
                .or_default()
                .flows
                .entry(stage_id)
                .or_default() += stage_flows;
        }
        let outcomes = store::analytics::outcomes(
            connection,
            &visibility,
            scope,
            pipeline.id,
            months,
            grouping,
        )
        .await?;
        for (owner_id, outcome) in outcomes {
            totals.entry(owner_id).or_default().outcomes += outcome;
        }
        let open = store::analytics::open_deals(
            connection,
            &visibility,
            scope,
            pipeline.id,
            currency.as_ref().map(CurrencyCode::as_str),
            grouping,
        )
        .await?;
        for (owner_id, deals) in open {
            totals.entry(owner_id).or_default().open += deals;
        }
        Ok(totals)
    }
}

/// What one funnel (a scope or a rep) adds up to.
#[derive(Debug, Default)]
struct Totals {
    flows: HashMap<Uuid, StageFlows>,
    outcomes: Outcomes,
    open: OpenDeals,
}

impl Totals {
    fn add(&mut self, other: &Totals) {
        for (stage_id, flows) in &other.flows {
            *self.flows.entry(*stage_id).or_default() += *flows;
        }
        self.outcomes += other.outcomes;
        self.open += other.open;
    }
}

/// The pipeline's open stages in order with their flows: every stage in use, and a retired
/// one only when `shown_if` (the average's flows) has some for it.
fn stage_funnels(
    pipeline: &Pipeline,
    flows: &HashMap<Uuid, StageFlows>,
    shown_if: &HashMap<Uuid, StageFlows>,
) -> Vec<StageFunnel> {
    pipeline
        .stages
        .iter()
        .filter(|stage| stage.is_open())
        .filter(|stage| {
            !stage.retired
                || shown_if
                    .get(&stage.id)
                    .is_some_and(|flows| !flows.is_empty())
        })
        .map(|stage| StageFunnel {
            stage: stage.clone(),
            flows: flows.get(&stage.id).copied().unwrap_or_default(),
        })
        .collect()
}

async fn pipeline(connection: &mut PgConnection, pipeline_id: Uuid) -> Result<Pipeline> {
    store::pipelines::get_pipeline(connection, pipeline_id, false)
        .await?
        .ok_or_else(|| OpportunitiesError::not_found("pipeline", pipeline_id))
}

/// The organisation's corporate currency as this service last heard it.
async fn corporate_currency(connection: &mut PgConnection) -> Result<Option<CurrencyCode>> {
    Ok(OrgDirectory::settings(&mut *connection)
        .await?
        .corporate_currency)
}
