//! `gateway`: what the HTTP/JSON front door adds to a read.
//!
//! The gateway and the accounts service run in this process as `crm serve --services
//! gateway,accounts` runs them (one host; the gateway calls accounts over gRPC on the host's own
//! address), with fresh databases, a fresh namespace and the rate limit off. One account is
//! created as an admin; then, in the same run, these reads of it are compared:
//!
//! - `GetAccount` straight to the service over gRPC (tonic, a channel per client), the
//!   baseline;
//! - `GET /v1/accounts/{id}` through the gateway over HTTP/1.1 keep-alive (an `HttpClient` per
//!   client, so a connection per client);
//! - `GET /bare/{id}` through a **bare forwarder**: an axum route of this bench that forwards the
//!   read with the gateway's own `Upstreams` and passes the protobuf reply back, with no
//!   transcoding, token check, request id or span: the least an HTTP → gRPC hop costs;
//! - `GET /healthz` on the gateway and the gRPC health check: an HTTP and a gRPC round trip
//!   without an upstream call or a database read;
//! - `GetAccount` with every client on one shared channel (as the gateway forwards).
//!
//! Measured: (1) latency at low load: one client, sequential requests after a warm-up, rotating
//! between the variants so that changes in background load hit all alike; (2) each variant
//! alone with one client for a moment, for its CPU time and thread wake-ups per request;
//! (3) throughput: N closed-loop clients, the variants in alternating rounds; (4) a micro
//! benchmark of the gateway's own steps (`crm_gateway::http::transcode::{request_message,
//! response_json}`, route lookup, token check) against the typed prost encode and decode a gRPC
//! client does.
//!
//! The services run on a runtime of their own (threads `bench-server`), the load generator on
//! another (threads `bench-client`), so that CPU time can be split by thread from
//! `/proc/self/task/*/schedstat`; PostgreSQL's comes from its processes. Client, servers and
//! PostgreSQL share the machine's cores.

use std::{
    collections::BTreeMap,
    hint::black_box,
    net::SocketAddr,
    panic::AssertUnwindSafe,
    sync::{Arc, OnceLock},
    time::{Duration, Instant as StdInstant},
};

use axum::{
    Router,
    extract::{Path, State},
    response::{IntoResponse, Response},
    routing::get,
};
use bytes::Bytes;
use crm_gateway::http::{
    routes::{Matched, RouteTable},
    transcode,
    upstream::{EncodedCodec, Upstreams},
};
use crm_platform::{auth::JwtVerifier, config::Settings, events};
use crm_proto::crm::accounts::v1::{
    AccountInput, CreateAccountRequest, GetAccountRequest, GetAccountResponse,
    account_service_client::AccountServiceClient,
};
use crm_test_support::{HttpClient, TestApp, authorized};
use futures::FutureExt;
use prost::Message;
use tokio::{runtime::Runtime, time::Instant};
use tonic::transport::{Channel, Endpoint};

use crate::{
    measure::{Latencies, load_average},
    report::{Row, ScenarioReport, Target},
    setup,
    write_rpc::{LoadFigure, run_closed_loop},
};

const CLIENT_THREADS: &str = "bench-client";
const SERVER_THREADS: &str = "bench-server";
/// Each throughput variant runs in this many slices, alternating with the others.
const ROUNDS: u32 = 2;
/// Unmeasured time before the low-load and throughput measurements.
const WARM_UP: Duration = Duration::from_secs(1);
/// The gateway's goals (issue text): at most 10% added at p50, at least 5,000 requests/s.
const ADDED_P50_LIMIT: f64 = 1.10;
const GATEWAY_RATE_GOAL: f64 = 5_000.0;

#[derive(Clone, Copy, Debug)]
pub struct GatewayOptions {
    /// Concurrent clients of the throughput runs.
    pub clients: usize,
    /// Measured seconds of the low-load run and of each throughput variant.
    pub duration: Duration,
}

