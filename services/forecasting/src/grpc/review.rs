//! The rankings' and review's RPCs (`ReviewService`): scope and period in; leaderboards, trends
//! and the period review out.

use crm_platform::{
    error::{FieldViolation, Violations, reasons::INCONSISTENT_FIELDS},
    money::{CurrencyCode, fixed},
    paging,
};
use crm_proto::crm::forecasting::v1::{
    self as pb, leaderboard_entry, review_service_server::ReviewService,
};
use rust_decimal::Decimal;
use tonic::{Request, Response, Status};

use super::{
    authenticated,
    scope::{self, money, period, resolved},
};
use crate::{
    domain::{
        ranking::PERCENT_PLACES,
        review::{ClosedDeal, WinRate},
    },
    error::ForecastingError,
    service::{
        DEFAULT_TREND_PERIODS, Forecasting, LeaderboardKind, LeaderboardScope, Ranked,
        ReviewSettings, top_or_default,
    },
};

pub(crate) struct ReviewApi {
    forecasting: Forecasting,
    settings: ReviewSettings,
}

impl ReviewApi {
    pub(crate) fn new(forecasting: Forecasting, settings: ReviewSettings) -> Self {
        Self {
            forecasting,
            settings,
        }
    }
}

/// A percentage on the wire: two decimals; empty for none.
pub(crate) fn percent(value: Option<Decimal>) -> String {
    value.map_or_else(String::new, |value| {
        fixed(value, PERCENT_PLACES).to_string()
    })
}

fn currency_code(currency: Option<CurrencyCode>) -> String {
    currency
        .map(|code| code.as_str().to_owned())
        .unwrap_or_default()
}

/// The wins feed's size when not asked, and at most.
const WINS_LIMIT: u32 = 20;
const MAX_WINS_LIMIT: u32 = 100;

#[tonic::async_trait]
impl ReviewService for ReviewApi {
    async fn list_recent_wins(
        &self,
        request: Request<pb::ListRecentWinsRequest>,
    ) -> Result<Response<pb::ListRecentWinsResponse>, Status> {
        let caller = authenticated(&request)?;
        let mut violations = Violations::new();
        let limit = paging::limit(
            &mut violations,
            request.get_ref().limit,
            WINS_LIMIT,
            MAX_WINS_LIMIT,
        );
        violations.into_result().map_err(ForecastingError::from)?;
        let wins = self
            .forecasting
            .recent_wins(&caller, self.settings, limit)
            .await?;
        Ok(Response::new(pb::ListRecentWinsResponse {
            wins: wins
                .into_iter()
                .map(|win| pb::RecentWin {
                    opportunity_id: win.id.to_string(),
                    name: win.name,
                    owner_id: win.owner_id.to_string(),
                    owner_name: win.owner_name.unwrap_or_default(),
                    owner_team_path: win.owner_team_path,
                    amount: money(Some(win.amount.currency), win.amount.amount),
                    corporate_amount: win
                        .corporate_amount
                        .and_then(|corporate| money(Some(corporate.currency), corporate.amount)),
                    closed_on: win.closed_on.map(|day| day.to_string()).unwrap_or_default(),
                })
                .collect(),
        }))
    }

