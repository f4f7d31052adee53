//! Hosting services in a process: one service per process in Kubernetes, or any set of them in
//! the all-in-one `crm` binary. Same code either way (the Loki/Temporal "target" model).
//!
//! For each hosted service the host opens its database (migrating it when configured), starts
//! its outbox relay and lets it mount gRPC services and background tasks. All gRPC services
//! share one server with health, reflection, request spans and per-method metrics; health
//! follows each hosted database ([`crate::readiness`]), as does `GET /readyz` when the
//! process serves HTTP.

use std::{
    convert::Infallible,
    future::Future,
    net::SocketAddr,
    pin::Pin,
    sync::{Arc, OnceLock},
    time::Duration,
};

use async_nats::jetstream;
use sqlx::{PgPool, migrate::Migrator};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tonic::{server::NamedService, service::RoutesBuilder, transport::server::TcpIncoming};
use tonic_health::ServingStatus;

use crate::{
    auth::{AuthInterceptor, JwtVerifier},
    config::Settings,
    consumer::{ConsumerSpec, EventConsumer, EventHandler},
    db,
    events::{self, EventNaming},
    metrics::{GrpcMetricsLayer, Metrics},
    outbox::{Outbox, OutboxRelay},
    readiness::{self, ProbedDatabase, Readiness},
    replies::{self, KeyedCalls, KeyedCallsLayer},
    retry::Backoff,
    scope::RpcMethodLayer,
    telemetry,
};

type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The connections of each hosted service's outbox relay, beside its pool (PostgreSQL's
/// `max_connections` must cover them: docs/operations.md).
pub const RELAY_CONNECTIONS: u32 = 1;

/// What a service crate exports so that a process can host it.
#[derive(Clone, Copy)]
pub struct ServiceModule {
    /// `accounts`: names the database (`crm_accounts`), the stream (`CRM_ACCOUNTS`), logs.
    pub name: &'static str,
    pub migrator: fn() -> Migrator,
    /// Mounts the service's gRPC API and background tasks.
    pub mount: fn(&ServiceContext, &mut ServiceMount) -> anyhow::Result<()>,
}

/// The gRPC services hosted in this process, callable in process: the same routes and the same
/// layers (per-method metrics, the method lookup API-key scopes need) as the network server,
/// without a network round trip. The gateway's front door calls co-hosted services through it.
///
/// Its error type is a channel's, so that a [`tonic::transport::Channel`] to another process
/// boxes into the same type (the local routes never fail).
pub type LocalGrpc = tower::util::BoxCloneSyncService<
    http::Request<tonic::body::Body>,
    http::Response<tonic::body::Body>,
    tonic::transport::Error,
>;

/// Everything a service is given to build itself.
#[derive(Clone)]
pub struct ServiceContext {
    pub name: &'static str,
    pub pool: PgPool,
    pub outbox: Outbox,
    pub jetstream: jetstream::Context,
    pub naming: EventNaming,
    pub auth: AuthInterceptor,
    pub metrics: Metrics,
    pub settings: Arc<Settings>,
    /// Cancelled when background work must stop.
    pub shutdown: CancellationToken,
    /// The process's readiness: a service that must catch up before serving holds it.
    pub readiness: Readiness,
    /// The hosted gRPC services, set once every module is mounted (see [`LocalGrpc`]).
    pub local_grpc: Arc<OnceLock<LocalGrpc>>,
}

impl std::fmt::Debug for ServiceModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceModule")
            .field("name", &self.name)
            .finish()
    }
}

impl ServiceContext {
    /// A durable consumer for this service, writing to this service's database.
    pub fn consumer(&self, spec: ConsumerSpec, handler: Arc<dyn EventHandler>) -> EventConsumer {
        EventConsumer::new(
            self.pool.clone(),
            self.jetstream.clone(),
            self.naming.clone(),
            spec,
            self.settings.consumer.clone(),
            handler,
            self.metrics.clone(),
        )
        .waking(self.outbox.clone())
    }
}

/// Collects what a service mounts.
#[derive(Default)]
pub struct ServiceMount {
    routes: RoutesBuilder,
    grpc_service_names: Vec<&'static str>,
    tasks: Vec<Task>,
    http: Option<(SocketAddr, axum::Router)>,
    grpc_fallback: Option<axum::Router>,
}

impl ServiceMount {
    /// Serves a gRPC service (reported SERVING on grpc.health.v1 under its name).
    pub fn add_grpc<S>(&mut self, service: S) -> &mut Self
    where
        S: tower::Service<http::Request<tonic::body::Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Response: axum::response::IntoResponse,
        S::Future: Send + 'static,
    {
        self.grpc_service_names.push(S::NAME);
        self.routes.add_service(service);
        self
    }