pub async fn run(
    options: GatewayOptions,
    overrides: &BTreeMap<String, String>,
) -> anyhow::Result<ScenarioReport> {
    anyhow::ensure!(options.clients > 0, "--clients must be at least 1");
    anyhow::ensure!(
        !options.duration.is_zero(),
        "--duration-secs must be at least 1"
    );
    let load_before = load_average();
    let server_runtime = runtime(SERVER_THREADS)?;
    let client_runtime = runtime(CLIENT_THREADS)?;
    let mut settings: Vec<(String, String)> = overrides
        .iter()
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    settings.push((
        "CRM_GATEWAY_RATE_LIMIT_PER_SECOND".to_owned(),
        "0".to_owned(),
    ));
    let app = server_runtime
        .spawn(async move {
            let settings: Vec<(&str, &str)> = settings
                .iter()
                .map(|(key, value)| (key.as_str(), value.as_str()))
                .collect();
            let app = TestApp::spawn_with(
                &[crm_gateway::module(), crm_accounts::module()],
                &crm_test_support::nats_url(),
                &settings,
            )
            .await;
            // Accounts consumes the leads service's events; with the stream there its consumer
            // settles instead of retrying (and logging) all through the run.
            if let Some(context) = app.services.context("accounts") {
                let _ = events::ensure_stream(
                    &context.jetstream,
                    &context.naming,
                    "leads",
                    app.settings.outbox.duplicate_window,
                )
                .await;
            }
            app
        })
        .await
        .map_err(|error| anyhow::anyhow!("starting gateway and accounts: {error}"))?;
    let local = app
        .services
        .context("gateway")
        .expect("the gateway is hosted")
        .local_grpc
        .clone();
    let front_door = crm_gateway::http::FrontDoorSettings::from_settings(&app.settings)?;
    let bare = server_runtime
        .spawn(async move { serve_bare_forwarder(&front_door, local).await })
        .await
        .map_err(|error| anyhow::anyhow!("starting the bare forwarder: {error}"))?;
    let result = match bare {
        Ok(bare) => measure(&app, bare, &client_runtime, options).await,
        Err(error) => Err(error.context("starting the bare forwarder")),
    };
    let cleanup = server_runtime.spawn(cleanup(app)).await;
    if let Err(error) = cleanup {
        eprintln!("warning: clean-up failed: {error}");
    }
    let mut report = result?;
    report.note(format!(
        "load average (1/5/15 min) before: {}, after: {}",
        load_before.as_deref().unwrap_or("-"),
        load_average().as_deref().unwrap_or("-"),
    ));
    Ok(report)
}

/// A multi-threaded runtime with one worker per core, its threads named `name`.
fn runtime(name: &str) -> anyhow::Result<OwnedRuntime> {
    Ok(OwnedRuntime(Some(
        tokio::runtime::Builder::new_multi_thread()
            .thread_name(name)
            .enable_all()
            .build()?,
    )))
}

/// A runtime started from async code: dropped without waiting for its tasks (a plain
/// `Runtime` may not be dropped where blocking is not allowed).
struct OwnedRuntime(Option<Runtime>);

impl std::ops::Deref for OwnedRuntime {
    type Target = Runtime;

    fn deref(&self) -> &Runtime {
        self.0.as_ref().expect("present until dropped")
    }
}

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

async fn cleanup(mut app: TestApp) {
    let streams = app.services.context("accounts").map(|context| {
        let naming = &context.naming;
        (
            context.jetstream.clone(),
            [
                naming.stream("accounts"),
                naming.stream("gateway"),
                naming.stream("leads"),
                naming.dead_letter_stream(),
            ],
        )
    });
    if let Err(error) = app.services.shutdown().await {
        eprintln!("warning: stopping the services failed: {error:#}");
    }
    if let Some((jetstream, streams)) = streams {
        for stream in streams {
            let _ = jetstream.delete_stream(stream).await;
        }
    }
    for database in &app.databases {
        database.pool.close().await;
        if let Err(error) = setup::drop_database(&database.name).await {
            eprintln!(
                "warning: dropping database {} failed: {error}",
                database.name
            );
        }
    }
}

/// `GetAccount`'s gRPC path.
const GET_ACCOUNT: &str = "/crm.accounts.v1.AccountService/GetAccount";

/// Serves `GET /bare/{account_id}` on a port of its own: the read forwarded with the gateway's
/// `Upstreams` (in process, as the gateway does; the caller's `authorization` passed on), the
/// reply's protobuf returned as it came. The least an HTTP → gRPC step can do.
async fn serve_bare_forwarder(
    settings: &crm_gateway::http::FrontDoorSettings,
    local: Arc<OnceLock<crm_platform::host::LocalGrpc>>,
) -> anyhow::Result<SocketAddr> {
    let upstreams = Arc::new(Upstreams::new(settings, local)?);
    let router = Router::new()
        .route("/bare/{account_id}", get(bare_forward))
        .with_state(upstreams);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            eprintln!("warning: the bare forwarder stopped: {error}");
        }
    });
    Ok(bound)
}

async fn bare_forward(
    State(upstreams): State<Arc<Upstreams>>,
    Path(account_id): Path<String>,
    headers: http::HeaderMap,
) -> Response {
    let mut metadata = tonic::metadata::MetadataMap::new();
    if let Some(authorization) = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok()?.parse().ok())
    {
        metadata.insert("authorization", authorization);
    }
    let message = Bytes::from(GetAccountRequest { account_id }.encode_to_vec());
    match upstreams
        .unary("accounts", GET_ACCOUNT, metadata, message)
        .await
    {
        Ok(reply) => reply.into_response(),
        Err(status) => (http::StatusCode::BAD_GATEWAY, status.message().to_owned()).into_response(),
    }
}

/// The ways a client reads in this scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Call {
    /// `GetAccount` over gRPC, on the client's own channel.
    Direct,
    /// `GetAccount` over gRPC, every client on one channel (as the gateway forwards).
    DirectShared,
    /// `GET /v1/accounts/{id}` through the gateway, on the client's own connection.
    Gateway,
    /// `GET /bare/{id}`: the bench's bare forwarder, on the client's own connection.
    Bare,
    /// `GET /healthz`: the gateway's HTTP stack, no upstream call.
    Healthz,
    /// The gRPC health check on the client's own channel: a gRPC round trip without a database
    /// read (what the gateway's call to the service costs, besides the service's work).
    GrpcHealth,
}

