//! The HTTP/JSON front door (capability G4): every annotated RPC of every service as a REST
//! resource, transcoded from the protos' `google.api.http` rules and forwarded over gRPC with
//! the caller's token, so each service still checks the caller itself. The gateway adds what
//! belongs at the edge: request ids, per-caller rate limits, `Idempotency-Key`, body limits,
//! problem+json errors and the generated OpenAPI document.

mod browser_session;
mod console;
mod csv_import;
pub mod field_rules;
pub(crate) mod grpc_proxy;
pub(crate) mod idempotency;
mod openapi;
pub mod problem;
mod rate_limit;
pub mod routes;
mod settings;
pub mod transcode;
pub mod upstream;

pub use settings::FrontDoorSettings;

use std::{
    net::SocketAddr,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
};

use axum::{
    Router,
    body::Body,
    extract::{ConnectInfo, State},
    response::{IntoResponse, Response},
    routing::get,
};
use bytes::Bytes;
use crm_platform::{
    auth::{Caller, JwtVerifier},
    config::JwtSettings,
    error::FieldViolation,
};
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use prost::Message;
use prost_reflect::DescriptorPool;
use sqlx::PgPool;
use tonic::{Code, metadata::MetadataMap};
use tracing::Instrument;

use self::{
    idempotency::Claim,
    problem::Problem,
    rate_limit::{KeyLimits, Limited, RateLimiter},
    routes::{Matched, Route, RouteTable},
    transcode::Rendered,
    upstream::Upstreams,
};

pub const REQUEST_ID: &str = "x-request-id";
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
pub const IDEMPOTENCY_REPLAYED: &str = "idempotency-replayed";
/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/openapi.json";

/// Everything a front-door request needs; one per gateway process.
pub struct FrontDoor {
    routes: RouteTable,
    upstreams: Arc<Upstreams>,
    verifier: JwtVerifier,
    limiter: RateLimiter,
    /// The API keys' own limits, read from the database every few seconds.
    key_limits: KeyLimits,
    pool: PgPool,
    /// This process as the holder of its `Idempotency-Key` claims.
    instance: Arc<idempotency::Instance>,
    max_body_bytes: usize,
    max_upload_bytes: usize,
    openapi: Bytes,
    descriptors: DescriptorPool,
}

impl FrontDoor {
    pub fn new(
        front_door: &FrontDoorSettings,
        jwt: &JwtSettings,
        pool: PgPool,
        local_grpc: Arc<OnceLock<crm_platform::host::LocalGrpc>>,
    ) -> anyhow::Result<Self> {
        let descriptors = DescriptorPool::decode(crm_proto::FILE_DESCRIPTOR_SET)?;
        let routes = RouteTable::from_pool(&descriptors).map_err(anyhow::Error::msg)?;
        let openapi = render_openapi(&routes, &descriptors)?;
        Ok(Self {
            upstreams: Arc::new(Upstreams::new(front_door, local_grpc)?),
            verifier: JwtVerifier::new(jwt),
            limiter: RateLimiter::new(
                front_door.rate_limit_per_second,
                front_door.rate_limit_burst,
            ),
            key_limits: KeyLimits::default(),
            max_body_bytes: front_door.max_body_bytes,
            max_upload_bytes: front_door.max_upload_bytes,
            routes,
            instance: idempotency::Instance::new(pool.clone()),
            pool,
            openapi: Bytes::from(openapi),
            descriptors,
        })
    }

    pub fn routes(&self) -> &RouteTable {
        &self.routes
    }

    pub fn upstreams(&self) -> Arc<Upstreams> {
        self.upstreams.clone()
    }

    /// Renews this process's liveness (its `Idempotency-Key` claims) until `shutdown`.
    pub fn heartbeat(
        &self,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> impl Future<Output = ()> + Send + 'static {
        self.instance.clone().heartbeat(shutdown)
    }

    fn message(&self, name: &str) -> Result<prost_reflect::MessageDescriptor, Problem> {
        self.descriptors
            .get_message_by_name(name)
            .ok_or_else(|| internal(format!("{name} is not in the descriptor set")))
    }
}

/// The OpenAPI document of every annotated RPC, pretty-printed: what `/openapi.json` serves.
pub fn openapi_json() -> anyhow::Result<String> {
    let descriptors = DescriptorPool::decode(crm_proto::FILE_DESCRIPTOR_SET)?;
    let routes = RouteTable::from_pool(&descriptors).map_err(anyhow::Error::msg)?;
    render_openapi(&routes, &descriptors)
}

fn render_openapi(routes: &RouteTable, descriptors: &DescriptorPool) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(&openapi::document(
        routes,
        descriptors,
    ))?)
}

