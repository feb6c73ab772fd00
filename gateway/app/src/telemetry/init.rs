//! Installs the process's telemetry: the log subscriber, the OpenTelemetry tracer and meter
//! providers, the OTLP exporters (HTTP/protobuf or gRPC) and the MESH request metrics.

use std::time::Duration;

use anyhow::Context as _;
use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider,
};
use serde::{Deserialize, Serialize};
use tracing::Level;
use tracing_subscriber::filter::{EnvFilter, Targets, filter_fn};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

use super::json::JsonWithTrace;
use super::request_layer::{RequestMetricsLayer, is_request_span};
use super::{BusTarget, GLOBAL, PrometheusReader, Telemetry};

/// How often metrics are pushed over OTLP.
const METRICS_INTERVAL: Duration = Duration::from_secs(15);
/// How long finished spans wait before they are exported in a batch.
const SPANS_DELAY: Duration = Duration::from_secs(2);
/// Timeout of one OTLP request.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// The OTLP transport (`telemetry.otlp_protocol`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum OtlpProtocol {
    /// Protobuf over HTTP (`http/protobuf`, the default): `/v1/traces` and `/v1/metrics` are
    /// appended to the endpoint (usually port 4318).
    #[default]
    #[serde(rename = "http/protobuf")]
    HttpProtobuf,
    /// gRPC (`grpc`): the endpoint is the collector's gRPC address (usually port 4317).
    #[serde(rename = "grpc")]
    Grpc,
}

/// What to install.
#[derive(Debug, Clone, Default)]
pub struct TelemetrySettings {
    /// OTLP base URL; `None` = no export. Over HTTP, `/v1/traces` and `/v1/metrics` are
    /// appended; over gRPC it is the collector's address.
    pub otlp_endpoint: Option<String>,
    /// How spans and metrics are sent to `otlp_endpoint`.
    pub otlp_protocol: OtlpProtocol,
    /// Keep OpenTelemetry trace context on spans even without export (the stored `traceparent`
    /// then names the gateway's own spans, and JSON logs carry trace ids).
    pub trace_context: bool,
    /// JSON log lines (with `trace_id` / `span_id`) instead of text.
    pub json_logs: bool,
    /// Log filter when `RUST_LOG` is unset (e.g. `info`).
    pub default_filter: String,
    /// `service.instance.id` (the configured instance name).
    pub instance: String,
    /// Where output events go.
    pub bus: BusTarget,
}

/// Flushes and stops the exporters when the process ends.
#[must_use = "dropping the guard does not flush; call shutdown"]
pub struct TelemetryGuard {
    tracer: Option<SdkTracerProvider>,
    meter: SdkMeterProvider,
}

impl TelemetryGuard {
    /// Exports what is buffered and stops the exporters.
    pub fn shutdown(self) {
        if let Some(t) = self.tracer
            && let Err(error) = t.shutdown()
        {
            eprintln!("warning: flushing traces failed: {error}");
        }
        if let Err(error) = self.meter.shutdown() {
            eprintln!("warning: flushing metrics failed: {error}");
        }
    }
}

