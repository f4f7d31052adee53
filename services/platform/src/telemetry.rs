//! Logs and traces: `tracing` to stdout (text or JSON), spans exported over OTLP when an
//! endpoint is configured, and W3C trace context carried across gRPC and NATS.

use std::collections::HashMap;

use opentelemetry::{global, trace::TracerProvider as _};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::{Resource, propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{EnvFilter, layer::SubscriberExt, util::SubscriberInitExt};

use crate::config::{LogFormat, Settings};

/// Flushes buffered spans when dropped: keep it alive for the life of `main`.
#[must_use = "dropping the guard shuts tracing export down"]
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Err(error) = self.provider.shutdown() {
            eprintln!("trace export shutdown failed: {error}");
        }
    }
}

/// Installs the global subscriber. Spans get OpenTelemetry ids even without an exporter, so
/// `traceparent` still flows through gRPC and NATS headers and log lines stay correlatable.
pub fn init(service_name: &str, settings: &Settings) -> anyhow::Result<TelemetryGuard> {
    global::set_text_map_propagator(TraceContextPropagator::new());
    let mut builder = SdkTracerProvider::builder().with_resource(
        Resource::builder()
            .with_service_name(service_name.to_owned())
            .build(),
    );
    if let Some(endpoint) = &settings.otlp_endpoint {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint.clone())
            .build()?;
        builder = builder.with_batch_exporter(exporter);
    }
    let provider = builder.build();
    let otel_layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("crm"));
    let filter = EnvFilter::try_new(&settings.log_filter)
        .map_err(|error| anyhow::anyhow!("CRM_LOG: {error}"))?;
    let registry = tracing_subscriber::registry().with(filter).with(otel_layer);
    // Tools whose stdout is data (`crm-bench --json`) log to stderr instead.
    let to_stderr = settings.log_to_stderr;
    let writer = move || -> Box<dyn std::io::Write> {
        if to_stderr {
            Box::new(std::io::stderr())
        } else {
            Box::new(std::io::stdout())
        }
    };
    let result = match settings.log_format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(writer),
            )
            .try_init(),
        LogFormat::Text => registry
            .with(tracing_subscriber::fmt::layer().with_writer(writer))
            .try_init(),
    };
    result.map_err(|error| anyhow::anyhow!("tracing subscriber already installed: {error}"))?;
    global::set_tracer_provider(provider.clone());
    Ok(TelemetryGuard { provider })
}

/// For tests: the same layers, quiet unless `CRM_TEST_LOG` names a filter; safe to call often.
pub fn init_for_tests() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        global::set_text_map_propagator(TraceContextPropagator::new());
        let provider = SdkTracerProvider::builder().build();
        let filter = std::env::var("CRM_TEST_LOG").unwrap_or_else(|_| "off".to_owned());
        // The OpenTelemetry layer must see spans even when nothing is logged, so the filter
        // only gates the fmt layer.
        let fmt_layer = tracing_subscriber::fmt::layer()
            .with_test_writer()
            .with_filter_fn(filter);
        let _ = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("crm-test")))
            .with(fmt_layer)
            .try_init();
        global::set_tracer_provider(provider);
    });
}

trait WithFilterFn<S> {
    fn with_filter_fn(
        self,
        filter: String,
    ) -> tracing_subscriber::filter::Filtered<Self, EnvFilter, S>
    where
        Self: Sized;
}

impl<S, L> WithFilterFn<S> for L
where
    L: tracing_subscriber::Layer<S>,
    S: tracing::Subscriber,
{
    fn with_filter_fn(
        self,
        filter: String,
    ) -> tracing_subscriber::filter::Filtered<Self, EnvFilter, S> {
        tracing_subscriber::Layer::with_filter(
            self,
            EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("off")),
        )
    }
}

/// The W3C `traceparent` of the current span, to put in outgoing headers.
pub fn current_traceparent() -> Option<String> {
    let context = tracing::Span::current().context();
    let mut carrier = HashMap::new();
    global::get_text_map_propagator(|propagator| propagator.inject_context(&context, &mut carrier));
    carrier.remove("traceparent")
}

/// Makes `span` a child of the remote span described by `traceparent`.
pub fn set_remote_parent(span: &tracing::Span, traceparent: Option<&str>) {
    let Some(traceparent) = traceparent else {
        return;
    };
    let carrier = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    let context = global::get_text_map_propagator(|propagator| propagator.extract(&carrier));
    let _ = span.set_parent(context);
}

/// Links `span` to the remote span described by `traceparent`: how a span that handles a batch
/// of events (each of its own trace) points back at every producer.
pub fn link_remote(span: &tracing::Span, traceparent: Option<&str>) {
    use opentelemetry::trace::TraceContextExt;
    let Some(traceparent) = traceparent else {
        return;
    };
    let carrier = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    let context = global::get_text_map_propagator(|propagator| propagator.extract(&carrier));
    let remote = context.span().span_context().clone();
    if remote.is_valid() {
        span.add_link(remote);
    }
}

/// The trace id of a span, as 32 hex digits (for logs and tests).
pub fn trace_id(span: &tracing::Span) -> String {
    use opentelemetry::trace::TraceContextExt;
    span.context().span().span_context().trace_id().to_string()
}
