//! Everything that can go wrong in the forecasting service, mapped once to the wire: the kit's
//! common failures, and the forecast's own typed ones.

use crm_platform::error::{CommonError, ErrorCode, FieldViolation, Reason, ServiceError};
use uuid::Uuid;

use crate::domain::{deal::DealStatus, statistics::StatisticsError};

#[derive(Debug, thiserror::Error)]
pub enum ForecastingError {
    #[error(transparent)]
    Common(#[from] CommonError),
    /// Only an open deal's category can be chosen: a won deal is closed, a lost one counts in
    /// no forecast.
    #[error("opportunity {id} is {}, so its forecast category cannot be chosen", .status.as_str())]
    DealNotOpen { id: Uuid, status: DealStatus },
    /// The statistical forecast's arithmetic cannot hold the figures (amounts beyond what
    /// decimal arithmetic holds): the data rules it out, not the request's form.
    #[error("the statistical figures cannot be computed: {0}")]
    Statistics(#[from] StatisticsError),
    /// The statistical forecast's computation did not finish (the process is shutting down).
    #[error("the statistical forecast did not finish: {0}")]
    Unfinished(String),
}

impl ServiceError for ForecastingError {
    fn code(&self) -> ErrorCode {
        match self {
            ForecastingError::Common(common) => common.code(),
            ForecastingError::DealNotOpen { .. } | ForecastingError::Statistics(_) => {
                ErrorCode::FailedPrecondition
            }
            ForecastingError::Unfinished(_) => ErrorCode::Internal,
        }
    }

    fn field_violations(&self) -> &[FieldViolation] {
        match self {
            ForecastingError::Common(common) => common.field_violations(),
            ForecastingError::DealNotOpen { .. }
            | ForecastingError::Statistics(_)
            | ForecastingError::Unfinished(_) => &[],
        }
    }

    fn reason(&self) -> Option<Reason> {
        let reason = |reason: &'static str, code: &str| Reason::new(reason, code, self.to_string());
        Some(match self {
            ForecastingError::Common(common) => return common.reason(),
            ForecastingError::DealNotOpen { id, status } => {
                reason(reasons::DEAL_NOT_OPEN, text_codes::DEAL_NOT_OPEN)
                    .param("id", id)
                    .param("status", status.as_str())
            }
            ForecastingError::Statistics(_) => reason(
                reasons::STATISTICS_UNCOMPUTABLE,
                text_codes::STATISTICS_UNCOMPUTABLE,
            ),
            ForecastingError::Unfinished(_) => return None,
        })
    }
}

/// The `google.rpc.ErrorInfo` reasons of the service's own refusals (docs/api.md).
pub mod reasons {
    pub const DEAL_NOT_OPEN: &str = "DEAL_NOT_OPEN";
    pub const STATISTICS_UNCOMPUTABLE: &str = "STATISTICS_UNCOMPUTABLE";
}

/// Text codes consoles translate the refusals by, with their parameters.
pub mod text_codes {
    /// "opportunity {id} is {status}, so its forecast category cannot be chosen".
    pub const DEAL_NOT_OPEN: &str = "forecasting.deal_not_open";
    /// "the statistical figures cannot be computed: {cause}".
    pub const STATISTICS_UNCOMPUTABLE: &str = "forecasting.statistics_uncomputable";
}

crm_platform::service_error_conversions!(ForecastingError);

#[cfg(test)]
mod tests {
    use super::*;

    /// Figures the statistical forecast cannot hold are the data's, not the request's form:
    /// FAILED_PRECONDITION with the service's own reason, never an internal error or a panic.
    #[test]
    fn an_uncomputable_statistical_forecast_is_a_refusal_with_its_reason() {
        let refused = ForecastingError::from(StatisticsError::Overflow);
        assert_eq!(refused.code(), ErrorCode::FailedPrecondition);
        let reason = refused.reason().expect("a reason");
        assert_eq!(reason.reason, reasons::STATISTICS_UNCOMPUTABLE);
        assert_eq!(
            reason
                .metadata()
                .get(crm_platform::error::TEXT_CODE_KEY)
                .map(String::as_str),
            Some(text_codes::STATISTICS_UNCOMPUTABLE)
        );
        assert_eq!(
            tonic::Status::from(refused).code(),
            tonic::Code::FailedPrecondition
        );
        assert_eq!(
            ForecastingError::Unfinished("shutting down".into()).code(),
            ErrorCode::Internal
        );
    }
}
