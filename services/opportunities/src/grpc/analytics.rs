//! AnalyticsService: the priority board, the funnel, the reps' comparison and the competitive
//! analysis — requests read into scopes and month ranges, results written as the proto says
//! (decimal strings at their fixed places, amounts as Money in the corporate currency).

use chrono::{Datelike, NaiveDate};
use crm_platform::{
    error::Violations,
    money::{CurrencyCode, Money},
    paging,
};
use crm_proto::crm::opportunities::v1::{self as pb, analytics_service_server::AnalyticsService};
use rust_decimal::Decimal;
use tonic::{Request, Response, Status};

use super::{authenticated, deal_input::optional_team};
use crate::{
    convert,
    domain::{
        funnel::{FunnelFigures, StageFlows},
        pipeline::Stage,
        settings::BoardSettings,
    },
    error::OpportunitiesError,
    service::Opportunities,
    store::analytics::{Months, Scope},
};

/// The longest period a funnel or an analysis covers: five years of monthly rows.
const MAX_MONTHS: i32 = 60;
/// The board shows 50 deals unless asked for another number up to 500.
const DEFAULT_BOARD_LIMIT: u32 = 50;
const MAX_BOARD_LIMIT: u32 = 500;

pub(crate) struct AnalyticsApi {
    opportunities: Opportunities,
}

impl AnalyticsApi {
    pub(crate) fn new(opportunities: Opportunities) -> Self {
        Self { opportunities }
    }
}

/// A "YYYY-MM" month as its first day.
fn month(text: &str) -> Result<NaiveDate, String> {
    let text = text.trim();
    let refused = || format!("{text:?} must be a month written YYYY-MM, such as 2026-03");
    let (year, month) = text.split_once('-').ok_or_else(refused)?;
    let digits = |part: &str, length: usize| {
        part.len() == length && part.bytes().all(|byte| byte.is_ascii_digit())
    };
    if !digits(year, 4) || !digits(month, 2) {
        return Err(refused());
    }
    let (year, month) = (
        year.parse().map_err(|_| refused())?,
        month.parse().map_err(|_| refused())?,
    );
    NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(refused)
}

/// The period's months: both given, in order, at most [`MAX_MONTHS`] of them.
fn months(period: Option<&pb::MonthRange>, violations: &mut Violations) -> Option<Months> {
    let Some(period) = period else {
        violations.add("period", "is required");
        return None;
    };
    // The schema cannot state the form of a month or the order of two: refusals (422).
    let mut refuse = |field: &str, description: String| {
        violations.push(crm_platform::error::FieldViolation::refusal(
            crm_platform::error::reasons::INCONSISTENT_FIELDS,
            field,
            description,
        ));
    };
    let first = month(&period.from_month).map_err(|error| refuse("period.from_month", error));
    let last = month(&period.to_month).map_err(|error| refuse("period.to_month", error));
    let (first, last) = (first.ok()?, last.ok()?);
    if last < first {
        refuse(
            "period.to_month",
            "must not be before period.from_month".to_owned(),
        );
        return None;
    }
    let count = (last.year() - first.year()) * 12 + last.month() as i32 - first.month() as i32 + 1;
    if count > MAX_MONTHS {
        refuse(
            "period",
            format!("spans {count} months; at most {MAX_MONTHS}"),
        );
        return None;
    }
    Some(Months { first, last })
}

/// One rep, a team subtree, or (neither) everything visible.
fn scope(scope: Option<&pb::DealScope>, violations: &mut Violations) -> Scope {
    let Some(scope) = scope else {
        return Scope::Visible;
    };
    let owner_id = violations.optional_id("scope.owner_id", &scope.owner_id);
    let team_path = optional_team("scope.team_path", &scope.team_path, violations);
    match (owner_id, team_path) {
        (Some(_), Some(_)) => {
            violations.add(
                "scope.team_path",
                "must be empty when scope.owner_id is given: a scope is one rep or one team",
            );
            Scope::Visible
        }
        (Some(owner_id), None) => Scope::Owner(owner_id),
        (None, Some(team_path)) => Scope::Team(team_path),
        (None, None) => Scope::Visible,
    }
}

