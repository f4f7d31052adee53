//! The statistical forecast (F6): the stages each deal event shows (recorded on every event),
//! a scope's bookings history with each method's forecast and back-test, and the stage-to-win
//! rates learned from its closed deals.

use chrono::NaiveDate;
use crm_platform::{
    auth::Caller,
    error::{FieldViolation, reasons::INCONSISTENT_FIELDS},
    fiscal::{FiscalPeriod, PeriodKind},
    money::CurrencyCode,
    org::OrgDirectory,
};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Forecasting, Result};
use crate::{
    domain::{
        accuracy::Comparison,
        deal::DealStatus,
        scope::{RequestedScope, Scope},
        statistics::{
            self, Forecast, Method, Series, StatisticsError,
            backtest::{self, Backtest},
            stages::{PipelineStage, StageVisit},
            win_rates::{self, PipelineValue, StageWinRate},
        },
    },
    error::ForecastingError,
    store::{self, pipeline::Grouping},
};

/// What a statistical forecast is asked for.
#[derive(Clone, Copy, Debug)]
pub struct ForecastQuery {
    pub kind: PeriodKind,
    /// Periods forecast, the one holding `as_of` first.
    pub horizon: usize,
    /// Complete periods before the one holding `as_of` the history may hold.
    pub history_periods: usize,
    pub as_of: NaiveDate,
}

/// One period of the history.
#[derive(Clone, Debug)]
pub struct PeriodBooked {
    pub period: FiscalPeriod,
    pub bookings: Decimal,
    pub won_deals: u64,
}

/// One method's forecast and back-test.
#[derive(Clone, Debug)]
pub struct MethodResult {
    pub forecast: Forecast,
    pub backtest: Backtest,
}

#[derive(Clone, Debug)]
pub struct StatisticalForecast {
    pub scope: Scope,
    pub kind: PeriodKind,
    pub currency: Option<CurrencyCode>,
    /// Oldest first; a back-test point's period index is an index into it.
    pub history: Vec<PeriodBooked>,
    /// The periods forecast, in order.
    pub horizon: Vec<FiscalPeriod>,
    pub methods: Vec<MethodResult>,
    pub recommended: Option<Method>,
    pub unconverted_deals: u64,
}

/// A stage with its learned rate, if any closed deal reached it.
#[derive(Clone, Debug)]
pub struct StageRate {
    pub stage: PipelineStage,
    pub rate: Option<StageWinRate>,
    pub used: bool,
}

#[derive(Clone, Debug)]
pub struct WinRates {
    pub scope: Scope,
    pub currency: Option<CurrencyCode>,
    pub stages: Vec<StageRate>,
    pub minimum_sample: u64,
    pub open_deals: usize,
    pub value: PipelineValue,
    pub unconverted_deals: u64,
}

/// The history a statistical forecast is fitted on unless asked otherwise, in years; a method
/// judged at a period's end is fitted on as much.
pub const DEFAULT_HISTORY_YEARS: usize = 3;

/// The season of a period kind: a year of months or of quarters.
fn season(kind: PeriodKind) -> usize {
    match kind {
        PeriodKind::Month => 12,
        PeriodKind::Quarter => 4,
        PeriodKind::Year => 1,
    }
}

/// Records the stages deal events show: on every event, applied to the read model or not.
pub async fn record_stage_visits(
    connection: &mut PgConnection,
    visits: &[StageVisit],
) -> sqlx::Result<()> {
    store::statistics::record_visits(connection, visits).await
}

/// The bookings of a history, as a series of the period kind.
fn series_of(history: &[PeriodBooked], kind: PeriodKind, currency: Option<CurrencyCode>) -> Series {
    Series {
        bookings: history.iter().map(|booked| booked.bookings).collect(),
        season: season(kind),
        minor_units: currency.map_or(2, |code| code.minor_units()),
    }
}

