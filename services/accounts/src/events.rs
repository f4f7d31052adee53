//! Events the accounts service consumes.

use std::sync::Arc;

use crm_platform::{
    consumer::{ConsumerSpec, EventHandler, HandlerError, HandlerFuture, ReceivedEvent},
    error::{ErrorCode, ServiceError},
    events::DomainEvent,
};
use crm_proto::crm::leads::v1::LeadConverted;
use sqlx::PgConnection;

use crate::service::Accounts;

/// `lead_converted`: create the account (when new) and the contact with the ids leads chose.
pub fn lead_conversions() -> ConsumerSpec {
    ConsumerSpec {
        name: "accounts-lead-conversions".to_owned(),
        producer: "leads".to_owned(),
        subjects: vec![LeadConverted::subject()],
    }
}

pub struct LeadConversionHandler {
    accounts: Accounts,
}

impl LeadConversionHandler {
    pub fn new(accounts: Accounts) -> Arc<Self> {
        Arc::new(Self { accounts })
    }
}

impl EventHandler for LeadConversionHandler {
    fn handle<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a ReceivedEvent,
    ) -> HandlerFuture<'a> {
        Box::pin(async move {
            let conversion: LeadConverted = event.decode()?;
            self.accounts
                .apply_lead_conversion(connection, &conversion)
                .await
                .map_err(|error| match error.code() {
                    // Bad data will be bad on every delivery.
                    ErrorCode::InvalidArgument | ErrorCode::NotFound => HandlerError::Permanent(
                        anyhow::anyhow!("{error}: {:?}", error.field_violations()),
                    ),
                    _ => HandlerError::Transient(error.into()),
                })
        })
    }
}
