//! Event naming and JetStream topology: one stream per producing service, one subject per
//! event type, a dead-letter stream, and the header names every event carries.

use std::time::Duration;

use async_nats::jetstream::{self, stream};

/// Header names on every published event (see crm.common.v1.EventMetadata).
pub mod headers {
    pub const EVENT_ID: &str = "Crm-Event-Id";
    pub const EVENT_TYPE: &str = "Crm-Event-Type";
    pub const AGGREGATE_TYPE: &str = "Crm-Aggregate-Type";
    pub const AGGREGATE_ID: &str = "Crm-Aggregate-Id";
    pub const AGGREGATE_VERSION: &str = "Crm-Aggregate-Version";
    pub const OCCURRED_AT: &str = "Crm-Occurred-At";
    pub const TRACEPARENT: &str = "traceparent";
    /// On dead letters: why the event was given up, and where it came from.
    pub const DEAD_LETTER_REASON: &str = "Crm-Dead-Letter-Reason";
    pub const ORIGINAL_SUBJECT: &str = "Crm-Original-Subject";
    pub const DELIVERIES: &str = "Crm-Deliveries";
}

/// A protobuf message that is a domain event. Its subject follows from its package and name:
/// `crm.accounts.v1.AccountCreated` is published on `crm.accounts.v1.account_created`.
pub trait DomainEvent: prost::Message + prost::Name {
    fn subject() -> String {
        format!("{}.{}", Self::PACKAGE, snake_case(Self::NAME))
    }
}

impl<T: prost::Message + prost::Name> DomainEvent for T {}

/// `AccountsMerged` → `accounts_merged`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (index, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if index > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Names of streams and subjects in one deployment. A namespace (tests) prefixes every
/// subject and stream so that parallel tests share one NATS server without seeing each other.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventNaming {
    namespace: Option<String>,
}

impl EventNaming {
    pub fn new(namespace: Option<String>) -> Self {
        Self { namespace }
    }

    /// The wire subject of a base subject such as `crm.accounts.v1.account_created`.
    pub fn subject(&self, base: &str) -> String {
        match &self.namespace {
            Some(namespace) => format!("{namespace}.{base}"),
            None => base.to_owned(),
        }
    }

    /// The base subject of a wire subject (the inverse of [`EventNaming::subject`]).
    pub fn base_subject<'a>(&self, subject: &'a str) -> &'a str {
        match &self.namespace {
            Some(namespace) => subject
                .strip_prefix(namespace.as_str())
                .and_then(|rest| rest.strip_prefix('.'))
                .unwrap_or(subject),
            None => subject,
        }
    }

    /// `CRM_ACCOUNTS` for producer `accounts`.
    pub fn stream(&self, producer: &str) -> String {
        let base = format!("CRM_{}", producer.to_ascii_uppercase());
        match &self.namespace {
            Some(namespace) => format!("{}_{base}", namespace.to_ascii_uppercase()),
            None => base,
        }
    }

    pub fn producer_subjects(&self, producer: &str) -> String {
        self.subject(&format!("crm.{producer}.v1.>"))
    }

    pub fn dead_letter_stream(&self) -> String {
        self.stream("deadletter")
    }

    pub fn dead_letter_subject(&self, consumer: &str) -> String {
        self.subject(&format!("crm.deadletter.v1.{consumer}"))
    }
}

/// Creates the producer's stream, or updates it to this configuration.
pub async fn ensure_stream(
    jetstream: &jetstream::Context,
    naming: &EventNaming,
    producer: &str,
    duplicate_window: Duration,
) -> anyhow::Result<()> {
    let config = stream::Config {
        name: naming.stream(producer),
        subjects: vec![naming.producer_subjects(producer)],
        storage: stream::StorageType::File,
        duplicate_window,
        description: Some(format!("domain events published by the {producer} service")),
        ..Default::default()
    };
    jetstream
        .create_or_update_stream(config)
        .await
        .map_err(|error| anyhow::anyhow!("creating stream {}: {error}", naming.stream(producer)))?;
    Ok(())
}

/// The stream that keeps events consumers gave up on, for inspection and re-drive.
pub async fn ensure_dead_letter_stream(
    jetstream: &jetstream::Context,
    naming: &EventNaming,
) -> anyhow::Result<()> {
    let config = stream::Config {
        name: naming.dead_letter_stream(),
        subjects: vec![naming.subject("crm.deadletter.v1.>")],
        storage: stream::StorageType::File,
        description: Some("events that consumers could not handle".to_owned()),
        ..Default::default()
    };
    jetstream
        .create_or_update_stream(config)
        .await
        .map_err(|error| anyhow::anyhow!("creating the dead-letter stream: {error}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_follow_package_and_message_name() {
        assert_eq!(snake_case("AccountsMerged"), "accounts_merged");
        assert_eq!(
            crm_proto::crm::accounts::v1::AccountCreated::subject(),
            "crm.accounts.v1.account_created"
        );
    }

    #[test]
    fn namespaces_prefix_subjects_and_streams() {
        let naming = EventNaming::new(Some("t1a2".into()));
        assert_eq!(naming.stream("accounts"), "T1A2_CRM_ACCOUNTS");
        let subject = naming.subject("crm.accounts.v1.account_created");
        assert_eq!(subject, "t1a2.crm.accounts.v1.account_created");
        assert_eq!(
            naming.base_subject(&subject),
            "crm.accounts.v1.account_created"
        );
        assert_eq!(EventNaming::default().stream("leads"), "CRM_LEADS");
    }
}
