//! The compensation service (capabilities C1–C5, docs/capabilities.md): plans as validated,
//! versioned data, their assignment to reps, an append-only credit ledger kept from the
//! opportunities service's deal, payment and expense events, and statements a rep can check to
//! the cent against the deals that earned them. Owns database `crm_compensation`.
//!
//! The issue [compensation] lands in steps: this step is the domain — plans and their checks,
//! assignments, credits and their splits, the tier maths and the statement computation — pure
//! and tested by hand and by property; the store, the ledger's consumers, the gRPC and HTTP
//! surfaces and the period close follow.
#![deny(rust_2018_idioms)]
#![forbid(unsafe_code)]

pub mod domain;

pub const NAME: &str = "compensation";
