//! The compensation service's SQL, one module per family of tables; rows stay private.

pub mod credits;
pub mod people;
pub mod plans;
pub mod quotas;
pub mod statements;
