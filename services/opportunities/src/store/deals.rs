//! SQL for deals: reads, locks, writes and listings. The team, splits, line items,
//! competitors and committee are parts of the deal (one aggregate, one version), kept as JSON
//! columns of its row (`row`: the columns and the mapping both ways).

mod row;

use chrono::NaiveDate;
use crm_platform::{
    access::{OWNER_COLUMNS, contains_pattern, push_visibility, push_within},
    auth::{Caller, TeamPath, Visibility},
    paging::{Page, SortKey},
};
use sqlx::{PgConnection, Postgres, QueryBuilder, types::Json};
use uuid::Uuid;

use crate::domain::opportunity::{Opportunity, OpportunityStatus};
use row::{DEAL_COLUMNS, DealRow, bind_deal, parts};

/// Inserts unless the id exists; `false` when it did (a retried create or a redelivered
/// conversion).
pub(crate) async fn insert_deal(
    connection: &mut PgConnection,
    deal: &Opportunity,
    created_by: Option<Uuid>,
) -> sqlx::Result<bool> {
    let query = sqlx::query(
        "INSERT INTO opportunities (id, name, account_id, owner_id, owner_team_path, pipeline_id, \
         stage_id, status, probability_override, effective_probability, currency, amount, \
         corporate_currency, corporate_amount, exchange_rate, rate_date, expected_close_date, \
         next_step, source_lead_id, campaign_id, custom_fields, line_items, team, splits, \
         competitors, committee, outcome, closed_from_stage_id, stage_entered_at, version, \
         created_at, updated_at, created_by, last_activity_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
         $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $31) \
         ON CONFLICT (id) DO NOTHING",
    );
    let inserted = bind_deal(query, deal, parts(deal))
        .bind(created_by)
        .execute(connection)
        .await?
        .rows_affected();
    Ok(inserted == 1)
}

/// Writes every column of the deal (its version already advanced by the caller).
pub(crate) async fn update_deal(
    connection: &mut PgConnection,
    deal: &Opportunity,
) -> sqlx::Result<()> {
    let query = sqlx::query(
        "UPDATE opportunities SET name = $2, account_id = $3, owner_id = $4, owner_team_path = $5, \
         pipeline_id = $6, stage_id = $7, status = $8, probability_override = $9, \
         effective_probability = $10, currency = $11, amount = $12, corporate_currency = $13, \
         corporate_amount = $14, exchange_rate = $15, rate_date = $16, expected_close_date = $17, \
         next_step = $18, source_lead_id = $19, campaign_id = $20, custom_fields = $21, \
         line_items = $22, team = $23, splits = $24, competitors = $25, committee = $26, \
         outcome = $27, closed_from_stage_id = $28, stage_entered_at = $29, version = $30, \
         created_at = $31, updated_at = $32, \
         closed_at = ($27::jsonb ->> 'closed_at')::timestamptz, closed_on = ($27::jsonb ->> 'closed_on')::date \
         WHERE id = $1",
    );
    bind_deal(query, deal, parts(deal))
        .execute(connection)
        .await
        .map(drop)
}

/// One deal, and who created it.
pub(crate) async fn get_deal(
    connection: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> sqlx::Result<Option<(Opportunity, Option<Uuid>)>> {
    let row: Option<DealRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DEAL_COLUMNS} FROM opportunities WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    )))
    .bind(id)
    .fetch_optional(connection)
    .await?;
    row.map(|row| {
        let created_by = row.created_by;
        Opportunity::try_from(row).map(|deal| (deal, created_by))
    })
    .transpose()
}

/// Deals by id, in the order of `ids` (missing ids are left out).
pub(crate) async fn get_deals(
    connection: &mut PgConnection,
    ids: &[Uuid],
) -> sqlx::Result<Vec<Opportunity>> {
    let rows: Vec<DealRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DEAL_COLUMNS} FROM opportunities WHERE id = ANY($1)"
    )))
    .bind(ids)
    .fetch_all(connection)
    .await?;
    let mut deals: Vec<Opportunity> = rows
        .into_iter()
        .map(Opportunity::try_from)
        .collect::<sqlx::Result<_>>()?;
    deals.sort_by_key(|deal| ids.iter().position(|id| *id == deal.id));
    Ok(deals)
}

/// The deals of `owner_id` (every status), locked: a team move re-scopes them.
pub(crate) async fn lock_deals_of_owner(
    connection: &mut PgConnection,
    owner_id: Uuid,
) -> sqlx::Result<Vec<Opportunity>> {
    let rows: Vec<DealRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DEAL_COLUMNS} FROM opportunities WHERE owner_id = $1 ORDER BY id FOR UPDATE"
    )))
    .bind(owner_id)
    .fetch_all(connection)
    .await?;
    rows.into_iter().map(Opportunity::try_from).collect()
}

