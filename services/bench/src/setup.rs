//! What every scenario runs in: a fresh database, a fresh event namespace, settings built the
//! way a service builds them, and clean-up of the streams and the database afterwards.

use std::{collections::BTreeMap, str::FromStr, time::Duration};

use async_nats::jetstream::{self, message::PublishMessage};
use bytes::Bytes;
use crm_platform::{
    config::Settings,
    db,
    events::{self, EventNaming, headers},
    host,
    metrics::Metrics,
};
use crm_proto::crm::common::v1::EventMetadata;
use crm_test_support::{TestDatabase, nats_url, postgres_url, unique_id};
use prost::Name;
use sqlx::{
    Connection, PgPool,
    postgres::{PgConnectOptions, PgConnection, PgPoolOptions},
};
use uuid::Uuid;

/// The producer whose stream the platform's relay publishes to: the bench's payload type is
/// `crm.common.v1.EventMetadata`, published on `crm.common.v1.event_metadata`.
pub const PRODUCER: &str = "common";
/// The producer name of the raw baselines' second stream.
pub const RAW_PRODUCER: &str = "benchraw";

/// Settings as a service would read them, with the bench's namespace and the caller's overrides
/// (`--set CRM_OUTBOX_BATCH_SIZE=1000`) on top of the production defaults.
pub fn settings(
    namespace: Option<&str>,
    overrides: &BTreeMap<String, String>,
) -> anyhow::Result<Settings> {
    let mut values = BTreeMap::from([
        ("CRM_GRPC_ADDR".to_owned(), "127.0.0.1:0".to_owned()),
        ("CRM_METRICS_ADDR".to_owned(), "off".to_owned()),
        ("CRM_POSTGRES_URL".to_owned(), postgres_url()),
        ("CRM_NATS_URL".to_owned(), nats_url()),
    ]);
    if let Some(namespace) = namespace {
        values.insert("CRM_EVENT_NAMESPACE".to_owned(), namespace.to_owned());
    }
    values.extend(
        overrides
            .iter()
            .map(|(key, value)| (key.clone(), value.clone())),
    );
    Ok(Settings::from_values(&values)?)
}

/// One scenario's isolated world.
pub struct BenchEnv {
    pub database: TestDatabase,
    pub naming: EventNaming,
    pub settings: Settings,
    pub jetstream: jetstream::Context,
    pub metrics: Metrics,
    streams: Vec<String>,
}

impl BenchEnv {
    /// A fresh migrated database (outbox and inbox tables) and a fresh namespace.
    pub async fn create(overrides: &BTreeMap<String, String>) -> anyhow::Result<Self> {
        Self::create_with(overrides, db::platform_migrator).await
    }

    /// [`BenchEnv::create`] with a service's migrations on top of the platform's, for raw
    /// baselines that write the service's own tables.
    pub async fn create_with(
        overrides: &BTreeMap<String, String>,
        migrator: fn() -> sqlx::migrate::Migrator,
    ) -> anyhow::Result<Self> {
        let namespace = unique_id();
        let settings = settings(Some(&namespace), overrides)?;
        let database = TestDatabase::create(migrator).await;
        let jetstream = host::connect_nats(&settings).await?;
        Ok(Self {
            database,
            naming: EventNaming::new(Some(namespace)),
            settings,
            jetstream,
            metrics: Metrics::new(),
            streams: Vec::new(),
        })
    }

    /// Creates the producer's stream (`<NS>_CRM_<PRODUCER>` on `<ns>.crm.<producer>.v1.>`) and
    /// remembers it for clean-up.
    pub async fn ensure_stream(
        &mut self,
        producer: &str,
    ) -> anyhow::Result<jetstream::stream::Stream> {
        events::ensure_stream(
            &self.jetstream,
            &self.naming,
            producer,
            self.settings.outbox.duplicate_window,
        )
        .await?;
        let name = self.naming.stream(producer);
        if !self.streams.contains(&name) {
            self.streams.push(name.clone());
        }
        Ok(self.jetstream.get_stream(&name).await?)
    }

