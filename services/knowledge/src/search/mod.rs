//! Search (K2): the analysis of English and Chinese text, the tantivy index every replica keeps
//! of the articles' versions in use, and the keeper that fills it from the database and the
//! service's own stream.

pub mod analysis;
pub mod index;
pub mod keeper;
mod tokenizers;
pub mod workers;
