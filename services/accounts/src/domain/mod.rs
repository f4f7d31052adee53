//! The accounts domain: validation, changes, merges and duplicate scoring as plain functions.
//! No I/O here, so every rule is unit- and property-tested without a database.

pub mod account;
pub mod contact;
pub mod deal;
pub mod duplicates;
mod fields;
pub mod tier;

pub use fields::RecordStatus;
