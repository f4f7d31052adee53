//! The leads service: capture from every channel, dedupe, the pool with claiming and
//! recycling, fair assignment, lifecycle and conversion, campaigns (domain.md L1-L8).
//! Owns database `crm_leads`, publishes on stream `CRM_LEADS`.
#![deny(rust_2018_idioms)]
#![forbid(unsafe_code)]

mod convert;
mod domain;
mod error;
mod events;
mod grpc;
/// Crate-private but for what crm-bench's import baseline builds its `COPY` rows with, as an
/// import does: [`service::Policies`], [`service::capture::validate_lead_input`],
/// [`service::capture::new_lead`] and [`service::import::IMPORT_CHUNK`].
pub mod service;
/// Crate-private but for crm-bench's import baseline: [`store::leads::DerivedKeys`],
/// [`store::leads::push_copy_row`] and [`store::leads::copy_statement`].
pub mod store;

use std::time::Duration;

use crm_platform::host::{ServiceContext, ServiceModule, ServiceMount};
use crm_proto::crm::leads::v1::{
    lead_admin_service_server::LeadAdminServiceServer, lead_service_server::LeadServiceServer,
    web_form_service_server::WebFormServiceServer,
};

pub const NAME: &str = "leads";

/// How often every replica runs the recycling job (rows are split between replicas).
const RECYCLING_INTERVAL: Duration = Duration::from_secs(60);

pub fn module() -> ServiceModule {
    ServiceModule {
        name: NAME,
        migrator,
        mount,
    }
}

pub fn migrator() -> sqlx::migrate::Migrator {
    sqlx::migrate!("../../migrations/leads")
}

fn mount(context: &ServiceContext, mount: &mut ServiceMount) -> anyhow::Result<()> {
    // Leads' own section first; the shared setting until it goes.
    let settings = context.settings.service(NAME);
    let own = settings.optional("DEFAULT_CALLING_CODE");
    if let Some(code) = &own
        && !is_calling_code(code)
    {
        anyhow::bail!(
            "{}: {code:?} is not a country calling code like 86 or 44",
            settings.variable("DEFAULT_CALLING_CODE")
        );
    }
    let default_calling_code = own.or_else(|| context.settings.default_calling_code.clone());
    let leads = service::Leads::new(
        context.pool.clone(),
        context.outbox.clone(),
        default_calling_code,
    );
    mount.add_grpc(LeadServiceServer::with_interceptor(
        grpc::LeadsApi::new(leads.clone()),
        context.auth.clone(),
    ));
    mount.add_grpc(LeadAdminServiceServer::with_interceptor(
        grpc::LeadAdminApi::new(leads.clone()),
        context.auth.clone(),
    ));
    // Public: the form key stands in for a token.
    mount.add_public_grpc(WebFormServiceServer::new(grpc::WebFormApi::new(
        leads.clone(),
    )))?;
    let accounts = context.consumer(
        events::account_directory(),
        events::AccountDirectoryHandler::new(),
    );
    mount.spawn(accounts.run(context.shutdown.clone()));
    let org = context.consumer(events::org_directory(), events::org_directory_handler());
    mount.spawn(org.run(context.shutdown.clone()));
    mount.spawn(leads.run_recycling(RECYCLING_INTERVAL, context.shutdown.clone()));
    Ok(())
}

/// One to three digits, not starting with 0 (86, 44, 1).
fn is_calling_code(code: &str) -> bool {
    (1..=3).contains(&code.len())
        && code.chars().all(|c| c.is_ascii_digit())
        && !code.starts_with('0')
}
