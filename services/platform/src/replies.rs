//! Calls with an idempotency key: a write runs once, and a retry with the same key gets the
//! first call's reply, also after a crash.
//!
//! A unary write that carries `crm-idempotency-key` metadata (the front door forwards each
//! request's `Idempotency-Key` so; a gRPC client may send it itself) runs in a scope that the
//! kit's commit path sees. [`crate::outbox::Outbox::commit`] does not commit in that scope: it
//! parks the transaction, and when the handler has answered, [`KeyedCallsLayer`] writes the key
//! and the encoded reply (status, message, details, body) into `request_replies` in that same
//! transaction and commits it. So a write and the reply a retry will get commit together or
//! not at all: there is no moment at which the write is durable and its answer is not.
//!
//! A retry of a committed call gets the stored reply, marked `crm-idempotency-replayed: true`,
//! without running the handler (unless the caller says it is the first attempt, see
//! [`FIRST_ATTEMPT_METADATA`]: then the look-up before the call is skipped, and the key is
//! still checked when the write commits). Two calls with one key running at once write at
//! most once: the second one's insert of the key waits for the first's commit and fails on the
//! key, its transaction is rolled back and it answers with the first one's reply. A call that
//! ends without committing stores nothing (a refusal: a retry runs again, and nothing was
//! written), unless a call with its key committed meanwhile, whose reply it then answers.
//!
//! A use case that commits more than once in one call (none does today) gets its earlier
//! commits made at once, the key with them; the reply is stored after the call. Should the
//! process die between the two, a retry is answered ABORTED ("the first call committed; read
//! the record") rather than running the write again.
//!
//! The handler runs on its own task, so a caller that goes away (a front door that crashed)
//! does not cancel a write half-way: the call finishes and its reply is kept for the retry.

use std::{
    collections::HashMap,
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex, OnceLock},
    task::{Context, Poll},
    time::Duration,
};

use bytes::Bytes;
use futures::future::Either;
use http::{HeaderMap, HeaderValue};
use http_body_util::BodyExt;
use prost::Message;
use prost_types::{FileDescriptorSet, method_options::IdempotencyLevel};
use sqlx::{PgPool, Postgres, Transaction};
use tokio_util::sync::CancellationToken;
use tonic::{Code, Status, body::Body};
use uuid::Uuid;

use crate::{auth::JwtVerifier, outbox::Outbox, scope::Scope};

/// The caller's key for one write: 1 to 255 visible ASCII characters (a UUID, typically),
/// unique per caller for the retention (`CRM_REPLY_RETENTION`).
pub const KEY_METADATA: &str = "crm-idempotency-key";
/// `true` when the caller knows no earlier attempt with this key was made (the front door, on
/// a key it has not seen): the look-up before the call is skipped. A caller that says so
/// wrongly still gets one write (the key is checked when the write commits).
pub const FIRST_ATTEMPT_METADATA: &str = "crm-idempotency-first-attempt";
/// Set (`true`) on a reply that was stored by an earlier call with the key.
pub const REPLAYED_METADATA: &str = "crm-idempotency-replayed";

/// How long a retry waits for the reply of a call with its key that committed but has not
/// stored its reply yet (a use case that commits twice), before it is answered ABORTED.
const REPLY_WAIT: Duration = Duration::from_secs(2);

/// Checks a key: 1 to 255 visible ASCII characters.
pub fn valid_key(key: &str) -> bool {
    (1..=255).contains(&key.len()) && key.bytes().all(|byte| byte.is_ascii_graphic())
}

tokio::task_local! {
    /// The keyed call the current task is running, if any.
    static CALL: Arc<KeyedCall>;
}

/// One call with a key.
#[derive(Debug)]
struct KeyedCall {
    caller: Uuid,
    key: String,
    method: Arc<str>,
    state: Mutex<Recorded>,
}

/// What the call's commits have done with its key so far.
#[derive(Debug, Default)]
enum Recorded {
    /// Nothing committed.
    #[default]
    Nothing,
    /// The use case committed; the commit waits for the reply.
    Parked {
        transaction: Transaction<'static, Postgres>,
        outbox: Outbox,
    },
    /// Committed with the key (a second commit made the first one at once); the reply is to
    /// be stored.
    Committed,
    /// Another call with this key committed first; this one's transaction was rolled back.
    Conflict,
}

impl KeyedCall {
    fn take_state(&self) -> Recorded {
        std::mem::take(&mut *self.state.lock().unwrap_or_else(|error| error.into_inner()))
    }

    fn set_state(&self, state: Recorded) {
        *self.state.lock().unwrap_or_else(|error| error.into_inner()) = state;
    }
}

