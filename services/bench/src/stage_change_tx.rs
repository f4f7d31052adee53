//! The `stage-change` baseline's transaction: the statements `ChangeStage` sends
//! (`service::lifecycle::change_stage` with `store::deals`, `store::pipelines` and
//! `store::history`), written out here and sent straight to PostgreSQL, with the event built
//! from the row as the service builds it from the deal.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use crm_platform::{
    money::{CurrencyCode, Money},
    outbox::Outbox,
    time::{now, to_timestamp},
};
use crm_proto::crm::opportunities::v1 as pb;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sqlx::{PgPool, postgres::PgConnection};
use uuid::Uuid;

use crate::opportunities::{DEVELOP, QUALIFY};

/// Every column of a deal, as `store::deals` reads it.
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
    custom_fields: Value,
    line_items: Value,
    team: Value,
    splits: Value,
    competitors: Value,
    committee: Value,
    outcome: Option<Value>,
    closed_from_stage_id: Option<Uuid>,
    stage_entered_at: DateTime<Utc>,
    version: i64,
    #[allow(dead_code)]
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// A stage, as `store::pipelines` reads it.
#[derive(sqlx::FromRow)]
struct StageRow {
    id: Uuid,
    #[allow(dead_code)]
    pipeline_id: Uuid,
    name: String,
    position: i32,
    kind: i16,
    default_probability: i16,
    forecast_category: i16,
    #[allow(dead_code)]
    exit_criteria: Vec<String>,
    #[allow(dead_code)]
    guidance: Value,
    #[allow(dead_code)]
    retired: bool,
}

const DEAL: &str = "SELECT id, name, account_id, owner_id, owner_team_path, pipeline_id, stage_id, \
    status, probability_override, effective_probability, currency, amount, corporate_currency, \
    corporate_amount, exchange_rate, rate_date, expected_close_date, next_step, source_lead_id, \
    campaign_id, custom_fields, line_items, team, splits, competitors, committee, outcome, \
    closed_from_stage_id, stage_entered_at, version, created_by, created_at, updated_at \
    FROM opportunities WHERE id = $1 FOR UPDATE";
const PIPELINE: &str = "SELECT id, name, description, product_line, is_default, version, \
    created_at, updated_at FROM pipelines WHERE id = $1";
const STAGES: &str = "SELECT id, pipeline_id, name, position, kind, default_probability, \
    forecast_category, exit_criteria, guidance, retired FROM stages WHERE pipeline_id = ANY($1) \
    ORDER BY pipeline_id, position";
const ROLL_UP: &str = "INSERT INTO funnel_stage_months (pipeline_id, stage_id, owner_id, \
    owner_team_path, month, entered, exited, advanced, lost, seconds_in_stage) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
    ON CONFLICT (pipeline_id, owner_id, month, stage_id) DO UPDATE SET \
    entered = funnel_stage_months.entered + EXCLUDED.entered, \
    exited = funnel_stage_months.exited + EXCLUDED.exited, \
    advanced = funnel_stage_months.advanced + EXCLUDED.advanced, \
    lost = funnel_stage_months.lost + EXCLUDED.lost, \
    seconds_in_stage = funnel_stage_months.seconds_in_stage + EXCLUDED.seconds_in_stage";
const UPDATE_DEAL: &str = "UPDATE opportunities SET name = $2, account_id = $3, owner_id = $4, \
    owner_team_path = $5, pipeline_id = $6, stage_id = $7, status = $8, probability_override = $9, \
    effective_probability = $10, currency = $11, amount = $12, corporate_currency = $13, \
    corporate_amount = $14, exchange_rate = $15, rate_date = $16, expected_close_date = $17, \
    next_step = $18, source_lead_id = $19, campaign_id = $20, custom_fields = $21, \
    line_items = $22, team = $23, splits = $24, competitors = $25, committee = $26, \
    outcome = $27, closed_from_stage_id = $28, stage_entered_at = $29, version = $30, \
    created_at = $31, updated_at = $32, \
    closed_at = ($27::jsonb ->> 'closed_at')::timestamptz, closed_on = ($27::jsonb ->> 'closed_on')::date \
    WHERE id = $1";