fn invalid(violations: Violations) -> Result<(), Status> {
    violations
        .into_result()
        .map_err(|violations| OpportunitiesError::from(violations).into())
}

/// A decimal at its fixed places; empty when undefined.
fn decimal(value: Option<Decimal>) -> String {
    value.map(|value| value.to_string()).unwrap_or_default()
}

fn money(value: Option<Money>) -> Option<crm_proto::crm::common::v1::Money> {
    value.as_ref().map(Money::to_message)
}

fn currency(value: Option<CurrencyCode>) -> String {
    value
        .map(|currency| currency.to_string())
        .unwrap_or_default()
}

/// The board's settings on the wire (the board explains itself with them).
pub(crate) fn board_settings(settings: &BoardSettings) -> pb::PriorityBoardSettings {
    pb::PriorityBoardSettings {
        probability_weight: settings.probability_weight,
        amount_weight: settings.amount_weight,
        closeness_weight: settings.closeness_weight,
        staleness_weight: settings.staleness_weight,
        amount_scale: settings.amount_scale.normalize().to_string(),
        close_horizon_days: settings.close_horizon_days,
        version: settings.version as u64,
    }
}

fn stage_funnel((stage, flows): (&Stage, &StageFlows)) -> pb::StageFunnel {
    pb::StageFunnel {
        stage: Some(convert::stage_summary(stage)),
        entered: flows.entered,
        exited: flows.exited,
        advanced: flows.advanced,
        lost: flows.lost,
        conversion_rate: decimal(flows.conversion_rate()),
        average_days_in_stage: decimal(flows.average_days_in_stage()),
    }
}

fn stage_funnels<'a>(
    stages: impl IntoIterator<Item = (&'a Stage, &'a StageFlows)>,
) -> Vec<pb::StageFunnel> {
    stages.into_iter().map(stage_funnel).collect()
}

fn figures(figures: &FunnelFigures) -> pb::FunnelFigures {
    pb::FunnelFigures {
        won: figures.won,
        lost: figures.lost,
        win_rate: decimal(figures.win_rate),
        average_deal_size: money(figures.average_deal_size),
        average_sales_cycle_days: decimal(figures.average_sales_cycle_days),
        open_deals: figures.open_deals,
        open_amount: money(figures.open_amount),
        velocity_per_day: money(figures.velocity_per_day),
        won_amount: money(figures.won_amount),
    }
}

