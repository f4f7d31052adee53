//! The opportunities service's deals as the campaign funnel needs them (`campaign_deals`),
//! kept from its events by version.

use chrono::NaiveDate;
use crm_platform::money::Money;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::campaign_deal::{CampaignDeal, DealCandidate, DealStatus};

/// Stores `deal` unless the row already holds its version or a newer one: `false` when it
/// did, so redelivery, replay and out-of-order delivery change nothing.
pub(crate) async fn upsert_deal(
    connection: &mut PgConnection,
    deal: &CampaignDeal,
) -> sqlx::Result<bool> {
    let corporate = deal.corporate_amount.as_ref();
    let amount = deal.amount.as_ref();
    let applied = sqlx::query(
        "INSERT INTO campaign_deals (opportunity_id, campaign_id, source_lead_id, status, \
         corporate_amount, corporate_currency, amount, currency, closed_on, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (opportunity_id) DO UPDATE SET campaign_id = EXCLUDED.campaign_id, \
         source_lead_id = EXCLUDED.source_lead_id, status = EXCLUDED.status, \
         corporate_amount = EXCLUDED.corporate_amount, corporate_currency = EXCLUDED.corporate_currency, \
         amount = EXCLUDED.amount, currency = EXCLUDED.currency, closed_on = EXCLUDED.closed_on, \
         version = EXCLUDED.version, updated_at = now() \
         WHERE campaign_deals.version < EXCLUDED.version",
    )
    .bind(deal.opportunity_id)
    .bind(deal.campaign_id)
    .bind(deal.source_lead_id)
    .bind(deal.status.as_str())
    .bind(corporate.map(|money| money.amount))
    .bind(corporate.map(|money| money.currency.as_str()))
    .bind(amount.map(|money| money.amount))
    .bind(amount.map(|money| money.currency.as_str()))
    .bind(deal.closed_on)
    .bind(deal.version)
    .execute(connection)
    .await?
    .rows_affected();
    Ok(applied == 1)
}

const CANDIDATE_COLUMNS: &str = "d.opportunity_id, d.campaign_id, d.source_lead_id, d.status, \
     d.corporate_amount, d.corporate_currency, d.amount, d.currency, d.closed_on, d.version, \
     l.campaign_id AS source_lead_campaign_id";

#[derive(sqlx::FromRow)]
struct CandidateRow {
    opportunity_id: Uuid,
    campaign_id: Option<Uuid>,
    source_lead_id: Option<Uuid>,
    status: String,
    corporate_amount: Option<Decimal>,
    corporate_currency: Option<String>,
    amount: Option<Decimal>,
    currency: Option<String>,
    closed_on: Option<NaiveDate>,
    version: i64,
    source_lead_campaign_id: Option<Uuid>,
}

impl TryFrom<CandidateRow> for DealCandidate {
    type Error = sqlx::Error;

    fn try_from(row: CandidateRow) -> sqlx::Result<DealCandidate> {
        let corrupt = |what: &str, value: &str| {
            sqlx::Error::Decode(
                format!(
                    "deal {}: stored {what} {value:?} is not one this service knows",
                    row.opportunity_id
                )
                .into(),
            )
        };
        let money = |amount: Option<Decimal>, currency: Option<&str>| match (amount, currency) {
            (Some(amount), Some(code)) => code
                .parse()
                .map(|currency| Some(Money { currency, amount }))
                .map_err(|_| corrupt("currency", code)),
            _ => Ok(None),
        };
        let status =
            DealStatus::parse(&row.status).ok_or_else(|| corrupt("status", &row.status))?;
        Ok(DealCandidate {
            deal: CampaignDeal {
                opportunity_id: row.opportunity_id,
                campaign_id: row.campaign_id,
                source_lead_id: row.source_lead_id,
                status,
                corporate_amount: money(row.corporate_amount, row.corporate_currency.as_deref())?,
                amount: money(row.amount, row.currency.as_deref())?,
                closed_on: row.closed_on,
                version: row.version,
            },
            source_lead_campaign_id: row.source_lead_campaign_id,
        })
    }
}

/// The deals that may count for the campaign — those naming it, and those whose source lead
/// is one of its leads — each with its lead's campaign; the attribution rule itself
/// (`domain::campaign_deal::attributed_campaign`) picks among them. Archived deals count
/// nowhere and are not read.
pub(crate) async fn deal_candidates(
    connection: &mut PgConnection,
    campaign_id: Uuid,
) -> sqlx::Result<Vec<DealCandidate>> {
    // Two indexed halves rather than one OR across the join, which no index serves.
    let rows: Vec<CandidateRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CANDIDATE_COLUMNS} FROM campaign_deals d LEFT JOIN leads l ON l.id = d.source_lead_id \
         WHERE d.campaign_id = $1 AND d.status <> 'archived' \
         UNION ALL \
         SELECT {CANDIDATE_COLUMNS} FROM leads l JOIN campaign_deals d ON d.source_lead_id = l.id \
         WHERE l.campaign_id = $1 AND d.campaign_id IS DISTINCT FROM $1 AND d.status <> 'archived'"
    )))
    .bind(campaign_id)
    .fetch_all(connection)
    .await?;
    rows.into_iter().map(DealCandidate::try_from).collect()
}