    async fn get_leaderboard(
        &self,
        request: Request<pb::GetLeaderboardRequest>,
    ) -> Result<Response<pb::GetLeaderboardResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let team = scope::optional_team(&mut violations, "team_path", &request.team_path);
        if team.is_some() && request.company {
            violations.push(FieldViolation::refusal(
                INCONSISTENT_FIELDS,
                "company",
                "a leaderboard is one team's or the company's: give team_path or company, not both",
            ));
        }
        let label = scope::period_label(&mut violations, "period", &request.period);
        let kind = match pb::LeaderboardKind::try_from(request.kind) {
            Ok(pb::LeaderboardKind::Unspecified | pb::LeaderboardKind::Rep) => LeaderboardKind::Rep,
            Ok(pb::LeaderboardKind::Team) => LeaderboardKind::Team,
            Err(_) => {
                violations.add(
                    "kind",
                    format!("{} is not a leaderboard kind", request.kind),
                );
                LeaderboardKind::Rep
            }
        };
        violations.into_result().map_err(ForecastingError::from)?;
        let requested = match (team, request.company) {
            (Some(team), _) => LeaderboardScope::Team(team),
            (None, true) => LeaderboardScope::Company,
            (None, false) => LeaderboardScope::Mine,
        };
        let board = self
            .forecasting
            .leaderboard(&caller, self.settings, requested, kind, label)
            .await?;
        let currency = board.counting.currency;
        Ok(Response::new(pb::GetLeaderboardResponse {
            scope: Some(resolved(&board.counting.scope)),
            period: Some(period(&board.counting.period)),
            kind: match board.kind {
                LeaderboardKind::Rep => pb::LeaderboardKind::Rep,
                LeaderboardKind::Team => pb::LeaderboardKind::Team,
            } as i32,
            entries: board
                .standings
                .iter()
                .map(|standing| {
                    let (of, display_name) = match &standing.id {
                        Ranked::Rep(user_id) => (
                            leaderboard_entry::Of::UserId(user_id.to_string()),
                            board.names.get(user_id).cloned().unwrap_or_default(),
                        ),
                        Ranked::Team(path) => {
                            (leaderboard_entry::Of::TeamPath(path.clone()), path.clone())
                        }
                    };
                    pb::LeaderboardEntry {
                        rank: standing.rank,
                        of: Some(of),
                        display_name,
                        target: standing.target.and_then(|target| money(currency, target)),
                        result: money(currency, standing.result),
                        attainment_percent: percent(standing.attainment),
                    }
                })
                .collect(),
            ranked: u32::try_from(board.ranked).unwrap_or(u32::MAX),
            others_hidden: board.others_hidden,
            currency_code: currency_code(currency),
        }))
    }

    async fn get_attainment_trend(
        &self,
        request: Request<pb::GetAttainmentTrendRequest>,
    ) -> Result<Response<pb::GetAttainmentTrendResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let requested = scope::requested(&mut violations, "scope", request.scope.as_ref());
        let label = scope::period_label(&mut violations, "period", &request.period);
        if request.periods > 24 {
            violations.add("periods", "must be at most 24");
        }
        violations.into_result().map_err(ForecastingError::from)?;
        let periods = match request.periods {
            0 => DEFAULT_TREND_PERIODS,
            periods => periods,
        };
        let trend = self
            .forecasting
            .attainment_trend(&caller, requested, label, periods)
            .await?;
        let currency = trend.counting.currency;
        Ok(Response::new(pb::GetAttainmentTrendResponse {
            scope: Some(resolved(&trend.counting.scope)),
            points: trend
                .points
                .iter()
                .map(|point| pb::TrendPoint {
                    period: Some(period(&point.period)),
                    target: point.target.and_then(|target| money(currency, target)),
                    result: money(currency, point.result),
                    attainment_percent: percent(point.attainment),
                    attainment_change_points: percent(point.attainment_change),
                    result_change: point
                        .result_change
                        .and_then(|change| money(currency, change)),
                })
                .collect(),
            currency_code: currency_code(currency),
        }))
    }

    async fn get_period_review(
        &self,
        request: Request<pb::GetPeriodReviewRequest>,
    ) -> Result<Response<pb::GetPeriodReviewResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let requested = scope::requested(&mut violations, "scope", request.scope.as_ref());
        let label = scope::period_label(&mut violations, "period", &request.period);
        if request.top > 50 {
            violations.add("top", "must be at most 50");
        }
        violations.into_result().map_err(ForecastingError::from)?;
        let result = self
            .forecasting
            .period_review(&caller, requested, label, top_or_default(request.top))
            .await?;
        let currency = result.counting.currency;
        let review = &result.review;
        let deal = |deal: &ClosedDeal| pb::ReviewDeal {
            opportunity_id: deal.id.to_string(),
            name: deal.name.clone(),
            owner_id: deal.owner_id.to_string(),
            amount: money(currency, deal.amount),
            closed_on: deal.closed_on.to_string(),
        };
        let win_rate = |rate: &WinRate| pb::WinRate {
            won: rate.won,
            lost: rate.lost,
            won_amount: money(currency, rate.won_amount),
            lost_amount: money(currency, rate.lost_amount),
            by_count_percent: percent(rate.by_count),
            by_amount_percent: percent(rate.by_amount),
        };
        Ok(Response::new(pb::GetPeriodReviewResponse {
            scope: Some(resolved(&result.counting.scope)),
            period: Some(period(&result.counting.period)),
            target: review.target.and_then(|target| money(currency, target)),
            result: money(currency, review.result),
            attainment_percent: percent(review.attainment),
            forecast_accuracy: review
                .forecast
                .as_ref()
                .map(|accuracy| pb::ForecastAccuracy {
                    forecast: money(currency, accuracy.forecast),
                    error: money(currency, accuracy.error),
                    absolute_percentage_error: percent(accuracy.absolute_percentage_error),
                }),
            win_rate: Some(win_rate(&review.win_rate)),
            collection_rate_percent: percent(review.collection_rate),
            top_wins: review.top_wins.iter().map(deal).collect(),
            top_losses: review.top_losses.iter().map(deal).collect(),
            team_average_result: money(currency, review.team_average.result),
            team_average_attainment_percent: percent(review.team_average.attainment),
            reps: review
                .reps
                .iter()
                .map(|rep| pb::RepReview {
                    rank: rep.rank,
                    user_id: rep.rep_id.to_string(),
                    display_name: result.names.get(&rep.rep_id).cloned().unwrap_or_default(),
                    target: rep.target.and_then(|target| money(currency, target)),
                    result: money(currency, rep.result),
                    attainment_percent: percent(rep.attainment),
                    win_rate: Some(win_rate(&rep.win_rate)),
                    result_against_average: money(currency, rep.result_against_average.absolute),
                    result_against_average_percent: percent(rep.result_against_average.percent),
                    attainment_against_average_points: percent(rep.attainment_against_average),
                    win_rate_against_team_points: percent(rep.win_rate_against_team),
                })
                .collect(),
            currency_code: currency_code(currency),
        }))
    }
}
