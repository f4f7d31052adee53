//! SQL of the leads service. Nothing here decides anything: rules live in `domain`,
//! orchestration in `service`.

pub(crate) mod admin;
pub(crate) mod campaigns;
pub(crate) mod copy;
pub(crate) mod deals;
pub(crate) mod history;
mod lead_row;
pub mod leads;
pub(crate) mod roster;

pub(crate) use leads::{LeadFilter, LeadSort};
