//! The knowledge domain: typed, no I/O.

pub mod article;
pub mod diff;
pub mod influence;
pub mod recommend;
pub mod render;
pub mod training;
pub mod version;
