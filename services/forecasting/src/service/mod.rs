//! The forecasting service's use cases, one transaction each (the event handlers' transaction
//! is the consumer's, which also records the event as handled).

mod accounts;
mod analysis;
mod attainment;
mod calls;
mod collections;
mod decomposition;
mod pipeline;
mod quotas;
mod review;
mod scope;
mod snapshots;
mod statistics;

use crm_platform::outbox::Outbox;
use sqlx::PgPool;

pub use accounts::record_account;
pub use analysis::AnalysisDimension;
pub use attainment::apply_activity;
pub use calls::{CallAmounts, CallInput};
pub use collections::record_collection;
pub use decomposition::{Basis, Decomposition};
pub use pipeline::{DealChange, DealForecast, apply_deals};
pub use quotas::TargetInput;
pub use review::{
    DEFAULT_TREND_PERIODS, LeaderboardKind, LeaderboardScope, Ranked, ReviewSettings,
    top_or_default,
};
pub use scope::Counting;
pub use snapshots::{WEEKLY_SNAPSHOT, week_label};
pub use statistics::{
    DEFAULT_HISTORY_YEARS, ForecastQuery, StatisticalForecast, WinRates, record_stage_visits,
};

use crate::error::ForecastingError;

type Result<T> = std::result::Result<T, ForecastingError>;

/// The forecasting service's use cases over its database and outbox.
#[derive(Clone)]
pub struct Forecasting {
    pool: PgPool,
    outbox: Outbox,
}

impl Forecasting {
    pub fn new(pool: PgPool, outbox: Outbox) -> Self {
        Self { pool, outbox }
    }
}
