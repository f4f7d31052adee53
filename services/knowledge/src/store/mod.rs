//! The knowledge service's SQL, one file per entity.

pub mod articles;