    /// Serves a gRPC service without the token check. Only a service its `.proto` declares
    /// public (`option (crm.common.v1.public_service) = true;`, see
    /// [`crate::auth::public_services`]) may be mounted so; any other is refused here, at mount
    /// time, so a service cannot go out token-free by a forgotten interceptor.
    pub fn add_public_grpc<S>(&mut self, service: S) -> anyhow::Result<&mut Self>
    where
        S: tower::Service<http::Request<tonic::body::Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Response: axum::response::IntoResponse,
        S::Future: Send + 'static,
    {
        anyhow::ensure!(
            crate::auth::is_public_service(S::NAME),
            "{} is mounted without the token check, but its .proto does not declare \
             `option (crm.common.v1.public_service) = true;`",
            S::NAME
        );
        Ok(self.add_grpc(service))
    }

    /// Serves HTTP routes (the gateway's front door) on `addr`, an address from the module's
    /// own settings, with the same graceful shutdown as gRPC. Handlers can read the client's
    /// address as `axum::extract::ConnectInfo<SocketAddr>`. Modules of one process that serve
    /// HTTP share one address: routers mounted on the same one are merged, another is refused.
    pub fn serve_http(
        &mut self,
        addr: SocketAddr,
        router: axum::Router,
    ) -> anyhow::Result<&mut Self> {
        self.http = Some(match self.http.take() {
            Some((existing_addr, existing)) => {
                anyhow::ensure!(
                    existing_addr == addr,
                    "HTTP is served on {existing_addr} already; a process serves HTTP on one address, not also on {addr}"
                );
                (addr, existing.merge(router))
            }
            None => (addr, router),
        });
        Ok(self)
    }

    /// Answers gRPC calls to services this process does not host (the gateway forwards them to
    /// their upstreams). The router is used as the gRPC server's fallback.
    pub fn grpc_fallback(&mut self, router: axum::Router) -> &mut Self {
        self.grpc_fallback = Some(router);
        self
    }

    /// Runs a background task (consumer, scheduler) until the context's shutdown token fires.
    pub fn spawn(&mut self, task: impl Future<Output = ()> + Send + 'static) -> &mut Self {
        self.tasks.push(Box::pin(task));
        self
    }
}

/// A running set of services.
pub struct RunningServices {
    grpc_addr: SocketAddr,
    http_addr: Option<SocketAddr>,
    metrics_addr: Option<SocketAddr>,
    stop_serving: CancellationToken,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
    pools: Vec<(&'static str, PgPool)>,
    /// Each outbox relay's own connection, closed with the services' pools.
    relay_pools: Vec<PgPool>,
    contexts: Vec<ServiceContext>,
    readiness: Readiness,
}

impl RunningServices {
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    /// Where HTTP is served, when a hosted service mounted HTTP routes.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http_addr
    }

    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    pub fn pool(&self, service: &str) -> Option<&PgPool> {
        self.pools
            .iter()
            .find(|(name, _)| *name == service)
            .map(|(_, pool)| pool)
    }

    pub fn context(&self, service: &str) -> Option<&ServiceContext> {
        self.contexts.iter().find(|context| context.name == service)
    }

    /// Whether the process can serve now (every hosted database answers; not shutting down).
    pub fn readiness(&self) -> &Readiness {
        &self.readiness
    }

    /// A token that starts graceful shutdown when cancelled (signal handlers use it).
    pub fn shutdown_trigger(&self) -> CancellationToken {
        self.stop_serving.clone()
    }

    /// Stops accepting calls, lets in-flight calls finish, then stops background work.
    pub async fn shutdown(&mut self) -> anyhow::Result<()> {
        self.stop_serving.cancel();
        self.wait().await
    }

    /// Waits until the services stop (after a trigger). Borrows, so that a holder that cleans
    /// up on drop (a test app) can wait too; call it once.
    pub async fn wait(&mut self) -> anyhow::Result<()> {
        let result = match (&mut self.server).await {
            Ok(result) => result,
            Err(error) => Err(anyhow::anyhow!("server task failed: {error}")),
        };
        for pool in self
            .pools
            .iter()
            .map(|(_, pool)| pool)
            .chain(&self.relay_pools)
        {
            pool.close().await;
        }
        result
    }
}

