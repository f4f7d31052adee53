//! SQL for deals: rows, reads, locks, writes and listings. The team, splits, line items,
//! competitors and committee are parts of the deal (one aggregate, one version), kept as JSON
//! columns of its row.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::{
    access::{OWNER_COLUMNS, contains_pattern, push_visibility, push_within},
    auth::{Caller, TeamPath, Visibility},
    money::{CurrencyCode, Money},
    paging::{Page, SortKey},
};
use crm_proto::crm::{
    accounts::v1::BuyingRole,
    opportunities::v1::{Attitude, CompetitorStatus, DealTeamRole},
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, Postgres, QueryBuilder, types::Json};
use uuid::Uuid;

use super::{corrupt, stored_team};
use crate::domain::{
    CorporateAmount,
    opportunity::{
        CloseOutcome, CommitteeMember, DealCompetitor, LineItem, Opportunity, OpportunityStatus,
        RevenueSplit, TeamMember,
    },
};

const DEAL_COLUMNS: &str = "id, name, account_id, owner_id, owner_team_path, pipeline_id, stage_id, \
    status, probability_override, effective_probability, currency, amount, corporate_currency, \
    corporate_amount, exchange_rate, rate_date, expected_close_date, next_step, source_lead_id, \
    campaign_id, custom_fields, line_items, team, splits, competitors, committee, outcome, \
    closed_from_stage_id, stage_entered_at, version, created_by, created_at, updated_at";

#[derive(Serialize, Deserialize)]
struct LineItemJson {
    product_code: String,
    product_name: String,
    quantity: Decimal,
    unit_price: Decimal,
    discount_percent: Decimal,
}

#[derive(Serialize, Deserialize)]
struct TeamMemberJson {
    user_id: Uuid,
    role: i32,
}

#[derive(Serialize, Deserialize)]
struct SplitJson {
    user_id: Uuid,
    percent: Decimal,
}

#[derive(Serialize, Deserialize)]
struct CompetitorJson {
    competitor_id: Uuid,
    competitor_name: String,
    strengths: String,
    weaknesses: String,
    status: i32,
}

#[derive(Serialize, Deserialize)]
struct CommitteeJson {
    contact_id: Uuid,
    contact_name: String,
    role: i32,
    attitude: i32,
    influences: Vec<Uuid>,
    note: String,
}

#[derive(Serialize, Deserialize)]
struct OutcomeJson {
    close_reason_id: Uuid,
    close_reason_label: String,
    note: String,
    lost_to_competitor_id: Option<Uuid>,
    closed_on: NaiveDate,
    closed_at: DateTime<Utc>,
    closed_by: Option<Uuid>,
}

#[derive(sqlx::FromRow)]
struct DealRow {
    id: Uuid,
    name: String,
    account_id: Uuid,
    owner_id: Uuid,
    owner_team_path: String,
    pipeline_id: Uuid,
    stage_id: Uuid,
    status: i16,
    probability_override: Option<i16>,
    effective_probability: i16,
    currency: String,
    amount: Decimal,
    corporate_currency: Option<String>,
    corporate_amount: Option<Decimal>,
    exchange_rate: Option<Decimal>,
    rate_date: Option<NaiveDate>,
    expected_close_date: NaiveDate,
    next_step: String,
    source_lead_id: Option<Uuid>,
    campaign_id: Option<Uuid>,
    custom_fields: Json<BTreeMap<String, String>>,
    line_items: Json<Vec<LineItemJson>>,
    team: Json<Vec<TeamMemberJson>>,
    splits: Json<Vec<SplitJson>>,
    competitors: Json<Vec<CompetitorJson>>,
    committee: Json<Vec<CommitteeJson>>,
    outcome: Option<Json<OutcomeJson>>,
    closed_from_stage_id: Option<Uuid>,
    stage_entered_at: DateTime<Utc>,
    version: i64,
    #[allow(dead_code)]
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn currency(code: &str) -> sqlx::Result<CurrencyCode> {
    CurrencyCode::from_str(code).map_err(corrupt)
}

fn probability(value: i16) -> sqlx::Result<u8> {
    u8::try_from(value).map_err(corrupt)
}

fn wire_enum<T: TryFrom<i32>>(value: i32, what: &str) -> sqlx::Result<T> {
    T::try_from(value).map_err(|_| corrupt(format!("{value} is not a {what}")))
}

impl TryFrom<DealRow> for Opportunity {
    type Error = sqlx::Error;

