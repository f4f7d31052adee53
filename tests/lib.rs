//! End-to-end tests of the suite live in `scenario.rs` and `authz.rs`; this crate has no library
//! code.
#![forbid(unsafe_code)]