/// Installs logs, traces and metrics for this process. Call once, first thing.
///
/// # Errors
/// The OTLP endpoint is not a URL or the exporters cannot be built.
pub fn init(s: TelemetrySettings) -> anyhow::Result<TelemetryGuard> {
    let resource = Resource::builder()
        .with_service_name("gpc-gateway")
        .with_attributes([
            KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
            KeyValue::new("service.instance.id", s.instance.clone()),
        ])
        .build();
    let endpoint = s
        .otlp_endpoint
        .as_deref()
        .map(|e| e.trim_end_matches('/').to_string())
        .filter(|e| !e.is_empty());

    let prometheus = PrometheusReader::new();
    let mut meter = SdkMeterProvider::builder()
        .with_resource(resource.clone())
        .with_reader(prometheus.clone());
    let mut batch = None;
    if let Some(base) = &endpoint {
        let metrics = match s.otlp_protocol {
            OtlpProtocol::HttpProtobuf => opentelemetry_otlp::MetricExporter::builder()
                .with_http()
                .with_endpoint(format!("{base}/v1/metrics"))
                .with_timeout(EXPORT_TIMEOUT)
                .build(),
            // The gRPC channel runs on the current Tokio runtime (init is called inside it).
            OtlpProtocol::Grpc => opentelemetry_otlp::MetricExporter::builder()
                .with_tonic()
                .with_endpoint(base.clone())
                .with_timeout(EXPORT_TIMEOUT)
                .build(),
        }
        .context("OTLP metric exporter")?;
        meter = meter.with_reader(
            PeriodicReader::builder(metrics)
                .with_interval(METRICS_INTERVAL)
                .build(),
        );
        let spans = match s.otlp_protocol {
            OtlpProtocol::HttpProtobuf => opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_endpoint(format!("{base}/v1/traces"))
                .with_timeout(EXPORT_TIMEOUT)
                .build(),
            OtlpProtocol::Grpc => opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(base.clone())
                .with_timeout(EXPORT_TIMEOUT)
                .build(),
        }
        .context("OTLP span exporter")?;
        batch = Some(
            BatchSpanProcessor::builder(spans)
                .with_batch_config(
                    BatchConfigBuilder::default()
                        .with_scheduled_delay(SPANS_DELAY)
                        .build(),
                )
                .build(),
        );
    }
    let exporting = batch.is_some();
    let meter = meter.build();
    let tracer_provider = (s.trace_context || exporting).then(|| {
        let mut b = SdkTracerProvider::builder()
            .with_resource(resource)
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)));
        if let Some(p) = batch {
            b = b.with_span_processor(p);
        }
        b.build()
    });
    let tracer = tracer_provider.as_ref().map(|p| p.tracer("gpc-gateway"));
    // Spans built on the tracer directly (bus publish) only matter when they are exported.
    let direct = tracer.clone().filter(|_| exporting);
    let telemetry = Telemetry::new(meter.clone(), prometheus, direct, s.bus.clone());
    if GLOBAL.set(telemetry.clone()).is_err() {
        anyhow::bail!("telemetry was initialised twice");
    }

    let filter =
        EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new(&s.default_filter));
    let logs = if s.json_logs {
        tracing_subscriber::fmt::layer()
            .json()
            .event_format(JsonWithTrace::new())
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed()
    } else {
        // Colour codes only for a person at a terminal, not in log files.
        tracing_subscriber::fmt::layer()
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed()
    };
    // Spans are exported whatever RUST_LOG says, or traces would break with the log level;
    // dependencies' own spans stay out.
    let otel = tracer.map(|t| {
        tracing_opentelemetry::layer()
            .with_tracer(t)
            .with_location(false)
            .with_threads(false)
            .with_target(false)
            .with_tracked_inactivity(false)
            .with_filter(
                Targets::new()
                    .with_default(Level::WARN)
                    .with_target("gpc_gateway", Level::INFO)
                    .with_target("gateway_adapter_amqp", Level::INFO)
                    .with_target("gateway_adapter_filedrop", Level::INFO)
                    .with_target("gateway_adapter_mesh", Level::INFO)
                    .with_target("gateway_plugin_gp_connect", Level::INFO),
            )
    });
    let requests = RequestMetricsLayer::new(telemetry.metrics().clone())
        .with_filter(filter_fn(is_request_span));
    Registry::default()
        .with(logs)
        .with(otel)
        .with(requests)
        .try_init()
        .context("log subscriber")?;
    Ok(TelemetryGuard {
        tracer: tracer_provider,
        meter,
    })
}

#[cfg(test)]
mod tests {
    use super::OtlpProtocol;
    use crate::config::TelemetryConfig;

    #[test]
    fn otlp_protocol_defaults_to_http_protobuf_and_accepts_grpc() {
        let default: TelemetryConfig = toml::from_str("").unwrap();
        assert_eq!(default.otlp_protocol, OtlpProtocol::HttpProtobuf);
        let http: TelemetryConfig = toml::from_str("otlp_protocol = \"http/protobuf\"").unwrap();
        assert_eq!(http.otlp_protocol, OtlpProtocol::HttpProtobuf);
        let grpc: TelemetryConfig = toml::from_str("otlp_protocol = \"grpc\"").unwrap();
        assert_eq!(grpc.otlp_protocol, OtlpProtocol::Grpc);
        assert!(toml::from_str::<TelemetryConfig>("otlp_protocol = \"http/json\"").is_err());
    }
}