/// Connects to NATS. The connection retries in the background, so a service starts (and
/// keeps accepting writes into its outbox) while the broker is down.
pub async fn connect_nats(settings: &Settings) -> anyhow::Result<jetstream::Context> {
    let client = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(3))
        .name("crm")
        .connect(&settings.nats_url)
        .await?;
    Ok(jetstream::ContextBuilder::new()
        .timeout(settings.outbox.publish_timeout)
        .build(client))
}

/// Creates and migrates each module's database.
pub async fn migrate(settings: &Settings, modules: &[ServiceModule]) -> anyhow::Result<()> {
    for module in modules {
        let url = settings.database_url(module.name);
        db::ensure_database(&url).await?;
        let pool = db::connect(&url, 2).await?;
        db::migrate(&pool, module.migrator).await?;
        pool.close().await;
        tracing::info!(service = module.name, "database migrated");
    }
    Ok(())
}

/// Starts the modules and serves them until [`RunningServices::shutdown`].
pub async fn start(
    settings: Settings,
    modules: &[ServiceModule],
) -> anyhow::Result<RunningServices> {
    let settings = Arc::new(settings);
    let metrics = Metrics::new();
    let naming = EventNaming::new(settings.event_namespace.clone());
    let verifier = Arc::new(JwtVerifier::new(&settings.jwt));
    let auth = AuthInterceptor::new(verifier.clone());
    let jetstream = connect_nats(&settings).await?;
    let background_shutdown = CancellationToken::new();
    let mut background = JoinSet::new();
    let mut mount = ServiceMount::default();
    let mut pools = Vec::new();
    let mut relay_pools = Vec::new();
    let mut contexts = Vec::new();
    let local_grpc = Arc::new(OnceLock::new());
    let readiness = Readiness::default();
    // Each hosted service's database, probed for readiness, with the gRPC services it backs.
    let mut probed_databases = Vec::new();
    // Each hosted gRPC service's database, where its keyed calls' replies are kept.
    let mut reply_pools = std::collections::HashMap::new();

    background.spawn(ensure_dead_letter_stream(
        jetstream.clone(),
        naming.clone(),
        background_shutdown.clone(),
    ));
    for module in modules {
        let url = settings.database_url(module.name);
        if settings.migrate_on_start {
            db::ensure_database(&url).await?;
        }
        let pool = db::connect(&url, settings.database_max_connections).await?;
        if settings.migrate_on_start {
            db::migrate(&pool, module.migrator).await?;
        }
        let context = ServiceContext {
            name: module.name,
            pool: pool.clone(),
            outbox: Outbox::new(),
            jetstream: jetstream.clone(),
            naming: naming.clone(),
            auth: auth.clone(),
            metrics: metrics.clone(),
            settings: settings.clone(),
            shutdown: background_shutdown.clone(),
            readiness: readiness.clone(),
            local_grpc: local_grpc.clone(),
        };
        let mounted_before = mount.grpc_service_names.len();
        (module.mount)(&context, &mut mount)?;
        for name in &mount.grpc_service_names[mounted_before..] {
            reply_pools.insert((*name).to_owned(), pool.clone());
        }
        probed_databases.push(ProbedDatabase {
            service: module.name,
            pool: pool.clone(),
            grpc_services: mount.grpc_service_names[mounted_before..].to_vec(),
        });
        background.spawn(replies::prune_until(
            pool.clone(),
            settings.reply_retention,
            background_shutdown.clone(),
        ));
        // The relay has a connection of its own (a bulkhead): on the service's pool it waited
        // behind the requests whose events it publishes, and under a steady 1,000 writes a
        // second those commits (waiting on the WAL) kept every connection busy — events sat in
        // the outbox for a second (docs/benchmarks.md, "Forecasting"). It claims one batch at
        // a time, so one connection is all it uses; its housekeeping stays on the service's.
        let relay_pool = db::connect(&url, RELAY_CONNECTIONS).await?;
        let relay = OutboxRelay::new(
            relay_pool.clone(),
            jetstream.clone(),
            naming.clone(),
            module.name,
            context.outbox.clone(),
            settings.outbox.clone(),
            settings.consumer.inbox_retention,
            metrics.clone(),
        )
        .with_housekeeping_pool(pool.clone());
        relay_pools.push(relay_pool);
        background.spawn(run_relay(
            relay,
            jetstream.clone(),
            naming.clone(),
            module.name,
            settings.outbox.duplicate_window,
            background_shutdown.clone(),
        ));
        pools.push((module.name, pool));
        contexts.push(context);
    }
    for task in std::mem::take(&mut mount.tasks) {
        background.spawn(task);
    }

    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    for name in &mount.grpc_service_names {
        health_reporter
            .set_service_status(name, ServingStatus::Serving)
            .await;
    }
    health_reporter
        .set_service_status("", ServingStatus::Serving)
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crm_proto::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let mut routes = mount.routes;
    routes.add_service(health_service);
    routes.add_service(reflection);
    let mut routes = routes.routes();
    let keyed = KeyedCalls::new(reply_pools, verifier);
    let _ = local_grpc.set(in_process(routes.clone(), &metrics, &keyed));
    if let Some(fallback) = mount.grpc_fallback.take() {
        routes = tonic::service::Routes::from(routes.into_axum_router().fallback_service(fallback));
    }

    let listener = tokio::net::TcpListener::bind(settings.grpc_addr).await?;
    let grpc_addr = listener.local_addr()?;
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));

    let metrics_listener = match settings.metrics_addr {
        Some(addr) => Some(tokio::net::TcpListener::bind(addr).await?),
        None => None,
    };
    let metrics_addr = match &metrics_listener {
        Some(listener) => Some(listener.local_addr()?),
        None => None,
    };
    if let Some(listener) = metrics_listener {
        background.spawn(serve_metrics(
            metrics.clone(),
            listener,
            background_shutdown.clone(),
        ));
    }

    let stop_serving = CancellationToken::new();
    let (http_addr, http_server) = match mount.http.take() {
        Some((addr, router)) => {
            let router = router.merge(readiness.router());
            let listener = tokio::net::TcpListener::bind(addr).await?;
            let addr = listener.local_addr()?;
            let stop = stop_serving.clone();
            let server = tokio::spawn(async move {
                axum::serve(
                    listener,
                    router.into_make_service_with_connect_info::<SocketAddr>(),
                )
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await
            });
            tracing::info!(%addr, "serving HTTP");
            (Some(addr), Some(server))
        }
        None => (None, None),
    };
    let router = tonic::transport::Server::builder()
        .layer(grpc_layers(&metrics, &keyed))
        .trace_fn(request_span)
        .add_routes(routes);
    background.spawn(readiness::run(
        readiness.clone(),
        probed_databases,
        health_reporter.clone(),
        stop_serving.clone(),
    ));
    let grace = settings.shutdown_grace;
    let signal = stop_serving.clone();
    let server = tokio::spawn(async move {
        let stopped = {
            let signal = signal.clone();
            async move {
                signal.cancelled().await;
                // Load balancers and kubelets see NOT_SERVING while in-flight calls drain.
                health_reporter
                    .set_service_status("", ServingStatus::NotServing)
                    .await;
                tracing::info!("shutting down: draining in-flight calls");
            }
        };
        let serve = router.serve_with_incoming_shutdown(incoming, stopped);
        tokio::pin!(serve);
        let result = tokio::select! {
            result = &mut serve => result.map_err(anyhow::Error::from),
            _ = async { signal.cancelled().await; tokio::time::sleep(grace).await } => {
                tracing::warn!(grace_secs = grace.as_secs(), "in-flight calls did not finish within the grace period");
                Ok(())
            }
        };
        if let Some(http_server) = http_server {
            // Requests in flight were given the same grace as gRPC calls.
            match tokio::time::timeout(Duration::from_secs(1), http_server).await {
                Ok(Ok(Err(error))) => tracing::error!(%error, "HTTP server failed"),
                Ok(_) => {}
                Err(_) => tracing::warn!("HTTP requests did not finish within the grace period"),
            }
        }
        background_shutdown.cancel();
        while background.join_next().await.is_some() {}
        result
    });
    tracing::info!(%grpc_addr, services = ?modules.iter().map(|m| m.name).collect::<Vec<_>>(), "serving");
    Ok(RunningServices {
        grpc_addr,
        http_addr,
        metrics_addr,
        stop_serving,
        server,
        pools,
        relay_pools,
        contexts,
        readiness,
    })
}

