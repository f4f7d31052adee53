//! The forecasting domain: typed, no I/O.

pub mod accuracy;
pub mod deal;
pub mod forecast;
pub mod scope;
pub mod statistics;