#[tonic::async_trait]
impl AnalyticsService for AnalyticsApi {
    async fn get_priority_board(
        &self,
        request: Request<pb::GetPriorityBoardRequest>,
    ) -> Result<Response<pb::GetPriorityBoardResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let scope = scope(request.scope.as_ref(), &mut violations);
        let pipeline_id = violations.optional_id("pipeline_id", &request.pipeline_id);
        let limit = paging::limit(
            &mut violations,
            request.limit,
            DEFAULT_BOARD_LIMIT,
            MAX_BOARD_LIMIT,
        );
        invalid(violations)?;
        let board = self
            .opportunities
            .get_priority_board(&caller, scope, pipeline_id, limit)
            .await?;
        let items = board
            .items
            .iter()
            .zip(1..)
            .filter_map(|(item, rank)| {
                let pipeline = board.pipelines.get(&item.deal.pipeline_id)?;
                Some(pb::PriorityBoardItem {
                    rank,
                    opportunity: Some(convert::opportunity(&item.deal, pipeline)),
                    score: item.score.to_string(),
                    parts: item
                        .parts
                        .iter()
                        .map(|part| pb::ScorePart {
                            name: part.name.to_owned(),
                            value: part.value.to_string(),
                            weight: part.weight,
                            points: part.points.to_string(),
                            explanation: Some(part.explanation.to_wire()),
                        })
                        .collect(),
                    late_milestones: item.late_milestones.count,
                    max_days_late: item.late_milestones.days_late_max,
                })
            })
            .collect();
        Ok(Response::new(pb::GetPriorityBoardResponse {
            items,
            formula: crate::domain::board::formula(&board.settings),
            settings: Some(board_settings(&board.settings)),
            as_of: board.as_of.to_string(),
            total_open_deals: u32::try_from(board.total_open_deals).unwrap_or(u32::MAX),
        }))
    }

    async fn get_funnel(
        &self,
        request: Request<pb::GetFunnelRequest>,
    ) -> Result<Response<pb::GetFunnelResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let pipeline_id = violations.id("pipeline_id", &request.pipeline_id);
        let months = months(request.period.as_ref(), &mut violations);
        let scope = scope(request.scope.as_ref(), &mut violations);
        invalid(violations)?;
        let (Some(pipeline_id), Some(months)) = (pipeline_id, months) else {
            unreachable!("the violations name a missing pipeline or period");
        };
        let funnel = self
            .opportunities
            .get_funnel(&caller, pipeline_id, months, scope)
            .await?;
        Ok(Response::new(pb::GetFunnelResponse {
            stages: stage_funnels(
                funnel
                    .stages
                    .iter()
                    .map(|stage| (&stage.stage, &stage.flows)),
            ),
            figures: Some(figures(&funnel.figures)),
            corporate_currency: currency(funnel.corporate_currency),
        }))
    }

    async fn compare_reps(
        &self,
        request: Request<pb::CompareRepsRequest>,
    ) -> Result<Response<pb::CompareRepsResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let pipeline_id = violations.id("pipeline_id", &request.pipeline_id);
        let months = months(request.period.as_ref(), &mut violations);
        let scope = optional_team("team_path", &request.team_path, &mut violations)
            .map_or(Scope::Visible, Scope::Team);
        invalid(violations)?;
        let (Some(pipeline_id), Some(months)) = (pipeline_id, months) else {
            unreachable!("the violations name a missing pipeline or period");
        };
        let comparison = self
            .opportunities
            .compare_reps(&caller, pipeline_id, months, scope)
            .await?;
        Ok(Response::new(pb::CompareRepsResponse {
            average: Some(figures(&comparison.average)),
            average_stages: stage_funnels(
                comparison
                    .average_stages
                    .iter()
                    .map(|stage| (&stage.stage, &stage.flows)),
            ),
            reps: comparison
                .reps
                .iter()
                .map(|rep| pb::RepFunnel {
                    owner_id: rep.owner_id.to_string(),
                    figures: Some(figures(&rep.figures)),
                    stages: stage_funnels(
                        rep.stages.iter().map(|stage| (&stage.stage, &stage.flows)),
                    ),
                    weakest_stage: rep
                        .weakest_stage
                        .as_ref()
                        .map(|(stage, _)| convert::stage_summary(stage)),
                    weakest_stage_gap: decimal(
                        rep.weakest_stage.as_ref().and_then(|(_, gap)| *gap),
                    ),
                })
                .collect(),
            corporate_currency: currency(comparison.corporate_currency),
        }))
    }

    async fn get_competitive_analysis(
        &self,
        request: Request<pb::GetCompetitiveAnalysisRequest>,
    ) -> Result<Response<pb::GetCompetitiveAnalysisResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let months = months(request.period.as_ref(), &mut violations);
        let scope = scope(request.scope.as_ref(), &mut violations);
        let pipeline_id = violations.optional_id("pipeline_id", &request.pipeline_id);
        invalid(violations)?;
        let Some(months) = months else {
            unreachable!("the violations name a missing period");
        };
        let analysis = self
            .opportunities
            .competitive_analysis(&caller, months, scope, pipeline_id)
            .await?;
        let corporate = analysis.corporate_currency;
        Ok(Response::new(pb::GetCompetitiveAnalysisResponse {
            competitors: analysis
                .competitors
                .iter()
                .map(|result| pb::CompetitorResult {
                    competitor_id: result.tally.competitor_id.to_string(),
                    competitor_name: result.tally.competitor_name.clone(),
                    deals_won: result.tally.won,
                    deals_lost: result.tally.lost,
                    deals_lost_to: result.tally.lost_to,
                    lost_revenue: corporate.map(|currency| {
                        Money {
                            currency,
                            amount: result.tally.lost_revenue,
                        }
                        .to_message()
                    }),
                    win_rate: decimal(result.win_rate),
                })
                .collect(),
            corporate_currency: currency(corporate),
        }))
    }
}

