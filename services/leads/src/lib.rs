//! The leads service: capture from every channel, dedupe, the pool with claiming and
//! recycling, fair assignment, lifecycle and conversion, campaigns (capabilities L1-L8, docs/capabilities.md).
//! Owns database `crm_leads`, publishes on stream `CRM_LEADS`.
#![deny(rust_2018_idioms)]
#![forbid(unsafe_code)]

mod convert;
mod domain;
mod error;
mod events;
mod grpc;
mod service;
mod store;

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
    crm_platform::org::refuse_retired_calling_code_setting(&context.settings.service(NAME))?;
    let leads = service::Leads::new(context.pool.clone(), context.outbox.clone());
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
    let deals = context.consumer(
        events::campaign_deals(),
        events::CampaignDealsHandler::new(),
    );
    mount.spawn(deals.run(context.shutdown.clone()));
    mount.spawn(leads.run_recycling(RECYCLING_INTERVAL, context.shutdown.clone()));
    Ok(())
}

/// One to three digits, not starting with 0 (86, 44, 1).
/// What crm-bench's import benchmark compares an import with: the rows an import of the same
/// leads stores, written by PostgreSQL's `COPY` alone. Built by the import's own validation,
/// scoring and row code, so both sides write the same columns and values.
pub mod import_baseline {
    use crm_platform::auth::Caller;
    use crm_proto::crm::leads::v1::LeadInput;

    use crate::{
        convert::validate_lead_input,
        service::{Policies, capture::build_lead},
        store::{copy, leads::DerivedKeys},
    };

    /// Rows an import handles in one chunk (one candidate query, one `COPY`).
    pub const IMPORT_CHUNK: usize = crate::service::import::IMPORT_CHUNK;

    /// The `COPY … FROM STDIN` statement an import writes its leads with.
    pub fn copy_statement() -> String {
        copy::copy_statement()
    }

    /// Appends the `COPY` text of the lead an import of `input` by `importer` would store in
    /// the importer's team's pool (default policies); `false` when the row is invalid.
    pub fn push_row(
        out: &mut Vec<u8>,
        input: &LeadInput,
        importer: &Caller,
        calling_code: &str,
    ) -> bool {
        let Ok(new) = validate_lead_input(input, Some(calling_code), "row") else {
            return false;
        };
        let (lead, _) = build_lead(
            &new,
            None,
            &importer.team_path,
            &Policies::default(),
            crm_platform::time::now(),
        );
        copy::push_copy_row(out, &lead, &DerivedKeys::of(&lead), Some(importer.user_id));
        true
    }
}
