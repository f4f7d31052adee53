//! The knowledge service (capabilities K1–K6, docs/capabilities.md): the sales toolkit at the
//! moment of need — playbooks, battlecards, product sheets, objection handling and training,
//! in English and Chinese.
//!
//! The issue [knowledge] lands in steps: so far the articles' domain — kinds, languages,
//! the review workflow of a version (draft → in review → published → archived) with who may
//! move it, who may read it, and an article's checks. The store, search index, API,
//! recommendations, usage and training follow.
#![deny(rust_2018_idioms)]
#![forbid(unsafe_code)]

pub mod domain;

pub const NAME: &str = "knowledge";
