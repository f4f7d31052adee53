//! The forecasting service's use cases, one transaction each (the event handlers' transaction
//! is the consumer's, which also records the event as handled).

use sqlx::PgConnection;

use crate::{domain::deal::PipelineDeal, store};

/// The service's use cases; the read RPCs of the next steps will hold its pool here.
#[derive(Clone, Default)]
pub struct Forecasting;

impl Forecasting {
    /// Keeps `deal` in the read model unless it holds the deal at that version or newer.
    pub async fn apply_deal(
        &self,
        connection: &mut PgConnection,
        deal: &PipelineDeal,
    ) -> sqlx::Result<()> {
        if !store::deals::upsert(connection, deal).await? {
            tracing::debug!(
                opportunity_id = %deal.id,
                version = deal.version,
                "deal event not newer than the read model's, ignored"
            );
        }
        Ok(())
    }
}