pub fn router(door: Arc<FrontDoor>) -> Router {
    Router::new()
        .route(OPENAPI_PATH, get(serve_openapi))
        .route("/healthz", get(|| async { "ok" }))
        .fallback(handle)
        .with_state(door)
}

async fn serve_openapi(State(door): State<Arc<FrontDoor>>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        door.openapi.clone(),
    )
        .into_response()
}

/// One transcoded call: route, authenticate, limit, read, transcode, forward, render.
async fn handle(
    State(door): State<Arc<FrontDoor>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    request: Request<Body>,
) -> Response {
    if console::serves(request.uri().path())
        && let Some(page) = console::respond(request.method(), request.uri().path())
    {
        return page;
    }
    let request_id = request_id(request.headers());
    let span = tracing::info_span!(
        "http request",
        http.method = %request.method(),
        http.route = tracing::field::Empty,
        http.status = tracing::field::Empty,
        request_id = %request_id,
        otel.kind = "server",
    );
    async move {
        let exchange = browser_session::Exchange::of(
            request.method(),
            request.uri().path(),
            request.headers(),
        );
        let mut response = match exchange {
            None => serve_rendered(&door, client, request, &request_id).await,
            Some(exchange) => {
                serve_browser_session(&door, client, exchange, request, &request_id).await
            }
        };
        tracing::Span::current().record("http.status", response.status().as_u16());
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert(REQUEST_ID, value);
        }
        response
    }
    .instrument(span)
    .await
}

async fn serve_rendered(
    door: &FrontDoor,
    client: SocketAddr,
    request: Request<Body>,
    request_id: &str,
) -> Response {
    match serve(door, client, request, request_id).await {
        Ok(response) => response,
        Err(problem) => problem.render(request_id),
    }
}

/// A login, refresh or logout of the console, whose refresh token is a cookie.
async fn serve_browser_session(
    door: &FrontDoor,
    client: SocketAddr,
    exchange: browser_session::Exchange,
    request: Request<Body>,
    request_id: &str,
) -> Response {
    let headers = request.headers().clone();
    match browser_session::prepare(exchange, request, door.max_body_bytes).await {
        Ok(browser_session::Prepared::Call(request)) => {
            let response = serve_rendered(door, client, request, request_id).await;
            browser_session::finish(exchange, &headers, response).await
        }
        Ok(browser_session::Prepared::Answer(response)) => response,
        Err(problem) => problem.render(request_id),
    }
}

