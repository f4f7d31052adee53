//! SQL of the leads service. Nothing here decides anything: rules live in `domain`,
//! orchestration in `service`.

pub mod admin;
mod copy;
pub mod history;
pub mod leads;

pub use leads::{LeadFilter, LeadSort};