/// The kit's commit path asks this first: in a keyed call the first commit is parked (`None`:
/// the caller must not commit); otherwise the transaction comes back to be committed as usual.
pub(crate) async fn on_commit(
    outbox: &Outbox,
    transaction: Transaction<'static, Postgres>,
) -> Result<Option<Transaction<'static, Postgres>>, sqlx::Error> {
    let Ok(call) = CALL.try_with(Arc::clone) else {
        return Ok(Some(transaction));
    };
    let (mut parked, parked_outbox) = match call.take_state() {
        Recorded::Nothing => {
            call.set_state(Recorded::Parked {
                transaction,
                outbox: outbox.clone(),
            });
            return Ok(None);
        }
        Recorded::Parked {
            transaction,
            outbox,
        } => (transaction, outbox),
        other => {
            call.set_state(other);
            return Ok(Some(transaction));
        }
    };
    // A second commit in one call: the first is made now, with the key (its reply follows).
    if let Err(error) = insert(&mut parked, &call, None).await {
        call.set_state(if is_key_taken(&error) {
            Recorded::Conflict
        } else {
            Recorded::Nothing
        });
        return Err(error);
    }
    parked.commit().await?;
    parked_outbox.wake();
    call.set_state(Recorded::Committed);
    Ok(Some(transaction))
}

/// A reply as stored: what a retry is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Reply {
    code: Code,
    message: String,
    details: Bytes,
    /// The length-prefixed response message (OK replies).
    body: Bytes,
}

impl Reply {
    fn status(status: &Status) -> Self {
        Self {
            code: status.code(),
            message: status.message().to_owned(),
            details: Bytes::copy_from_slice(status.details()),
            body: Bytes::new(),
        }
    }

    /// A stored reply as a response.
    fn into_response(self) -> http::Response<Body> {
        let mut response = if self.code == Code::Ok {
            let mut trailers = HeaderMap::new();
            trailers.insert("grpc-status", HeaderValue::from_static("0"));
            let body = http_body_util::Full::new(self.body)
                .with_trailers(std::future::ready(Some(Ok(trailers))));
            let mut response = http::Response::new(Body::new(body));
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/grpc"),
            );
            response
        } else {
            Status::with_details(self.code, self.message, self.details).into_http()
        };
        response
            .headers_mut()
            .insert(REPLAYED_METADATA, HeaderValue::from_static("true"));
        response
    }
}

/// A response read whole: its parts, body and trailers, and the reply they make.
struct Answered {
    parts: http::response::Parts,
    data: Bytes,
    trailers: Option<HeaderMap>,
    reply: Reply,
}

impl Answered {
    async fn read(response: http::Response<Body>) -> Result<Self, Status> {
        let (parts, body) = response.into_parts();
        let collected = body.collect().await?;
        let trailers = collected.trailers().cloned();
        let data = collected.to_bytes();
        // A refusal travels trailers-only (the status in the headers); an answer has trailers.
        let status = Status::from_header_map(&parts.headers)
            .or_else(|| trailers.as_ref().and_then(Status::from_header_map))
            .unwrap_or_else(|| Status::unknown("the reply carried no grpc-status"));
        let mut reply = Reply::status(&status);
        if reply.code == Code::Ok {
            reply.body = data.clone();
        }
        Ok(Self {
            parts,
            data,
            trailers,
            reply,
        })
    }

    /// The response as the handler gave it.
    fn into_response(self) -> http::Response<Body> {
        let body = http_body_util::Full::new(self.data)
            .with_trailers(std::future::ready(self.trailers.map(Ok)));
        http::Response::from_parts(self.parts, Body::new(body))
    }
}

/// A stored row: the method, and the reply once it is stored.
type StoredRow = (
    String,
    Option<i16>,
    String,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
);

async fn insert(
    transaction: &mut Transaction<'static, Postgres>,
    call: &KeyedCall,
    reply: Option<&Reply>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO request_replies (caller_id, request_key, method, code, message, details, body) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(call.caller)
    .bind(&call.key)
    .bind(&*call.method)
    .bind(reply.map(|reply| reply.code as i16))
    .bind(reply.map_or("", |reply| reply.message.as_str()))
    .bind(reply.map(|reply| reply.details.to_vec()))
    .bind(reply.map(|reply| reply.body.to_vec()))
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

async fn store_reply(pool: &PgPool, call: &KeyedCall, reply: &Reply) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE request_replies SET code = $3, message = $4, details = $5, body = $6 \
         WHERE caller_id = $1 AND request_key = $2",
    )
    .bind(call.caller)
    .bind(&call.key)
    .bind(reply.code as i16)
    .bind(&reply.message)
    .bind(reply.details.to_vec())
    .bind(reply.body.to_vec())
    .execute(pool)
    .await?;
    Ok(())
}

