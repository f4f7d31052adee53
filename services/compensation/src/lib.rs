//! The compensation service (capabilities C1–C5, docs/capabilities.md): plans as validated,
//! versioned data, their assignment to reps, an append-only credit ledger kept from the
//! opportunities service's deal, payment and expense events, and statements a rep can check to
//! the cent against the deals that earned them. Owns database `crm_compensation`.
//!
//! The issue [compensation] lands in steps: so far the domain — plans and their checks,
//! assignments, credits and their splits, the tier maths and the statement computation — and
//! the ledger kept from the opportunities service's events (`compensation-ledger`); the plans'
//! and statements' store, the gRPC and HTTP surfaces and the period close follow.
#![deny(rust_2018_idioms)]
#![forbid(unsafe_code)]

pub mod domain;
mod events;
// The ledger's store and use cases: the consumer's, until the statements' API lands.
mod service;
mod store;

use crm_platform::host::{ServiceContext, ServiceModule, ServiceMount};

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
    let ledger = context.consumer(events::ledger(), events::LedgerHandler::new());
    mount.spawn(ledger.run(context.shutdown.clone()));
    Ok(())
}
