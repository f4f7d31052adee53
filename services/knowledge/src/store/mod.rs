//! The knowledge service's SQL, one file per entity.

pub mod articles;
pub mod deals;
pub mod summaries;
pub mod training;
pub mod usage;
