//! The accounts service: accounts with their hierarchy and contacts with their buying roles
//! (domain.md A1, A2, A4). Owns database `crm_accounts`, publishes on stream `CRM_ACCOUNTS`.
#![deny(rust_2018_idioms)]
#![forbid(unsafe_code)]

mod convert;
pub mod domain;
pub mod error;
pub mod events;
mod grpc;
pub mod service;
pub mod store;

use crm_platform::host::{ServiceContext, ServiceModule, ServiceMount};
use crm_proto::crm::accounts::v1::account_service_server::AccountServiceServer;

pub const NAME: &str = "accounts";

/// How a process hosts the accounts service.
pub fn module() -> ServiceModule {
    ServiceModule {
        name: NAME,
        migrator,
        mount,
    }
}

pub fn migrator() -> sqlx::migrate::Migrator {
    sqlx::migrate!("../../migrations/accounts")
}

fn mount(context: &ServiceContext, mount: &mut ServiceMount) -> anyhow::Result<()> {
    let accounts = service::Accounts::new(
        context.pool.clone(),
        context.outbox.clone(),
        context.settings.default_calling_code.clone(),
    );
    mount.add_grpc(AccountServiceServer::with_interceptor(
        grpc::AccountsApi::new(accounts.clone()),
        context.auth.clone(),
    ));
    let conversions = context.consumer(
        events::lead_conversions(),
        events::LeadConversionHandler::new(accounts),
    );
    mount.spawn(conversions.run(context.shutdown.clone()));
    let org = context.consumer(
        events::org_directory(),
        std::sync::Arc::new(events::OrgDirectoryHandler),
    );
    mount.spawn(org.run(context.shutdown.clone()));
    Ok(())
}
