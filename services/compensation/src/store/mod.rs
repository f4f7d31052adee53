//! The compensation service's SQL, one module per table family; rows stay private.

pub mod credits;
