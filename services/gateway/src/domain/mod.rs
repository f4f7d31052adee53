//! The organisation's rules as plain functions: passwords, tokens, lifecycle stages, territory
//! codes and the territory hierarchy.

pub mod credentials;
pub mod stage;
pub mod territory;