    /// A pool on the scenario's database, sized like a service's (or as asked).
    pub async fn pool(&self, max_connections: u32) -> anyhow::Result<PgPool> {
        db::connect(&self.database.url, max_connections).await
    }

    /// A pool for the relay. With `asynchronous_commit` its transactions commit without
    /// waiting for the WAL flush (`synchronous_commit=off`): a diagnostic that emulates a relay
    /// marking rows published asynchronously, which is safe because a lost mark only means a
    /// re-publish that `Nats-Msg-Id` and the consumers' inbox absorb.
    pub async fn relay_pool(&self, asynchronous_commit: bool) -> anyhow::Result<PgPool> {
        let mut options = PgConnectOptions::from_str(self.database.url.expose())?;
        if asynchronous_commit {
            options = options.options([("synchronous_commit", "off")]);
        }
        Ok(PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?)
    }

    /// The wire subject of the bench event on `producer`'s stream.
    pub fn subject(&self, producer: &str) -> String {
        self.naming.subject(&base_subject(producer))
    }

    /// Deletes the scenario's streams and drops its database. Failures are reported, not fatal.
    pub async fn cleanup(self) {
        for stream in &self.streams {
            if let Err(error) = self.jetstream.delete_stream(stream).await {
                eprintln!("warning: deleting stream {stream} failed: {error}");
            }
        }
        self.database.pool.close().await;
        let name = self.database.name.clone();
        if let Err(error) = drop_database(&name).await {
            eprintln!("warning: dropping database {name} failed: {error}");
        }
    }
}

/// A connection to the server's `postgres` database, for what concerns the server as a whole.
pub async fn admin_connection() -> Result<PgConnection, sqlx::Error> {
    PgConnection::connect(&format!("{}/postgres", postgres_url())).await
}

/// Flushes every dirty buffer now, so that a measurement that follows does not share the
/// machine with a checkpoint spread over it.
pub async fn checkpoint() -> anyhow::Result<()> {
    let mut admin = admin_connection().await?;
    sqlx::query("CHECKPOINT").execute(&mut admin).await?;
    admin.close().await?;
    Ok(())
}

/// Drops a scenario's database (its connections are closed by force).
pub async fn drop_database(name: &str) -> Result<(), sqlx::Error> {
    let mut admin = admin_connection().await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    admin.close().await?;
    Ok(())
}

/// What docs/operations.md ("PostgreSQL") asks of a production server and a CI machine's
/// server may lack:
/// - autovacuum on: without it the plans of the services' statements stay those of their empty
///   tables while they grow by a million rows;
/// - WAL compression: a change to a deal updates a row in a random page of a million-row table
///   in both databases, and the first change to a page after a checkpoint writes the whole
///   page to the WAL (23 kB of WAL a change at 1,000 changes a second, every commit waiting
///   on it).
pub const PRODUCTION_SETTINGS: &[(&str, &str)] =
    &[("autovacuum", "on"), ("wal_compression", "lz4")];

/// [`PRODUCTION_SETTINGS`], on for the length of a scenario: set with `ALTER SYSTEM` and a
/// reload only where the server differs, and reset the same way after.
pub struct ProductionSettings {
    /// The settings this run changed.
    pub changed: Vec<ChangedSetting>,
}

/// A server setting this run set to its production value, with the server's own.
pub struct ChangedSetting {
    pub name: &'static str,
    pub wanted: &'static str,
    pub own: String,
}

