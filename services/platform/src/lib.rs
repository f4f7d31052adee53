//! What every CRM service stands on: settings, telemetry, the gRPC host, PostgreSQL, the
//! transactional outbox and its relay, idempotent event consumers, caller identity and the
//! mapping of errors to the wire.
#![deny(rust_2018_idioms)]
#![forbid(unsafe_code)]

pub mod auth;
pub mod config;
pub mod consumer;
pub mod db;
pub mod error;
pub mod events;
pub mod host;
pub mod metrics;
pub mod money;
pub mod outbox;
pub mod paging;
pub mod scope;
pub mod telemetry;
pub mod time;