/// The scope's bookings in each of the `periods` periods before `current` (of its kind),
/// oldest first, from the scope's first booking on, and how many won deals could not be
/// counted for want of a corporate amount.
async fn bookings_before(
    connection: &mut PgConnection,
    scope: &Scope,
    currency: Option<CurrencyCode>,
    current: &FiscalPeriod,
    periods: usize,
) -> Result<(Vec<PeriodBooked>, u64)> {
    let back = i32::try_from(periods).unwrap_or(i32::MAX);
    let periods: Vec<FiscalPeriod> = (1..=back).rev().map(|by| current.shifted(-by)).collect();
    let from = periods.first().map_or(current.start(), FiscalPeriod::start);
    let sums =
        store::pipeline::sums(connection, scope, from, current.start(), Grouping::ByMonth).await?;
    let mut history: Vec<PeriodBooked> = periods
        .into_iter()
        .map(|period| PeriodBooked {
            period,
            bookings: Decimal::ZERO,
            won_deals: 0,
        })
        .collect();
    let mut unconverted_deals = 0;
    for sum in sums.iter().filter(|sum| sum.status == DealStatus::Won) {
        let converted = currency.is_some_and(|code| sum.currency.as_deref() == Some(code.as_str()));
        if !converted {
            unconverted_deals += sum.totals.deal_count;
            continue;
        }
        let Some(booked) = history
            .iter_mut()
            .find(|booked| booked.period.contains(sum.month))
        else {
            continue;
        };
        booked.bookings += sum.totals.amount;
        booked.won_deals += sum.totals.deal_count;
    }
    // Before the scope's first booking there was no history to learn from (a new rep, a
    // new team), not periods that booked nothing.
    let first_booked = history
        .iter()
        .position(|booked| booked.won_deals > 0)
        .unwrap_or(history.len());
    history.drain(..first_booked);
    Ok((history, unconverted_deals))
}

/// A statistical method's forecast of a period that has ended, as it would have been made at
/// the period's start, against what the scope booked in it.
#[derive(Clone, Debug)]
pub struct MethodJudged {
    pub method: Method,
    pub comparison: Comparison,
    /// The periods of history it was fitted on.
    pub history_periods: usize,
}

/// Each applicable method fitted on the scope's bookings of the periods before `period` (the
/// statistical forecast's default history: three years) and judged on `booked`: the methods'
/// accuracy beside the calls' (F5, F6), by the same rules.
pub(super) async fn judge_methods(
    connection: &mut PgConnection,
    scope: &Scope,
    currency: CurrencyCode,
    period: &FiscalPeriod,
    booked: Decimal,
) -> Result<Vec<MethodJudged>> {
    let kind = period.kind();
    let periods_a_year = 12 / kind.months() as usize;
    let (history, _) = bookings_before(
        connection,
        scope,
        Some(currency),
        period,
        DEFAULT_HISTORY_YEARS * periods_a_year,
    )
    .await?;
    let series = series_of(&history, kind, Some(currency));
    let judged = tokio::task::spawn_blocking(move || {
        Method::applicable(series.bookings.len(), series.season)
            .into_iter()
            .map(|method| {
                let forecast = statistics::forecast(&series, method, 1)?;
                let predicted = forecast.bookings.first().copied().unwrap_or_default();
                Ok(MethodJudged {
                    method,
                    comparison: Comparison::of(predicted, booked)?,
                    history_periods: series.bookings.len(),
                })
            })
            .collect::<std::result::Result<Vec<_>, StatisticsError>>()
    })
    .await
    .map_err(|error| ForecastingError::Unfinished(error.to_string()))??;
    Ok(judged)
}