fn is_key_taken(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(error) if error.code().as_deref() == Some("23505"))
}

/// What the store says about a key.
enum Stored {
    Unused,
    /// Used on another method.
    OtherMethod(String),
    /// Committed; the reply is not stored (yet).
    NoReply,
    Reply(Reply),
}

async fn look_up(pool: &PgPool, call: &KeyedCall) -> Result<Stored, sqlx::Error> {
    let row: Option<StoredRow> = sqlx::query_as(
        "SELECT method, code, message, details, body FROM request_replies \
         WHERE caller_id = $1 AND request_key = $2",
    )
    .bind(call.caller)
    .bind(&call.key)
    .fetch_optional(pool)
    .await?;
    Ok(match row {
        None => Stored::Unused,
        Some((method, _, _, _, _)) if method != *call.method => Stored::OtherMethod(method),
        Some((_, None, _, _, _)) => Stored::NoReply,
        Some((_, Some(code), message, details, body)) => Stored::Reply(Reply {
            code: Code::from_i32(i32::from(code)),
            message,
            details: details.map(Bytes::from).unwrap_or_default(),
            body: body.map(Bytes::from).unwrap_or_default(),
        }),
    })
}

fn other_method(method: &str) -> Reply {
    Reply::status(&Status::failed_precondition(format!(
        "this idempotency key was used for another request ({method}); use a new key for a new request"
    )))
}

/// The reply of the call that committed with this key, waiting briefly for it.
async fn committed_reply(pool: &PgPool, call: &KeyedCall) -> Reply {
    let deadline = tokio::time::Instant::now() + REPLY_WAIT;
    loop {
        match look_up(pool, call).await {
            Ok(Stored::Reply(reply)) => return reply,
            Ok(Stored::OtherMethod(method)) => return other_method(&method),
            Ok(Stored::NoReply | Stored::Unused) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Ok(_) => {
                return Reply::status(&Status::aborted(
                    "the first request with this idempotency key committed, but its answer was \
                     not kept; read the record to see the result",
                ));
            }
            Err(error) => return unavailable(&error),
        }
    }
}

fn unavailable(error: &sqlx::Error) -> Reply {
    tracing::warn!(%error, "the reply of a keyed call could not be read or written");
    Reply::status(&Status::unavailable(
        "the database is unavailable; retry with the same idempotency key",
    ))
}

/// What a call with a key ends with: the handler's own response or a stored reply.
enum Outcome {
    Own(Box<Answered>),
    Stored(Reply),
}

/// Writes the key and reply with the call's write, or finds the reply of the call that won.
async fn finish(pool: &PgPool, call: &KeyedCall, answered: Answered) -> Outcome {
    match call.take_state() {
        Recorded::Parked {
            mut transaction,
            outbox,
        } => match insert(&mut transaction, call, Some(&answered.reply)).await {
            Ok(()) => match transaction.commit().await {
                Ok(()) => {
                    outbox.wake();
                    Outcome::Own(Box::new(answered))
                }
                // Nothing was written: the retry runs again.
                Err(error) => Outcome::Stored(unavailable(&error)),
            },
            Err(error) if is_key_taken(&error) => {
                drop(transaction);
                tracing::debug!(method = %call.method, "a call with this key committed first");
                Outcome::Stored(committed_reply(pool, call).await)
            }
            Err(error) => Outcome::Stored(unavailable(&error)),
        },
        Recorded::Committed => {
            if let Err(error) = store_reply(pool, call, &answered.reply).await {
                tracing::warn!(%error, method = %call.method, "the reply of a committed call could not be stored");
            }
            Outcome::Own(Box::new(answered))
        }
        Recorded::Conflict => Outcome::Stored(committed_reply(pool, call).await),
        // Nothing written. A call with this key may have committed while this one ran (and
        // refused it for that, say "already converted"): then its reply is the answer.
        Recorded::Nothing => match look_up(pool, call).await {
            Ok(Stored::Reply(reply)) => Outcome::Stored(reply),
            Ok(Stored::NoReply) => Outcome::Stored(committed_reply(pool, call).await),
            Ok(Stored::Unused | Stored::OtherMethod(_)) | Err(_) => {
                Outcome::Own(Box::new(answered))
            }
        },
    }
}

