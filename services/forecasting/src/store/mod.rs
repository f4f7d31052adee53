//! SQL of the forecasting service; rows stay private to their files.

pub mod deals;