    fn try_from(row: DealRow) -> sqlx::Result<Self> {
        let deal_currency = currency(&row.currency)?;
        let corporate = match (
            row.corporate_currency,
            row.corporate_amount,
            row.exchange_rate,
            row.rate_date,
        ) {
            (Some(code), Some(amount), Some(rate), Some(rate_date)) => Some(CorporateAmount {
                amount: Money {
                    currency: currency(&code)?,
                    amount,
                },
                rate,
                rate_date,
            }),
            _ => None,
        };
        Ok(Opportunity {
            id: row.id,
            name: row.name,
            account_id: row.account_id,
            owner_id: row.owner_id,
            owner_team_path: stored_team(&row.owner_team_path)?,
            pipeline_id: row.pipeline_id,
            stage_id: row.stage_id,
            status: OpportunityStatus::try_from(row.status).map_err(corrupt)?,
            probability_override: row.probability_override.map(probability).transpose()?,
            effective_probability: probability(row.effective_probability)?,
            amount: Money {
                currency: deal_currency,
                amount: row.amount,
            },
            corporate,
            expected_close_date: row.expected_close_date,
            next_step: row.next_step,
            source_lead_id: row.source_lead_id,
            campaign_id: row.campaign_id,
            custom_fields: row.custom_fields.0,
            line_items: row
                .line_items
                .0
                .into_iter()
                .map(|item| LineItem {
                    product_code: item.product_code,
                    product_name: item.product_name,
                    quantity: item.quantity,
                    unit_price: Money {
                        currency: deal_currency,
                        amount: item.unit_price,
                    },
                    discount_percent: item.discount_percent,
                })
                .collect(),
            team: row
                .team
                .0
                .into_iter()
                .map(|member| {
                    Ok(TeamMember {
                        user_id: member.user_id,
                        role: wire_enum::<DealTeamRole>(member.role, "team role")?,
                    })
                })
                .collect::<sqlx::Result<_>>()?,
            splits: row
                .splits
                .0
                .into_iter()
                .map(|split| RevenueSplit {
                    user_id: split.user_id,
                    percent: split.percent,
                })
                .collect(),
            competitors: row
                .competitors
                .0
                .into_iter()
                .map(|competitor| {
                    Ok(DealCompetitor {
                        competitor_id: competitor.competitor_id,
                        competitor_name: competitor.competitor_name,
                        strengths: competitor.strengths,
                        weaknesses: competitor.weaknesses,
                        status: wire_enum::<CompetitorStatus>(
                            competitor.status,
                            "competitor status",
                        )?,
                    })
                })
                .collect::<sqlx::Result<_>>()?,
            committee: row
                .committee
                .0
                .into_iter()
                .map(|member| {
                    Ok(CommitteeMember {
                        contact_id: member.contact_id,
                        contact_name: member.contact_name,
                        role: wire_enum::<BuyingRole>(member.role, "buying role")?,
                        attitude: wire_enum::<Attitude>(member.attitude, "attitude")?,
                        influences: member.influences,
                        note: member.note,
                    })
                })
                .collect::<sqlx::Result<_>>()?,
            outcome: row.outcome.map(|outcome| {
                let outcome = outcome.0;
                CloseOutcome {
                    close_reason_id: outcome.close_reason_id,
                    close_reason_label: outcome.close_reason_label,
                    note: outcome.note,
                    lost_to_competitor_id: outcome.lost_to_competitor_id,
                    closed_on: outcome.closed_on,
                    closed_at: outcome.closed_at,
                    closed_by: outcome.closed_by,
                }
            }),
            closed_from_stage_id: row.closed_from_stage_id,
            stage_entered_at: row.stage_entered_at,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// The JSON columns of a deal, as written.
struct DealParts {
    line_items: Json<Vec<LineItemJson>>,
    team: Json<Vec<TeamMemberJson>>,
    splits: Json<Vec<SplitJson>>,
    competitors: Json<Vec<CompetitorJson>>,
    committee: Json<Vec<CommitteeJson>>,
    outcome: Option<Json<OutcomeJson>>,
}

fn parts(deal: &Opportunity) -> DealParts {
    DealParts {
        line_items: Json(
            deal.line_items
                .iter()
                .map(|item| LineItemJson {
                    product_code: item.product_code.clone(),
                    product_name: item.product_name.clone(),
                    quantity: item.quantity,
                    unit_price: item.unit_price.amount,
                    discount_percent: item.discount_percent,
                })
                .collect(),
        ),
        team: Json(
            deal.team
                .iter()
                .map(|member| TeamMemberJson {
                    user_id: member.user_id,
                    role: member.role as i32,
                })
                .collect(),
        ),
        splits: Json(
            deal.splits
                .iter()
                .map(|split| SplitJson {
                    user_id: split.user_id,
                    percent: split.percent,
                })
                .collect(),
        ),
        competitors: Json(
            deal.competitors
                .iter()
                .map(|competitor| CompetitorJson {
                    competitor_id: competitor.competitor_id,
                    competitor_name: competitor.competitor_name.clone(),
                    strengths: competitor.strengths.clone(),
                    weaknesses: competitor.weaknesses.clone(),
                    status: competitor.status as i32,
                })
                .collect(),
        ),
        committee: Json(
            deal.committee
                .iter()
                .map(|member| CommitteeJson {
                    contact_id: member.contact_id,
                    contact_name: member.contact_name.clone(),
                    role: member.role as i32,
                    attitude: member.attitude as i32,
                    influences: member.influences.clone(),
                    note: member.note.clone(),
                })
                .collect(),
        ),
        outcome: deal.outcome.as_ref().map(|outcome| {
            Json(OutcomeJson {
                close_reason_id: outcome.close_reason_id,
                close_reason_label: outcome.close_reason_label.clone(),
                note: outcome.note.clone(),
                lost_to_competitor_id: outcome.lost_to_competitor_id,
                closed_on: outcome.closed_on,
                closed_at: outcome.closed_at,
                closed_by: outcome.closed_by,
            })
        }),
    }
}

/// Binds every column of DEAL_COLUMNS but `created_by`, in order ($1 … $32).
fn bind_deal<'q>(
    query: sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>,
    deal: &'q Opportunity,
    parts: DealParts,
) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
    let corporate = deal.corporate.as_ref();
    query
        .bind(deal.id)
        .bind(&deal.name)
        .bind(deal.account_id)
        .bind(deal.owner_id)
        .bind(deal.owner_team_path.as_str())
        .bind(deal.pipeline_id)
        .bind(deal.stage_id)
        .bind(deal.status as i16)
        .bind(deal.probability_override.map(i16::from))
        .bind(i16::from(deal.effective_probability))
        .bind(deal.amount.currency.as_str())
        .bind(deal.amount.amount)
        .bind(corporate.map(|corporate| corporate.amount.currency.as_str()))
        .bind(corporate.map(|corporate| corporate.amount.amount))
        .bind(corporate.map(|corporate| corporate.rate))
        .bind(corporate.map(|corporate| corporate.rate_date))
        .bind(deal.expected_close_date)
        .bind(&deal.next_step)
        .bind(deal.source_lead_id)
        .bind(deal.campaign_id)
        .bind(Json(&deal.custom_fields))
        .bind(parts.line_items)
        .bind(parts.team)
        .bind(parts.splits)
        .bind(parts.competitors)
        .bind(parts.committee)
        .bind(parts.outcome)
        .bind(deal.closed_from_stage_id)
        .bind(deal.stage_entered_at)
        .bind(deal.version)
        .bind(deal.created_at)
        .bind(deal.updated_at)
}

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
