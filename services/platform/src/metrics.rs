//! Prometheus metrics: RED per gRPC method, outbox backlog and age, consumer lag, redeliveries
//! and dead letters. One registry per process, served at `/metrics`.

use std::{
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::Instant,
};

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};
use tokio_util::sync::CancellationToken;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MethodLabels {
    pub service: String,
    pub method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MethodCodeLabels {
    pub service: String,
    pub method: String,
    pub code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProducerLabels {
    pub producer: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConsumerLabels {
    pub consumer: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConsumerOutcomeLabels {
    pub consumer: String,
    pub outcome: String,
}

/// Every metric the platform records. Cheap to clone; clones share the same series.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Mutex<Registry>>,
    pub grpc_requests: Family<MethodCodeLabels, Counter>,
    pub grpc_errors: Family<MethodCodeLabels, Counter>,
    pub grpc_duration: Family<MethodLabels, Histogram>,
    pub outbox_backlog: Family<ProducerLabels, Gauge>,
    pub outbox_oldest_age_seconds: Family<ProducerLabels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    pub outbox_published: Family<ProducerLabels, Counter>,
    pub outbox_publish_failures: Family<ProducerLabels, Counter>,
    pub consumer_events: Family<ConsumerOutcomeLabels, Counter>,
    pub consumer_lag: Family<ConsumerLabels, Gauge>,
    pub consumer_redeliveries: Family<ConsumerLabels, Counter>,
    pub consumer_dead_letters: Family<ConsumerLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("crm");
        let latency_buckets = || {
            Histogram::new([
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                10.0,
            ])
        };
        let metrics = Self {
            registry: Arc::new(Mutex::new(Registry::default())),
            grpc_requests: Family::default(),
            grpc_errors: Family::default(),
            grpc_duration: Family::new_with_constructor(latency_buckets),
            outbox_backlog: Family::default(),
            outbox_oldest_age_seconds: Family::default(),
            outbox_published: Family::default(),
            outbox_publish_failures: Family::default(),
            consumer_events: Family::default(),
            consumer_lag: Family::default(),
            consumer_redeliveries: Family::default(),
            consumer_dead_letters: Family::default(),
        };
        registry.register(
            "grpc_server_requests",
            "gRPC calls handled, by status code",
            metrics.grpc_requests.clone(),
        );
        registry.register(
            "grpc_server_errors",
            "gRPC calls that ended with a non-OK status",
            metrics.grpc_errors.clone(),
        );
        registry.register(
            "grpc_server_duration_seconds",
            "gRPC call latency until response headers",
            metrics.grpc_duration.clone(),
        );
        registry.register(
            "outbox_backlog",
            "outbox rows not yet published",
            metrics.outbox_backlog.clone(),
        );
        registry.register(
            "outbox_oldest_age_seconds",
            "age of the oldest unpublished outbox row",
            metrics.outbox_oldest_age_seconds.clone(),
        );
        registry.register(
            "outbox_published",
            "events published and acknowledged by JetStream",
            metrics.outbox_published.clone(),
        );
        registry.register(
            "outbox_publish_failures",
            "publish attempts that failed and will be retried",
            metrics.outbox_publish_failures.clone(),
        );
        registry.register(
            "consumer_events",
            "events taken from JetStream, by outcome",
            metrics.consumer_events.clone(),
        );
        registry.register(
            "consumer_lag",
            "events in the stream not yet delivered to the consumer",
            metrics.consumer_lag.clone(),
        );
        registry.register(
            "consumer_redeliveries",
            "events delivered more than once",
            metrics.consumer_redeliveries.clone(),
        );
        registry.register(
            "consumer_dead_letters",
            "events moved to the dead-letter subject",
            metrics.consumer_dead_letters.clone(),
        );
        *metrics.registry.lock().expect("metrics registry poisoned") = registry;
        metrics
    }

    /// The Prometheus text exposition of every series.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        let registry = self.registry.lock().expect("metrics registry poisoned");
        prometheus_client::encoding::text::encode(&mut text, &registry)
            .expect("writing to a String cannot fail");
        text
    }

    /// Serves `/metrics` on `listener` until `shutdown` is cancelled.
    pub async fn serve_on(
        self,
        listener: tokio::net::TcpListener,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        tracing::info!(addr = %listener.local_addr()?, "metrics endpoint listening");
        let app = axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let metrics = self.clone();
                async move {
                    (
                        [(
                            http::header::CONTENT_TYPE,
                            "text/plain; version=0.0.4; charset=utf-8",
                        )],
                        metrics.encode(),
                    )
                }
            }),
        );
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await?;
        Ok(())
    }
}

/// A tower layer recording request count, errors and latency for every gRPC method.
#[derive(Clone)]
pub struct GrpcMetricsLayer {
    metrics: Metrics,
}

impl GrpcMetricsLayer {
    pub fn new(metrics: Metrics) -> Self {
        Self { metrics }
    }
}

impl<S> tower::Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcMetricsService {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

#[derive(Clone)]
pub struct GrpcMetricsService<S> {
    inner: S,
    metrics: Metrics,
}

type BoxFuture<T> = Pin<Box<dyn std::future::Future<Output = T> + Send>>;

impl<S, B, ResBody> tower::Service<http::Request<B>> for GrpcMetricsService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let (service, method) = split_grpc_path(request.uri().path());
        let future = self.inner.call(request);
        let metrics = self.metrics.clone();
        Box::pin(async move {
            let started = Instant::now();
            let result = future.await;
            // Unary errors travel as a trailers-only response, so the status is in the headers;
            // a successful call's status sits in the trailers and is OK here.
            let code = match &result {
                Ok(response) => response
                    .headers()
                    .get("grpc-status")
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| value.parse::<i32>().ok())
                    .unwrap_or(0),
                Err(_) => 2,
            };
            let code = tonic::Code::from_i32(code);
            // Unknown paths are attacker-chosen: fold them into one series.
            let (service, method) = if code == tonic::Code::Unimplemented {
                ("unknown".to_owned(), "unknown".to_owned())
            } else {
                (service, method)
            };
            let code_label = format!("{code:?}");
            let labels = MethodCodeLabels {
                service: service.clone(),
                method: method.clone(),
                code: code_label,
            };
            metrics.grpc_requests.get_or_create(&labels).inc();
            if code != tonic::Code::Ok {
                metrics.grpc_errors.get_or_create(&labels).inc();
            }
            metrics
                .grpc_duration
                .get_or_create(&MethodLabels { service, method })
                .observe(started.elapsed().as_secs_f64());
            result
        })
    }
}

/// `/crm.accounts.v1.AccountService/CreateAccount` → (`crm.accounts.v1.AccountService`, `CreateAccount`).
fn split_grpc_path(path: &str) -> (String, String) {
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let service = parts.next().unwrap_or_default().to_owned();
    let method = parts.next().unwrap_or_default().to_owned();
    (service, method)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_paths_split_into_service_and_method() {
        assert_eq!(
            split_grpc_path("/crm.accounts.v1.AccountService/CreateAccount"),
            (
                "crm.accounts.v1.AccountService".to_owned(),
                "CreateAccount".to_owned()
            )
        );
    }

    #[test]
    fn encoded_metrics_carry_the_crm_prefix() {
        let metrics = Metrics::new();
        metrics
            .outbox_published
            .get_or_create(&ProducerLabels {
                producer: "accounts".into(),
            })
            .inc_by(3);
        let text = metrics.encode();
        assert!(
            text.contains("crm_outbox_published_total{producer=\"accounts\"} 3"),
            "{text}"
        );
    }
}