async fn serve(
    door: &FrontDoor,
    client: SocketAddr,
    request: Request<Body>,
    request_id: &str,
) -> Result<Response, Problem> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path();
    let is_upload = parts.method == Method::POST && path == csv_import::PATH;
    // The upload is the one route not in the table: it is not looked up there.
    let matched = (!is_upload).then(|| door.routes.find(&parts.method, path));
    let (route, bound) = match matched {
        None => (None, Vec::new()),
        Some(Matched::Route(route, bound)) => (Some(route), bound),
        Some(Matched::WrongMethod(allowed)) => {
            let mut problem = Problem::new(
                Code::InvalidArgument,
                format!("{} is not allowed on {path}", parts.method),
            )
            .with_status(StatusCode::METHOD_NOT_ALLOWED);
            problem.allow = allowed;
            return Err(problem);
        }
        Some(Matched::NotFound) => {
            return Err(Problem::new(
                Code::NotFound,
                format!("no resource at {path}"),
            ));
        }
    };
    tracing::Span::current().record(
        "http.route",
        route.map_or(csv_import::PATH, |route| route.template.text.as_str()),
    );

    let (caller, api_key) = match authenticate(door, &parts.headers)? {
        Some((caller, api_key)) => (Some(caller), api_key),
        None => (None, None),
    };
    // A call with an API key's token counts against the key (and its own limit, if any).
    let (limited_as, own_limit) = match (&caller, api_key) {
        (Some(_), Some(key)) => (
            Limited::ApiKey(key),
            door.key_limits.limit_of(&door.pool, key).await,
        ),
        (Some(caller), None) => (Limited::User(caller.user_id), None),
        (None, _) => (Limited::Client(client.ip()), None),
    };
    if let Err(wait) = door.limiter.check(limited_as, own_limit) {
        return Err(Problem::rate_limited(
            wait.as_secs_f64().ceil().max(1.0) as u64
        ));
    }

    let Some(route) = route else {
        let body = read_limited(&parts.headers, body, door.max_upload_bytes).await?;
        let json = csv_import::serve(
            door.upstreams
                .service("leads")
                .map_err(|status| Problem::from_status(&status))?,
            door.message("crm.leads.v1.LeadInput")?,
            door.message("crm.leads.v1.ImportLeadsResponse")?,
            &parts.headers,
            parts.uri.query(),
            body,
            forwarded_metadata(&parts.headers, request_id),
        )
        .await?;
        return Ok(json_response(StatusCode::OK, json));
    };
    let body = read_body(&parts.headers, body, door.max_body_bytes).await?;
    let query = parts.uri.query();
    let message = transcode::request_message(route, &bound, query, &body).map_err(|refused| {
        Problem::invalid_fields(
            refused
                .0
                .into_iter()
                .map(|invalid| FieldViolation::new(invalid.field, invalid.message))
                .collect(),
        )
    })?;

    // Only writes by a known caller are deduplicated: the key is scoped to the caller.
    let idempotency = match (parts.headers.get(IDEMPOTENCY_KEY), &caller) {
        (Some(key), Some(caller)) if parts.method != Method::GET => {
            let key = key
                .to_str()
                .ok()
                .filter(|key| idempotency::valid_key(key))
                .ok_or_else(|| {
                    Problem::invalid(
                        "Idempotency-Key",
                        "must be 1 to 255 visible ASCII characters, such as a UUID",
                    )
                })?;
            let operation = format!("{} {path}", parts.method);
            let hash = idempotency::request_hash(query, &body);
            let claim = idempotency::claim_waiting(
                &door.instance,
                caller.user_id,
                key,
                &operation,
                &hash,
                idempotency::IN_FLIGHT_WAIT,
            )
            .await
            .map_err(Problem::database)?;
            match claim {
                Claim::Run { first } => Some((caller.user_id, key.to_owned(), first)),
                Claim::Replay { status, body } => return Ok(replay(status, body)),
                Claim::InFlight => {
                    let mut problem = Problem::refusal(
                        Code::Aborted,
                        "a request with this Idempotency-Key is still in progress; retry after \
                         the time in Retry-After",
                        "IDEMPOTENCY_KEY_IN_FLIGHT",
                        "gateway.idempotency_key_in_flight",
                    );
                    problem.retry_after = Some(1);
                    return Err(problem);
                }
                Claim::Mismatch => {
                    return Err(Problem::refusal(
                        Code::FailedPrecondition,
                        "this Idempotency-Key was used for a different request",
                        "IDEMPOTENCY_KEY_REUSED",
                        "gateway.idempotency_key_reused",
                    )
                    .with_status(StatusCode::UNPROCESSABLE_ENTITY));
                }
            }
        }
        _ => None,
    };

    let keyed = idempotency
        .as_ref()
        .map(|(_, key, first)| (key.as_str(), *first));
    let outcome = forward(door, route, &parts.headers, request_id, message, keyed).await;
    let response = match outcome {
        Ok((rendered, replayed)) => {
            let mut response = match rendered {
                Rendered::Json(json) => json_response(StatusCode::OK, json),
                Rendered::Raw { content_type, data } => raw_response(&content_type, data)?,
            };
            if replayed {
                // A take-over after a crash: the service answered with its stored reply.
                response
                    .headers_mut()
                    .insert(IDEMPOTENCY_REPLAYED, HeaderValue::from_static("true"));
            }
            response
        }
        Err(problem) => problem.render(request_id),
    };
    match idempotency {
        Some((caller, key, _)) => keep_for_replay(door, caller, &key, response).await,
        None => Ok(response),
    }
}

/// The caller of a request with a bearer token, and the API key the token was exchanged for
/// (if it was); `None` without one (public operations, such as login, work without; the
/// service refuses the others).
fn authenticate(
    door: &FrontDoor,
    headers: &HeaderMap,
) -> Result<Option<(Caller, Option<uuid::Uuid>)>, Problem> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|value| {
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
        })
        .ok_or_else(|| {
            Problem::new(
                Code::Unauthenticated,
                "the Authorization header must be `Bearer <access token>`",
            )
        })?;
    door.verifier
        .verify_with_client(token.trim())
        .map(Some)
        .map_err(|error| Problem::new(Code::Unauthenticated, error.to_string()))
}

/// A JSON body, within the limit.
async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, Problem> {
    let bytes = read_limited(headers, body, limit).await?;
    if !bytes.is_empty() && !is_json(headers) {
        return Err(Problem::new(
            Code::InvalidArgument,
            "the body must be JSON, sent as Content-Type: application/json",
        )
        .with_status(StatusCode::UNSUPPORTED_MEDIA_TYPE));
    }
    Ok(bytes)
}

