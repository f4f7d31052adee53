//! The collections replica (`forecasting-payments`): every payment and refund the
//! opportunities service records, in the corporate currency on the payment's day, for the
//! period review's collection rate. Kept by the payment's or refund's id, so redelivery and
//! replay change nothing.

use std::sync::Arc;

use crm_platform::{
    consumer::{ConsumerSpec, EventHandler, HandlerError, HandlerFuture, ReceivedEvent},
    events::DomainEvent,
};
use crm_proto::crm::opportunities::v1::{PaymentReceived, PaymentRefunded};
use sqlx::PgConnection;

use crate::{domain::collection::Collection, service};

pub(crate) fn spec() -> ConsumerSpec {
    ConsumerSpec {
        name: "forecasting-payments".to_owned(),
        producer: "opportunities".to_owned(),
        subjects: vec![PaymentReceived::subject(), PaymentRefunded::subject()],
    }
}

pub(crate) struct PaymentHandler;

impl PaymentHandler {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self)
    }
}

impl EventHandler for PaymentHandler {
    fn handle<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a ReceivedEvent,
    ) -> HandlerFuture<'a> {
        Box::pin(async move {
            let collection = if event.subject == PaymentReceived::subject() {
                Collection::of_payment(&event.decode::<PaymentReceived>()?)
            } else if event.subject == PaymentRefunded::subject() {
                Collection::of_refund(&event.decode::<PaymentRefunded>()?)
            } else {
                return Err(crm_platform::org::unknown_subject(event));
            }
            // A malformed event is as bad on every delivery.
            .map_err(|error| HandlerError::Permanent(anyhow::anyhow!("{error}")))?;
            match collection {
                Some(collection) => Ok(service::record_collection(connection, &collection).await?),
                // Not convertible to the corporate currency: no corporate figure holds it.
                None => Ok(()),
            }
        })
    }
}
