//! Telemetry: the `tracing` subscriber (text or JSON logs with trace ids), the OpenTelemetry SDK
//! (traces and metrics over OTLP, HTTP/protobuf or gRPC, when `telemetry.otlp_endpoint` is
//! set), the metric instruments ([`Metrics`]), their Prometheus text exposition for
//! `/metrics`, span helpers for every pipeline stage ([`spans`]) and the health state behind
//! `/readyz` ([`Health`]).
//!
//! Names come from `gateway_core::telemetry` only. Nothing here records patient data: span and
//! metric attributes are ids the gateway made up, configured names and bounded codes.
//!
//! [`init`] installs everything once per process (the `run` command); without it
//! [`Telemetry::global`] still yields working instruments and `/metrics` (demo, in-process tests),
//! just no export and no trace continuation beyond the stored `traceparent`.

mod gauges;
mod health;
mod init;
mod json;
mod metrics;
mod prometheus;
mod request_layer;
pub mod spans;

use std::sync::{Arc, OnceLock};

use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracer;

pub use gauges::refresh as refresh_store_gauges;
pub use health::{Health, MailboxStatus};
pub use init::{OtlpProtocol, TelemetryGuard, TelemetrySettings, init};
pub use metrics::Metrics;
pub use prometheus::PrometheusReader;

/// Where output events go, for span and metric attributes (`messaging.system`,
/// `messaging.destination.name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusTarget {
    /// `rabbitmq`, or `jsonl` for the embedded bus.
    pub system: &'static str,
    /// The exchange (or `stdout` / the events file name for the embedded bus).
    pub destination: String,
}

impl Default for BusTarget {
    fn default() -> Self {
        Self {
            system: gateway_core::telemetry::SYSTEM_JSONL,
            destination: "stdout".into(),
        }
    }
}

/// The process's telemetry handle: instruments, the Prometheus reader and (when exporting) the
/// tracer for spans built outside `tracing`. Cheap to clone.
#[derive(Clone)]
pub struct Telemetry {
    inner: Arc<Inner>,
}

struct Inner {
    metrics: Metrics,
    prometheus: PrometheusReader,
    tracer: Option<SdkTracer>,
    bus: BusTarget,
    // Kept so instruments stay registered for the life of the process.
    _meter_provider: SdkMeterProvider,
}

static GLOBAL: OnceLock<Telemetry> = OnceLock::new();

impl Telemetry {
    /// The handle [`init`] installed, or a local one (instruments and `/metrics`, no export).
    pub fn global() -> Self {
        GLOBAL
            .get_or_init(|| {
                let prometheus = PrometheusReader::new();
                let provider = SdkMeterProvider::builder()
                    .with_reader(prometheus.clone())
                    .build();
                Self::new(provider, prometheus, None, BusTarget::default())
            })
            .clone()
    }

    fn new(
        provider: SdkMeterProvider,
        prometheus: PrometheusReader,
        tracer: Option<SdkTracer>,
        bus: BusTarget,
    ) -> Self {
        let metrics = Metrics::new(&provider);
        Self {
            inner: Arc::new(Inner {
                metrics,
                prometheus,
                tracer,
                bus,
                _meter_provider: provider,
            }),
        }
    }

    /// The metric instruments.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Where output events go.
    pub fn bus(&self) -> &BusTarget {
        &self.inner.bus
    }

    /// The tracer for spans with explicit timestamps (bus publish); `None` when not exporting.
    pub(crate) fn tracer(&self) -> Option<&SdkTracer> {
        self.inner.tracer.as_ref()
    }

    /// Every instrument in the Prometheus text format (version 0.0.4).
    ///
    /// # Errors
    /// The SDK refused to collect (after shutdown).
    pub fn render_prometheus(&self) -> Result<String, String> {
        self.inner.prometheus.render()
    }
}

/// A bounded error class for a MESH failure (`auth`, `http_429`, `timeout`, ...), for metric
/// labels and `error.type`; never the error text.
pub fn mesh_error_type(e: &gateway_adapter_mesh::MeshError) -> String {
    use gateway_adapter_mesh::MeshError as E;
    match e {
        E::Auth { .. } => "auth".into(),
        E::Status { status, .. } => format!("http_{status}"),
        E::Timeout { .. } => "timeout".into(),
        E::Transport { .. } => "transport".into(),
        E::ChunkUpload { source, .. } => mesh_error_type(source),
        E::Protocol(_) | E::SendUnconfirmed(_) => "protocol".into(),
        E::Config(_) | E::Tls { .. } => "config".into(),
        E::InvalidMessage(_) => "invalid-message".into(),
        _ => "other".into(),
    }
}

#[cfg(test)]
mod tests {
    use gateway_core::telemetry as tm;
    use opentelemetry_semantic_conventions::{attribute as a, metric as m};

    #[test]
    fn our_names_are_the_semantic_conventions() {
        let pairs = [
            (tm::MESSAGING_SYSTEM, a::MESSAGING_SYSTEM),
            (tm::MESSAGING_DESTINATION, a::MESSAGING_DESTINATION_NAME),
            (tm::MESSAGING_OPERATION_TYPE, a::MESSAGING_OPERATION_TYPE),
            (tm::MESSAGING_OPERATION_NAME, a::MESSAGING_OPERATION_NAME),
            (tm::MESSAGING_MESSAGE_ID, a::MESSAGING_MESSAGE_ID),
            (tm::MESSAGING_BATCH_COUNT, a::MESSAGING_BATCH_MESSAGE_COUNT),
            (tm::ERROR_TYPE, a::ERROR_TYPE),
            (tm::HTTP_METHOD, a::HTTP_REQUEST_METHOD),
            (tm::HTTP_STATUS_CODE, a::HTTP_RESPONSE_STATUS_CODE),
            (tm::METRIC_CONSUMED, m::MESSAGING_CLIENT_CONSUMED_MESSAGES),
            (tm::METRIC_SENT, m::MESSAGING_CLIENT_SENT_MESSAGES),
            (
                tm::METRIC_OPERATION_DURATION,
                m::MESSAGING_CLIENT_OPERATION_DURATION,
            ),
            (tm::METRIC_PROCESS_DURATION, m::MESSAGING_PROCESS_DURATION),
            (tm::METRIC_HTTP_DURATION, m::HTTP_CLIENT_REQUEST_DURATION),
        ];
        for (ours, semconv) in pairs {
            assert_eq!(ours, semconv);
        }
        assert_eq!(tm::SYSTEM_RABBITMQ, "rabbitmq");
    }
}