async fn read_limited(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, Problem> {
    let too_large = || {
        Problem::new(
            Code::InvalidArgument,
            format!("the body is larger than {limit} bytes"),
        )
        .with_status(StatusCode::PAYLOAD_TOO_LARGE)
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large())
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| {
            let media = media.trim().to_ascii_lowercase();
            media == "application/json" || media.ends_with("+json")
        })
}

/// Calls the route's RPC with the caller's credentials and the request's ids, and the
/// request's `Idempotency-Key` (with whether no request with it ran before), by which the
/// service keeps its reply for a retry (`crm_platform::replies`).
async fn forward(
    door: &FrontDoor,
    route: &Route,
    headers: &HeaderMap,
    request_id: &str,
    message: prost_reflect::DynamicMessage,
    idempotency: Option<(&str, bool)>,
) -> Result<(Rendered, bool), Problem> {
    let mut metadata = forwarded_metadata(headers, request_id);
    if let Some((key, first)) = idempotency
        && let Ok(value) = key.parse()
    {
        metadata.insert(crm_platform::replies::KEY_METADATA, value);
        if first {
            metadata.insert(
                crm_platform::replies::FIRST_ATTEMPT_METADATA,
                tonic::metadata::MetadataValue::from_static("true"),
            );
        }
    }
    let reply = door
        .upstreams
        .unary_reply(
            &route.service,
            &route.grpc_path,
            metadata,
            Bytes::from(message.encode_to_vec()),
        )
        .await
        .map_err(|status| Problem::from_status(&status))?;
    let replayed = reply
        .metadata()
        .contains_key(crm_platform::replies::REPLAYED_METADATA);
    let rendered =
        transcode::response_body(route.rpc.output(), reply.get_ref()).map_err(|error| {
            tracing::error!(%error, rpc = %route.grpc_path, "a service's reply could not be decoded");
            Problem::new(Code::Internal, "internal error")
        })?;
    Ok((rendered, replayed))
}

/// What a service is told about the call: the caller's credentials, the request id and the
/// trace it belongs to.
fn forwarded_metadata(headers: &HeaderMap, request_id: &str) -> MetadataMap {
    let mut metadata = MetadataMap::new();
    if let Some(authorization) = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok()?.parse().ok())
    {
        metadata.insert("authorization", authorization);
    }
    if let Ok(value) = request_id.parse() {
        metadata.insert(REQUEST_ID, value);
    }
    if let Some(traceparent) = crm_platform::telemetry::current_traceparent()
        .and_then(|traceparent| traceparent.parse().ok())
    {
        metadata.insert("traceparent", traceparent);
    }
    metadata
}

async fn keep_for_replay(
    door: &FrontDoor,
    caller: uuid::Uuid,
    key: &str,
    response: Response,
) -> Result<Response, Problem> {
    let status = response.status().as_u16();
    if !idempotency::is_replayable(status) {
        idempotency::release(&door.instance, caller, key)
            .await
            .map_err(Problem::database)?;
        return Ok(response);
    }
    let (parts, body) = response.into_parts();
    // Bodies here are the gateway's own renderings, already in memory.
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|error| internal(error.to_string()))?;
    idempotency::finish(&door.instance, caller, key, status, &body)
        .await
        .map_err(Problem::database)?;
    Ok(Response::from_parts(parts, Body::from(body)))
}

fn replay(status: u16, body: Vec<u8>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let content_type = if status.is_success() {
        "application/json"
    } else {
        "application/problem+json"
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(IDEMPOTENCY_REPLAYED, HeaderValue::from_static("true"));
    response
}

fn json_response(status: StatusCode, json: Vec<u8>) -> Response {
    let mut response = (status, json).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A `google.api.HttpBody` reply: its bytes as its content type (an iCalendar feed).
fn raw_response(content_type: &str, data: Vec<u8>) -> Result<Response, Problem> {
    let value = HeaderValue::from_str(content_type).map_err(|_| {
        internal(format!(
            "a reply's content type {content_type:?} is no header"
        ))
    })?;
    let mut response = (StatusCode::OK, data).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, value);
    Ok(response)
}

fn internal(error: impl std::fmt::Display) -> Problem {
    tracing::error!(%error, "front door failed");
    Problem::new(Code::Internal, "internal error")
}

/// The caller's request id when it sent a usable one, else a new one: this process's random
/// prefix and a counter (unique without a random draw per request).
fn request_id(headers: &HeaderMap) -> String {
    static PREFIX: OnceLock<String> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    headers
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| {
            (1..=128).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map_or_else(
            || {
                let prefix = PREFIX.get_or_init(|| uuid::Uuid::new_v4().simple().to_string());
                let count = COUNTER.fetch_add(1, Ordering::Relaxed);
                format!("{}-{count:012x}", &prefix[..16])
            },
            str::to_owned,
        )
}
