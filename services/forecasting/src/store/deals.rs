//! SQL of the pipeline read model: a deal upserted by version.

use sqlx::{PgConnection, types::Json};

use crate::domain::deal::PipelineDeal;

/// Writes `deal` unless the read model holds it at its version or a newer one. Returns
/// whether it was written.
pub async fn upsert(connection: &mut PgConnection, deal: &PipelineDeal) -> sqlx::Result<bool> {
    let written = sqlx::query(
        "INSERT INTO deals (id, version, name, account_id, owner_id, owner_team_path, \
         pipeline_id, stage_id, stage_name, category, status, effective_probability, currency, \
         amount, corporate_currency, corporate_amount, expected_close_date, closed_on, splits) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         $18, $19) \
         ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, name = EXCLUDED.name, \
         account_id = EXCLUDED.account_id, owner_id = EXCLUDED.owner_id, \
         owner_team_path = EXCLUDED.owner_team_path, pipeline_id = EXCLUDED.pipeline_id, \
         stage_id = EXCLUDED.stage_id, stage_name = EXCLUDED.stage_name, \
         category = EXCLUDED.category, status = EXCLUDED.status, \
         effective_probability = EXCLUDED.effective_probability, currency = EXCLUDED.currency, \
         amount = EXCLUDED.amount, corporate_currency = EXCLUDED.corporate_currency, \
         corporate_amount = EXCLUDED.corporate_amount, \
         expected_close_date = EXCLUDED.expected_close_date, closed_on = EXCLUDED.closed_on, \
         splits = EXCLUDED.splits, updated_at = now() \
         WHERE deals.version < EXCLUDED.version",
    )
    .bind(deal.id)
    .bind(deal.version)
    .bind(&deal.name)
    .bind(deal.account_id)
    .bind(deal.owner_id)
    .bind(deal.owner_team_path.as_str())
    .bind(deal.pipeline_id)
    .bind(deal.stage_id)
    .bind(&deal.stage_name)
    .bind(deal.category as i16)
    .bind(deal.status.as_str())
    .bind(i16::from(deal.effective_probability))
    .bind(deal.amount.currency.as_str())
    .bind(deal.amount.amount)
    .bind(deal.corporate_amount.map(|money| money.currency.as_str()))
    .bind(deal.corporate_amount.map(|money| money.amount))
    .bind(deal.expected_close_date)
    .bind(deal.closed_on)
    .bind(Json(&deal.splits))
    .execute(connection)
    .await?
    .rows_affected();
    Ok(written == 1)
}
