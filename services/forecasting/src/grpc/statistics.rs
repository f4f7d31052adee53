//! The statistical forecast's RPCs (`StatisticsService`): scope, period kind, horizon and
//! history in; each method's forecast and back-test out; the learned win rates beside the
//! nominal probabilities.

use chrono::NaiveDate;
use crm_platform::{
    error::Violations,
    fiscal::PeriodKind,
    money::{CurrencyCode, fixed},
};
use crm_proto::crm::forecasting::v1::{self as pb, statistics_service_server::StatisticsService};
use rust_decimal::Decimal;
use tonic::{Request, Response, Status};

use super::{
    authenticated,
    scope::{self, money, period, resolved},
};
use crate::{
    domain::statistics::{Method, Parameters},
    error::ForecastingError,
    service::{DEFAULT_HISTORY_YEARS, ForecastQuery, Forecasting, StatisticalForecast, WinRates},
};

/// What an unset horizon, history and minimum sample mean.
const DEFAULT_HORIZON: usize = 3;
const DEFAULT_MINIMUM_SAMPLE: u64 = 10;
/// The front door's bounds (the proto's), checked for gRPC callers too.
const MAX_HORIZON: u32 = 24;
const MAX_HISTORY: u32 = 120;
const MAX_MINIMUM_SAMPLE: u32 = 10_000;

pub(crate) struct StatisticsApi {
    forecasting: Forecasting,
}

impl StatisticsApi {
    pub(crate) fn new(forecasting: Forecasting) -> Self {
        Self { forecasting }
    }
}

/// A number of the request no larger than `max`.
fn bounded(violations: &mut Violations, field: &str, value: u32, max: u32) -> usize {
    if value > max {
        violations.add(field, format!("must be at most {max}"));
    }
    usize::try_from(value.min(max)).unwrap_or_default()
}

fn period_kind(violations: &mut Violations, value: i32) -> PeriodKind {
    match pb::StatisticalPeriodKind::try_from(value) {
        Ok(pb::StatisticalPeriodKind::Unspecified | pb::StatisticalPeriodKind::Month) => {
            PeriodKind::Month
        }
        Ok(pb::StatisticalPeriodKind::Quarter) => PeriodKind::Quarter,
        Err(_) => {
            violations.add("period_kind", format!("{value} is not a period kind"));
            PeriodKind::Month
        }
    }
}

fn wire_period_kind(kind: PeriodKind) -> i32 {
    let kind = match kind {
        PeriodKind::Quarter => pb::StatisticalPeriodKind::Quarter,
        PeriodKind::Month | PeriodKind::Year => pb::StatisticalPeriodKind::Month,
    };
    kind as i32
}

pub(super) fn wire_method(method: Option<Method>) -> i32 {
    let method = match method {
        None => pb::StatisticalMethod::Unspecified,
        Some(Method::HoltLinear) => pb::StatisticalMethod::HoltLinear,
        Some(Method::HoltWinters) => pb::StatisticalMethod::HoltWinters,
        Some(Method::LinearRegression) => pb::StatisticalMethod::LinearRegression,
    };
    method as i32
}

/// A day of the request; empty: today (UTC).
fn as_of(violations: &mut Violations, text: &str) -> NaiveDate {
    let text = text.trim();
    let today = crm_platform::time::now().date_naive();
    if text.is_empty() {
        return today;
    }
    violations
        .check(
            "as_of",
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map_err(|_| "is not an ISO date (YYYY-MM-DD)"),
        )
        .unwrap_or(today)
}

/// A weight or a coefficient as computed; empty when undefined.
fn decimal(value: Option<Decimal>) -> String {
    value.map(|value| value.to_string()).unwrap_or_default()
}

/// A method's parameter at its value, without the trailing zeros the arithmetic's scale leaves
/// ("130000", not "130000.00" when the mean index is 1.5): the same line reads the same
/// whatever the history's length. Empty for a parameter the method has not.
fn parameter(value: Option<Decimal>) -> String {
    decimal(value.map(|value| value.normalize()))
}

/// A percentage with exactly two decimals; empty when undefined.
fn percent(value: Option<Decimal>) -> String {
    decimal(value.map(|value| fixed(value, 2)))
}

#[tonic::async_trait]
impl StatisticsService for StatisticsApi {
    async fn get_statistical_forecast(
        &self,
        request: Request<pb::GetStatisticalForecastRequest>,
    ) -> Result<Response<pb::GetStatisticalForecastResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let requested = scope::requested(&mut violations, "scope", request.scope.as_ref());
        let kind = period_kind(&mut violations, request.period_kind);
        let horizon = bounded(&mut violations, "horizon", request.horizon, MAX_HORIZON);
        let history = bounded(
            &mut violations,
            "history_periods",
            request.history_periods,
            MAX_HISTORY,
        );
        let as_of = as_of(&mut violations, &request.as_of);
        violations.into_result().map_err(ForecastingError::from)?;
        let periods_a_year = 12 / kind.months() as usize;
        let query = ForecastQuery {
            kind,
            horizon: if horizon == 0 {
                DEFAULT_HORIZON
            } else {
                horizon
            },
            history_periods: if history == 0 {
                DEFAULT_HISTORY_YEARS * periods_a_year
            } else {
                history
            },
            as_of,
        };
        let result = self
            .forecasting
            .statistical_forecast(&caller, requested, query)
            .await?;
        Ok(Response::new(statistical_forecast(&result)))
    }

    async fn get_win_rates(
        &self,
        request: Request<pb::GetWinRatesRequest>,
    ) -> Result<Response<pb::GetWinRatesResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let requested = scope::requested(&mut violations, "scope", request.scope.as_ref());
        let pipeline_id = violations.optional_id("pipeline_id", &request.pipeline_id);
        let minimum_sample = bounded(
            &mut violations,
            "minimum_sample",
            request.minimum_sample,
            MAX_MINIMUM_SAMPLE,
        );
        violations.into_result().map_err(ForecastingError::from)?;
        let minimum_sample = match u64::try_from(minimum_sample).unwrap_or_default() {
            0 => DEFAULT_MINIMUM_SAMPLE,
            given => given,
        };
        let rates = self
            .forecasting
            .win_rates(&caller, requested, pipeline_id, minimum_sample)
            .await?;
        Ok(Response::new(win_rates(&rates)))
    }
}

