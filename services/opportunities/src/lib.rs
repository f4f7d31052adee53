//! The opportunities service: pipelines and stages, deals with their stage history, win/loss,
//! competitors, deal teams and splits and buying committees, the priority board and funnel
//! analytics, the price book, quotes with discount approval and the orders accepted quotes
//! become, activities and tasks with their reminders and stale-deal detection (capabilities
//! O1–O5, O6 and O7 in part, O9, O10, docs/capabilities.md). Owns database `crm_opportunities`, publishes on stream
//! `CRM_OPPORTUNITIES`; consumes leads' conversions, accounts' records and the organisation's
//! directory.
#![deny(rust_2018_idioms)]
#![forbid(unsafe_code)]

mod convert;
mod domain;
mod error;
mod events;
mod grpc;
mod jobs;
mod service;
mod store;

use crm_platform::{
    host::{ServiceContext, ServiceModule, ServiceMount},
    org,
};
use crm_proto::crm::opportunities::v1::{
    account_desk_service_server::AccountDeskServiceServer,
    activity_service_server::ActivityServiceServer,
    analytics_service_server::AnalyticsServiceServer,
    calendar_feed_service_server::CalendarFeedServiceServer,
    care_service_server::CareServiceServer, collection_service_server::CollectionServiceServer,
    deal_plan_service_server::DealPlanServiceServer, expense_service_server::ExpenseServiceServer,
    opportunity_service_server::OpportunityServiceServer, order_service_server::OrderServiceServer,
    pipeline_service_server::PipelineServiceServer,
    price_book_service_server::PriceBookServiceServer, quote_service_server::QuoteServiceServer,
    work_report_service_server::WorkReportServiceServer,
};

pub const NAME: &str = "opportunities";

/// The `google.rpc.ErrorInfo` reasons of the service's own refusals (docs/api.md): part of the
/// contract, so clients (the demo loader among them) decide by reason, never by message text.
pub use error::reasons;

/// How a process hosts the opportunities service.
pub fn module() -> ServiceModule {
    ServiceModule {
        name: NAME,
        migrator,
        mount,
    }
}

/// The names of the service's periodic jobs, for [`run_job`].
pub use service::{
    CARE_REMINDERS, MILESTONE_CHECK, PAYMENT_REMINDERS, STALE_DEALS, TASK_REMINDERS, WORK_REPORTS,
};

/// Runs the periodic job `name` once at `now`, as its timer does (docs/operations.md): for
/// tests and operators, with a chosen clock. Returns how much it did — the reminders or
/// events it wrote, the reports it generated; 0 when all was done or another replica holds
/// the job. The care job takes `now`'s day (UTC); the work reports, the zone configured.
pub async fn run_job(
    context: &ServiceContext,
    name: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<u64> {
    let opportunities = service::Opportunities::new(context.pool.clone(), context.outbox.clone());
    let state = jobs::Scheduled::new(opportunities, &context.settings.service(NAME))?;
    crm_platform::schedule::run_job(jobs::JOBS, name, state, now).await
}

pub use domain::plan::LateMilestones;
/// The deals' late milestones on `as_of` for the priority board (O12): one query over the open
/// milestones' index.
pub use store::plans::late_milestones;

pub fn migrator() -> sqlx::migrate::Migrator {
    sqlx::migrate!("../../migrations/opportunities")
}

/// Recomputes the funnel's monthly roll-up (`funnel_stage_months`, `funnel_outcome_months`)
/// from `stage_history` and `opportunities`, in one transaction. The use cases keep the roll-up
/// as they write; deals and stays loaded in bulk straight into the database bypass them, so an
/// operator runs this after such a load (and `crm-bench funnel` after its own). Writes made
/// meanwhile wait for it, then add to the rebuilt rows.
pub async fn rebuild_funnel_roll_up(pool: &sqlx::PgPool) -> anyhow::Result<()> {
    let mut transaction = pool.begin().await?;
    store::analytics::rebuild_roll_up(&mut transaction).await?;
    transaction.commit().await?;
    Ok(())
}

fn mount(context: &ServiceContext, mount: &mut ServiceMount) -> anyhow::Result<()> {
    let opportunities = service::Opportunities::new(context.pool.clone(), context.outbox.clone());
    let scheduled = jobs::Scheduled::new(opportunities.clone(), &context.settings.service(NAME))?;
    mount.add_grpc(PipelineServiceServer::with_interceptor(
        grpc::pipelines::PipelinesApi::new(opportunities.clone()),
        context.auth.clone(),
    ));
    mount.add_grpc(OpportunityServiceServer::with_interceptor(
        grpc::deals::DealsApi::new(opportunities.clone()),
        context.auth.clone(),
    ));
    mount.add_grpc(PriceBookServiceServer::with_interceptor(
        grpc::price_book::PriceBookApi::new(opportunities.clone()),
        context.auth.clone(),
    ));
    mount.add_grpc(QuoteServiceServer::with_interceptor(
        grpc::quotes::QuotesApi::new(opportunities.clone()),
        context.auth.clone(),
    ));
    mount.add_grpc(OrderServiceServer::with_interceptor(
        grpc::orders::OrdersApi::new(opportunities.clone()),
        context.auth.clone(),
    ));
    mount.add_grpc(ActivityServiceServer::with_interceptor(
        grpc::activities::ActivitiesApi::new(opportunities.clone()),
        context.auth.clone(),
    ));
    mount.add_grpc(CollectionServiceServer::with_interceptor(
        grpc::collections::CollectionsApi::new(opportunities.clone()),
        context.auth.clone(),
    ));
    mount.add_grpc(DealPlanServiceServer::with_interceptor(
        grpc::plans::PlansApi::new(opportunities.clone()),
        context.auth.clone(),
    ));
    mount.add_grpc(CareServiceServer::with_interceptor(
        grpc::care::CareApi::new(opportunities.clone()),
        context.auth.clone(),
    ));
    mount.add_grpc(WorkReportServiceServer::with_interceptor(
        grpc::work_reports::WorkReportsApi::new(opportunities.clone()),
        context.auth.clone(),
    ));
    // Public: the feed's token stands in for a user's token (calendar clients have none).
    mount.add_public_grpc(CalendarFeedServiceServer::new(
        grpc::calendar::CalendarFeedApi::new(opportunities.clone()),
    ))?;
    mount.add_grpc(ExpenseServiceServer::with_interceptor(
        grpc::expenses::ExpensesApi::new(opportunities.clone()),
        context.auth.clone(),
    ));
    mount.add_grpc(AccountDeskServiceServer::with_interceptor(
        grpc::account_desk::AccountDeskApi::new(opportunities.clone()),
        context.auth.clone(),
    ));
    mount.add_grpc(AnalyticsServiceServer::with_interceptor(
        grpc::analytics::AnalyticsApi::new(opportunities.clone()),
        context.auth.clone(),
    ));
    crm_platform::schedule::spawn_jobs(context, mount, &scheduled, jobs::JOBS)?;
    let conversions = context.consumer(
        events::lead_conversions(),
        events::LeadConversionHandler::new(opportunities.clone()),
    );
    mount.spawn(conversions.run(context.shutdown.clone()));
    let accounts = context.consumer(
        events::account_records(),
        events::AccountRecordsHandler::new(opportunities.clone()),
    );
    mount.spawn(accounts.run(context.shutdown.clone()));
    let org = context.consumer(
        org::consumer_spec(NAME),
        org::OrgDirectoryHandler::new(events::RescopeOnMove::new(opportunities.clone())),
    );
    mount.spawn(org.run(context.shutdown.clone()));
    Ok(())
}
