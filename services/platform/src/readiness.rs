//! Readiness: whether this process can serve requests now. A process whose database is down
//! answers every call with UNAVAILABLE, so load balancers and kubelets should send it nothing
//! until the database is back: the host probes each hosted service's database about once a
//! second (a `SELECT 1` with a short timeout) and reports the result on `grpc.health.v1` (the
//! empty service name for the process, each API service under its name) and on `GET /readyz`
//! of a process that serves HTTP. Requests read the last result; they never wait for a probe.

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::response::{IntoResponse, Response};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tonic_health::{ServingStatus, server::HealthReporter};

use crate::error::OUTAGE_RETRY_AFTER;

/// How often each database is probed: how stale a readiness answer can be.
pub const PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// How long a probe may take before its database counts as down.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// Where a process that serves HTTP answers its readiness.
pub const READYZ_PATH: &str = "/readyz";

/// The last probe's answer, shared by the health service, `/readyz` and the host.
#[derive(Clone, Debug, Default)]
pub struct Readiness {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    /// The hosted services whose database did not answer the last probe.
    unavailable: BTreeSet<&'static str>,
    /// What holds the process back while it catches up (a search index reading its stream).
    warming: BTreeSet<&'static str>,
    /// Shutting down: never ready again.
    draining: bool,
}

/// Keeps the process not ready while held ([`Readiness::hold`]); released when dropped.
#[derive(Debug)]
pub struct ReadinessHold {
    readiness: Readiness,
    what: &'static str,
}

impl ReadinessHold {
    /// Ready as far as this hold is concerned (the same as dropping it).
    pub fn release(self) {}
}

impl Drop for ReadinessHold {
    fn drop(&mut self) {
        let mut state = self
            .readiness
            .state
            .lock()
            .expect("readiness lock poisoned");
        if state.warming.remove(self.what) {
            tracing::info!(what = self.what, "caught up: no longer holding readiness");
        }
    }
}

impl Readiness {
    /// Whether every hosted service's database answered the last probe, nothing holds the
    /// process back ([`Readiness::hold`]) and it is not shutting down.
    pub fn is_ready(&self) -> bool {
        let state = self.state.lock().expect("readiness lock poisoned");
        state.unavailable.is_empty() && state.warming.is_empty() && !state.draining
    }

    /// Holds the process not ready until the hold is released: for a service that must catch up
    /// before it answers well (`what` names it in `/readyz`, `"knowledge-search-index"`). The
    /// health service follows within a probe interval.
    pub fn hold(&self, what: &'static str) -> ReadinessHold {
        self.state
            .lock()
            .expect("readiness lock poisoned")
            .warming
            .insert(what);
        ReadinessHold {
            readiness: self.clone(),
            what,
        }
    }

    /// What holds the process back now.
    pub fn warming_up(&self) -> Vec<&'static str> {
        let state = self.state.lock().expect("readiness lock poisoned");
        state.warming.iter().copied().collect()
    }

    /// The hosted services whose database did not answer the last probe.
    pub fn unavailable_services(&self) -> Vec<&'static str> {
        let state = self.state.lock().expect("readiness lock poisoned");
        state.unavailable.iter().copied().collect()
    }

    /// Records a probe of `service`'s database; true when that changed its readiness.
    fn record(&self, service: &'static str, reachable: bool) -> bool {
        let mut state = self.state.lock().expect("readiness lock poisoned");
        if reachable {
            state.unavailable.remove(service)
        } else {
            state.unavailable.insert(service)
        }
    }

    fn drain(&self) {
        self.state.lock().expect("readiness lock poisoned").draining = true;
    }

    /// `GET /readyz`: 200 `{"status":"SERVING"}`, or 503 with `Retry-After` and the services
    /// whose database is unreachable (`{"status":"NOT_SERVING","unavailable":["leads"]}`).
    pub fn http_answer(&self) -> Response {
        let json = [(http::header::CONTENT_TYPE, "application/json".to_owned())];
        if self.is_ready() {
            return (json, r#"{"status":"SERVING"}"#).into_response();
        }
        let body = serde_json::json!({
            "status": "NOT_SERVING",
            "unavailable": self.unavailable_services(),
            "warming_up": self.warming_up(),
        });
        let [content_type] = json;
        (
            http::StatusCode::SERVICE_UNAVAILABLE,
            [
                content_type,
                (
                    http::header::RETRY_AFTER,
                    OUTAGE_RETRY_AFTER.as_secs().to_string(),
                ),
            ],
            body.to_string(),
        )
            .into_response()
    }

    /// An axum router answering [`READYZ_PATH`].
    pub fn router(&self) -> axum::Router {
        let readiness = self.clone();
        axum::Router::new().route(
            READYZ_PATH,
            axum::routing::get(move || {
                let readiness = readiness.clone();
                async move { readiness.http_answer() }
            }),
        )
    }
}

