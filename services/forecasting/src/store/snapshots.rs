//! SQL of the weekly snapshots (`snapshot_weeks`, `snapshot_deals`): a week's snapshot taken
//! once, the weeks taken, and the deals of a period's pipeline at two of them.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::{
    fiscal::FiscalPeriod,
    money::CurrencyCode,
    paging::{Listing, Page, SortKey},
};
use rust_decimal::Decimal;
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use super::push_scope;
use crate::domain::{
    deal::{DealStatus, ForecastCategory},
    movement::SnapshotDeal,
    scope::Scope,
};

/// How far back a snapshot keeps closed deals: a movement between two snapshots up to a year
/// apart sees how each deal left the pipeline.
const CLOSED_DEALS_KEPT_DAYS: i32 = 366;

/// One week's snapshot.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SnapshotWeek {
    pub week_start: NaiveDate,
    pub taken_at: DateTime<Utc>,
    pub deal_count: i64,
}

/// Takes the snapshot of the week starting `week_start` unless it was taken: every open deal
/// of the read model with a corporate amount, and those closed in the year before, each in
/// its effective category. Returns the deals written; `None` when the week had its snapshot.
pub async fn take(
    connection: &mut PgConnection,
    week_start: NaiveDate,
    taken_at: DateTime<Utc>,
) -> sqlx::Result<Option<u64>> {
    let claimed = sqlx::query(
        "INSERT INTO snapshot_weeks (week_start, taken_at, deal_count) VALUES ($1, $2, 0) \
         ON CONFLICT (week_start) DO NOTHING",
    )
    .bind(week_start)
    .bind(taken_at)
    .execute(&mut *connection)
    .await?
    .rows_affected();
    if claimed == 0 {
        return Ok(None);
    }
    // The category as the forecast counts it (store::deals::list's rule): won deals closed,
    // an open deal's override while it stays in its stage, else the stage's.
    let written = sqlx::query(
        "INSERT INTO snapshot_deals (week_start, deal_id, owner_id, owner_team_path, status, \
         category, currency, amount, expected_close_date) \
         SELECT $1, d.id, d.owner_id, d.owner_team_path, d.status, \
         CASE WHEN d.status = 'won' THEN 4 \
         WHEN d.status = 'open' AND o.stage_id = d.stage_id THEN o.category \
         ELSE d.category END, d.corporate_currency, d.corporate_amount, d.expected_close_date \
         FROM deals d LEFT JOIN category_overrides o ON o.deal_id = d.id \
         WHERE d.corporate_amount IS NOT NULL AND (d.status = 'open' \
         OR (d.status IN ('won', 'lost') AND d.closed_on >= $1 - $2::int))",
    )
    .bind(week_start)
    .bind(CLOSED_DEALS_KEPT_DAYS)
    .execute(&mut *connection)
    .await?
    .rows_affected();
    sqlx::query("UPDATE snapshot_weeks SET deal_count = $2 WHERE week_start = $1")
        .bind(week_start)
        .bind(i64::try_from(written).unwrap_or(i64::MAX))
        .execute(connection)
        .await?;
    Ok(Some(written))
}

/// The snapshot of the week starting `week_start`, if taken.
pub async fn week(
    connection: &mut PgConnection,
    week_start: NaiveDate,
) -> sqlx::Result<Option<SnapshotWeek>> {
    sqlx::query_as(
        "SELECT week_start, taken_at, deal_count FROM snapshot_weeks WHERE week_start = $1",
    )
    .bind(week_start)
    .fetch_optional(connection)
    .await
}

/// A page of the snapshots taken, newest first. The keyset's tie-breaking id is the nil uuid:
/// a week has one snapshot, so the week alone orders them.
pub async fn list(
    connection: &mut PgConnection,
    page: &Page,
) -> sqlx::Result<Listing<SnapshotWeek>> {
    let mut query = QueryBuilder::<Postgres>::new(
        "SELECT week_start, taken_at, deal_count FROM (SELECT *, \
         '00000000-0000-0000-0000-000000000000'::uuid AS id FROM snapshot_weeks) AS weeks \
         WHERE true",
    );
    page.push_keyset(&mut query);
    let rows = query
        .build_query_as::<SnapshotWeek>()
        .fetch_all(connection)
        .await?;
    Ok(Listing::from_rows(rows, page, |week| {
        (SortKey::Date(week.week_start), Uuid::nil())
    }))
}

#[derive(sqlx::FromRow)]
struct SnapshotDealRow {
    week_start: NaiveDate,
    deal_id: Uuid,
    status: String,
    category: i16,
    amount: Decimal,
    expected_close_date: NaiveDate,
    name: Option<String>,
}

/// The deals of the scope's pipeline for `period` at the snapshots of `from` and `to` (each
/// deal open and expected to close in the period at either), as each snapshot held them, in
/// `currency`; and their names as the read model knows them now.
pub struct MovementDeals {
    pub from: Vec<SnapshotDeal>,
    pub to: Vec<SnapshotDeal>,
    pub names: HashMap<Uuid, String>,
}

pub async fn movement_deals(
    connection: &mut PgConnection,
    scope: &Scope,
    period: &FiscalPeriod,
    currency: CurrencyCode,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<MovementDeals> {
    let weeks = [from, to];
    let mut query = QueryBuilder::<Postgres>::new(
        "SELECT s.week_start, s.deal_id, s.status, s.category, s.amount, s.expected_close_date, \
         d.name FROM snapshot_deals s LEFT JOIN deals d ON d.id = s.deal_id \
         WHERE s.week_start = ANY(",
    );
    query
        .push_bind(weeks)
        .push(") AND s.currency = ")
        .push_bind(currency.as_str());
    push_scope(&mut query, scope, "s.");
    query
        .push(" AND s.deal_id IN (SELECT p.deal_id FROM snapshot_deals p WHERE p.week_start = ANY(")
        .push_bind(weeks)
        .push(") AND p.status = 'open' AND p.expected_close_date >= ")
        .push_bind(period.start())
        .push(" AND p.expected_close_date < ")
        .push_bind(period.end());
    push_scope(&mut query, scope, "p.");
    query.push(")");
    let rows = query
        .build_query_as::<SnapshotDealRow>()
        .fetch_all(connection)
        .await?;
    let mut deals = MovementDeals {
        from: Vec::new(),
        to: Vec::new(),
        names: HashMap::new(),
    };
    for row in rows {
        let decode = |what: String| sqlx::Error::Decode(what.into());
        let deal = SnapshotDeal {
            id: row.deal_id,
            amount: row.amount,
            category: ForecastCategory::from_wire(i32::from(row.category))
                .ok_or_else(|| decode(format!("forecast category {}", row.category)))?,
            expected_close_date: row.expected_close_date,
            status: DealStatus::parse(&row.status)
                .ok_or_else(|| decode(format!("deal status {:?}", row.status)))?,
        };
        if let Some(name) = row.name {
            deals.names.insert(row.deal_id, name);
        }
        // Both weeks may be the same: then the deal is in both snapshots.
        if row.week_start == from {
            deals.from.push(deal.clone());
        }
        if row.week_start == to {
            deals.to.push(deal);
        }
    }
    Ok(deals)
}
