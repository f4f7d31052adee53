//! The accounts service: accounts with their hierarchy, tiers and contacts with their buying
//! roles (capabilities A1, A2, A3, A4, docs/capabilities.md). Owns database `crm_accounts`,
//! publishes on stream `CRM_ACCOUNTS`.
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
    let settings = context.settings.service(NAME);
    org::refuse_retired_calling_code_setting(&settings)?;
    // How often every replica looks for accounts whose wins have left the trailing 12 months
    // (accounts are claimed with SKIP LOCKED, so replicas split the work).
    let reevaluation_interval = settings.duration("TIER_REEVALUATION_INTERVAL", "1h")?;
    if reevaluation_interval.is_zero() {
        return Err(settings
            .error("TIER_REEVALUATION_INTERVAL", "must be longer than 0")
            .into());
    }
    let accounts = service::Accounts::new(context.pool.clone(), context.outbox.clone());
    mount.add_grpc(AccountServiceServer::with_interceptor(
        grpc::AccountsApi::new(accounts.clone()),
        context.auth.clone(),
    ));
    let conversions = context.consumer(
        events::lead_conversions(),
        events::LeadConversionHandler::new(accounts.clone()),
    );
    mount.spawn(conversions.run(context.shutdown.clone()));
    let org = context.consumer(
        org::consumer_spec(NAME),
        org::OrgDirectoryHandler::new(events::RescopeOnMove),
    );
    mount.spawn(org.run(context.shutdown.clone()));
    let deals = context.consumer(events::deals(), events::DealHandler::new(accounts.clone()));
    mount.spawn(deals.run(context.shutdown.clone()));
    mount.spawn(accounts.run_reevaluation(reevaluation_interval, context.shutdown.clone()));
    Ok(())
}
