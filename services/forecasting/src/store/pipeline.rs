//! SQL of the weighted pipeline's sums (`pipeline_months`): a deal's contribution added or
//! taken away, and the sums of a scope over a span of months.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use super::push_scope;
use crate::domain::{
    deal::{DealStatus, ForecastCategory},
    forecast::{Contribution, MonthTotals, Totals},
    scope::Scope,
};

/// Adds `contribution` to its sum.
pub async fn add(connection: &mut PgConnection, contribution: &Contribution) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO pipeline_months AS sums (owner_team_path, owner_id, month, status, \
         category, currency, deal_count, amount, weighted) \
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8) \
         ON CONFLICT (owner_team_path, owner_id, month, status, category, currency) DO UPDATE \
         SET deal_count = sums.deal_count + 1, amount = sums.amount + EXCLUDED.amount, \
         weighted = sums.weighted + EXCLUDED.weighted",
    )
    .bind(contribution.owner_team_path.as_str())
    .bind(contribution.owner_id)
    .bind(contribution.month)
    .bind(contribution.status.as_str())
    .bind(contribution.category as i16)
    .bind(contribution.currency.unwrap_or(""))
    .bind(contribution.amount)
    .bind(contribution.weighted)
    .execute(connection)
    .await?;
    Ok(())
}

/// Takes `contribution` (which the sums hold: the deal's previous version added it) away
/// from its sum; a sum left with no deals is removed, so the table holds only what counts.
pub async fn take_away(
    connection: &mut PgConnection,
    contribution: &Contribution,
) -> sqlx::Result<()> {
    let remaining: Option<i64> = sqlx::query_scalar(
        "UPDATE pipeline_months SET deal_count = deal_count - 1, amount = amount - $7, \
         weighted = weighted - $8 WHERE owner_team_path = $1 AND owner_id = $2 AND month = $3 \
         AND status = $4 AND category = $5 AND currency = $6 RETURNING deal_count",
    )
    .bind(contribution.owner_team_path.as_str())
    .bind(contribution.owner_id)
    .bind(contribution.month)
    .bind(contribution.status.as_str())
    .bind(contribution.category as i16)
    .bind(contribution.currency.unwrap_or(""))
    .bind(contribution.amount)
    .bind(contribution.weighted)
    .fetch_optional(&mut *connection)
    .await?;
    match remaining {
        Some(0) => {
            sqlx::query(
                "DELETE FROM pipeline_months WHERE owner_team_path = $1 AND owner_id = $2 \
                 AND month = $3 AND status = $4 AND category = $5 AND currency = $6 \
                 AND deal_count = 0",
            )
            .bind(contribution.owner_team_path.as_str())
            .bind(contribution.owner_id)
            .bind(contribution.month)
            .bind(contribution.status.as_str())
            .bind(contribution.category as i16)
            .bind(contribution.currency.unwrap_or(""))
            .execute(connection)
            .await?;
        }
        Some(_) => {}
        // The sums and the deals are written in one transaction, so this is a bug: said
        // loudly, and `crm forecasting rebuild` puts it right.
        None => tracing::error!(
            owner_id = %contribution.owner_id,
            month = %contribution.month,
            "a deal's previous contribution was not in the pipeline sums"
        ),
    }
    Ok(())
}

/// Whether two contributions count in the same sum.
fn same_sum(one: &Contribution, other: &Contribution) -> bool {
    one.owner_team_path == other.owner_team_path
        && one.owner_id == other.owner_id
        && one.month == other.month
        && one.status == other.status
        && one.category == other.category
        && one.currency == other.currency
}

/// `owner_team_path = … AND … AND currency = …`: the sum `contribution` counts in.
fn push_key(query: &mut QueryBuilder<Postgres>, contribution: &Contribution) {
    query
        .push("owner_team_path = ")
        .push_bind(contribution.owner_team_path.as_str().to_owned())
        .push(" AND owner_id = ")
        .push_bind(contribution.owner_id)
        .push(" AND month = ")
        .push_bind(contribution.month)
        .push(" AND status = ")
        .push_bind(contribution.status.as_str())
        .push(" AND category = ")
        .push_bind(contribution.category as i16)
        .push(" AND currency = ")
        .push_bind(contribution.currency.unwrap_or(""));
}

