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