#[cfg(test)]
mod tests {
    use crm_platform::auth::TeamPath;

    use super::*;

    fn period(from: &str, to: &str) -> Result<Months, Vec<String>> {
        let mut violations = Violations::new();
        let months = months(
            Some(&pb::MonthRange {
                from_month: from.into(),
                to_month: to.into(),
            }),
            &mut violations,
        );
        match violations.into_result() {
            Ok(()) => Ok(months.unwrap()),
            Err(violations) => Err(violations.iter().map(ToString::to_string).collect()),
        }
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_period_is_its_first_and_last_months_first_days() {
        assert_eq!(
            period("2026-01", "2026-03").unwrap(),
            Months {
                first: day("2026-01-01"),
                last: day("2026-03-01"),
            }
        );
        assert_eq!(
            period(" 2026-12 ", "2026-12").unwrap().last,
            day("2026-12-01")
        );
    }

    #[test]
    fn a_month_not_written_yyyy_mm_is_named_by_its_field() {
        let refused = period("2026-1", "2026-13").unwrap_err();
        assert_eq!(refused.len(), 2);
        assert!(refused[0].starts_with("period.from_month: \"2026-1\" must be a month"));
        assert!(refused[1].starts_with("period.to_month: \"2026-13\" must be a month"));
        assert_eq!(period("26-01", "2026-01").unwrap_err().len(), 1);
        assert_eq!(period("2026-01-01", "2026-01").unwrap_err().len(), 1);
        assert_eq!(period("+026-01", "2026-01").unwrap_err().len(), 1);
    }

    #[test]
    fn a_period_runs_forward_and_spans_at_most_sixty_months() {
        assert_eq!(
            period("2026-03", "2026-02").unwrap_err(),
            vec!["period.to_month: must not be before period.from_month"]
        );
        // 2022-01 … 2026-12 is 5 × 12 = 60 months; one more is too many.
        assert!(period("2022-01", "2026-12").is_ok());
        assert_eq!(
            period("2021-12", "2026-12").unwrap_err(),
            vec!["period: spans 61 months; at most 60"]
        );
    }

    #[test]
    fn a_missing_period_is_required() {
        let mut violations = Violations::new();
        assert_eq!(months(None, &mut violations), None);
        assert_eq!(
            violations.into_result().unwrap_err()[0].to_string(),
            "period: is required"
        );
    }

    #[test]
    fn a_scope_is_one_rep_or_one_team() {
        let mut violations = Violations::new();
        let owner = uuid::Uuid::now_v7();
        let both = pb::DealScope {
            owner_id: owner.to_string(),
            team_path: "/northwind/east/".into(),
        };
        scope(Some(&both), &mut violations);
        assert_eq!(
            violations.into_result().unwrap_err()[0].field,
            "scope.team_path"
        );
        let mut violations = Violations::new();
        let team = pb::DealScope {
            owner_id: String::new(),
            team_path: "/northwind/east".into(),
        };
        assert_eq!(
            scope(Some(&team), &mut violations),
            Scope::Team(TeamPath::parse("/northwind/east/").unwrap())
        );
        assert_eq!(scope(None, &mut violations), Scope::Visible);
        assert!(violations.is_empty());
    }
}
