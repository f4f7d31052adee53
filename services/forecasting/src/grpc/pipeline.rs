//! The pipeline forecast's RPCs (`ForecastService`): scope, period and category in; forecasts,
//! roll-ups and deals out.

use crm_platform::{
    error::{Violations, optional_text},
    money::{CurrencyCode, fixed},
    paging::{KeyKind, Page, SortOrder},
};
use crm_proto::crm::{
    common::v1::PageResponse,
    forecasting::v1::{self as pb, forecast_service_server::ForecastService, roll_up_line},
    opportunities::v1::OpportunityStatus,
};
use rust_decimal::Decimal;
use tonic::{Request, Response, Status};

use super::{
    authenticated,
    scope::{self, money, period, resolved, wire_category},
};
use crate::{
    domain::{
        deal::DealStatus,
        forecast::{Forecast, OPEN_CATEGORIES, Totals},
    },
    error::ForecastingError,
    service::{Counting, DealForecast, Forecasting},
    store::deals::StoredDeal,
};

/// The drill-down's order: by the day a deal counts on, then id.
const DEALS_BY_DAY: SortOrder = SortOrder::new("counted_on", KeyKind::Date, false);

pub(crate) struct PipelineApi {
    forecasting: Forecasting,
}

impl PipelineApi {
    pub(crate) fn new(forecasting: Forecasting) -> Self {
        Self { forecasting }
    }
}

#[tonic::async_trait]
impl ForecastService for PipelineApi {
    async fn get_pipeline_forecast(
        &self,
        request: Request<pb::GetPipelineForecastRequest>,
    ) -> Result<Response<pb::GetPipelineForecastResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let requested = scope::requested(&mut violations, "scope", request.scope.as_ref());
        let label = scope::period_label(&mut violations, "period", &request.period);
        violations.into_result().map_err(ForecastingError::from)?;
        let result = self
            .forecasting
            .pipeline_forecast(&caller, requested, label)
            .await?;
        let counting = &result.counting;
        Ok(Response::new(pb::GetPipelineForecastResponse {
            forecast: Some(forecast(counting, &counting.period, &result.forecast)),
            parts: result
                .parts
                .iter()
                .map(|(part, part_forecast)| forecast(counting, part, part_forecast))
                .collect(),
        }))
    }

    async fn get_pipeline_roll_up(
        &self,
        request: Request<pb::GetPipelineRollUpRequest>,
    ) -> Result<Response<pb::GetPipelineRollUpResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let team = scope::optional_team(&mut violations, "team_path", &request.team_path);
        let label = scope::period_label(&mut violations, "period", &request.period);
        violations.into_result().map_err(ForecastingError::from)?;
        let roll_up = self
            .forecasting
            .pipeline_roll_up(&caller, team, label)
            .await?;
        let counting = &roll_up.counting;
        let line = |of: roll_up_line::Of, line_forecast: &Forecast| pb::RollUpLine {
            of: Some(of),
            forecast: Some(forecast(counting, &counting.period, line_forecast)),
        };
        let teams = roll_up.lines.teams.iter().map(|(team, line_forecast)| {
            line(roll_up_line::Of::TeamPath(team.clone()), line_forecast)
        });
        let reps = roll_up.lines.reps.iter().map(|(user_id, line_forecast)| {
            line(roll_up_line::Of::UserId(user_id.to_string()), line_forecast)
        });
        Ok(Response::new(pb::GetPipelineRollUpResponse {
            total: Some(forecast(counting, &counting.period, &roll_up.total)),
            lines: teams.chain(reps).collect(),
        }))
    }

    async fn list_forecast_deals(
        &self,
        request: Request<pb::ListForecastDealsRequest>,
    ) -> Result<Response<pb::ListForecastDealsResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let requested = scope::requested(&mut violations, "scope", request.scope.as_ref());
        let label = scope::period_label(&mut violations, "period", &request.period);
        let category = scope::category(&mut violations, "category", request.category);
        violations.into_result().map_err(ForecastingError::from)?;
        let page =
            Page::parse(request.page.as_ref(), DEALS_BY_DAY).map_err(ForecastingError::from)?;
        let (counting, listing) = self
            .forecasting
            .forecast_deals(&caller, requested, label, category, &page)
            .await?;
        Ok(Response::new(pb::ListForecastDealsResponse {
            deals: listing
                .records
                .iter()
                .map(|stored| deal(&counting, stored))
                .collect(),
            page: Some(PageResponse {
                next_page_token: listing.next_page_token,
            }),
        }))
    }

    async fn set_deal_category(
        &self,
        request: Request<pb::SetDealCategoryRequest>,
    ) -> Result<Response<pb::SetDealCategoryResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let deal_id = violations.id("opportunity_id", &request.opportunity_id);
        let category = scope::category(&mut violations, "category", request.category);
        let note = optional_text(&mut violations, "note", &request.note, 500);
        violations.into_result().map_err(ForecastingError::from)?;
        let Some(deal_id) = deal_id else {
            return Err(ForecastingError::invalid("opportunity_id", "is required").into());
        };
        let DealForecast {
            stored,
            category_override,
        } = self
            .forecasting
            .set_deal_category(&caller, deal_id, category, &note)
            .await?;
        let currency = stored.deal.corporate_amount.map(|money| money.currency);
        Ok(Response::new(pb::SetDealCategoryResponse {
            deal: Some(deal_in(currency, &stored)),
            category_override: category_override.map(|recorded| pb::CategoryOverride {
                category: wire_category(recorded.category),
                stage_id: recorded.stage_id.to_string(),
                note: recorded.note,
                set_by: recorded.set_by.to_string(),
                set_at: Some(crm_platform::time::to_timestamp(recorded.set_at)),
            }),
        }))
    }
}