impl Call {
    fn label(self) -> &'static str {
        match self {
            Call::Direct => "gRPC GetAccount straight to accounts, a channel per client",
            Call::DirectShared => "gRPC GetAccount straight to accounts, one shared channel",
            Call::Gateway => "GET /v1/accounts/{id} through the gateway",
            Call::Bare => "GET /bare/{id} through the bare forwarder (no transcoding)",
            Call::Healthz => "GET /healthz on the gateway (no upstream call)",
            Call::GrpcHealth => "gRPC Health/Check (no database read), a channel per client",
        }
    }
}

/// The load generator's connections, made on the client runtime.
#[derive(Clone)]
struct Clients {
    /// One channel (one HTTP/2 connection) per client.
    grpc: Arc<Vec<Channel>>,
    shared: Channel,
    /// One `HttpClient` per client: each has its own pool, so its own keep-alive connection.
    http: Arc<Vec<HttpClient>>,
    /// The same for the bare forwarder.
    bare: Arc<Vec<HttpClient>>,
    token: Arc<str>,
    account_id: Arc<str>,
    /// `/v1/accounts/{id}`.
    path: Arc<str>,
    /// `/bare/{id}`.
    bare_path: Arc<str>,
    /// The encoded `GetAccountResponse`, for the micro benchmark.
    response: Arc<Vec<u8>>,
}

