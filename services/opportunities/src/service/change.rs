//! How a use case's change to a deal is written: the next version of the row, its audit entry
//! and its events, in the use case's transaction.

use sqlx::PgConnection;
use uuid::Uuid;

use super::{DealEvent, Opportunities, Result, publishing::publish};
use crate::{
    domain::{
        opportunity::{FieldChange, Opportunity},
        pipeline::Pipeline,
    },
    store,
};

/// What a use case changed in a deal, as [`Opportunities::save`] writes it: the audit action,
/// the field changes (old → new), the comment, and the events to publish (which may borrow
/// from the deal as it was).
pub(crate) struct Change<'a> {
    pub action: &'a str,
    pub fields: Vec<FieldChange>,
    pub comment: &'a str,
    pub events: Vec<DealEvent<'a>>,
}

impl Opportunities {
    /// Writes a changed deal: the next version, the row, the audit entry and the events.
    pub(crate) async fn save(
        &self,
        connection: &mut PgConnection,
        changed_by: Option<Uuid>,
        mut deal: Opportunity,
        pipeline: &Pipeline,
        change: Change<'_>,
    ) -> Result<Opportunity> {
        deal.version += 1;
        deal.updated_at = crm_platform::time::now();
        store::deals::update_deal(connection, &deal).await?;
        store::history::record_change(
            connection,
            &deal,
            changed_by,
            change.action,
            &change.fields,
            change.comment,
        )
        .await?;
        for event in change.events {
            publish(&self.outbox, connection, &deal, pipeline, changed_by, event).await?;
        }
        Ok(deal)
    }
}