/// The suite's unary writes (not NO_SIDE_EFFECTS, neither side streaming), by full path, with
/// their service's full name.
fn unary_writes() -> &'static HashMap<String, String> {
    static WRITES: OnceLock<HashMap<String, String>> = OnceLock::new();
    WRITES.get_or_init(|| {
        let set = FileDescriptorSet::decode(crm_proto::FILE_DESCRIPTOR_SET)
            .expect("the descriptor set compiled into crm-proto decodes");
        let mut writes = HashMap::new();
        for file in &set.file {
            for service in &file.service {
                let service_name = format!("{}.{}", file.package(), service.name());
                for method in &service.method {
                    let read_only = method.options.as_ref().is_some_and(|options| {
                        options.idempotency_level() == IdempotencyLevel::NoSideEffects
                    });
                    if !read_only && !method.client_streaming() && !method.server_streaming() {
                        writes.insert(
                            format!("/{service_name}/{}", method.name()),
                            service_name.clone(),
                        );
                    }
                }
            }
        }
        writes
    })
}

/// The hosted services' databases, where their calls' replies are kept.
#[derive(Clone, Debug)]
pub struct KeyedCalls {
    pools: Arc<HashMap<String, PgPool>>,
    verifier: Arc<JwtVerifier>,
}

/// How the layer takes a request.
enum Keyed {
    /// No key, not a unary write, a service not hosted here, or no valid token (the service
    /// refuses that itself): passed through.
    No,
    Refused(Status),
    Yes {
        call: Arc<KeyedCall>,
        pool: PgPool,
        first_attempt: bool,
    },
}

impl KeyedCalls {
    /// `pools` by gRPC service full name (`crm.leads.v1.LeadService`).
    pub fn new(pools: HashMap<String, PgPool>, verifier: Arc<JwtVerifier>) -> Self {
        Self {
            pools: Arc::new(pools),
            verifier,
        }
    }

    fn classify<B>(&self, request: &http::Request<B>) -> Keyed {
        let Some(key) = request.headers().get(KEY_METADATA) else {
            return Keyed::No;
        };
        let path = request.uri().path();
        let Some(pool) = unary_writes()
            .get(path)
            .and_then(|service| self.pools.get(service))
        else {
            return Keyed::No;
        };
        let Some(key) = key.to_str().ok().filter(|key| valid_key(key)) else {
            return Keyed::Refused(
                crate::error::FieldViolation::new(
                    KEY_METADATA,
                    "must be 1 to 255 visible ASCII characters, such as a UUID",
                )
                .into(),
            );
        };
        let metadata = tonic::metadata::MetadataMap::from_headers(request.headers().clone());
        let Ok(caller) = self.verifier.verify_metadata(&metadata) else {
            return Keyed::No;
        };
        if caller
            .scopes
            .is_some_and(|scopes| !scopes.contains(Scope::Write))
        {
            return Keyed::No;
        }
        let first_attempt = request
            .headers()
            .get(FIRST_ATTEMPT_METADATA)
            .is_some_and(|value| value == "true");
        Keyed::Yes {
            call: Arc::new(KeyedCall {
                caller: caller.user_id,
                key: key.to_owned(),
                method: path.into(),
                state: Mutex::new(Recorded::Nothing),
            }),
            pool: pool.clone(),
            first_attempt,
        }
    }
}

/// The host's layer in front of every hosted service (see the module documentation).
#[derive(Clone, Debug)]
pub struct KeyedCallsLayer {
    calls: KeyedCalls,
}

impl KeyedCallsLayer {
    pub fn new(calls: KeyedCalls) -> Self {
        Self { calls }
    }
}