/// Appends to a `WITH` list (after at least one CTE) the writes that move a deal's
/// contribution from `old` to `new`, so the deal's row and its sums change in one statement
/// (one round trip per deal event): the old sum loses the deal (removed when it was its last),
/// the new one gains it; within one sum, only the amounts change.
pub(super) fn push_move(
    query: &mut QueryBuilder<Postgres>,
    old: Option<&Contribution>,
    new: Option<&Contribution>,
) {
    match (old, new) {
        (Some(old), Some(new)) if same_sum(old, new) => {
            query
                .push(", shifted AS (UPDATE pipeline_months SET amount = amount + ")
                .push_bind(new.amount - old.amount)
                .push(", weighted = weighted + ")
                .push_bind(new.weighted - old.weighted)
                .push(" WHERE ");
            push_key(query, old);
            query.push(" RETURNING 1)");
        }
        _ => {
            if let Some(old) = old {
                // Two writes on one row, exclusive by the count they read: one of them acts.
                query.push(", gone AS (DELETE FROM pipeline_months WHERE ");
                push_key(query, old);
                query
                    .push(" AND deal_count = 1 RETURNING 1), taken AS (UPDATE pipeline_months SET deal_count = deal_count - 1, amount = amount - ")
                    .push_bind(old.amount)
                    .push(", weighted = weighted - ")
                    .push_bind(old.weighted)
                    .push(" WHERE ");
                push_key(query, old);
                query.push(" AND deal_count > 1 RETURNING 1)");
            }
            if let Some(new) = new {
                query.push(
                    ", added AS (INSERT INTO pipeline_months AS sums (owner_team_path, owner_id, \
                     month, status, category, currency, deal_count, amount, weighted) VALUES (",
                );
                let mut values = query.separated(", ");
                values
                    .push_bind(new.owner_team_path.as_str().to_owned())
                    .push_bind(new.owner_id)
                    .push_bind(new.month)
                    .push_bind(new.status.as_str())
                    .push_bind(new.category as i16)
                    .push_bind(new.currency.unwrap_or(""))
                    .push_bind(1_i64)
                    .push_bind(new.amount)
                    .push_bind(new.weighted);
                query.push(
                    ") ON CONFLICT (owner_team_path, owner_id, month, status, category, currency) \
                     DO UPDATE SET deal_count = sums.deal_count + 1, \
                     amount = sums.amount + EXCLUDED.amount, \
                     weighted = sums.weighted + EXCLUDED.weighted RETURNING 1)",
                );
            }
        }
    }
}

#[derive(sqlx::FromRow)]
struct SumRow {
    owner_team_path: String,
    owner_id: Uuid,
    month: NaiveDate,
    status: String,
    category: i16,
    currency: String,
    deal_count: i64,
    amount: Decimal,
    weighted: Decimal,
}

/// How [`sums`] groups: by month (a forecast and its parts), or by team and owner over the
/// whole span (a roll-up). The other dimension is left out of the rows it returns: the nil
/// owner and the root path, or the span's first month.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grouping {
    ByMonth,
    ByOwner,
}

/// The scope's sums of the months from `from` to before `until`, added up in PostgreSQL by
/// `grouping` (so a company's year is a few dozen rows, not one per rep and month).
pub async fn sums(
    connection: &mut PgConnection,
    scope: &Scope,
    from: NaiveDate,
    until: NaiveDate,
    grouping: Grouping,
) -> sqlx::Result<Vec<MonthTotals>> {
    let (columns, group) = match grouping {
        Grouping::ByMonth => (
            "'/'::text AS owner_team_path, '00000000-0000-0000-0000-000000000000'::uuid AS owner_id, month",
            "month",
        ),
        Grouping::ByOwner => (
            "owner_team_path, owner_id, min(month) AS month",
            "owner_team_path, owner_id",
        ),
    };
    let mut query = QueryBuilder::<Postgres>::new(format!(
        "SELECT {columns}, status, category, currency, sum(deal_count)::bigint AS deal_count, \
         sum(amount) AS amount, sum(weighted) AS weighted FROM pipeline_months WHERE month >= "
    ));
    query.push_bind(from).push(" AND month < ").push_bind(until);
    push_scope(&mut query, scope, "");
    query.push(format!(" GROUP BY {group}, status, category, currency"));
    query
        .build_query_as::<SumRow>()
        .fetch_all(connection)
        .await?
        .into_iter()
        .map(|row| {
            let decode = |what: String| sqlx::Error::Decode(what.into());
            Ok(MonthTotals {
                owner_id: row.owner_id,
                owner_team_path: row.owner_team_path,
                month: row.month,
                status: DealStatus::parse(&row.status)
                    .ok_or_else(|| decode(format!("deal status {:?}", row.status)))?,
                category: ForecastCategory::from_wire(i32::from(row.category))
                    .ok_or_else(|| decode(format!("forecast category {}", row.category)))?,
                currency: (!row.currency.is_empty()).then_some(row.currency),
                totals: Totals {
                    deal_count: u64::try_from(row.deal_count)
                        .map_err(|error| decode(error.to_string()))?,
                    amount: row.amount,
                    weighted: row.weighted,
                },
            })
        })
        .collect()
}
