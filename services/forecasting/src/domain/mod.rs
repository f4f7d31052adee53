//! The forecasting domain: typed, no I/O.

pub mod accuracy;
pub mod activity;
pub mod analysis;
pub mod call;
pub mod collection;
pub mod deal;
pub mod forecast;
pub mod movement;
pub mod quota;
pub mod ranking;
pub mod review;
pub mod scope;
pub mod statistics;
pub mod sums;
pub mod target;