/// One hosted service's database and the gRPC services that answer from it.
pub(crate) struct ProbedDatabase {
    pub service: &'static str,
    pub pool: PgPool,
    pub grpc_services: Vec<&'static str>,
}

/// Whether `pool` answers a `SELECT 1` within [`PROBE_TIMEOUT`].
pub async fn database_answers(pool: &PgPool) -> bool {
    matches!(
        tokio::time::timeout(PROBE_TIMEOUT, sqlx::query("SELECT 1").execute(pool)).await,
        Ok(Ok(_))
    )
}

/// Probes every database each [`PROBE_INTERVAL`] and reports changes on `health`, until
/// `stop` (shutdown) is cancelled: then the process reports NOT_SERVING for good.
pub(crate) async fn run(
    readiness: Readiness,
    databases: Vec<ProbedDatabase>,
    health: HealthReporter,
    stop: CancellationToken,
) {
    let mut interval = tokio::time::interval(PROBE_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut process_serving = true;
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = interval.tick() => {}
        }
        let answers =
            futures::future::join_all(databases.iter().map(|db| database_answers(&db.pool))).await;
        if stop.is_cancelled() {
            break;
        }
        for (database, reachable) in databases.iter().zip(answers) {
            if !readiness.record(database.service, reachable) {
                continue;
            }
            if reachable {
                tracing::info!(
                    service = database.service,
                    "database reachable again: serving"
                );
            } else {
                tracing::warn!(
                    service = database.service,
                    "database unreachable: not serving"
                );
            }
            for name in &database.grpc_services {
                health.set_service_status(name, status(reachable)).await;
            }
        }
        let ready = readiness.is_ready();
        if ready != process_serving {
            process_serving = ready;
            health.set_service_status("", status(ready)).await;
        }
    }
    readiness.drain();
    health
        .set_service_status("", ServingStatus::NotServing)
        .await;
}

fn status(serving: bool) -> ServingStatus {
    if serving {
        ServingStatus::Serving
    } else {
        ServingStatus::NotServing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_is_ready_while_every_database_answers_and_it_is_not_draining() {
        let readiness = Readiness::default();
        assert!(readiness.is_ready());

        assert!(readiness.record("leads", false));
        assert!(!readiness.record("leads", false), "no change");
        assert!(!readiness.is_ready());
        assert_eq!(readiness.unavailable_services(), ["leads"]);
        assert_eq!(
            readiness.http_answer().status(),
            http::StatusCode::SERVICE_UNAVAILABLE
        );

        assert!(readiness.record("leads", true));
        assert!(readiness.is_ready());
        assert_eq!(readiness.http_answer().status(), http::StatusCode::OK);

        readiness.drain();
        assert!(!readiness.is_ready(), "shutting down is never ready again");
    }

    #[test]
    fn a_hold_keeps_the_process_not_ready_until_released() {
        let readiness = Readiness::default();
        let index = readiness.hold("knowledge-search-index");
        let other = readiness.hold("another");
        assert!(!readiness.is_ready());
        assert_eq!(
            readiness.warming_up(),
            ["another", "knowledge-search-index"]
        );
        index.release();
        assert!(!readiness.is_ready(), "another still holds it");
        drop(other);
        assert!(readiness.is_ready());
        assert!(readiness.warming_up().is_empty());
    }
}