fn count(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

fn statistical_forecast(result: &StatisticalForecast) -> pb::GetStatisticalForecastResponse {
    let currency = result.currency;
    let period_of_point = |index: usize| {
        result
            .history
            .get(index)
            .map(|booked| period(&booked.period))
    };
    let methods = result
        .methods
        .iter()
        .map(|method| {
            let (alpha, beta, gamma, intercept, slope) = match &method.forecast.parameters {
                Parameters::Smoothing { alpha, beta, gamma } => {
                    (Some(*alpha), Some(*beta), *gamma, None, None)
                }
                Parameters::Line { intercept, slope } => {
                    (None, None, None, Some(*intercept), Some(*slope))
                }
            };
            let accuracy = &method.backtest.accuracy;
            pb::StatisticalMethodForecast {
                method: wire_method(Some(method.forecast.method)),
                alpha: parameter(alpha),
                beta: parameter(beta),
                gamma: parameter(gamma),
                intercept: parameter(intercept),
                slope: parameter(slope),
                forecasts: result
                    .horizon
                    .iter()
                    .zip(&method.forecast.bookings)
                    .map(|(of, bookings)| pb::StatisticalPeriodForecast {
                        period: Some(period(of)),
                        bookings: money(currency, *bookings),
                    })
                    .collect(),
                backtest: method
                    .backtest
                    .points
                    .iter()
                    .map(|point| {
                        let comparison = &point.comparison;
                        pb::BacktestPoint {
                            period: period_of_point(point.period_index),
                            forecast: money(currency, comparison.forecast),
                            actual: money(currency, comparison.actual),
                            error: money(currency, comparison.error),
                            absolute_percentage_error: percent(
                                comparison.absolute_percentage_error,
                            ),
                        }
                    })
                    .collect(),
                accuracy: Some(pb::BacktestAccuracy {
                    count: count(accuracy.count as u64),
                    mean_error: accuracy.mean_error.and_then(|mean| money(currency, mean)),
                    mean_absolute_percentage_error: percent(
                        accuracy.mean_absolute_percentage_error,
                    ),
                    percentage_count: count(accuracy.percentage_count as u64),
                }),
            }
        })
        .collect();
    pb::GetStatisticalForecastResponse {
        scope: Some(resolved(&result.scope)),
        period_kind: wire_period_kind(result.kind),
        history: result
            .history
            .iter()
            .map(|booked| pb::StatisticalPeriodBookings {
                period: Some(period(&booked.period)),
                bookings: money(currency, booked.bookings),
                won_deals: count(booked.won_deals),
            })
            .collect(),
        methods,
        recommended: wire_method(result.recommended),
        unconverted_deals: count(result.unconverted_deals),
        currency_code: currency_code(currency),
    }
}

fn currency_code(currency: Option<CurrencyCode>) -> String {
    currency
        .map(|code| code.as_str().to_owned())
        .unwrap_or_default()
}

fn win_rates(rates: &WinRates) -> pb::GetWinRatesResponse {
    let currency = rates.currency;
    pb::GetWinRatesResponse {
        scope: Some(resolved(&rates.scope)),
        stages: rates
            .stages
            .iter()
            .map(|stage_rate| {
                let stage = &stage_rate.stage;
                let rate = stage_rate.rate;
                pb::StageWinRate {
                    stage_id: stage.stage_id.to_string(),
                    pipeline_id: stage.pipeline_id.to_string(),
                    stage_name: stage.name.clone(),
                    position: stage.position,
                    nominal_probability: u32::from(stage.default_probability),
                    closed_deals: count(rate.map_or(0, |rate| rate.closed)),
                    won_deals: count(rate.map_or(0, |rate| rate.won)),
                    learned_rate: percent(rate.and_then(|rate| rate.percent().ok())),
                    learned_rate_used: stage_rate.used,
                }
            })
            .collect(),
        minimum_sample: count(rates.minimum_sample),
        open_deals: count(rates.open_deals as u64),
        learned_deals: count(rates.value.learned_deals as u64),
        expected_amount: money(currency, rates.value.expected),
        nominal_weighted_amount: money(currency, rates.value.nominal),
        unconverted_deals: count(rates.unconverted_deals),
        currency_code: currency_code(currency),
    }
}