/// The deals of an account (every status), locked: an account merge moves them.
pub(crate) async fn lock_deals_of_account(
    connection: &mut PgConnection,
    account_id: Uuid,
) -> sqlx::Result<Vec<Opportunity>> {
    let rows: Vec<DealRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DEAL_COLUMNS} FROM opportunities WHERE account_id = $1 ORDER BY id FOR UPDATE"
    )))
    .bind(account_id)
    .fetch_all(connection)
    .await?;
    rows.into_iter().map(Opportunity::try_from).collect()
}

/// What a listing filters by (each optional).
#[derive(Debug, Default)]
pub(crate) struct DealFilter {
    pub account_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub team_path: Option<TeamPath>,
    pub pipeline_id: Option<Uuid>,
    pub stage_id: Option<Uuid>,
    /// `None`: every status but archived.
    pub status: Option<OpportunityStatus>,
    pub close_date_from: Option<NaiveDate>,
    pub close_date_to: Option<NaiveDate>,
    pub name_contains: Option<String>,
}

/// ` AND <reader reads the deal>` over the columns of `opportunities` (unqualified): the deal
/// is in their reach, or its team or splits name them — [`crate::service::visible`]'s rule, for
/// every query that lists deals or what hangs off them (schedules, quotes, won amounts).
pub(crate) fn push_readable(query: &mut QueryBuilder<Postgres>, reader: &Caller) {
    let visibility = reader.visibility();
    if matches!(visibility, Visibility::All) {
        return;
    }
    query.push(" AND ((true");
    push_visibility(query, &visibility, OWNER_COLUMNS);
    // `member_ids`: the user ids of `team` and `splits` (a generated column, GIN-indexed).
    query
        .push(") OR member_ids @> jsonb_build_array(")
        .push_bind(reader.user_id.to_string())
        .push("::text))");
}

/// One page of the deals the caller may see: those in their reach, and those whose team or
/// splits name them.
pub(crate) async fn list_deals(
    connection: &mut PgConnection,
    reader: &Caller,
    filter: &DealFilter,
    page: &Page,
) -> sqlx::Result<Vec<Opportunity>> {
    let mut query = QueryBuilder::<Postgres>::new(format!(
        "SELECT {DEAL_COLUMNS} FROM opportunities WHERE true"
    ));
    push_readable(&mut query, reader);
    match filter.status {
        Some(status) => {
            query.push(" AND status = ").push_bind(status as i16);
        }
        None => {
            query
                .push(" AND status <> ")
                .push_bind(OpportunityStatus::Archived as i16);
        }
    }
    if let Some(account_id) = filter.account_id {
        query.push(" AND account_id = ").push_bind(account_id);
    }
    if let Some(owner_id) = filter.owner_id {
        query.push(" AND owner_id = ").push_bind(owner_id);
    }
    if let Some(team_path) = &filter.team_path {
        query.push(" AND ");
        push_within(&mut query, "owner_team_path", team_path);
    }
    if let Some(pipeline_id) = filter.pipeline_id {
        query.push(" AND pipeline_id = ").push_bind(pipeline_id);
    }
    if let Some(stage_id) = filter.stage_id {
        query.push(" AND stage_id = ").push_bind(stage_id);
    }
    if let Some(from) = filter.close_date_from {
        query.push(" AND expected_close_date >= ").push_bind(from);
    }
    if let Some(to) = filter.close_date_to {
        query.push(" AND expected_close_date <= ").push_bind(to);
    }
    if let Some(text) = &filter.name_contains {
        query
            .push(" AND name ILIKE ")
            .push_bind(contains_pattern(text));
    }
    page.push_keyset(&mut query);
    let rows: Vec<DealRow> = query.build_query_as().fetch_all(connection).await?;
    rows.into_iter().map(Opportunity::try_from).collect()
}

/// The sort key of a deal in a listing sorted by `column`.
pub(crate) fn sort_key(deal: &Opportunity, column: &str) -> SortKey {
    match column {
        "name" => SortKey::Text(deal.name.clone()),
        "expected_close_date" => SortKey::Date(deal.expected_close_date),
        "updated_at" => SortKey::Time(deal.updated_at),
        _ => SortKey::Time(deal.created_at),
    }
}

/// The deals whose buying committee holds the contact, locked: a contact merge re-points them.
pub(crate) async fn lock_deals_with_committee_member(
    connection: &mut PgConnection,
    contact_id: Uuid,
) -> sqlx::Result<Vec<Opportunity>> {
    let rows: Vec<DealRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DEAL_COLUMNS} FROM opportunities WHERE committee @> $1 ORDER BY id FOR UPDATE"
    )))
    .bind(Json(serde_json::json!([{ "contact_id": contact_id }])))
    .fetch_all(connection)
    .await?;
    rows.into_iter().map(Opportunity::try_from).collect()
}
