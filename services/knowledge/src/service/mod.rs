//! The knowledge service's use cases, one transaction each, ending in the outbox commit.

mod articles;
pub mod deals;
mod search;
pub mod training;
pub mod usage;

use crm_platform::outbox::Outbox;
use sqlx::PgPool;

pub use articles::ShownArticle;
pub use search::SearchInput;

use crate::{error::KnowledgeError, search::keeper::LiveIndex};

type Result<T> = std::result::Result<T, KnowledgeError>;

/// The knowledge service's use cases over its database and outbox.
#[derive(Clone)]
pub struct Knowledge {
    pool: PgPool,
    outbox: Outbox,
    search: LiveIndex,
}

impl Knowledge {
    pub fn new(pool: PgPool, outbox: Outbox, search: LiveIndex) -> Self {
        Self {
            pool,
            outbox,
            search,
        }
    }
}
