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

/// One run of the `payment-reminders` job at `now` (what the timer spawned by the module runs):
/// the reminders enqueued on the service's outbox. For tests and operators who run it with a
/// chosen clock.
pub async fn run_payment_reminders(
    pool: &sqlx::PgPool,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<u64> {
    let opportunities =
        service::Opportunities::new(pool.clone(), crm_platform::outbox::Outbox::new());
    Ok(opportunities.run_payment_reminders(now).await?)
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

/// Sends the task reminders due by `now` (event task_reminder_due), as the `task-reminders`
/// timer does: for tests and operators, with a chosen clock. Returns how many went out.
pub async fn run_task_reminders(
    context: &ServiceContext,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<u64> {
    let opportunities = service::Opportunities::new(context.pool.clone(), context.outbox.clone());
    Ok(opportunities.run_task_reminders(now).await?)
}

/// Announces the deals that went stale by `now` (event opportunity_went_stale), as the
/// `stale-deals` timer does: for tests and operators, with a chosen clock. Returns how many.
pub async fn run_stale_deal_check(
    context: &ServiceContext,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<u64> {
    let opportunities = service::Opportunities::new(context.pool.clone(), context.outbox.clone());
    Ok(opportunities.run_stale_deal_check(now).await?)
}

/// Generates the work reports of the last completed week and month in `zone` as of `now`, as
/// the `work-reports` timer does: for tests and operators, with a chosen clock. Returns how
/// many reports it generated (0 when they were, or another replica is generating them).
pub async fn run_work_reports(
    context: &ServiceContext,
    now: chrono::DateTime<chrono::Utc>,
    zone: chrono_tz::Tz,
) -> anyhow::Result<u64> {
    let opportunities = service::Opportunities::new(context.pool.clone(), context.outbox.clone());
    Ok(opportunities.run_work_reports(now, zone).await?)
}

/// The IANA time zone of generated work reports (`CRM_OPPORTUNITIES_WORK_REPORT_TIME_ZONE`).
fn work_report_time_zone(
    settings: &crm_platform::config::ServiceSettings,
) -> anyhow::Result<chrono_tz::Tz> {
    let zone = settings.string("WORK_REPORT_TIME_ZONE", "UTC");
    zone.parse().map_err(|_| {
        settings
            .error(
                "WORK_REPORT_TIME_ZONE",
                format!("{zone:?} is not an IANA time zone, such as Asia/Shanghai"),
            )
            .into()
    })
}

fn mount(context: &ServiceContext, mount: &mut ServiceMount) -> anyhow::Result<()> {
    // How often every replica looks for due task reminders and newly stale deals (each job's
    // lock and SKIP LOCKED claims make one replica do each piece of work once).
    let settings = context.settings.service(NAME);
    let reminder_interval = settings.duration("REMINDER_INTERVAL", "60s")?;
    let work_report_interval = settings.duration("WORK_REPORT_INTERVAL", "15m")?;
    let work_report_zone = work_report_time_zone(&settings)?;
    if reminder_interval.is_zero() {
        return Err(settings
            .error("REMINDER_INTERVAL", "must be longer than 0")
            .into());
    }
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
    for (job, stale) in [
        (service::TASK_REMINDERS, false),
        (service::STALE_DEALS, true),
    ] {
        let opportunities = opportunities.clone();
        mount.spawn(crm_platform::schedule::every(
            job,
            reminder_interval,
            context.shutdown.clone(),
            move || {
                let opportunities = opportunities.clone();
                async move {
                    let now = crm_platform::time::now();
                    Ok(if stale {
                        opportunities.run_stale_deal_check(now).await?
                    } else {
                        opportunities.run_task_reminders(now).await?
                    })
                }
            },
        ));
    }
    // Payment reminders (O8): every replica ticks, the job's lock and durable marks make each
    // reminder go out once (service::payment_reminders).
    let interval = context
        .settings
        .service(NAME)
        .duration("PAYMENT_REMINDER_INTERVAL", "1h")?;
    let reminders = opportunities.clone();
    mount.spawn(crm_platform::schedule::every(
        service::PAYMENT_REMINDERS,
        interval,
        context.shutdown.clone(),
        move || {
            let reminders = reminders.clone();
            async move {
                Ok(reminders
                    .run_payment_reminders(crm_platform::time::now())
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
    let reports = opportunities.clone();
    mount.spawn(crm_platform::schedule::every(
        "work-reports",
        work_report_interval,
        context.shutdown.clone(),
        move || {
            let reports = reports.clone();
            async move {
                Ok(reports
                    .run_work_reports(crm_platform::time::now(), work_report_zone)
                    .await?)
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
