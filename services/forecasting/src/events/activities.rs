//! The activity log's replica (`forecasting-activities`): every activity_logged event of the
//! opportunities service carries the activity's full state, kept by version, so activity
//! targets count right under redelivery, replay and out-of-order delivery.

use std::sync::Arc;

use crm_platform::{
    consumer::{ConsumerSpec, EventHandler, HandlerError, HandlerFuture, ReceivedEvent},
    events::DomainEvent,
};
use crm_proto::crm::opportunities::v1::ActivityLogged;
use sqlx::PgConnection;

use crate::{domain::activity::LoggedActivity, service};

pub(crate) fn spec() -> ConsumerSpec {
    ConsumerSpec {
        name: "forecasting-activities".to_owned(),
        producer: "opportunities".to_owned(),
        subjects: vec![ActivityLogged::subject()],
    }
}

pub(crate) struct ActivityHandler;

impl ActivityHandler {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self)
    }
}

impl EventHandler for ActivityHandler {
    fn handle<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a ReceivedEvent,
    ) -> HandlerFuture<'a> {
        Box::pin(async move {
            if event.subject != ActivityLogged::subject() {
                return Err(crm_platform::org::unknown_subject(event));
            }
            let activity = event
                .decode::<ActivityLogged>()?
                .activity
                .ok_or_else(|| HandlerError::Permanent(anyhow::anyhow!("activity is missing")))?;
            let logged = LoggedActivity::from_activity(&activity)
                .map_err(|error| HandlerError::Permanent(anyhow::anyhow!("{error}")))?;
            Ok(service::apply_activity(connection, &logged).await?)
        })
    }
}