impl ProductionSettings {
    pub async fn apply() -> anyhow::Result<Self> {
        let mut admin = admin_connection().await?;
        let mut changed = Vec::new();
        for &(name, wanted) in PRODUCTION_SETTINGS {
            let own: String = sqlx::query_scalar("SELECT current_setting($1)")
                .bind(name)
                .fetch_one(&mut admin)
                .await?;
            if own != wanted {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "ALTER SYSTEM SET {name} = {wanted}"
                )))
                .execute(&mut admin)
                .await?;
                changed.push(ChangedSetting { name, wanted, own });
            }
        }
        if !changed.is_empty() {
            let wanted: Vec<(&str, &str)> = changed
                .iter()
                .map(|setting| (setting.name, setting.wanted))
                .collect();
            reload_until(&mut admin, &wanted).await?;
        }
        admin.close().await?;
        Ok(Self { changed })
    }

    /// What the report says of the server's settings.
    pub fn note(&self) -> String {
        let production: Vec<String> = PRODUCTION_SETTINGS
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        if self.changed.is_empty() {
            return format!(
                "server: {} (its own settings, as docs/operations.md asks of production)",
                production.join(" ")
            );
        }
        let own: Vec<String> = self
            .changed
            .iter()
            .map(|setting| format!("{}={}", setting.name, setting.own))
            .collect();
        format!(
            "server: {} for this run, as docs/operations.md asks of production (the server has {}; set with ALTER SYSTEM and a reload, reset after)",
            production.join(" "),
            own.join(" ")
        )
    }

    /// Puts the server's own settings back. Failures are reported, not fatal.
    pub async fn restore(self) {
        if self.changed.is_empty() {
            return;
        }
        let reset = async {
            let mut admin = admin_connection().await?;
            for setting in &self.changed {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "ALTER SYSTEM RESET {}",
                    setting.name
                )))
                .execute(&mut admin)
                .await?;
            }
            let own: Vec<(&str, &str)> = self
                .changed
                .iter()
                .map(|setting| (setting.name, setting.own.as_str()))
                .collect();
            reload_until(&mut admin, &own).await?;
            admin.close().await?;
            anyhow::Ok(())
        };
        if let Err(error) = reset.await {
            eprintln!("warning: resetting the server's settings failed: {error:#}");
        }
    }
}

/// Reloads the server's configuration and waits until every setting reads its wanted value (a
/// reload is signalled, not awaited).
async fn reload_until(admin: &mut PgConnection, wanted: &[(&str, &str)]) -> anyhow::Result<()> {
    sqlx::query("SELECT pg_reload_conf()")
        .execute(&mut *admin)
        .await?;
    for _ in 0..50 {
        let mut all = true;
        for (name, value) in wanted {
            // A fresh look each time: the setting a session sees changes when it next reads
            // the configuration, between statements.
            let setting: String = sqlx::query_scalar("SELECT current_setting($1)")
                .bind(name)
                .fetch_one(&mut *admin)
                .await?;
            all &= setting == *value;
        }
        if all {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the server's settings are still not {wanted:?} 5 s after the reload")
}

/// `crm.<producer>.v1.event_metadata`.
pub fn base_subject(producer: &str) -> String {
    format!(
        "crm.{producer}.v1.{}",
        events::snake_case(EventMetadata::NAME)
    )
}

/// The bench event: a realistic ~130-byte protobuf whose `aggregate_version` carries the
/// sequence number, so consumers can tell which event arrived.
pub fn payload(seq: u64, aggregate_id: &str) -> EventMetadata {
    EventMetadata {
        event_id: format!("bench-{seq:010}"),
        event_type: EventMetadata::full_name(),
        aggregate_type: "bench".to_owned(),
        aggregate_id: aggregate_id.to_owned(),
        aggregate_version: seq,
        occurred_at: None,
        traceparent: String::new(),
    }
}

/// A publish carrying exactly the headers the outbox relay sets (see `OutboxRelay::message`).
pub fn raw_message(
    event_id: Uuid,
    aggregate_id: &str,
    version: u64,
    payload: &[u8],
) -> PublishMessage {
    let id = event_id.to_string();
    PublishMessage::build()
        .payload(Bytes::copy_from_slice(payload))
        .message_id(&id)
        .header(headers::EVENT_ID, id.as_str())
        .header(headers::EVENT_TYPE, EventMetadata::full_name().as_str())
        .header(headers::AGGREGATE_TYPE, "bench")
        .header(headers::AGGREGATE_ID, aggregate_id)
        .header(headers::AGGREGATE_VERSION, version.to_string().as_str())
        .header(
            headers::OCCURRED_AT,
            chrono::Utc::now().to_rfc3339().as_str(),
        )
}
