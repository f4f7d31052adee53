//! The opportunities service: pipelines and stages, deals with their stage history, win/loss,
//! competitors, deal teams and splits and buying committees, the priority board and funnel
//! analytics, the price book, quotes with discount approval and the orders accepted quotes
//! become (capabilities O1–O5, O6 in part, O9, O10, docs/capabilities.md). Owns database `crm_opportunities`, publishes on stream
//! `CRM_OPPORTUNITIES`; consumes leads' conversions, accounts' records and the organisation's
//! directory.
#![deny(rust_2018_idioms)]
#![forbid(unsafe_code)]

mod convert;
mod domain;
mod error;
mod events;
mod grpc;
mod service;
mod store;

use crm_platform::{
    host::{ServiceContext, ServiceModule, ServiceMount},
    org,
};
use crm_proto::crm::opportunities::v1::{
    analytics_service_server::AnalyticsServiceServer, care_service_server::CareServiceServer,
    deal_plan_service_server::DealPlanServiceServer,
    opportunity_service_server::OpportunityServiceServer, order_service_server::OrderServiceServer,
    pipeline_service_server::PipelineServiceServer,
    price_book_service_server::PriceBookServiceServer, quote_service_server::QuoteServiceServer,
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

/// The scheduled milestone check (O12) on demand, for tests and operators: publishes
/// milestone_slipped for every milestone late on `now`'s day not yet published for its due date;
/// returns how many.
pub async fn run_milestone_check(
    pool: &sqlx::PgPool,
    outbox: &crm_platform::outbox::Outbox,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<u64> {
    let opportunities = service::Opportunities::new(pool.clone(), outbox.clone());
    Ok(opportunities.run_milestone_check(now).await?)
}

pub use domain::plan::LateMilestones;
/// The care job (A6) on demand, for tests and operators: writes the reminders due on `today`
/// not yet written (event care_reminder_due each); returns how many.
pub async fn run_care_reminders(
    pool: &sqlx::PgPool,
    outbox: &crm_platform::outbox::Outbox,
    today: chrono::NaiveDate,
) -> anyhow::Result<u64> {
    let opportunities = service::Opportunities::new(pool.clone(), outbox.clone());
    Ok(opportunities.run_care_reminders(today).await?)
}

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
    mount.add_grpc(DealPlanServiceServer::with_interceptor(
        grpc::plans::PlansApi::new(opportunities.clone()),
        context.auth.clone(),
    ));
    mount.add_grpc(CareServiceServer::with_interceptor(
        grpc::care::CareApi::new(opportunities.clone()),
        context.auth.clone(),
    ));
    mount.add_grpc(AnalyticsServiceServer::with_interceptor(
        grpc::analytics::AnalyticsApi::new(opportunities.clone()),
        context.auth.clone(),
    ));
    let section = context.settings.service(NAME);
    let check_every = section.duration("MILESTONE_CHECK_INTERVAL", "1h")?;
    let checker = opportunities.clone();
    mount.spawn(crm_platform::schedule::every(
        service::MILESTONE_CHECK,
        check_every,
        context.shutdown.clone(),
        move || {
            let checker = checker.clone();
            async move {
                Ok(checker
                    .run_milestone_check(crm_platform::time::now())
                    .await?)
            }
        },
    ));
    let care_every = section.duration("CARE_REMINDERS_INTERVAL", "1h")?;
    let care = opportunities.clone();
    mount.spawn(crm_platform::schedule::every(
        service::CARE_REMINDERS,
        care_every,
        context.shutdown.clone(),
        move || {
            let care = care.clone();
            async move {
                let today = crm_platform::time::now().date_naive();
                Ok(care.run_care_reminders(today).await?)
            }
        },
    ));
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
