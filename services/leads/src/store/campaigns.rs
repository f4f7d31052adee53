//! Campaigns and the web forms that capture leads for them.

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::{auth::TeamPath, money::Money};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::lead_row::{channel_code, channel_of_code};
use crate::domain::campaign::{Campaign, WebForm};

#[derive(sqlx::FromRow)]
struct CampaignRow {
    id: Uuid,
    name: String,
    channel: i16,
    cost_amount: Decimal,
    cost_currency: String,
    starts_on: Option<NaiveDate>,
    ends_on: Option<NaiveDate>,
    created_at: DateTime<Utc>,
}

impl TryFrom<CampaignRow> for Campaign {
    type Error = sqlx::Error;

    fn try_from(row: CampaignRow) -> sqlx::Result<Campaign> {
        let corrupt = |what: &str, value: &dyn std::fmt::Display| {
            sqlx::Error::Decode(
                format!(
                    "campaign {}: stored {what} {value} is not one this service knows",
                    row.id
                )
                .into(),
            )
        };
        let channel = match row.channel {
            0 => None,
            code => Some(channel_of_code(code).map_err(|_| corrupt("channel", &code))?),
        };
        let currency = row
            .cost_currency
            .parse()
            .map_err(|_| corrupt("currency", &row.cost_currency))?;
        Ok(Campaign {
            id: row.id,
            name: row.name,
            channel,
            cost: Money {
                currency,
                amount: row.cost_amount,
            },
            starts_on: row.starts_on,
            ends_on: row.ends_on,
            created_at: row.created_at,
        })
    }
}

pub async fn insert_campaign(
    connection: &mut PgConnection,
    campaign: &Campaign,
    created_by: Uuid,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO campaigns (id, name, channel, cost_amount, cost_currency, starts_on, ends_on, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(campaign.id)
    .bind(&campaign.name)
    .bind(campaign.channel.map_or(0, channel_code))
    .bind(campaign.cost.amount)
    .bind(campaign.cost.currency.as_str())
    .bind(campaign.starts_on)
    .bind(campaign.ends_on)
    .bind(created_by)
    .bind(campaign.created_at)
    .execute(connection)
    .await?;
    Ok(())
}

const CAMPAIGN_COLUMNS: &str =
    "id, name, channel, cost_amount, cost_currency, starts_on, ends_on, created_at";

pub async fn get_campaign(
    connection: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<Campaign>> {
    let row: Option<CampaignRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(connection)
    .await?;
    row.map(Campaign::try_from).transpose()
}

pub async fn campaigns(connection: &mut PgConnection) -> sqlx::Result<Vec<Campaign>> {
    let rows: Vec<CampaignRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CAMPAIGN_COLUMNS} FROM campaigns ORDER BY created_at DESC LIMIT 500"
    )))
    .fetch_all(connection)
    .await?;
    rows.into_iter().map(Campaign::try_from).collect()
}

#[derive(sqlx::FromRow)]
struct WebFormRow {
    id: Uuid,
    name: String,
    campaign_id: Option<Uuid>,
    team_path: String,
    rate_limit_per_minute: i32,
    active: bool,
}

impl TryFrom<WebFormRow> for WebForm {
    type Error = sqlx::Error;

    fn try_from(row: WebFormRow) -> sqlx::Result<WebForm> {
        let corrupt = |what: &str| {
            sqlx::Error::Decode(format!("web form {}: stored {what} is not valid", row.id).into())
        };
        Ok(WebForm {
            id: row.id,
            team_path: TeamPath::parse(&row.team_path).map_err(|_| corrupt("team path"))?,
            rate_limit_per_minute: u32::try_from(row.rate_limit_per_minute)
                .map_err(|_| corrupt("rate limit"))?,
            name: row.name,
            campaign_id: row.campaign_id,
            active: row.active,
        })
    }
}

pub async fn insert_web_form(
    connection: &mut PgConnection,
    form: &WebForm,
    key_hash: &str,
    created_by: Uuid,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO web_forms (id, name, key_hash, campaign_id, team_path, rate_limit_per_minute, active, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(form.id)
    .bind(&form.name)
    .bind(key_hash)
    .bind(form.campaign_id)
    .bind(form.team_path.as_str())
    .bind(i32::try_from(form.rate_limit_per_minute).unwrap_or(i32::MAX))
    .bind(form.active)
    .bind(created_by)
    .execute(connection)
    .await?;
    Ok(())
}

pub async fn web_form_by_key_hash(
    connection: &mut PgConnection,
    key_hash: &str,
) -> sqlx::Result<Option<WebForm>> {
    let row: Option<WebFormRow> = sqlx::query_as(
        "SELECT id, name, campaign_id, team_path, rate_limit_per_minute, active FROM web_forms WHERE key_hash = $1",
    )
    .bind(key_hash)
    .fetch_optional(connection)
    .await?;
    row.map(WebForm::try_from).transpose()
}

/// Which of `ids` are campaigns.
pub async fn existing_campaigns(
    connection: &mut PgConnection,
    ids: &[Uuid],
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar("SELECT id FROM campaigns WHERE id = ANY($1)")
        .bind(ids)
        .fetch_all(connection)
        .await
}
