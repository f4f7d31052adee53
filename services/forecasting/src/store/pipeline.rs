//! SQL of the weighted pipeline's sums (`pipeline_months`): deals' contributions moved in and
//! out, and the sums of a scope over a span of months.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{column, push_scope};
use crate::domain::{
    deal::{DealStatus, ForecastCategory},
    forecast::{MonthTotals, Totals},
    scope::Scope,
    sums::{SumChange, SumKey},
};

/// Writes the sums' changes (in key order, one row each) in one statement: a sum held gains or
/// loses, a sum not held yet is added (a deal can only join it); a sum left with no deals is
/// removed, so the table holds only what counts.
pub async fn change(
    connection: &mut PgConnection,
    changes: &[(SumKey, SumChange)],
) -> sqlx::Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let written: Vec<SumRow> = sqlx::query_as(
        "WITH change AS (SELECT * FROM unnest($1::text[], $2::uuid[], $3::date[], $4::text[], \
         $5::smallint[], $6::text[], $7::bigint[], $8::numeric[], $9::numeric[]) \
         AS c(owner_team_path, owner_id, month, status, category, currency, deal_count, amount, \
         weighted)), \
         updated AS (UPDATE pipeline_months AS sums SET deal_count = sums.deal_count + c.deal_count, \
         amount = sums.amount + c.amount, weighted = sums.weighted + c.weighted FROM change c \
         WHERE (sums.owner_team_path, sums.owner_id, sums.month, sums.status, sums.category, \
         sums.currency) = (c.owner_team_path, c.owner_id, c.month, c.status, c.category, \
         c.currency) \
         RETURNING sums.owner_team_path, sums.owner_id, sums.month, sums.status, sums.category, \
         sums.currency, sums.deal_count, sums.amount, sums.weighted), \
         added AS (INSERT INTO pipeline_months AS sums (owner_team_path, owner_id, month, status, \
         category, currency, deal_count, amount, weighted) \
         SELECT c.* FROM change c WHERE c.deal_count > 0 AND NOT EXISTS (SELECT 1 FROM updated u \
         WHERE (u.owner_team_path, u.owner_id, u.month, u.status, u.category, u.currency) = \
         (c.owner_team_path, c.owner_id, c.month, c.status, c.category, c.currency)) \
         ON CONFLICT (owner_team_path, owner_id, month, status, category, currency) DO UPDATE \
         SET deal_count = sums.deal_count + EXCLUDED.deal_count, \
         amount = sums.amount + EXCLUDED.amount, weighted = sums.weighted + EXCLUDED.weighted \
         RETURNING owner_team_path, owner_id, month, status, category, currency, deal_count, \
         amount, weighted) \
         SELECT * FROM updated UNION ALL SELECT * FROM added",
    )
    .bind(column(changes, |(key, _)| key.owner_team_path.as_str()))
    .bind(column(changes, |(key, _)| key.owner_id))
    .bind(column(changes, |(key, _)| key.month))
    .bind(column(changes, |(key, _)| key.status))
    .bind(column(changes, |(key, _)| key.category as i16))
    .bind(column(changes, |(key, _)| key.currency.unwrap_or("")))
    .bind(column(changes, |(_, change)| change.deal_count))
    .bind(column(changes, |(_, change)| change.amount))
    .bind(column(changes, |(_, change)| change.weighted))
    .fetch_all(&mut *connection)
    .await?;
    if written.len() < changes.len() {
        // The sums and the deals are written in one transaction, so this is a bug: said
        // loudly, and `crm forecasting rebuild` puts it right.
        tracing::error!(
            changes = changes.len(),
            written = written.len(),
            "deals' previous contributions were not in the pipeline sums"
        );
    }
    let emptied: Vec<&SumRow> = written.iter().filter(|row| row.deal_count == 0).collect();
    if emptied.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "DELETE FROM pipeline_months WHERE (owner_team_path, owner_id, month, status, category, \
         currency) IN (SELECT * FROM unnest($1::text[], $2::uuid[], $3::date[], $4::text[], \
         $5::smallint[], $6::text[])) AND deal_count = 0",
    )
    .bind(column(&emptied, |row| row.owner_team_path.as_str()))
    .bind(column(&emptied, |row| row.owner_id))
    .bind(column(&emptied, |row| row.month))
    .bind(column(&emptied, |row| row.status.as_str()))
    .bind(column(&emptied, |row| row.category))
    .bind(column(&emptied, |row| row.currency.as_str()))
    .execute(connection)
    .await?;
    Ok(())
}

/// A stored sum (or the sums' grouping of them), or one as a change left it.
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
