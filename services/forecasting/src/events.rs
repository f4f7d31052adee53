//! Events the forecasting service consumes: every deal event of the opportunities service
//! (`forecasting-deals`), each carrying the deal's full state, which the pipeline read model
//! keeps by version; the accounts service's accounts (`forecasting-accounts`), which the sales
//! analysis names customers and industries by; and the organisation's directory (wired in
//! `lib.rs`).

pub(crate) mod activities;
pub(crate) mod payments;

use std::sync::Arc;

use crm_platform::consumer::{
    ConsumerSpec, EventHandler, HandlerError, HandlerFuture, ReceivedEvent,
};
use sqlx::PgConnection;

use crate::{
    domain::{deal::PipelineDeal, statistics::stages::StageVisit},
    service::{self, DealChange},
    store::accounts::AccountRecord,
};

pub(crate) fn deals() -> ConsumerSpec {
    crm_platform::deals::consumer_spec("forecasting-deals")
}

/// Keeps the pipeline read model from deal events (the live consumer and a rebuild's replay
/// alike).
pub(crate) struct DealHandler;

impl DealHandler {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self)
    }
}

impl DealHandler {
    /// Applies deal events, oldest first: the deals' newest states to the pipeline, and every
    /// event's stage visit (applied or not, the deal was in that stage at that version).
    async fn apply(
        connection: &mut PgConnection,
        events: &[ReceivedEvent],
    ) -> Result<(), HandlerError> {
        let mut changes = Vec::with_capacity(events.len());
        let mut visits = Vec::with_capacity(events.len());
        for event in events {
            let opportunity = crm_platform::deals::state(event)?;
            let deal = PipelineDeal::from_opportunity(&opportunity)
                .map_err(|error| HandlerError::Permanent(anyhow::anyhow!("{error}")))?;
            let lines = crm_platform::deals::lines::lines_of(&opportunity, deal.corporate_amount);
            visits.push(StageVisit::of(&deal, &opportunity));
            changes.push(DealChange { deal, lines });
        }
        service::apply_deals(connection, &changes).await?;
        Ok(service::record_stage_visits(connection, &visits).await?)
    }
}

/// A batch's deal events in a few statements together (the live consumer's batches and a
/// rebuild's chunks alike): what lets one consumer keep up with thousands of changes a second.
impl EventHandler for DealHandler {
    fn handle<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a ReceivedEvent,
    ) -> HandlerFuture<'a> {
        Box::pin(Self::apply(connection, std::slice::from_ref(event)))
    }

    fn handle_many<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        events: &'a [ReceivedEvent],
    ) -> Option<HandlerFuture<'a>> {
        Some(Box::pin(Self::apply(connection, events)))
    }
}

/// The accounts service's accounts (the kit's reading of their events).
pub(crate) fn accounts() -> ConsumerSpec {
    crm_platform::accounts::consumer_spec("forecasting-accounts")
}

/// Keeps the accounts replica (the live consumer and a rebuild's replay alike).
pub(crate) struct AccountHandler;

impl AccountHandler {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self)
    }
}

impl EventHandler for AccountHandler {
    fn handle<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a ReceivedEvent,
    ) -> HandlerFuture<'a> {
        Box::pin(async move {
            let account = crm_platform::accounts::state(event)?;
            let (id, version) = crm_platform::accounts::identity(&account)?;
            let account = AccountRecord {
                id,
                version,
                name: account.name,
                industry: account.industry.trim().to_owned(),
            };
            Ok(service::record_account(connection, &account).await?)
        })
    }
}
