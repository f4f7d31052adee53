//! Search (K2) over this replica's index, as the caller may read it.

use crm_platform::auth::Caller;

use super::{Knowledge, Result};
use crate::{
    error::KnowledgeError,
    search::index::{Hit, SearchFilters, SearchQuery, Searcher},
};

/// A search as asked.
#[derive(Clone, Debug, Default)]
pub struct SearchInput {
    pub text: String,
    pub filters: SearchFilters,
    pub limit: usize,
}

impl Knowledge {
    /// The articles matching `input` the caller reads, best first.
    pub async fn search(&self, caller: &Caller, input: SearchInput) -> Result<Vec<Hit>> {
        if !self.search.is_caught_up() {
            return Err(KnowledgeError::IndexCatchingUp);
        }
        let query = SearchQuery {
            text: input.text,
            by: Searcher {
                user_id: caller.user_id,
                publishes: super::articles::publishes(caller),
            },
            filters: input.filters,
            limit: input.limit,
        };
        self.search
            .search(query)
            .await
            .map_err(KnowledgeError::Index)
    }
}
