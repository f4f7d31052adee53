//! A deal's row: its columns, the JSON columns of its parts (team, splits, line items,
//! competitors, committee, outcome) and the mapping both ways — a stored value the domain does
//! not know is an error, never a default.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::money::{CurrencyCode, Money};
use crm_proto::crm::{
    accounts::v1::BuyingRole,
    opportunities::v1::{Attitude, CompetitorStatus, DealTeamRole},
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::{Postgres, types::Json};
use uuid::Uuid;

use crate::{
    domain::{
        CorporateAmount,
        opportunity::{
            CloseOutcome, CommitteeMember, DealCompetitor, LineItem, Opportunity,
            OpportunityStatus, RevenueSplit, TeamMember,
        },
    },
    store::{corrupt, stored_team},
};

pub(super) const DEAL_COLUMNS: &str = "id, name, account_id, owner_id, owner_team_path, pipeline_id, stage_id, \
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
pub(super) struct DealRow {
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
    pub(super) created_by: Option<Uuid>,
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
pub(super) struct DealParts {
    line_items: Json<Vec<LineItemJson>>,
    team: Json<Vec<TeamMemberJson>>,
    splits: Json<Vec<SplitJson>>,
    competitors: Json<Vec<CompetitorJson>>,
    committee: Json<Vec<CommitteeJson>>,
    outcome: Option<Json<OutcomeJson>>,
}

pub(super) fn parts(deal: &Opportunity) -> DealParts {
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
pub(super) fn bind_deal<'q>(
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
