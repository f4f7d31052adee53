//! Test harness shared by every crate's tests: real PostgreSQL and NATS, isolated per test.
//!
//! Each test gets its own database (created and migrated) and its own event namespace (a
//! prefix on every subject and stream), so tests run in parallel against one server each.
//! Both are removed when the test ends, passed or panicked ([`cleanup`]); what a killed run
//! left is swept at the start of the next (databases and streams over an hour old).
//! `CRM_TEST_KEEP=1` keeps them for a look.
#![deny(rust_2018_idioms)]
#![forbid(unsafe_code)]

pub mod cleanup;
mod http_client;
mod nats_server;
mod pg_proxy;

pub use http_client::{HttpClient, HttpReply};

use std::{collections::BTreeMap, time::Duration};

use crm_platform::{
    auth::{Caller, JwtSigner, Role, TeamPath},
    config::{Secret, Settings},
    db,
    events::{DomainEvent, headers},
    host::{self, RunningServices, ServiceModule},
};
use sqlx::{PgPool, migrate::Migrator};
use uuid::Uuid;

pub use nats_server::NatsServer;
pub use pg_proxy::PgProxy;

/// The signing secret of test tokens (never used outside tests).
pub const TEST_JWT_SECRET: &str = "test-only-secret-0123456789abcdef0123456789";

