//! Events the forecasting service consumes: every deal event of the opportunities service
//! (`forecasting-deals`), each carrying the deal's full state, which the pipeline read model
//! keeps by version; and the organisation's directory (wired in `lib.rs`).

pub(crate) mod activities;

use std::sync::Arc;

use crm_platform::consumer::{
    ConsumerSpec, EventHandler, HandlerError, HandlerFuture, ReceivedEvent,
};
use sqlx::PgConnection;

use crate::{
    domain::{deal::PipelineDeal, statistics::stages::StageVisit},
    service,
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

impl EventHandler for DealHandler {
    fn handle<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a ReceivedEvent,
    ) -> HandlerFuture<'a> {
        Box::pin(async move {
            let opportunity = crm_platform::deals::state(event)?;
            let deal = PipelineDeal::from_opportunity(&opportunity)
                .map_err(|error| HandlerError::Permanent(anyhow::anyhow!("{error}")))?;
            service::apply_deal(connection, &deal).await?;
            // Applied or not: the deal was in that stage at that version all the same.
            let visit = StageVisit::of(&deal, &opportunity);
            Ok(service::record_stage_visit(connection, &visit).await?)
        })
    }
}