fn totals(currency: Option<CurrencyCode>, totals: &Totals) -> pb::DealTotals {
    pb::DealTotals {
        deal_count: u32::try_from(totals.deal_count).unwrap_or(u32::MAX),
        amount: money(currency, totals.amount),
        weighted_amount: money(currency, totals.weighted),
    }
}

/// A forecast on the wire, every open category present.
pub(crate) fn forecast(
    counting: &Counting,
    of: &crm_platform::fiscal::FiscalPeriod,
    forecast: &Forecast,
) -> pb::PipelineForecast {
    let currency = counting.currency;
    pb::PipelineForecast {
        period: Some(period(of)),
        scope: Some(resolved(&counting.scope)),
        open_by_category: OPEN_CATEGORIES
            .iter()
            .map(|category| pb::CategoryTotals {
                category: wire_category(*category),
                totals: Some(totals(currency, &forecast.category(*category))),
            })
            .collect(),
        open: Some(totals(currency, &forecast.open())),
        closed: Some(totals(currency, &forecast.closed)),
        lost: Some(totals(currency, &forecast.lost)),
        commit_total: money(currency, forecast.commit_total()),
        best_case_total: money(currency, forecast.best_case_total()),
        weighted_total: money(currency, forecast.weighted_total()),
        unconverted_deals: u32::try_from(forecast.unconverted_deals).unwrap_or(u32::MAX),
        currency_code: currency
            .map(|code| code.as_str().to_owned())
            .unwrap_or_default(),
    }
}

fn deal(counting: &Counting, stored: &StoredDeal) -> pb::ForecastDeal {
    deal_in(counting.currency, stored)
}

fn deal_in(currency: Option<CurrencyCode>, stored: &StoredDeal) -> pb::ForecastDeal {
    let deal = &stored.deal;
    let contribution =
        crate::domain::forecast::Contribution::of(deal, stored.category_override.as_ref());
    let category = contribution
        .as_ref()
        .map_or(deal.category, |contribution| contribution.category);
    // The deal's own corporate amount, in the currency it was converted into.
    let corporate = deal
        .corporate_amount
        .filter(|money| Some(money.currency) == currency);
    let weighted = contribution.map_or(Decimal::ZERO, |contribution| contribution.weighted);
    pb::ForecastDeal {
        opportunity_id: deal.id.to_string(),
        name: deal.name.clone(),
        account_id: deal.account_id.to_string(),
        owner_id: deal.owner_id.to_string(),
        owner_team_path: deal.owner_team_path.as_str().to_owned(),
        stage_id: deal.stage_id.to_string(),
        stage_name: deal.stage_name.clone(),
        category: wire_category(category),
        stage_category: wire_category(deal.category),
        category_overridden: deal.status == DealStatus::Open
            && stored
                .category_override
                .is_some_and(|chosen| chosen.stage_id == deal.stage_id),
        status: match deal.status {
            DealStatus::Open => OpportunityStatus::Open,
            DealStatus::Won => OpportunityStatus::Won,
            DealStatus::Lost => OpportunityStatus::Lost,
            DealStatus::Archived => OpportunityStatus::Archived,
        } as i32,
        effective_probability: u32::from(deal.effective_probability),
        amount: Some(deal.amount.to_message()),
        corporate_amount: corporate.map(|money| {
            crm_platform::money::Money {
                currency: money.currency,
                amount: fixed(money.amount, money.currency.minor_units()),
            }
            .to_message()
        }),
        weighted_amount: corporate.and_then(|money| scope::money(Some(money.currency), weighted)),
        expected_close_date: deal.expected_close_date.to_string(),
        closed_on: deal
            .closed_on
            .map(|day| day.to_string())
            .unwrap_or_default(),
        version: u64::try_from(deal.version).unwrap_or_default(),
    }
}
