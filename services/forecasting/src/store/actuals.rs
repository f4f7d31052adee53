//! SQL of what targets are measured against, from the deals read model: won revenue and won
//! deals of a scope and span, and the accounts whose first won deal falls in it.

use chrono::NaiveDate;
use crm_platform::money::CurrencyCode;
use rust_decimal::Decimal;
use sqlx::{PgConnection, Postgres, QueryBuilder};

use super::push_scope;
use crate::domain::scope::Scope;

/// The corporate amount won by the scope's deals closed in `[from, until)`, and how many.
/// Deals without an amount in `currency` add nothing (the pipeline counts them apart).
pub async fn won(
    connection: &mut PgConnection,
    scope: &Scope,
    from: NaiveDate,
    until: NaiveDate,
    currency: Option<CurrencyCode>,
) -> sqlx::Result<(Decimal, i64)> {
    let mut query = QueryBuilder::<Postgres>::new(
        "SELECT COALESCE(sum(corporate_amount) FILTER (WHERE corporate_currency = ",
    );
    query
        .push_bind(currency.map(|code| code.as_str()))
        .push("), 0), count(*) FROM deals WHERE status = 'won' AND closed_on >= ")
        .push_bind(from)
        .push(" AND closed_on < ")
        .push_bind(until);
    push_scope(&mut query, scope, "");
    query.build_query_as().fetch_one(connection).await
}

/// Accounts whose first won deal (by the day won, company-wide) was closed in `[from, until)`
/// by a deal of the scope.
pub async fn new_accounts(
    connection: &mut PgConnection,
    scope: &Scope,
    from: NaiveDate,
    until: NaiveDate,
) -> sqlx::Result<i64> {
    let mut query = QueryBuilder::<Postgres>::new(
        "SELECT count(*) FROM (SELECT DISTINCT ON (account_id) owner_id, owner_team_path, \
         closed_on FROM deals WHERE status = 'won' ORDER BY account_id, closed_on, id) AS firsts \
         WHERE closed_on >= ",
    );
    query
        .push_bind(from)
        .push(" AND closed_on < ")
        .push_bind(until);
    push_scope(&mut query, scope, "");
    query.build_query_scalar().fetch_one(connection).await
}