impl Clients {
    /// Connects `clients` channels and HTTP clients, creates the account and reads it once on
    /// every connection (which opens them all).
    async fn connect(
        grpc_url: String,
        http_url: String,
        bare_url: String,
        token: String,
        clients: usize,
    ) -> anyhow::Result<Self> {
        let endpoint = Endpoint::from_shared(grpc_url)?.tcp_nodelay(true);
        let shared = endpoint.connect().await?;
        let created = AccountServiceClient::new(shared.clone())
            .create_account(authorized(
                CreateAccountRequest {
                    account: Some(AccountInput {
                        name: "Northwind Traders".to_owned(),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                &token,
            ))
            .await?
            .into_inner();
        let account_id = created
            .account
            .ok_or_else(|| anyhow::anyhow!("CreateAccount returned no account"))?
            .id;
        let mut grpc = Vec::with_capacity(clients);
        for _ in 0..clients {
            grpc.push(endpoint.connect().await?);
        }
        let http = (0..clients)
            .map(|_| HttpClient::new(http_url.clone()))
            .collect();
        let bare = (0..clients)
            .map(|_| HttpClient::new(bare_url.clone()))
            .collect();
        let path = format!("/v1/accounts/{account_id}");
        let mut this = Self {
            grpc: Arc::new(grpc),
            shared,
            http: Arc::new(http),
            bare: Arc::new(bare),
            token: token.into(),
            account_id: account_id.clone().into(),
            path: path.into(),
            bare_path: format!("/bare/{account_id}").into(),
            response: Arc::default(),
        };
        let reply = AccountServiceClient::new(this.shared.clone())
            .get_account(authorized(
                GetAccountRequest {
                    account_id: account_id.clone(),
                },
                &this.token,
            ))
            .await?
            .into_inner();
        this.response = Arc::new(reply.encode_to_vec());
        let json = http_reply(&this.http[0], &this.path, Some(&this.token))
            .await?
            .json();
        anyhow::ensure!(
            json["account"]["id"] == account_id.as_str(),
            "the gateway answered with another account: {json}"
        );
        for client in 0..clients {
            for call in [Call::Direct, Call::Gateway, Call::Bare] {
                this.call(call, client).await?;
            }
        }
        Ok(this)
    }

    /// One read as `call`, by `client`.
    fn call(
        &self,
        call: Call,
        client: usize,
    ) -> impl Future<Output = anyhow::Result<()>> + Send + use<> {
        enum Via {
            Grpc(Channel),
            Health(Channel),
            /// The clients and which one: `HttpClient` is large, and cloning it copies its base.
            Http(Arc<Vec<HttpClient>>, usize, Option<Arc<str>>),
        }
        let via = match call {
            Call::Direct => Via::Grpc(self.grpc[client % self.grpc.len()].clone()),
            Call::GrpcHealth => Via::Health(self.grpc[client % self.grpc.len()].clone()),
            Call::DirectShared => Via::Grpc(self.shared.clone()),
            Call::Gateway => Via::Http(self.http.clone(), client, Some(self.path.clone())),
            Call::Healthz => Via::Http(self.http.clone(), client, None),
            Call::Bare => Via::Http(self.bare.clone(), client, Some(self.bare_path.clone())),
        };
        let (token, account_id) = (self.token.clone(), self.account_id.clone());
        async move {
            match via {
                Via::Grpc(channel) => {
                    let request = authorized(
                        GetAccountRequest {
                            account_id: account_id.to_string(),
                        },
                        &token,
                    );
                    let reply = AccountServiceClient::new(channel)
                        .get_account(request)
                        .await?;
                    anyhow::ensure!(reply.get_ref().account.is_some(), "no account in the reply");
                }
                Via::Health(channel) => {
                    let mut grpc = tonic::client::Grpc::new(channel);
                    grpc.ready().await?;
                    // An empty HealthCheckRequest (the server as a whole); SERVING is `08 01`.
                    let reply = grpc
                        .unary(
                            tonic::Request::new(Bytes::new()),
                            http::uri::PathAndQuery::from_static("/grpc.health.v1.Health/Check"),
                            EncodedCodec,
                        )
                        .await?;
                    anyhow::ensure!(
                        reply.get_ref()[..] == [8, 1],
                        "the health check did not answer SERVING"
                    );
                }
                Via::Http(clients, client, path) => {
                    let http = &clients[client % clients.len()];
                    match path {
                        Some(path) => http_reply(http, &path, Some(&token)).await?,
                        None => http_reply(http, "/healthz", None).await?,
                    };
                }
            }
            Ok(())
        }
    }
}

/// A `200` reply to `GET path`, or what went wrong (the client panics on transport errors;
/// that is caught here so that a failed request counts as an error, not a lost client).
async fn http_reply(
    http: &HttpClient,
    path: &str,
    token: Option<&str>,
) -> anyhow::Result<crm_test_support::HttpReply> {
    let reply = AssertUnwindSafe(http.get(path, token))
        .catch_unwind()
        .await
        .map_err(|panic| {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("panicked");
            anyhow::anyhow!("GET {path}: {message}")
        })?;
    anyhow::ensure!(
        reply.status == 200,
        "GET {path}: HTTP {}: {}",
        reply.status,
        String::from_utf8_lossy(&reply.body)
    );
    Ok(reply)
}

/// The low-load figures.
struct LowLoad {
    direct: Latencies,
    gateway: Latencies,
    bare: Latencies,
    healthz: Latencies,
    grpc_health: Latencies,
}

/// One client, one request at a time, rotating between the variants (and which comes first).
async fn low_load(clients: Clients, duration: Duration) -> anyhow::Result<LowLoad> {
    let calls = [
        Call::Direct,
        Call::Gateway,
        Call::Bare,
        Call::Healthz,
        Call::GrpcHealth,
    ];
    let mut latencies: [Latencies; 5] = Default::default();
    let measure_from = Instant::now() + WARM_UP;
    let end = measure_from + duration;
    let mut iteration = 0usize;
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        let measured = now >= measure_from;
        for offset in 0..calls.len() {
            let index = (iteration + offset) % calls.len();
            let begun = Instant::now();
            clients.call(calls[index], 0).await?;
            if measured {
                latencies[index].record(begun.elapsed());
            }
        }
        iteration += 1;
    }
    let [direct, gateway, bare, healthz, grpc_health] = latencies;
    Ok(LowLoad {
        direct,
        gateway,
        bare,
        healthz,
        grpc_health,
    })
}

/// A closed-loop variant's figures over all its rounds, with the CPU used meanwhile.
struct Variant {
    call: Call,
    figure: Option<LoadFigure>,
    cpu: CpuUse,
}

impl Variant {
    fn add(&mut self, figure: LoadFigure, cpu: CpuUse) {
        self.cpu = self.cpu.plus(&cpu);
        match &mut self.figure {
            None => self.figure = Some(figure),
            Some(total) => {
                total.operations += figure.operations;
                total.errors += figure.errors;
                total.elapsed += figure.elapsed;
                total.latency.merge(&figure.latency);
                if total.first_error.is_none() {
                    total.first_error = figure.first_error;
                }
            }
        }
    }

    fn per_second(&self) -> Option<f64> {
        self.figure.as_ref().map(LoadFigure::per_second)
    }

    fn ms(&self, quantile: f64) -> Option<f64> {
        self.figure.as_ref()?.latency.ms(quantile)
    }

    /// `field` (ns, or a count) per successful request; in µs for ns.
    fn per_request(&self, field: impl Fn(&CpuUse) -> u64, scale: f64) -> Option<f64> {
        let operations = self.figure.as_ref()?.operations;
        (operations > 0 && self.cpu.machine_total > 0)
            .then(|| field(&self.cpu) as f64 * scale / operations as f64)
    }

    /// CPU µs per successful request of one group of threads or processes.
    fn cpu_per_request(&self, field: impl Fn(&CpuUse) -> u64) -> Option<f64> {
        self.per_request(field, 1e-3)
    }

    /// Cores busy on average, by one group.
    fn cores(&self, field: impl Fn(&CpuUse) -> u64) -> Option<f64> {
        let elapsed = self.figure.as_ref()?.elapsed.as_secs_f64();
        (elapsed > 0.0 && self.cpu.machine_total > 0)
            .then(|| field(&self.cpu) as f64 / 1e9 / elapsed)
    }

    /// `p50 … ms; cores busy: …; per request: …`, for notes.
    fn describe(&self) -> Option<String> {
        let figure = self.figure.as_ref()?;
        let show = |value: Option<f64>, digits: usize| {
            value.map_or_else(|| "-".to_owned(), |value| format!("{value:.digits$}"))
        };
        Some(format!(
            "{}: {:.0} req/s, {} requests in {:.2} s, {} errors{}; {}; cores busy: client {}, servers {}, PostgreSQL {}, elsewhere {}, machine {}; per request: CPU client {} / servers {} / PostgreSQL {} / machine {} µs, waiting for a CPU {} µs, thread runs client {} / servers {}",
            figure.label,
            figure.per_second(),
            figure.operations,
            figure.elapsed.as_secs_f64(),
            figure.errors,
            figure
                .first_error
                .as_deref()
                .map(|error| format!(" (first: {error})"))
                .unwrap_or_default(),
            figure.latency.summary(),
            show(self.cores(|c| c.client), 2),
            show(self.cores(|c| c.server), 2),
            show(self.cores(|c| c.postgres), 2),
            show(self.cores(CpuUse::elsewhere), 2),
            show(self.cores(|c| c.machine_busy), 2),
            show(self.cpu_per_request(|c| c.client), 1),
            show(self.cpu_per_request(|c| c.server), 1),
            show(self.cpu_per_request(|c| c.postgres), 1),
            show(self.cpu_per_request(|c| c.machine_busy), 1),
            show(self.cpu_per_request(|c| c.waiting), 1),
            show(self.per_request(|c| c.client_runs, 1.0), 1),
            show(self.per_request(|c| c.server_runs, 1.0), 1),
        ))
    }
}

/// Runs each of `calls` from `clients` closed-loop clients for `duration` in total, in
/// `rounds` alternating slices, measuring the CPU used by each.
async fn run_variants(
    connections: &Clients,
    client_runtime: &Runtime,
    calls: &[Call],
    clients: usize,
    duration: Duration,
    rounds: u32,
) -> anyhow::Result<Vec<Variant>> {
    let mut results: Vec<Variant> = calls
        .iter()
        .map(|&call| Variant {
            call,
            figure: None,
            cpu: CpuUse::default(),
        })
        .collect();
    let slice = duration / rounds;
    for round in 1..=rounds {
        for result in &mut results {
            let (call, connections) = (result.call, connections.clone());
            eprintln!(
                "gateway: {clients} client(s), round {round}/{rounds}: {}",
                call.label()
            );
            let before = CpuUse::now();
            let figure = client_runtime
                .spawn(run_closed_loop(
                    call.label(),
                    clients,
                    slice,
                    move |client, _| connections.call(call, client),
                ))
                .await?;
            let cpu = match (before, CpuUse::now()) {
                (Some(before), Some(after)) => after.minus(&before),
                _ => CpuUse::default(),
            };
            result.add(figure, cpu);
        }
    }
    Ok(results)
}

/// Every variant, in the order they run.
const CALLS: [Call; 6] = [
    Call::Direct,
    Call::Gateway,
    Call::Bare,
    Call::Healthz,
    Call::GrpcHealth,
    Call::DirectShared,
];

/// How long each variant runs alone with one client, for its CPU per request.
const SOLO: Duration = Duration::from_secs(2);

async fn measure(
    app: &TestApp,
    bare: SocketAddr,
    client_runtime: &Runtime,
    options: GatewayOptions,
) -> anyhow::Result<ScenarioReport> {
    let token = app.token(&crm_test_support::user("admin", "/northwind"));
    let http_port = app
        .services
        .http_addr()
        .ok_or_else(|| anyhow::anyhow!("the gateway serves no HTTP"))?
        .port();
    let grpc_port = app.services.grpc_addr().port();
    let clients = client_runtime
        .spawn(Clients::connect(
            app.grpc_url(),
            app.http_url(),
            format!("http://{bare}"),
            token.clone(),
            options.clients,
        ))
        .await??;
    let connections = (established_at(http_port), established_at(grpc_port));

    eprintln!("gateway: 1 client, sequential, rotating");
    let low = client_runtime
        .spawn(low_load(clients.clone(), options.duration))
        .await??;
    // One client again, each variant alone: what a request costs in CPU and wake-ups.
    let solo = run_variants(&clients, client_runtime, &CALLS[..5], 1, SOLO, 1).await?;
    for call in [Call::Direct, Call::Gateway] {
        let clients = clients.clone();
        client_runtime
            .spawn(run_closed_loop(
                "warm-up",
                options.clients,
                WARM_UP,
                move |client, _| clients.call(call, client),
            ))
            .await?;
    }
    let loaded = run_variants(
        &clients,
        client_runtime,
        &CALLS,
        options.clients,
        options.duration,
        ROUNDS,
    )
    .await?;
    let connections_after = established_at(http_port);
    eprintln!("gateway: micro benchmark of the transcoding");
    let micro = micro(&clients, &app.settings)?;
    Ok(report(
        options,
        &low,
        &solo,
        &loaded,
        &micro,
        connections,
        connections_after,
    ))
}

/// Per-call CPU cost of the gateway's own steps, in µs.
struct Micro {
    route: f64,
    request: f64,
    response: f64,
    typed: f64,
    verify: f64,
    proto_bytes: usize,
    json_bytes: usize,
}

/// Times the gateway's transcoding of this read (and its token check) in a loop, on one
/// thread, against the typed prost encode and decode a gRPC client does instead.
fn micro(clients: &Clients, settings: &Settings) -> anyhow::Result<Micro> {
    let descriptors = prost_reflect::DescriptorPool::decode(crm_proto::FILE_DESCRIPTOR_SET)?;
    let table = RouteTable::from_pool(&descriptors).map_err(anyhow::Error::msg)?;
    let method = http::Method::GET;
    let path: &str = &clients.path;
    let Matched::Route(route, bound) = table.find(&method, path) else {
        anyhow::bail!("no route for GET {path}");
    };
    let output = route.rpc.output();
    let response: &[u8] = &clients.response;
    let json = transcode::response_json(output.clone(), response).map_err(anyhow::Error::msg)?;
    let verifier = JwtVerifier::new(&settings.jwt);
    verifier.verify(&clients.token)?;
    let account_id: &str = &clients.account_id;
    Ok(Micro {
        route: per_call(|| {
            black_box(matches!(
                table.find(&method, black_box(path)),
                Matched::Route(..)
            ));
        }),
        request: per_call(|| {
            let message = transcode::request_message(route, &bound, None, black_box(b""))
                .expect("the request transcodes");
            black_box(message.encode_to_vec());
        }),
        response: per_call(|| {
            black_box(
                transcode::response_json(output.clone(), black_box(response))
                    .expect("the response transcodes"),
            );
        }),
        typed: per_call(|| {
            let request = GetAccountRequest {
                account_id: account_id.to_owned(),
            };
            black_box(request.encode_to_vec());
            black_box(GetAccountResponse::decode(black_box(response)).expect("decodes"));
        }),
        verify: per_call(|| {
            black_box(verifier.verify(black_box(&clients.token)).is_ok());
        }),
        proto_bytes: response.len(),
        json_bytes: json.len(),
    })
}

/// µs per call of `operation`, run for half a second after a short warm-up.
fn per_call(mut operation: impl FnMut()) -> f64 {
    for _ in 0..1_000 {
        operation();
    }
    let started = StdInstant::now();
    let mut calls = 0u64;
    while started.elapsed() < Duration::from_millis(500) {
        for _ in 0..1_000 {
            operation();
        }
        calls += 1_000;
    }
    started.elapsed().as_secs_f64() * 1e6 / calls as f64
}

fn report(
    options: GatewayOptions,
    low: &LowLoad,
    solo: &[Variant],
    loaded: &[Variant],
    micro: &Micro,
    (http_connections, grpc_connections): (Option<usize>, Option<usize>),
    http_connections_after: Option<usize>,
) -> ScenarioReport {
    let mut report = ScenarioReport::new(
        "gateway",
        format!(
            "one read (GetAccount) through the HTTP/JSON gateway vs straight to the service; 1 client, then {} clients, {} s each",
            options.clients,
            options.duration.as_secs_f64()
        ),
        "gateway (HTTP)",
        "direct gRPC",
    );

    // 1 client, rotating.
    let (g, d) = (&low.gateway, &low.direct);
    let added = match (g.us(0.5), d.us(0.5)) {
        (Some(g), Some(d)) => Some((g - d, (g - d) / d * 100.0)),
        _ => None,
    };
    report
        .row(
            Row::new("1 client p50", "µs", g.us(0.5), d.us(0.5))
                .target(Target::RatioAtMost(ADDED_P50_LIMIT)),
        )
        .row(Row::new("1 client p99", "µs", g.us(0.99), d.us(0.99)))
        .row(Row::new("1 client p999", "µs", g.us(0.999), d.us(0.999)))
        .row(Row::new(
            "1 client added p50",
            "µs",
            added.map(|(us, _)| us),
            None,
        ))
        .row(Row::new(
            "1 client added p50",
            "%",
            added.map(|(_, percent)| percent),
            None,
        ))
        .row(Row::new(
            "1 client p50, bare forwarder",
            "µs",
            low.bare.us(0.5),
            d.us(0.5),
        ))
        .row(Row::new(
            "1 client p50, /healthz vs Health/Check",
            "µs",
            low.healthz.us(0.5),
            low.grpc_health.us(0.5),
        ));

    // 1 client, each variant alone: CPU and wake-ups per request.
    let per_request = |variants: &[Variant], call: Call, field: CpuField| {
        find(variants, call).and_then(|variant| variant.cpu_per_request(field))
    };
    let runs = |variants: &[Variant], call: Call| {
        find(variants, call)
            .and_then(|variant| variant.per_request(|c| c.client_runs + c.server_runs, 1.0))
    };
    let server: CpuField = |c| c.server;
    let client: CpuField = |c| c.client;
    report
        .row(Row::new(
            "1 client CPU/req, servers",
            "µs",
            per_request(solo, Call::Gateway, server),
            per_request(solo, Call::Direct, server),
        ))
        .row(Row::new(
            "1 client CPU/req, client",
            "µs",
            per_request(solo, Call::Gateway, client),
            per_request(solo, Call::Direct, client),
        ))
        .row(Row::new(
            "1 client CPU/req, servers, bare fwd",
            "µs",
            per_request(solo, Call::Bare, server),
            per_request(solo, Call::Direct, server),
        ))
        .row(Row::new(
            "1 client thread runs/req",
            "runs",
            runs(solo, Call::Gateway),
            runs(solo, Call::Direct),
        ))
        .row(Row::new(
            "1 client thread runs/req, bare fwd",
            "runs",
            runs(solo, Call::Bare),
            runs(solo, Call::Direct),
        ));

    // N clients.
    let (direct, gateway) = (find(loaded, Call::Direct), find(loaded, Call::Gateway));
    let rate = |call: Call| find(loaded, call).and_then(Variant::per_second);
    let n = options.clients;
    report
        .row(
            Row::new(
                format!("{n} clients throughput"),
                "req/s",
                rate(Call::Gateway),
                rate(Call::Direct),
            )
            .target(Target::AtLeast(GATEWAY_RATE_GOAL)),
        )
        .row(Row::new(
            format!("{n} clients p50"),
            "ms",
            gateway.and_then(|t| t.ms(0.5)),
            direct.and_then(|t| t.ms(0.5)),
        ))
        .row(Row::new(
            format!("{n} clients p99"),
            "ms",
            gateway.and_then(|t| t.ms(0.99)),
            direct.and_then(|t| t.ms(0.99)),
        ))
        .row(Row::new(
            format!("{n} clients, bare forwarder"),
            "req/s",
            rate(Call::Bare),
            rate(Call::Direct),
        ))
        .row(Row::new(
            format!("{n} clients, /healthz vs Health/Check"),
            "req/s",
            rate(Call::Healthz),
            rate(Call::GrpcHealth),
        ))
        .row(Row::new(
            format!("{n} clients, gRPC on 1 shared channel"),
            "req/s",
            None,
            rate(Call::DirectShared),
        ));
    let cpu_rows: [(&str, Call, Call, CpuField); 8] = [
        ("CPU/req, client", Call::Gateway, Call::Direct, |c| c.client),
        ("CPU/req, servers", Call::Gateway, Call::Direct, |c| {
            c.server
        }),
        ("CPU/req, PostgreSQL", Call::Gateway, Call::Direct, |c| {
            c.postgres
        }),
        ("CPU/req, whole machine", Call::Gateway, Call::Direct, |c| {
            c.machine_busy
        }),
        (
            "CPU/req, servers, bare fwd",
            Call::Bare,
            Call::Direct,
            |c| c.server,
        ),
        (
            "CPU/req, servers, /healthz vs Health/Check",
            Call::Healthz,
            Call::GrpcHealth,
            |c| c.server,
        ),
        (
            "CPU/req, client, /healthz vs Health/Check",
            Call::Healthz,
            Call::GrpcHealth,
            |c| c.client,
        ),
        (
            "CPU/req, client, shared channel",
            Call::Gateway,
            Call::DirectShared,
            |c| c.client,
        ),
    ];
    for (metric, value, baseline, field) in cpu_rows {
        report.row(Row::new(
            format!("{n} clients {metric}"),
            "µs",
            per_request(loaded, value, field),
            per_request(loaded, baseline, field),
        ));
    }

    // The gateway's own steps, one thread.
    report
        .row(Row::new("route lookup", "µs", Some(micro.route), None))
        .row(Row::new(
            "request -> proto (transcode)",
            "µs",
            Some(micro.request),
            None,
        ))
        .row(Row::new(
            "reply proto -> JSON",
            "µs",
            Some(micro.response),
            None,
        ))
        .row(Row::new(
            "typed encode + decode",
            "µs",
            None,
            Some(micro.typed),
        ))
        .row(Row::new(
            "JWT check (HS256)",
            "µs",
            Some(micro.verify),
            None,
        ));

    report.note(format!(
        "1 client: sequential requests on one connection each, rotating direct / gateway / bare forwarder / /healthz / Health/Check, after a {} s warm-up",
        WARM_UP.as_secs(),
    ));
    report.note(format!(
        "1 client: direct {}; gateway {}; bare forwarder {}; /healthz {}; Health/Check {}",
        d.summary(),
        g.summary(),
        low.bare.summary(),
        low.healthz.summary(),
        low.grpc_health.summary()
    ));
    if let Some((us, percent)) = added {
        report.note(format!(
            "the gateway adds {us:.0} µs at p50 (+{percent:.1}%; goal <= +{:.0}%)",
            (ADDED_P50_LIMIT - 1.0) * 100.0
        ));
    }
    report.note(format!(
        "1 client, each variant alone for {} s (CPU per request):",
        SOLO.as_secs()
    ));
    for variant in solo {
        if let Some(text) = variant.describe() {
            report.note(format!("  {text}"));
        }
    }
    let show = |value: Option<usize>| value.map_or_else(|| "-".to_owned(), |v| v.to_string());
    report.note(format!(
        "{n} clients: closed loop, each with its own connection; {} rounds of {} s per variant, alternating; connections open at the gateway's HTTP port: {} after warm-up, {} at the end; at the gRPC port: {} ({n} client channels, the shared one, the gateway's and the bare forwarder's)",
        ROUNDS,
        (options.duration / ROUNDS).as_secs_f64(),
        show(http_connections),
        show(http_connections_after),
        show(grpc_connections),
    ));
    for variant in loaded {
        if let Some(text) = variant.describe() {
            report.note(format!("  {text}"));
        }
    }
    report.note(format!(
        "micro (one thread): GetAccountResponse {} bytes as protobuf, {} bytes as JSON",
        micro.proto_bytes, micro.json_bytes
    ));
    report.note(format!(
        "client threads '{CLIENT_THREADS}' and server threads '{SERVER_THREADS}' (gateway, accounts and the bare forwarder) are separate runtimes of this process, sharing the machine's cores with PostgreSQL and anything else running; CPU from /proc/*/schedstat and /proc/stat; 'thread runs' counts how often the client's and servers' threads were put on a CPU"
    ));
    report
}

/// One figure of a [`CpuUse`].
type CpuField = fn(&CpuUse) -> u64;

fn find(variants: &[Variant], call: Call) -> Option<&Variant> {
    variants.iter().find(|variant| variant.call == call)
}

/// CPU use from `/proc`: this process's threads by group and PostgreSQL's processes (ns on a
/// CPU, from `schedstat`), and the whole machine (from `/proc/stat`). Sampled before and after
/// a run; the difference is the run's.
#[derive(Clone, Copy, Debug, Default)]
struct CpuUse {
    client: u64,
    server: u64,
    rest_of_process: u64,
    postgres: u64,
    /// ns this process's threads were runnable but waited for a CPU.
    waiting: u64,
    /// Times the client's and the servers' threads were put on a CPU (wake-ups, roughly).
    client_runs: u64,
    server_runs: u64,
    machine_busy: u64,
    machine_total: u64,
}

impl CpuUse {
    const FIELDS: usize = 9;

    fn to_array(self) -> [u64; Self::FIELDS] {
        [
            self.client,
            self.server,
            self.rest_of_process,
            self.postgres,
            self.waiting,
            self.client_runs,
            self.server_runs,
            self.machine_busy,
            self.machine_total,
        ]
    }

    fn from_array(values: [u64; Self::FIELDS]) -> Self {
        let [
            client,
            server,
            rest_of_process,
            postgres,
            waiting,
            client_runs,
            server_runs,
            machine_busy,
            machine_total,
        ] = values;
        Self {
            client,
            server,
            rest_of_process,
            postgres,
            waiting,
            client_runs,
            server_runs,
            machine_busy,
            machine_total,
        }
    }

    /// `None` where `/proc` cannot be read.
    fn now() -> Option<Self> {
        let mut use_ = Self::default();
        for entry in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
            let path = entry.path();
            let (Some(name), Some((on_cpu, waiting, runs))) =
                (read_comm(&path), read_schedstat(&path))
            else {
                continue;
            };
            use_.waiting += waiting;
            if name.starts_with(CLIENT_THREADS) {
                use_.client += on_cpu;
                use_.client_runs += runs;
            } else if name.starts_with(SERVER_THREADS) {
                use_.server += on_cpu;
                use_.server_runs += runs;
            } else {
                use_.rest_of_process += on_cpu;
            }
        }
        for entry in std::fs::read_dir("/proc").ok()?.flatten() {
            let is_pid = entry
                .file_name()
                .to_str()
                .is_some_and(|name| name.bytes().all(|b| b.is_ascii_digit()));
            let path = entry.path();
            if is_pid
                && read_comm(&path).as_deref() == Some("postgres")
                && let Some((on_cpu, _, _)) = read_schedstat(&path)
            {
                use_.postgres += on_cpu;
            }
        }
        let (busy, total) = crate::measure::machine_cpu()?;
        use_.machine_total = total;
        use_.machine_busy = busy;
        Some(use_)
    }

    fn minus(&self, earlier: &Self) -> Self {
        let (now, earlier) = (self.to_array(), earlier.to_array());
        Self::from_array(std::array::from_fn(|i| now[i].saturating_sub(earlier[i])))
    }

    fn plus(&self, other: &Self) -> Self {
        let (a, b) = (self.to_array(), other.to_array());
        Self::from_array(std::array::from_fn(|i| a[i] + b[i]))
    }

    /// What the machine did besides this process and PostgreSQL.
    fn elsewhere(&self) -> u64 {
        self.machine_busy
            .saturating_sub(self.client + self.server + self.rest_of_process + self.postgres)
    }
}

fn read_comm(path: &std::path::Path) -> Option<String> {
    Some(
        std::fs::read_to_string(path.join("comm"))
            .ok()?
            .trim_end()
            .to_owned(),
    )
}

/// `schedstat`: ns on a CPU, ns waiting for one, times run.
fn read_schedstat(path: &std::path::Path) -> Option<(u64, u64, u64)> {
    let text = std::fs::read_to_string(path.join("schedstat")).ok()?;
    let mut fields = text
        .split_whitespace()
        .map(|field| field.parse::<u64>().ok());
    Some((fields.next()??, fields.next()??, fields.next()??))
}

/// Established TCP connections whose local port is `port` (the server ends, when client and
/// server are both in this machine's network namespace).
fn established_at(port: u16) -> Option<usize> {
    let mut count = None;
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        let found = text
            .lines()
            .skip(1)
            .filter(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let local_port = fields
                    .get(1)
                    .and_then(|address| address.rsplit(':').next())
                    .and_then(|hex| u16::from_str_radix(hex, 16).ok());
                local_port == Some(port) && fields.get(3) == Some(&"01")
            })
            .count();
        *count.get_or_insert(0) += found;
    }
    count
}
