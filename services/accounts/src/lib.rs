//! The accounts service: accounts with their hierarchy and contacts with their buying roles
//! (capabilities A1, A2, A4, docs/capabilities.md). Owns database `crm_accounts`, publishes on stream `CRM_ACCOUNTS`.
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
    org::refuse_retired_calling_code_setting(&context.settings.service(NAME))?;
    let accounts = service::Accounts::new(context.pool.clone(), context.outbox.clone());
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
        org::consumer_spec(NAME),
        org::OrgDirectoryHandler::new(events::RescopeOnMove),
    );
    mount.spawn(org.run(context.shutdown.clone()));
    Ok(())
}
