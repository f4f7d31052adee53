//! The compensation service (capabilities C1–C5, docs/capabilities.md): plans as validated,
//! versioned data, their assignment to reps, an append-only credit ledger kept from the
//! opportunities service's deal, payment and expense events, the reps' revenue quotas from
//! forecasting's, and statements a rep can check to the cent against the deals that earned
//! them — computed while their period is open, locked when an admin closes it. Owns database
//! `crm_compensation`.
#![deny(rust_2018_idioms)]
#![forbid(unsafe_code)]

mod convert;
mod document;
pub mod domain;
mod error;
mod events;
mod grpc;
mod service;
mod store;

use crm_platform::{
    host::{ServiceContext, ServiceModule, ServiceMount},
    org,
};
use crm_proto::crm::compensation::v1::{
    assignment_service_server::AssignmentServiceServer, plan_service_server::PlanServiceServer,
    statement_service_server::StatementServiceServer,
};

/// The `google.rpc.ErrorInfo` reasons of the service's own refusals (docs/api.md).
pub use error::reasons;

pub const NAME: &str = "compensation";

/// How a process hosts the compensation service.
pub fn module() -> ServiceModule {
    ServiceModule {
        name: NAME,
        migrator,
        mount,
    }
}

pub fn migrator() -> sqlx::migrate::Migrator {
    sqlx::migrate!("../../migrations/compensation")
}

fn mount(context: &ServiceContext, mount: &mut ServiceMount) -> anyhow::Result<()> {
    let compensation = service::Compensation::new(context.pool.clone(), context.outbox.clone());
    mount.add_grpc(PlanServiceServer::with_interceptor(
        grpc::plans::PlansApi::new(compensation.clone()),
        context.auth.clone(),
    ));
    mount.add_grpc(AssignmentServiceServer::with_interceptor(
        grpc::plans::PlansApi::new(compensation.clone()),
        context.auth.clone(),
    ));
    mount.add_grpc(StatementServiceServer::with_interceptor(
        grpc::statements::StatementsApi::new(compensation),
        context.auth.clone(),
    ));
    let ledger = context.consumer(events::ledger(), events::LedgerHandler::new());
    mount.spawn(ledger.run(context.shutdown.clone()));
    let quotas = context.consumer(events::quotas(), events::QuotaHandler::new());
    mount.spawn(quotas.run(context.shutdown.clone()));
    // The directory: the organisation's fiscal calendar and corporate currency, and its
    // people (whose team a manager reads, who shares a team pool).
    let directory = context.consumer(org::consumer_spec(NAME), org::OrgDirectoryHandler::new(()));
    mount.spawn(directory.run(context.shutdown.clone()));
    Ok(())
}

/// Computes every statement of the open period `label` — each rep's on a plan in it — as its
/// close would, locking nothing: the statements in rep order, each encoded as the API's
/// `Statement`. For benchmarks and operators' checks: the same ledger gives the same bytes.
pub async fn run_period(pool: &sqlx::PgPool, label: &str) -> anyhow::Result<Vec<Vec<u8>>> {
    let compensation =
        service::Compensation::new(pool.clone(), crm_platform::outbox::Outbox::new());
    let statements = compensation
        .run_period(label)
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    Ok(statements
        .iter()
        .map(prost::Message::encode_to_vec)
        .collect())
}