impl Forecasting {
    /// A scope's bookings by period up to the one holding `query.as_of`, and each applicable
    /// method's forecast and back-test over the same periods.
    pub async fn statistical_forecast(
        &self,
        caller: &Caller,
        requested: RequestedScope,
        query: ForecastQuery,
    ) -> Result<StatisticalForecast> {
        let mut connection = self.pool.acquire().await?;
        let scope = self.scope(&mut connection, caller, requested).await?;
        let settings = OrgDirectory::settings(&mut *connection).await?;
        let calendar = settings.fiscal_calendar;
        let current = calendar.period_of(query.kind, query.as_of).ok_or_else(|| {
            ForecastingError::from(FieldViolation::refusal(
                INCONSISTENT_FIELDS,
                "as_of",
                "must be a day of the years 1000 to 9998",
            ))
        })?;
        let (history, unconverted_deals) = bookings_before(
            &mut connection,
            &scope,
            settings.corporate_currency,
            &current,
            query.history_periods,
        )
        .await?;
        drop(connection);
        let currency = settings.corporate_currency;
        let series = series_of(&history, query.kind, currency);
        let horizon = query.horizon;
        // The fits are pure arithmetic, a few thousand model runs: off the async threads.
        let (methods, recommended) =
            tokio::task::spawn_blocking(move || forecast_every_method(&series, horizon))
                .await
                .map_err(|error| ForecastingError::Unfinished(error.to_string()))??;
        Ok(StatisticalForecast {
            scope,
            kind: query.kind,
            currency,
            history,
            horizon: (0..i32::try_from(horizon).unwrap_or(0))
                .map(|ahead| current.shifted(ahead))
                .collect(),
            methods,
            recommended,
            unconverted_deals,
        })
    }

    /// The learned win rate of every open stage known (of one pipeline or all) from the
    /// scope's closed deals, and the scope's open deals valued with them.
    pub async fn win_rates(
        &self,
        caller: &Caller,
        requested: RequestedScope,
        pipeline_id: Option<Uuid>,
        minimum_sample: u64,
    ) -> Result<WinRates> {
        let mut connection = self.pool.acquire().await?;
        let scope = self.scope(&mut connection, caller, requested).await?;
        let currency = OrgDirectory::settings(&mut *connection)
            .await?
            .corporate_currency;
        let closed = store::statistics::closed_deals(&mut connection, &scope, pipeline_id).await?;
        let open = store::statistics::open_deals(
            &mut connection,
            &scope,
            pipeline_id,
            currency.map_or("", |code| code.as_str()),
        )
        .await?;
        let stages = store::statistics::open_stages(&mut connection, pipeline_id).await?;
        let rates = win_rates::learn(&closed);
        let minor_units = currency.map_or(2, |code| code.minor_units());
        let value = win_rates::pipeline_value(&open.converted, &rates, minimum_sample, minor_units)
            .map_err(StatisticsError::from)?;
        Ok(WinRates {
            stages: stages
                .into_iter()
                .map(|stage| {
                    let rate = rates.get(&stage.stage_id).copied();
                    StageRate {
                        used: rate.is_some_and(|rate| rate.trusted(minimum_sample)),
                        stage,
                        rate,
                    }
                })
                .collect(),
            scope,
            currency,
            minimum_sample,
            open_deals: open.converted.len(),
            value,
            unconverted_deals: open.unconverted,
        })
    }
}

/// Every applicable method's forecast, back-tested from the origin they share, and the one
/// with the smallest MAPE.
fn forecast_every_method(
    series: &Series,
    horizon: usize,
) -> std::result::Result<(Vec<MethodResult>, Option<Method>), StatisticsError> {
    let methods = Method::applicable(series.bookings.len(), series.season);
    let origin = backtest::shared_origin(&methods, series.season);
    let results = methods
        .into_iter()
        .map(|method| {
            Ok(MethodResult {
                forecast: statistics::forecast(series, method, horizon)?,
                backtest: backtest::backtest(series, method, origin)?,
            })
        })
        .collect::<std::result::Result<Vec<_>, StatisticsError>>()?;
    let backtests: Vec<Backtest> = results
        .iter()
        .map(|result| result.backtest.clone())
        .collect();
    let recommended = backtest::recommend(&backtests);
    Ok((results, recommended))
}
