//! The forecasting domain: typed, no I/O.

pub mod deal;
pub mod forecast;
pub mod scope;
