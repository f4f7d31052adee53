//! The sales analysis RPC (`SalesAnalysisService`): scope, period, dimension and measure in;
//! the groups with their shares, changes and ranks out.

use crm_platform::error::Violations;
use crm_proto::crm::forecasting::v1::{
    self as pb, sales_analysis_service_server::SalesAnalysisService,
};
use tonic::{Request, Response, Status};

use super::{
    authenticated,
    review::percent,
    scope::{self, money, period, resolved},
};
use crate::{
    error::ForecastingError,
    service::{AnalysisDimension, Forecasting},
    store::analysis::Measure,
};

pub(crate) struct AnalysisApi {
    forecasting: Forecasting,
}

impl AnalysisApi {
    pub(crate) fn new(forecasting: Forecasting) -> Self {
        Self { forecasting }
    }
}

fn dimension(violations: &mut Violations, value: i32) -> Option<AnalysisDimension> {
    use pb::AnalysisDimension as Wire;
    let dimension = match Wire::try_from(value) {
        Ok(Wire::Product) => AnalysisDimension::Product,
        Ok(Wire::Customer) => AnalysisDimension::Customer,
        Ok(Wire::Industry) => AnalysisDimension::Industry,
        Ok(Wire::Rep) => AnalysisDimension::Rep,
        Ok(Wire::Team) => AnalysisDimension::Team,
        Ok(Wire::Month) => AnalysisDimension::Month,
        Ok(Wire::Unspecified) => {
            violations.add(
                "dimension",
                "is required: product, customer, industry, rep, team or month",
            );
            return None;
        }
        Err(_) => {
            violations.add("dimension", format!("{value} is not an analysis dimension"));
            return None;
        }
    };
    Some(dimension)
}

fn measure(violations: &mut Violations, value: i32) -> Option<Measure> {
    use pb::AnalysisMeasure as Wire;
    let measure = match Wire::try_from(value) {
        Ok(Wire::Bookings) => Measure::Bookings,
        Ok(Wire::Pipeline) => Measure::Pipeline,
        Ok(Wire::WeightedPipeline) => Measure::WeightedPipeline,
        Ok(Wire::Unspecified) => {
            violations.add(
                "measure",
                "is required: bookings, pipeline or weighted pipeline",
            );
            return None;
        }
        Err(_) => {
            violations.add("measure", format!("{value} is not an analysis measure"));
            return None;
        }
    };
    Some(measure)
}

#[tonic::async_trait]
impl SalesAnalysisService for AnalysisApi {
    async fn analyze_sales(
        &self,
        request: Request<pb::AnalyzeSalesRequest>,
    ) -> Result<Response<pb::AnalyzeSalesResponse>, Status> {
        let caller = authenticated(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let requested = scope::requested(&mut violations, "scope", request.scope.as_ref());
        let label = scope::period_label(&mut violations, "period", &request.period);
        let dimension = dimension(&mut violations, request.dimension);
        let measure = measure(&mut violations, request.measure);
        violations.into_result().map_err(ForecastingError::from)?;
        let (Some(dimension), Some(measure)) = (dimension, measure) else {
            return Err(ForecastingError::invalid("dimension", "is required").into());
        };
        let result = self
            .forecasting
            .analyze_sales(&caller, requested, label, dimension, measure)
            .await?;
        let currency = result.counting.currency;
        let analysis = &result.analysis;
        Ok(Response::new(pb::AnalyzeSalesResponse {
            scope: Some(resolved(&result.counting.scope)),
            period: Some(period(&result.counting.period)),
            previous_period: Some(period(&result.previous)),
            year_ago_period: Some(period(&result.year_ago)),
            dimension: request.dimension,
            measure: request.measure,
            total: money(currency, analysis.total.current),
            previous_total: money(currency, analysis.total.previous),
            change_from_previous: money(currency, analysis.total_against_previous.absolute),
            change_from_previous_percent: percent(analysis.total_against_previous.percent),
            year_ago_total: money(currency, analysis.total.year_ago),
            change_from_year_ago: money(currency, analysis.total_against_year_ago.absolute),
            change_from_year_ago_percent: percent(analysis.total_against_year_ago.percent),
            groups: analysis
                .groups
                .iter()
                .map(|group| pb::AnalysisGroup {
                    rank: group.rank,
                    key: group.key.clone(),
                    label: result.labels.get(&group.key).cloned().unwrap_or_default(),
                    amount: money(currency, group.current),
                    share_percent: percent(group.share),
                    previous_amount: money(currency, group.previous),
                    change_from_previous: money(currency, group.against_previous.absolute),
                    change_from_previous_percent: percent(group.against_previous.percent),
                    year_ago_amount: money(currency, group.year_ago),
                    change_from_year_ago: money(currency, group.against_year_ago.absolute),
                    change_from_year_ago_percent: percent(group.against_year_ago.percent),
                })
                .collect(),
            currency_code: currency
                .map(|code| code.as_str().to_owned())
                .unwrap_or_default(),
        }))
    }
}
