//! The knowledge domain: typed, no I/O.

pub mod article;
