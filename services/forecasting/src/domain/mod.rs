//! The forecasting domain: typed, no I/O.

pub mod deal;