pub fn postgres_url() -> String {
    std::env::var("CRM_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
        .trim_end_matches('/')
        .to_owned()
}

pub fn nats_url() -> String {
    std::env::var("CRM_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

/// A short lower-case id for databases and event namespaces.
pub fn unique_id() -> String {
    let uuid = Uuid::new_v4().simple().to_string();
    format!("t{}", &uuid[..12])
}

/// A fresh database, created and migrated for one test; dropped (with its connections) when
/// this value is.
pub struct TestDatabase {
    pub name: String,
    pub url: Secret,
    pub pool: PgPool,
    /// False once an owner ([`TestApp`]) took over dropping it.
    drop_on_drop: bool,
}

impl TestDatabase {
    /// Creates `crmtest_<id>` and applies the platform's and the given service's migrations.
    pub async fn create(migrator: fn() -> Migrator) -> Self {
        crm_platform::telemetry::init_for_tests();
        cleanup::sweep(None);
        let name = format!("crmtest_{}", unique_id());
        let url = Secret::new(format!("{}/{name}", postgres_url()));
        db::ensure_database(&url)
            .await
            .expect("create test database");
        let pool = db::connect(&url, 10).await.expect("connect test database");
        db::migrate(&pool, migrator)
            .await
            .expect("migrate test database");
        Self {
            name,
            url,
            pool,
            drop_on_drop: !cleanup::keep(),
        }
    }

    /// Only the platform tables (outbox, inbox).
    pub async fn platform_only() -> Self {
        Self::create(db::platform_migrator).await
    }

    /// The name of the database, which the caller now drops.
    fn take_over(&mut self) -> Option<String> {
        std::mem::take(&mut self.drop_on_drop).then(|| self.name.clone())
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(name) = self.take_over() {
            cleanup::test_ended(vec![name], None);
        }
    }
}

/// Files a test's services keep on disk (the knowledge service's search index), removed when
/// the test ends.
pub fn scratch_dir(namespace: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("crm-test-{namespace}"))
}

/// Settings for a test process: port 0 everywhere, the test's namespace, fast polling.
pub fn test_settings(namespace: &str, databases: &[(&str, &Secret)], nats_url: &str) -> Settings {
    test_settings_with(namespace, databases, nats_url, &[])
}

/// [`test_settings`] with extra `CRM_*` values (they win over the defaults).
pub fn test_settings_with(
    namespace: &str,
    databases: &[(&str, &Secret)],
    nats_url: &str,
    overrides: &[(&str, &str)],
) -> Settings {
    let mut values = BTreeMap::from([
        ("CRM_GRPC_ADDR".to_owned(), "127.0.0.1:0".to_owned()),
        ("CRM_METRICS_ADDR".to_owned(), "127.0.0.1:0".to_owned()),
        ("CRM_GATEWAY_HTTP_ADDR".to_owned(), "127.0.0.1:0".to_owned()),
        ("CRM_POSTGRES_URL".to_owned(), postgres_url()),
        ("CRM_NATS_URL".to_owned(), nats_url.to_owned()),
        ("CRM_EVENT_NAMESPACE".to_owned(), namespace.to_owned()),
        ("CRM_JWT_KEYS".to_owned(), format!("test={TEST_JWT_SECRET}")),
        ("CRM_JWT_SIGNING_KEY_ID".to_owned(), "test".to_owned()),
        ("CRM_OUTBOX_POLL_INTERVAL".to_owned(), "100ms".to_owned()),
        ("CRM_OUTBOX_PUBLISH_TIMEOUT".to_owned(), "2s".to_owned()),
        ("CRM_SHUTDOWN_GRACE".to_owned(), "10s".to_owned()),
        ("CRM_CONSUMER_ACK_WAIT".to_owned(), "5s".to_owned()),
        // A test's traffic needs a few connections a service, but each pool grows to its limit
        // while the service starts (migrations, consumers, relay, housekeeping at once) and
        // keeps them: at the default of ten a whole suite (seven services) held ~57, and two
        // suites side by side (the authz tests) went over PostgreSQL's 100, a request failing
        // as an outage; at four they held 94 with the tests' own pools. Two, and each relay's
        // connection of its own, is three a service, as before the relay had one.
        ("CRM_DATABASE_MAX_CONNECTIONS".to_owned(), "2".to_owned()),
        // The knowledge service's search index, in the test's scratch directory.
        (
            "CRM_KNOWLEDGE_INDEX_DIR".to_owned(),
            scratch_dir(namespace)
                .join("knowledge-index")
                .display()
                .to_string(),
        ),
    ]);
    for (service, url) in databases {
        values.insert(
            format!("CRM_{}_DATABASE_URL", service.to_ascii_uppercase()),
            url.expose().to_owned(),
        );
    }
    for (key, value) in overrides {
        values.insert((*key).to_owned(), (*value).to_owned());
    }
    Settings::from_values(&values).expect("valid test settings")
}

/// Services running in-process for a test, with their databases and a token signer.
pub struct TestApp {
    pub services: RunningServices,
    pub settings: Settings,
    pub namespace: String,
    pub databases: Vec<TestDatabase>,
    /// The hosted services' names, in the order of `databases`.
    hosted: Vec<&'static str>,
    signer: JwtSigner,
}

impl TestApp {
    /// Starts `modules` on port 0 with a fresh database each and a fresh event namespace.
    pub async fn spawn(modules: &[ServiceModule]) -> Self {
        Self::spawn_with_nats(modules, &nats_url()).await
    }

    pub async fn spawn_with_nats(modules: &[ServiceModule], nats_url: &str) -> Self {
        Self::spawn_with(modules, nats_url, &[]).await
    }

    /// Starts `modules` with extra settings, e.g. `("CRM_LOG", "warn")`.
    pub async fn spawn_with(
        modules: &[ServiceModule],
        nats_url: &str,
        overrides: &[(&str, &str)],
    ) -> Self {
        let databases = Self::databases_for(modules).await;
        let urls: Vec<Secret> = databases
            .iter()
            .map(|database| database.url.clone())
            .collect();
        Self::start_on(modules, databases, &urls, nats_url, overrides).await
    }

    /// A fresh, migrated database for each of `modules`.
    pub(crate) async fn databases_for(modules: &[ServiceModule]) -> Vec<TestDatabase> {
        let mut databases = Vec::new();
        for module in modules {
            databases.push(TestDatabase::create(module.migrator).await);
        }
        databases
    }

    /// Starts `modules` in a fresh event namespace, each service reaching its database at
    /// `urls` (its own, or a proxy's in front of it).
    pub(crate) async fn start_on(
        modules: &[ServiceModule],
        databases: Vec<TestDatabase>,
        urls: &[Secret],
        nats_url: &str,
        overrides: &[(&str, &str)],
    ) -> Self {
        cleanup::sweep(Some(nats_url));
        let namespace = unique_id();
        let urls: Vec<(&str, &Secret)> = modules
            .iter()
            .zip(urls)
            .map(|(module, url)| (module.name, url))
            .collect();
        let settings = test_settings_with(&namespace, &urls, nats_url, overrides);
        let services = host::start(settings.clone(), modules)
            .await
            .expect("start services");
        let signer = JwtSigner::new(&settings.jwt).expect("test signing key");
        Self {
            services,
            settings,
            namespace,
            databases,
            hosted: modules.iter().map(|module| module.name).collect(),
            signer,
        }
    }

    pub fn grpc_url(&self) -> String {
        format!("http://{}", self.services.grpc_addr())
    }

    /// The HTTP front door's base URL (`http://127.0.0.1:port`), when the gateway is hosted.
    pub fn http_url(&self) -> String {
        format!(
            "http://{}",
            self.services
                .http_addr()
                .expect("a hosted service serves HTTP")
        )
    }

    pub async fn channel(&self) -> tonic::transport::Channel {
        tonic::transport::Endpoint::from_shared(self.grpc_url())
            .expect("valid url")
            .connect()
            .await
            .expect("connect to test server")
    }

    /// A bearer token for a caller with this role in this team.
    pub fn token(&self, caller: &Caller) -> String {
        self.signer.sign(caller, Duration::from_secs(600))
    }

    /// A token for `caller` that expired `seconds_ago` (beyond the verifiers' leeway).
    pub fn token_expired_ago(&self, caller: &Caller, seconds_ago: u64) -> String {
        let now = chrono::Utc::now().timestamp().max(0) as u64;
        self.signer.sign_issued_at(
            caller,
            now.saturating_sub(seconds_ago + 600),
            Duration::from_secs(600),
        )
    }

    /// Publishes `event` on JetStream as its producer's relay would, under this test's
    /// namespace, seen by `service`'s consumers: a fresh event id, which is also the message id.
    pub async fn publish_event<E: DomainEvent>(&self, service: &str, event: &E) {
        let event_id = Uuid::now_v7();
        self.publish_event_as(service, event, event_id, &event_id.to_string())
            .await;
    }

    /// [`TestApp::publish_event`] with the event id and the JetStream message id given: the same
    /// event id under another message id is a redelivery JetStream does not drop.
    pub async fn publish_event_as<E: DomainEvent>(
        &self,
        service: &str,
        event: &E,
        event_id: Uuid,
        message_id: &str,
    ) {
        let context = self.services.context(service).expect("service is hosted");
        context
            .jetstream
            .send_publish(
                context.naming.subject(&E::subject()),
                async_nats::jetstream::message::PublishMessage::build()
                    .payload(prost::Message::encode_to_vec(event).into())
                    .message_id(message_id)
                    .header(headers::EVENT_ID, event_id.to_string().as_str())
                    .header(headers::EVENT_TYPE, E::full_name().as_str()),
            )
            .await
            .expect("publish")
            .await
            .expect("JetStream acknowledges");
    }

    /// Creates `producer`'s stream in this test's namespace, as that service would when hosted:
    /// for a test that stands in for it by publishing its events to `service`'s consumers.
    pub async fn stand_in_for(&self, service: &str, producer: &str) {
        let context = self.services.context(service).expect("service is hosted");
        crm_platform::events::ensure_stream(
            &context.jetstream,
            &context.naming,
            producer,
            Duration::from_secs(120),
        )
        .await
        .expect("the producer's stream");
    }

    pub fn pool(&self, service: &str) -> &PgPool {
        self.services.pool(service).expect("service is hosted")
    }

    /// The test's own pool on `service`'s database, beside the service's (which holds only
    /// two connections): for a test that holds locks or watches the service while it works.
    pub fn test_pool(&self, service: &str) -> &PgPool {
        let index = self
            .hosted
            .iter()
            .position(|name| *name == service)
            .expect("service is hosted");
        &self.databases[index].pool
    }

    /// Waits until `service`'s consumers have handled at least `count` events (its inbox
    /// holds them), for a test that published them.
    pub async fn handled(&self, service: &str, count: i64) {
        let pool = self.pool(service);
        eventually(
            Duration::from_secs(20),
            &format!("{count} events handled by {service}"),
            || async move {
                sqlx::query_scalar::<_, i64>("SELECT count(*) FROM inbox")
                    .fetch_one(pool)
                    .await
                    .expect("count the inbox")
                    >= count
            },
        )
        .await;
    }
}

impl Drop for TestApp {
    /// Deletes the test's streams and has its databases dropped (see [`cleanup`]).
    fn drop(&mut self) {
        let databases = self
            .databases
            .iter_mut()
            .filter_map(TestDatabase::take_over)
            .collect();
        let streams = (self.settings.nats_url.clone(), self.namespace.clone());
        cleanup::test_ended(databases, Some(streams));
        if !cleanup::keep() {
            let _ = std::fs::remove_dir_all(scratch_dir(&self.namespace));
        }
    }
}

/// A caller for tests: `user("rep", "/northwind/east/east-1")`.
pub fn user(role: &str, team: &str) -> Caller {
    Caller {
        user_id: Uuid::now_v7(),
        role: role.parse::<Role>().expect("role"),
        team_path: TeamPath::parse(team).expect("team path"),
        scopes: None,
    }
}

/// Adds `authorization: Bearer` to a request.
pub fn authorized<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("ascii token"),
    );
    request
}

/// Every item of a paged listing: `page` is called with each page token (empty first) and
/// answers that page's items and the next token, until the next token is empty.
pub async fn every_page<T, F, Fut>(mut page: F) -> Vec<T>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = (Vec<T>, String)>,
{
    let (mut items, mut token) = (Vec::new(), String::new());
    loop {
        let (more, next) = page(token).await;
        items.extend(more);
        if next.is_empty() {
            return items;
        }
        token = next;
    }
}

/// Waits until `check` holds, polling; panics with `what` after `timeout`.
pub async fn eventually<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
