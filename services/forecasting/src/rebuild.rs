//! `crm forecasting rebuild`: the read model replaced by one replayed from the producers'
//! streams, in one transaction. Readers see the old numbers until it commits, then the new
//! ones; the live consumers wait for it (their writes would race the replay) and then go on
//! from where they were — harmlessly, since the read model keeps every record by version.
//! Forecasting's own records (category overrides, quotas, calls, snapshots) are not replicas
//! and stay as they are.

use async_nats::jetstream;
use crm_platform::{
    consumer::{self, ConsumerSpec, EventHandler, Replayed},
    events::EventNaming,
};
use sqlx::PgPool;

use crate::events;

/// The tables the replayed consumers fill: emptied first, in this order.
const REPLICA_TABLES: &[&str] = &[
    "pipeline_months",
    "deals",
    // The stages deal events showed (the statistical forecast's win rates).
    "deal_stage_visits",
    "pipeline_stages",
    // The deals' line items (the sales analysis by product), written with each deal's row.
    "deal_lines",
    // The accounts (the analysis by customer and industry), from the accounts stream.
    "accounts",
    // The activity log (activity targets).
    "activities",
    // Payments and refunds by deal (the period review's collection rate).
    "deal_collections",
];

/// The consumers whose events the read model is made of.
fn replayed() -> Vec<(ConsumerSpec, std::sync::Arc<dyn EventHandler>)> {
    vec![
        (events::deals(), events::DealHandler::new()),
        (
            events::activities::spec(),
            events::activities::ActivityHandler::new(),
        ),
        (
            events::payments::spec(),
            events::payments::PaymentHandler::new(),
        ),
        (events::accounts(), events::AccountHandler::new()),
    ]
}

/// Rebuilds the read model from the streams; what each consumer's replay went through.
pub async fn rebuild_read_model(
    pool: &PgPool,
    jetstream: &jetstream::Context,
    naming: &EventNaming,
) -> anyhow::Result<Vec<(String, Replayed)>> {
    let mut transaction = pool.begin().await?;
    // SHARE ROW EXCLUSIVE: readers go on (they see the old rows), writers wait for the commit.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE",
        REPLICA_TABLES.join(", ")
    )))
    .execute(&mut *transaction)
    .await?;
    for table in REPLICA_TABLES {
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
            .execute(&mut *transaction)
            .await?;
    }
    let mut report = Vec::new();
    for (spec, handler) in replayed() {
        let replayed =
            consumer::replay(jetstream, naming, &spec, &mut transaction, handler.as_ref()).await?;
        report.push((spec.name, replayed));
    }
    transaction.commit().await?;
    // A bulk load, as far as the planner knows: its statistics and the plans cached on them
    // still describe the model before the rebuild (an empty one, after a wipe) until
    // autovacuum's next look. Analysed now, the consumer's next batch plans for what is there.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ANALYZE {}",
        REPLICA_TABLES.join(", ")
    )))
    .execute(pool)
    .await?;
    Ok(report)
}
