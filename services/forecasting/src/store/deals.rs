//! SQL of the pipeline read model's deals: read under a row lock, inserted, replaced, listed.

use std::collections::HashMap;

use chrono::NaiveDate;
use crm_platform::{
    auth::TeamPath,
    money::{CurrencyCode, Money},
    paging::{Listing, Page, SortKey},
};
use rust_decimal::Decimal;
use sqlx::{PgConnection, Postgres, QueryBuilder, types::Json};
use uuid::Uuid;

use super::push_scope;
use crate::domain::{
    deal::{DealStatus, ForecastCategory, PipelineDeal, Split},
    forecast::CategoryOverride,
    scope::Scope,
};

const COLUMNS: &str = "d.id, d.version, d.name, d.account_id, d.owner_id, d.owner_team_path, \
     d.pipeline_id, d.stage_id, d.stage_name, d.category, d.status, d.effective_probability, \
     d.currency, d.amount, d.corporate_currency, d.corporate_amount, d.expected_close_date, \
     d.closed_on, d.splits, o.stage_id AS override_stage_id, o.category AS override_category";

#[derive(sqlx::FromRow)]
struct DealRow {
    id: Uuid,
    version: i64,
    name: String,
    account_id: Uuid,
    owner_id: Uuid,
    owner_team_path: String,
    pipeline_id: Uuid,
    stage_id: Uuid,
    stage_name: String,
    category: i16,
    status: String,
    effective_probability: i16,
    currency: String,
    amount: Decimal,
    corporate_currency: Option<String>,
    corporate_amount: Option<Decimal>,
    expected_close_date: NaiveDate,
    closed_on: Option<NaiveDate>,
    splits: Json<Vec<Split>>,
    override_stage_id: Option<Uuid>,
    override_category: Option<i16>,
}

/// A deal as stored, with the rep's category override if one is set.
pub struct StoredDeal {
    pub deal: PipelineDeal,
    pub category_override: Option<CategoryOverride>,
}

fn category(value: i16) -> sqlx::Result<ForecastCategory> {
    ForecastCategory::from_wire(i32::from(value))
        .ok_or_else(|| sqlx::Error::Decode(format!("forecast category {value}").into()))
}

/// Money read back from a currency column and an amount column.
pub(super) fn money(currency: &str, amount: Decimal) -> sqlx::Result<Money> {
    let currency: CurrencyCode = currency
        .parse()
        .map_err(|error: String| sqlx::Error::Decode(error.into()))?;
    Ok(Money { currency, amount })
}

impl DealRow {
    fn into_stored(self) -> sqlx::Result<StoredDeal> {
        let decode = |error: String| sqlx::Error::Decode(error.into());
        let category_override = match (self.override_stage_id, self.override_category) {
            (Some(stage_id), Some(chosen)) => Some(CategoryOverride {
                stage_id,
                category: category(chosen)?,
            }),
            _ => None,
        };
        let corporate_amount = match (&self.corporate_currency, self.corporate_amount) {
            (Some(currency), Some(amount)) => Some(money(currency, amount)?),
            _ => None,
        };
        Ok(StoredDeal {
            deal: PipelineDeal {
                id: self.id,
                version: self.version,
                name: self.name,
                account_id: self.account_id,
                owner_id: self.owner_id,
                owner_team_path: TeamPath::parse(&self.owner_team_path).map_err(decode)?,
                pipeline_id: self.pipeline_id,
                stage_id: self.stage_id,
                stage_name: self.stage_name,
                category: category(self.category)?,
                status: DealStatus::parse(&self.status)
                    .ok_or_else(|| decode(format!("deal status {:?}", self.status)))?,
                effective_probability: u8::try_from(self.effective_probability)
                    .map_err(|error| decode(error.to_string()))?,
                amount: money(&self.currency, self.amount)?,
                corporate_amount,
                expected_close_date: self.expected_close_date,
                closed_on: self.closed_on,
                splits: self.splits.0,
            },
            category_override,
        })
    }
}

/// The deal with its override, locked until the transaction ends (so two replicas applying
/// events of one deal move its contribution one after the other); `None` if never heard of.
pub async fn lock(connection: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<StoredDeal>> {
    Ok(lock_all(connection, &[id]).await?.pop())
}

/// The deals of `ids` the read model holds, with their overrides, locked in id order (two
/// replicas locking overlapping sets wait for each other instead of deadlocking).
pub async fn lock_all(
    connection: &mut PgConnection,
    ids: &[Uuid],
) -> sqlx::Result<Vec<StoredDeal>> {
    sqlx::query_as::<_, DealRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM deals d LEFT JOIN category_overrides o ON o.deal_id = d.id \
         WHERE d.id = ANY($1) ORDER BY d.id FOR UPDATE OF d"
    )))
    .bind(ids)
    .fetch_all(connection)
    .await?
    .into_iter()
    .map(DealRow::into_stored)
    .collect()
}

const WRITTEN: &str = "id, version, name, account_id, owner_id, owner_team_path, pipeline_id, \
     stage_id, stage_name, category, status, effective_probability, currency, amount, \
     corporate_currency, corporate_amount, expected_close_date, closed_on, splits";