/// Starts the modules and serves until SIGTERM or SIGINT, then shuts down gracefully.
pub async fn run_until_signalled(
    settings: Settings,
    modules: &[ServiceModule],
) -> anyhow::Result<()> {
    let mut running = start(settings, modules).await?;
    let trigger = running.shutdown_trigger();
    tokio::spawn(async move {
        shutdown_signal().await;
        trigger.cancel();
    });
    running.wait().await
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (Kubernetes).
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
}

type GrpcLayers = tower::ServiceBuilder<
    tower::layer::util::Stack<
        KeyedCallsLayer,
        tower::layer::util::Stack<
            RpcMethodLayer,
            tower::layer::util::Stack<GrpcMetricsLayer, tower::layer::util::Identity>,
        >,
    >,
>;

/// The layers every hosted gRPC call passes, over the network or in process: per-method
/// metrics, the method lookup that tells the auth interceptor which method is called (for
/// API-key scopes), and the replies of calls with an idempotency key ([`replies`]). One
/// definition, so that no door can skip the scope check or a key.
fn grpc_layers(metrics: &Metrics, keyed: &KeyedCalls) -> GrpcLayers {
    tower::ServiceBuilder::new()
        .layer(GrpcMetricsLayer::new(metrics.clone()))
        .layer(RpcMethodLayer)
        .layer(KeyedCallsLayer::new(keyed.clone()))
}

