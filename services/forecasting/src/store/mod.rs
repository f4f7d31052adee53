//! The forecasting service's SQL, one module per table family; rows stay private.

pub mod accounts;
pub mod activities;
pub mod actuals;
pub mod analysis;
pub mod calls;
pub mod collections;
pub mod deals;
pub mod lines;
pub mod overrides;
pub mod pipeline;
pub mod quotas;
pub mod review;
pub mod snapshots;
pub mod statistics;

use crm_platform::access::push_within;
use sqlx::{Postgres, QueryBuilder};

use crate::domain::scope::Scope;

/// ` AND <the row is in the scope>`, over the columns `owner_id` and `owner_team_path`
/// prefixed by `prefix` (a table alias with its dot, or nothing). Every forecasting family
/// filters its rows by scope through this.
pub fn push_scope(query: &mut QueryBuilder<Postgres>, scope: &Scope, prefix: &str) {
    match scope {
        Scope::Company => {}
        Scope::Team(team) => {
            query.push(" AND ");
            push_within(query, &format!("{prefix}owner_team_path"), team);
        }
        Scope::Rep { user_id, .. } => {
            query
                .push(format!(" AND {prefix}owner_id = "))
                .push_bind(*user_id);
        }
    }
}

/// One column of `rows`, for binding as an array (`unnest($1::…[])`): how many rows go in one
/// statement.
pub(crate) fn column<'a, T, U>(rows: &'a [T], pick: impl FnMut(&'a T) -> U) -> Vec<U> {
    rows.iter().map(pick).collect()
}