/// Inserts deals heard of for the first time, answering for each one inserted the override a
/// rep set on it (one outlives a rebuild of the read model); a deal another transaction
/// inserted meanwhile is not in the answer (then [`lock_all`] reads that one).
pub async fn insert_all(
    connection: &mut PgConnection,
    deals: &[&PipelineDeal],
) -> sqlx::Result<HashMap<Uuid, Option<CategoryOverride>>> {
    if deals.is_empty() {
        return Ok(HashMap::new());
    }
    let mut query =
        QueryBuilder::<Postgres>::new(format!("WITH inserted AS (INSERT INTO deals ({WRITTEN}) "));
    push_values(&mut query, deals);
    query.push(
        " ON CONFLICT (id) DO NOTHING RETURNING id) SELECT i.id, o.stage_id, o.category \
         FROM inserted i LEFT JOIN category_overrides o ON o.deal_id = i.id",
    );
    let rows: Vec<(Uuid, Option<Uuid>, Option<i16>)> =
        query.build_query_as().fetch_all(connection).await?;
    rows.into_iter()
        .map(|row| match row {
            (id, Some(stage_id), Some(chosen)) => Ok((
                id,
                Some(CategoryOverride {
                    stage_id,
                    category: category(chosen)?,
                }),
            )),
            (id, _, _) => Ok((id, None)),
        })
        .collect()
}

/// Replaces the stored deals (locked by [`lock_all`], each older than its replacement) and
/// takes their line items away (the caller writes the new versions'), in one statement.
pub async fn replace_all(
    connection: &mut PgConnection,
    deals: &[&PipelineDeal],
) -> sqlx::Result<()> {
    if deals.is_empty() {
        return Ok(());
    }
    let mut query = QueryBuilder::<Postgres>::new(format!(
        "WITH replaced AS (UPDATE deals AS d SET ({WRITTEN}) = (v.{}), updated_at = now() \
         FROM (",
        WRITTEN.replace(", ", ", v.")
    ));
    push_values(&mut query, deals);
    let ids: Vec<Uuid> = deals.iter().map(|deal| deal.id).collect();
    query
        .push(format!(
            ") AS v({WRITTEN}) WHERE d.id = v.id RETURNING 1) \
             DELETE FROM deal_lines WHERE deal_id = ANY("
        ))
        .push_bind(ids)
        .push(")");
    query.build().execute(connection).await?;
    Ok(())
}

/// `VALUES (…), (…)`: each deal's written columns.
fn push_values(query: &mut QueryBuilder<Postgres>, deals: &[&PipelineDeal]) {
    query.push_values(deals, |mut values, deal| {
        values
            .push_bind(deal.id)
            .push_bind(deal.version)
            .push_bind(deal.name.clone())
            .push_bind(deal.account_id)
            .push_bind(deal.owner_id)
            .push_bind(deal.owner_team_path.as_str().to_owned())
            .push_bind(deal.pipeline_id)
            .push_bind(deal.stage_id)
            .push_bind(deal.stage_name.clone())
            .push_bind(deal.category as i16)
            .push_bind(deal.status.as_str())
            .push_bind(i16::from(deal.effective_probability))
            .push_bind(deal.amount.currency.as_str())
            .push_bind(deal.amount.amount)
            .push_bind(deal.corporate_amount.map(|money| money.currency.as_str()))
            .push_bind(deal.corporate_amount.map(|money| money.amount))
            .push_bind(deal.expected_close_date)
            .push_bind(deal.closed_on)
            .push_bind(Json(deal.splits.clone()));
    });
}

/// Which deals of a period a drill-down lists.
pub struct DealFilter<'a> {
    pub scope: &'a Scope,
    /// The period's first day and the day after its last.
    pub from: NaiveDate,
    pub until: NaiveDate,
    /// Only open deals counted in this category, or won deals for closed.
    pub category: Option<ForecastCategory>,
}

/// The deals a forecast of the period counts (open ones by close date, closed ones by the day
/// closed), by that day then id.
pub async fn list(
    connection: &mut PgConnection,
    filter: &DealFilter<'_>,
    page: &Page,
) -> sqlx::Result<Listing<StoredDeal>> {
    let mut query = QueryBuilder::<Postgres>::new(format!(
        "SELECT * FROM (SELECT {COLUMNS}, \
         CASE WHEN d.status = 'open' THEN d.expected_close_date \
         ELSE coalesce(d.closed_on, d.expected_close_date) END AS counted_on, \
         CASE WHEN d.status = 'won' THEN 4 \
         WHEN d.status = 'open' AND o.stage_id = d.stage_id THEN o.category \
         ELSE d.category END AS counted_category \
         FROM deals d LEFT JOIN category_overrides o ON o.deal_id = d.id \
         WHERE d.status <> 'archived'"
    ));
    push_scope(&mut query, filter.scope, "d.");
    query
        .push(") AS counted WHERE counted_on >= ")
        .push_bind(filter.from)
        .push(" AND counted_on < ")
        .push_bind(filter.until);
    if let Some(category) = filter.category {
        query
            .push(" AND status <> 'lost' AND counted_category = ")
            .push_bind(category as i16);
    }
    page.push_keyset(&mut query);
    let rows = query
        .build_query_as::<CountedRow>()
        .fetch_all(connection)
        .await?;
    let rows = rows
        .into_iter()
        .map(|row| Ok((row.counted_on, row.deal.into_stored()?)))
        .collect::<sqlx::Result<Vec<_>>>()?;
    Ok(Listing::from_rows(rows, page, |(day, stored)| {
        (SortKey::Date(*day), stored.deal.id)
    })
    .map(|(_, stored)| stored))
}

#[derive(sqlx::FromRow)]
struct CountedRow {
    #[sqlx(flatten)]
    deal: DealRow,
    counted_on: NaiveDate,
}