impl<S> tower::Layer<S> for KeyedCallsLayer {
    type Service = KeyedCallsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        KeyedCallsService {
            inner,
            calls: self.calls.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct KeyedCallsService<S> {
    inner: S,
    calls: KeyedCalls,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B> tower::Service<http::Request<B>> for KeyedCallsService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Either<S::Future, BoxFuture<Result<Self::Response, Self::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let (call, pool, first_attempt) = match self.calls.classify(&request) {
            Keyed::No => return Either::Left(self.inner.call(request)),
            Keyed::Refused(status) => {
                return Either::Right(Box::pin(std::future::ready(Ok(status.into_http()))));
            }
            Keyed::Yes {
                call,
                pool,
                first_attempt,
            } => (call, pool, first_attempt),
        };
        // The handler's future is lazy: nothing runs until it is polled, in the call's scope.
        let handler = self.inner.call(request);
        Either::Right(Box::pin(async move {
            let task = tokio::spawn(run(handler, call, pool, first_attempt));
            match task.await {
                Ok(result) => result,
                Err(error) => {
                    tracing::error!(%error, "a keyed call's task failed");
                    Ok(Status::internal("internal error").into_http())
                }
            }
        }))
    }
}

async fn run<F, E>(
    handler: F,
    call: Arc<KeyedCall>,
    pool: PgPool,
    first_attempt: bool,
) -> Result<http::Response<Body>, E>
where
    F: Future<Output = Result<http::Response<Body>, E>>,
{
    if !first_attempt {
        let stored = match look_up(&pool, &call).await {
            Ok(Stored::Unused) => None,
            Ok(Stored::OtherMethod(method)) => Some(other_method(&method)),
            Ok(Stored::Reply(reply)) => Some(reply),
            Ok(Stored::NoReply) => Some(committed_reply(&pool, &call).await),
            Err(error) => Some(unavailable(&error)),
        };
        if let Some(reply) = stored {
            tracing::debug!(method = %call.method, code = ?reply.code, "replayed a keyed call's reply");
            return Ok(reply.into_response());
        }
    }
    let response = CALL.scope(call.clone(), handler).await?;
    let answered = match Answered::read(response).await {
        Ok(answered) => answered,
        Err(status) => {
            // The handler's answer could not be read: its write (if parked) is not committed.
            drop(call.take_state());
            return Ok(status.into_http());
        }
    };
    Ok(match finish(&pool, &call, answered).await {
        Outcome::Own(answered) => answered.into_response(),
        Outcome::Stored(reply) => reply.into_response(),
    })
}

/// Deletes replies older than `retention`; returns how many.
pub async fn prune(pool: &PgPool, retention: Duration) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "DELETE FROM request_replies WHERE ctid IN (SELECT ctid FROM request_replies \
         WHERE created_at < now() - make_interval(secs => $1) LIMIT 10000)",
    )
    .bind(retention.as_secs_f64())
    .execute(pool)
    .await?
    .rows_affected())
}

/// Prunes hourly until `shutdown`.
pub async fn prune_until(pool: PgPool, retention: Duration, shutdown: CancellationToken) {
    crate::schedule::every(
        "stored-reply-pruning",
        Duration::from_secs(3600),
        shutdown,
        move || {
            let pool = pool.clone();
            async move {
                let mut pruned = 0;
                loop {
                    match prune(&pool, retention).await? {
                        10_000 => pruned += 10_000,
                        rest => return Ok(pruned + rest),
                    }
                }
            }
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_short_visible_ascii() {
        assert!(valid_key("0193a1b2-7c1d-7e3f-9a4b-1c2d3e4f5a6b"));
        assert!(!valid_key(""));
        assert!(!valid_key("with space"));
        assert!(!valid_key("nul\0"));
        assert!(!valid_key(&"k".repeat(256)));
    }

    #[test]
    fn only_unary_writes_are_keyed() {
        let writes = unary_writes();
        assert_eq!(
            writes
                .get("/crm.leads.v1.LeadService/CreateLead")
                .map(String::as_str),
            Some("crm.leads.v1.LeadService")
        );
        assert!(writes.contains_key("/crm.leads.v1.LeadService/ConvertLead"));
        assert!(writes.contains_key("/crm.accounts.v1.AccountService/CreateAccount"));
        // Reads and the streaming import are not.
        assert!(!writes.contains_key("/crm.leads.v1.LeadService/GetLead"));
        assert!(!writes.contains_key("/crm.leads.v1.LeadService/ImportLeads"));
    }

    async fn read_back(response: http::Response<Body>) -> (Option<HeaderValue>, Reply) {
        let replayed = response.headers().get(REPLAYED_METADATA).cloned();
        (replayed, Answered::read(response).await.unwrap().reply)
    }

    #[tokio::test]
    async fn a_stored_reply_reads_back_as_the_same_reply() {
        for reply in [
            Reply {
                code: Code::Ok,
                message: String::new(),
                details: Bytes::new(),
                body: Bytes::from_static(b"\0\0\0\0\x03abc"),
            },
            Reply {
                code: Code::FailedPrecondition,
                message: "the lead is converted — 已转换".to_owned(),
                details: Bytes::from_static(b"\x08\x09details"),
                body: Bytes::new(),
            },
        ] {
            let (replayed, read) = read_back(reply.clone().into_response()).await;
            assert_eq!(replayed, Some(HeaderValue::from_static("true")));
            assert_eq!(read, reply);
        }
    }

    #[tokio::test]
    async fn an_answer_passes_through_unchanged() {
        let status = Status::not_found("no lead 1");
        let answered = Answered::read(status.into_http()).await.unwrap();
        assert_eq!(answered.reply.code, Code::NotFound);
        let (replayed, read) = read_back(answered.into_response()).await;
        assert_eq!(replayed, None);
        assert_eq!(read.message, "no lead 1");
    }
}
