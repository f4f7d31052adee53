//! What every CRM service stands on: settings, telemetry, the gRPC host, PostgreSQL, the
//! transactional outbox and its relay, idempotent event consumers, caller identity and the
//! mapping of errors to the wire — and the service kit every service builds its use cases
//! with, each piece once: [`ids`] (request ids and versions), [`paging`] (keyset pages and
//! listings), [`access`] (the visibility rule in SQL), [`org`] (the organisation's directory
//! and where new records are filed), [`outbox::Outbox::enqueue_for`], [`retry`] (backoff).
#![deny(rust_2018_idioms)]
#![forbid(unsafe_code)]

pub mod access;
pub mod accounts;
pub mod auth;
pub mod config;
pub mod consumer;
pub mod db;
pub mod deals;
pub mod error;
pub mod events;
pub mod exchange;
pub mod fiscal;
pub mod follow;
pub mod host;
pub mod ids;
pub mod metrics;
pub mod money;
pub mod org;
pub mod outbox;
pub mod ownership;
pub mod paging;
pub mod readiness;
pub mod replies;
pub mod retry;
pub mod schedule;
pub mod scope;
pub mod shares;
pub mod telemetry;
pub mod text;
pub mod time;
