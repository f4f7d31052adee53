//! The forecasting service (capabilities F1–F8, docs/capabilities.md): its own read model of
//! the pipeline, kept from the opportunities service's deal events — it never reads the
//! opportunities database — and, as the issue [forecasting] lands in steps, the weighted
//! pipeline, categories, quotas, calls, snapshots and statistical forecasts counted over it in
//! the organisation's fiscal calendar. Owns database `crm_forecasting`.
#![deny(rust_2018_idioms)]
#![forbid(unsafe_code)]

mod convert;
mod domain;
mod error;
mod events;
mod grpc;
mod jobs;
mod rebuild;
mod service;
mod store;

use crm_platform::{
    host::{ServiceContext, ServiceModule, ServiceMount},
    org,
};
use crm_proto::crm::forecasting::v1::{
    forecast_call_service_server::ForecastCallServiceServer,
    forecast_service_server::ForecastServiceServer, quota_service_server::QuotaServiceServer,
    review_service_server::ReviewServiceServer,
    sales_analysis_service_server::SalesAnalysisServiceServer,
    snapshot_service_server::SnapshotServiceServer,
    statistics_service_server::StatisticsServiceServer,
};

/// The `google.rpc.ErrorInfo` reasons of the service's own refusals (docs/api.md).
pub use error::reasons;
pub use rebuild::rebuild_read_model;

pub const NAME: &str = "forecasting";

/// How a process hosts the forecasting service.
pub fn module() -> ServiceModule {
    ServiceModule {
        name: NAME,
        migrator,
        mount,
    }
}

/// The names of the service's periodic jobs, for [`run_job`].
pub use service::WEEKLY_SNAPSHOT;

/// Runs the periodic job `name` once at `now`, as its timer does (docs/operations.md): for
/// tests and operators, with a chosen clock. Returns how much it did — the deals a weekly
/// snapshot wrote; 0 when the week had its snapshot or another replica holds the job.
pub async fn run_job(
    context: &ServiceContext,
    name: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<u64> {
    let forecasting = service::Forecasting::new(context.pool.clone(), context.outbox.clone());
    crm_platform::schedule::run_job(jobs::JOBS, name, forecasting, now).await
}

pub fn migrator() -> sqlx::migrate::Migrator {
    sqlx::migrate!("../../migrations/forecasting")
}

fn mount(context: &ServiceContext, mount: &mut ServiceMount) -> anyhow::Result<()> {
    let forecasting = service::Forecasting::new(context.pool.clone(), context.outbox.clone());
    mount.add_grpc(ForecastServiceServer::with_interceptor(
        grpc::pipeline::PipelineApi::new(forecasting.clone()),
        context.auth.clone(),
    ));
    mount.add_grpc(QuotaServiceServer::with_interceptor(
        grpc::quotas::QuotaApi::new(forecasting.clone()),
        context.auth.clone(),
    ));
    let activities = context.consumer(
        events::activities::spec(),
        events::activities::ActivityHandler::new(),
    );
    mount.spawn(activities.run(context.shutdown.clone()));
    let payments = context.consumer(
        events::payments::spec(),
        events::payments::PaymentHandler::new(),
    );
    mount.spawn(payments.run(context.shutdown.clone()));
    mount.add_grpc(StatisticsServiceServer::with_interceptor(
        grpc::statistics::StatisticsApi::new(forecasting.clone()),
        context.auth.clone(),
    ));
    let review_settings = service::ReviewSettings::from_settings(&context.settings.service(NAME))?;
    mount.add_grpc(ReviewServiceServer::with_interceptor(
        grpc::review::ReviewApi::new(forecasting.clone(), review_settings),
        context.auth.clone(),
    ));
    mount.add_grpc(SalesAnalysisServiceServer::with_interceptor(
        grpc::analysis::AnalysisApi::new(forecasting.clone()),
        context.auth.clone(),
    ));
    let accounts = context.consumer(events::accounts(), events::AccountHandler::new());
    mount.spawn(accounts.run(context.shutdown.clone()));
    mount.add_grpc(ForecastCallServiceServer::with_interceptor(
        grpc::calls::CallsApi::new(forecasting.clone()),
        context.auth.clone(),
    ));
    mount.add_grpc(SnapshotServiceServer::with_interceptor(
        grpc::snapshots::SnapshotsApi::new(forecasting.clone()),
        context.auth.clone(),
    ));
    crm_platform::schedule::spawn_jobs(context, mount, &forecasting, jobs::JOBS)?;
    let deals = context.consumer(events::deals(), events::DealHandler::new());
    mount.spawn(deals.run(context.shutdown.clone()));
    // The directory: the organisation's fiscal calendar and corporate currency, and its
    // people. A team move needs nothing here: the opportunities service re-publishes the
    // owner's deals with their new team path.
    let directory = context.consumer(org::consumer_spec(NAME), org::OrgDirectoryHandler::new(()));
    mount.spawn(directory.run(context.shutdown.clone()));
    Ok(())
}
