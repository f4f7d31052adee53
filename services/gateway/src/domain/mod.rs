//! The organisation's rules as plain functions: passwords, tokens, lifecycle stages.

pub mod credentials;
pub mod stage;
