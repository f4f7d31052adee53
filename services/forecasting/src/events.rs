//! Events the forecasting service consumes: every deal event of the opportunities service
//! (`forecasting-deals`), each carrying the deal's full state, which the pipeline read model
//! keeps by version; and the organisation's directory (wired in `lib.rs`).

pub(crate) mod activities;

use std::sync::Arc;

use crm_platform::consumer::{
    ConsumerSpec, EventHandler, HandlerError, HandlerFuture, ReceivedEvent,
};
use sqlx::PgConnection;

use crate::{domain::deal::PipelineDeal, service::Forecasting};

pub(crate) fn deals() -> ConsumerSpec {
    crm_platform::deals::consumer_spec("forecasting-deals")
}

pub(crate) struct DealHandler {
    forecasting: Forecasting,
}

impl DealHandler {
    pub(crate) fn new(forecasting: Forecasting) -> Arc<Self> {
        Arc::new(Self { forecasting })
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
            Ok(self.forecasting.apply_deal(connection, &deal).await?)
        })
    }
}