/// Moves the deal from Qualify to Develop or back, in one transaction committed through the
/// outbox.
pub async fn change_stage(pool: &PgPool, outbox: &Outbox, deal_id: Uuid) -> anyhow::Result<()> {
    let mut transaction = pool.begin().await?;
    let mut deal: DealRow = sqlx::query_as(DEAL)
        .bind(deal_id)
        .fetch_one(&mut *transaction)
        .await?;
    let pipeline: PipelineRow = sqlx::query_as(PIPELINE)
        .bind(deal.pipeline_id)
        .fetch_one(&mut *transaction)
        .await?;
    let stages: Vec<StageRow> = sqlx::query_as(STAGES)
        .bind(vec![deal.pipeline_id])
        .fetch_all(&mut *transaction)
        .await?;
    let stage = |id: Uuid| {
        stages
            .iter()
            .find(|stage| stage.id == id)
            .ok_or_else(|| anyhow::anyhow!("stage {id} is not in the pipeline"))
    };
    let from = stage(deal.stage_id)?;
    let to = stage(if deal.stage_id == QUALIFY {
        DEVELOP
    } else {
        QUALIFY
    })?;
    let forward = to.position > from.position;
    let at = now();
    let month = at
        .date_naive()
        .with_day(1)
        .expect("every month has a first day");
    let by = Some(deal.owner_id);

    let entered_at: Option<DateTime<Utc>> = sqlx::query_scalar(
        "UPDATE stage_history SET exited_at = $2, exited_by = $3, exit_kind = $4 \
         WHERE opportunity_id = $1 AND exited_at IS NULL RETURNING entered_at",
    )
    .bind(deal.id)
    .bind(at)
    .bind(by)
    .bind(if forward { 1_i16 } else { 2 })
    .fetch_optional(&mut *transaction)
    .await?;
    let seconds = u64::try_from((at - entered_at.unwrap_or(deal.stage_entered_at)).num_seconds())
        .unwrap_or(0);
    roll_up(
        &mut transaction,
        &deal,
        from.id,
        month,
        [0, 1, i64::from(forward), 0],
        Decimal::from(seconds),
    )
    .await?;
    sqlx::query(
        "INSERT INTO stage_history (id, opportunity_id, pipeline_id, stage_id, owner_id, \
         owner_team_path, entered_at, entered_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(Uuid::now_v7())
    .bind(deal.id)
    .bind(deal.pipeline_id)
    .bind(to.id)
    .bind(deal.owner_id)
    .bind(&deal.owner_team_path)
    .bind(at)
    .bind(by)
    .execute(&mut *transaction)
    .await?;
    roll_up(
        &mut transaction,
        &deal,
        to.id,
        month,
        [1, 0, 0, 0],
        Decimal::ZERO,
    )
    .await?;

    deal.stage_id = to.id;
    deal.stage_entered_at = at;
    deal.effective_probability = deal.probability_override.unwrap_or(to.default_probability);
    deal.version += 1;
    deal.updated_at = now();
    sqlx::query(UPDATE_DEAL)
        .bind(deal.id)
        .bind(&deal.name)
        .bind(deal.account_id)
        .bind(deal.owner_id)
        .bind(&deal.owner_team_path)
        .bind(deal.pipeline_id)
        .bind(deal.stage_id)
        .bind(deal.status)
        .bind(deal.probability_override)
        .bind(deal.effective_probability)
        .bind(&deal.currency)
        .bind(deal.amount)
        .bind(&deal.corporate_currency)
        .bind(deal.corporate_amount)
        .bind(deal.exchange_rate)
        .bind(deal.rate_date)
        .bind(deal.expected_close_date)
        .bind(&deal.next_step)
        .bind(deal.source_lead_id)
        .bind(deal.campaign_id)
        .bind(&deal.custom_fields)
        .bind(&deal.line_items)
        .bind(&deal.team)
        .bind(&deal.splits)
        .bind(&deal.competitors)
        .bind(&deal.committee)
        .bind(&deal.outcome)
        .bind(deal.closed_from_stage_id)
        .bind(deal.stage_entered_at)
        .bind(deal.version)
        .bind(deal.created_at)
        .bind(deal.updated_at)
        .execute(&mut *transaction)
        .await?;
    sqlx::query(
        "INSERT INTO opportunity_changes (opportunity_id, version, changed_at, changed_by, action, \
         fields, comment) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(deal.id)
    .bind(deal.version)
    .bind(deal.updated_at)
    .bind(by)
    .bind("stage_changed")
    .bind(json!([{"field": "stage", "old": from.name, "new": to.name}]))
    .bind("")
    .execute(&mut *transaction)
    .await?;
    let event = pb::OpportunityStageChanged {
        opportunity: Some(opportunity(&deal, &pipeline.1, to)?),
        change: Some(pb::ChangeContext {
            changed_by: deal.owner_id.to_string(),
            occurred_at: Some(to_timestamp(deal.updated_at)),
        }),
        from_stage: Some(summary(from)),
        seconds_in_from_stage: seconds,
    };
    outbox
        .enqueue_for(
            &mut transaction,
            "opportunity",
            deal.id,
            deal.version,
            &event,
        )
        .await?;
    outbox.commit(transaction).await?;
    Ok(())
}

/// (id, name, description, product_line, is_default, version, created_at, updated_at).
type PipelineRow = (
    Uuid,
    String,
    String,
    String,
    bool,
    i64,
    DateTime<Utc>,
    DateTime<Utc>,
);

/// Adds `[entered, exited, advanced, lost]` and `seconds` to the deal's owner's month of the
/// stage.
async fn roll_up(
    connection: &mut PgConnection,
    deal: &DealRow,
    stage_id: Uuid,
    month: NaiveDate,
    [entered, exited, advanced, lost]: [i64; 4],
    seconds: Decimal,
) -> sqlx::Result<()> {
    sqlx::query(ROLL_UP)
        .bind(deal.pipeline_id)
        .bind(stage_id)
        .bind(deal.owner_id)
        .bind(&deal.owner_team_path)
        .bind(month)
        .bind(entered)
        .bind(exited)
        .bind(advanced)
        .bind(lost)
        .bind(seconds)
        .execute(connection)
        .await
        .map(drop)
}

fn summary(stage: &StageRow) -> pb::StageSummary {
    pb::StageSummary {
        stage_id: stage.id.to_string(),
        name: stage.name.clone(),
        position: u32::try_from(stage.position).unwrap_or_default(),
        kind: i32::from(stage.kind),
        forecast_category: i32::from(stage.forecast_category),
        default_probability: u32::try_from(stage.default_probability).unwrap_or_default(),
    }
}

fn money(currency: &str, amount: Decimal) -> anyhow::Result<crm_proto::crm::common::v1::Money> {
    let currency: CurrencyCode = currency.parse().map_err(anyhow::Error::msg)?;
    Ok(Money { currency, amount }.to_message())
}

/// The deal's full state as the event carries it (an open deal: no outcome).
fn opportunity(
    deal: &DealRow,
    pipeline_name: &str,
    stage: &StageRow,
) -> anyhow::Result<pb::Opportunity> {
    let corporate = match (
        &deal.corporate_currency,
        deal.corporate_amount,
        deal.exchange_rate,
        deal.rate_date,
    ) {
        (Some(currency), Some(amount), Some(rate), Some(rate_date)) => Some(pb::CorporateAmount {
            amount: Some(money(currency, amount)?),
            rate: rate.normalize().to_string(),
            rate_date: rate_date.to_string(),
        }),
        _ => None,
    };
    let text = |value: Option<Uuid>| value.map(|id| id.to_string()).unwrap_or_default();
    let custom_fields: BTreeMap<String, String> =
        serde_json::from_value(deal.custom_fields.clone()).unwrap_or_default();
    let splits = deal
        .splits
        .as_array()
        .map(|splits| {
            splits
                .iter()
                .map(|split| pb::RevenueSplit {
                    user_id: split["user_id"].as_str().unwrap_or_default().to_owned(),
                    percent: match &split["percent"] {
                        Value::String(percent) => percent.clone(),
                        other => other.to_string(),
                    },
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(pb::Opportunity {
        id: deal.id.to_string(),
        name: deal.name.clone(),
        account_id: deal.account_id.to_string(),
        owner_id: deal.owner_id.to_string(),
        owner_team_path: deal.owner_team_path.clone(),
        pipeline_id: deal.pipeline_id.to_string(),
        pipeline_name: pipeline_name.to_owned(),
        stage: Some(summary(stage)),
        effective_probability: u32::try_from(deal.effective_probability).unwrap_or_default(),
        probability_override: deal
            .probability_override
            .and_then(|value| u32::try_from(value).ok()),
        amount: Some(money(&deal.currency, deal.amount)?),
        corporate_amount: corporate,
        expected_close_date: deal.expected_close_date.to_string(),
        next_step: deal.next_step.clone(),
        source_lead_id: text(deal.source_lead_id),
        campaign_id: text(deal.campaign_id),
        custom_fields: custom_fields.into_iter().collect(),
        splits,
        status: i32::from(deal.status),
        stage_entered_at: Some(to_timestamp(deal.stage_entered_at)),
        version: u64::try_from(deal.version).unwrap_or_default(),
        created_at: Some(to_timestamp(deal.created_at)),
        updated_at: Some(to_timestamp(deal.updated_at)),
        ..Default::default()
    })
}
