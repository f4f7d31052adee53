//! SQL for pipelines, deals, the price book, their history and the replicas, one file per entity. Nothing here
//! decides anything: rules live in `domain`, orchestration in `service`. Rows are private to
//! their file and converted to domain types; a stored value that does not convert is an error,
//! never a default.

pub(crate) mod activities;
pub(crate) mod analytics;
pub(crate) mod board;
pub(crate) mod calendar_feeds;
pub(crate) mod care;
pub(crate) mod catalog;
pub(crate) mod collections;
pub(crate) mod deals;
pub(crate) mod expenses;
pub(crate) mod history;
pub(crate) mod orders;
pub(crate) mod payment_reminders;
pub(crate) mod pipelines;
pub mod plans;
pub(crate) mod price_book;
pub(crate) mod quotes;
pub(crate) mod replicas;
pub(crate) mod stale;
pub(crate) mod work_reports;

use crm_platform::auth::TeamPath;

/// A stored value outside its type's range: the row is corrupt.
pub(crate) fn corrupt(error: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(format!("corrupt row: {error}").into())
}

pub(crate) fn stored_team(path: &str) -> sqlx::Result<TeamPath> {
    TeamPath::parse(path).map_err(corrupt)
}