/// The hosted routes behind the network server's layers, as one cloneable service.
fn in_process(routes: tonic::service::Routes, metrics: &Metrics, keyed: &KeyedCalls) -> LocalGrpc {
    let service = tower::ServiceBuilder::new()
        .map_err(|never: Infallible| -> tonic::transport::Error { match never {} })
        .layer(grpc_layers(metrics, keyed))
        .service(routes);
    tower::util::BoxCloneSyncService::new(service)
}

fn request_span(request: &http::Request<()>) -> tracing::Span {
    let span = tracing::info_span!(
        "grpc request",
        rpc.method = %request.uri().path(),
        otel.kind = "server",
    );
    telemetry::set_remote_parent(
        &span,
        request
            .headers()
            .get("traceparent")
            .and_then(|value| value.to_str().ok()),
    );
    span
}

/// The relay starts once its stream exists; until NATS is reachable it keeps trying.
async fn run_relay(
    relay: OutboxRelay,
    jetstream: jetstream::Context,
    naming: EventNaming,
    producer: &'static str,
    duplicate_window: Duration,
    shutdown: CancellationToken,
) {
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
    while let Err(error) =
        events::ensure_stream(&jetstream, &naming, producer, duplicate_window).await
    {
        tracing::warn!(producer, error = %format!("{error:#}"), "stream not ready, retrying");
        if !backoff.wait(&shutdown).await {
            return;
        }
    }
    relay.run(shutdown).await;
}

async fn ensure_dead_letter_stream(
    jetstream: jetstream::Context,
    naming: EventNaming,
    shutdown: CancellationToken,
) {
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
    while let Err(error) = events::ensure_dead_letter_stream(&jetstream, &naming).await {
        tracing::warn!(error = %format!("{error:#}"), "dead-letter stream not ready, retrying");
        if !backoff.wait(&shutdown).await {
            return;
        }
    }
}

async fn serve_metrics(
    metrics: Metrics,
    listener: tokio::net::TcpListener,
    shutdown: CancellationToken,
) {
    if let Err(error) = metrics.serve_on(listener, shutdown).await {
        tracing::error!(%error, "metrics endpoint failed");
    }
}

/// The commands of a single-service binary.
#[derive(clap::Parser)]
#[command(
    about = "A CRM service; configuration from CRM_* environment variables (docs/operations.md)"
)]
struct ServiceCli {
    #[command(subcommand)]
    command: Option<ServiceCommand>,
}

#[derive(Clone, Copy, clap::Subcommand)]
enum ServiceCommand {
    /// Serve until SIGINT or SIGTERM (the default).
    Serve,
    /// Apply the database migrations and exit (the Kubernetes migration Job).
    Migrate,
}

/// The `main` of a single-service binary: `serve` (the default) or `migrate`. Exits 2 on bad
/// usage or configuration, 1 when the service fails.
pub fn main_for(modules: &[ServiceModule]) -> std::process::ExitCode {
    use clap::{CommandFactory, FromArgMatches};
    let parsed = ServiceCli::command()
        .name(modules[0].name)
        .try_get_matches()
        .and_then(|matches| ServiceCli::from_arg_matches(&matches));
    let command = match parsed {
        Ok(cli) => cli.command.unwrap_or(ServiceCommand::Serve),
        Err(error) => {
            let _ = error.print();
            return std::process::ExitCode::from(if error.use_stderr() { 2 } else { 0 });
        }
    };
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("{error}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let _telemetry = telemetry::init(modules[0].name, &settings)?;
        match command {
            ServiceCommand::Migrate => migrate(&settings, modules).await,
            ServiceCommand::Serve => run_until_signalled(settings, modules).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = %format!("{error:#}"), "stopped with an error");
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
