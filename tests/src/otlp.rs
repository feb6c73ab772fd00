//! A small OTLP receiver (the official OpenTelemetry definitions from `opentelemetry-proto`),
//! over HTTP/protobuf and over gRPC, each on 127.0.0.1:0: what the gateway exports, flattened for
//! assertions.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use prost::Message;

pub mod prometheus;

/// One exported span, flattened.
#[derive(Debug, Clone)]
pub struct Span {
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
    pub name: String,
    /// `SPAN_KIND_*` number: 1 internal, 2 server, 3 client, 4 producer, 5 consumer.
    pub kind: i32,
    pub attributes: BTreeMap<String, String>,
    /// (trace id, span id) of each link.
    pub links: Vec<(String, String)>,
    /// 0 unset, 1 ok, 2 error.
    pub status: i32,
}

impl Span {
    /// An attribute's value as text.
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).map(String::as_str)
    }
}

#[derive(Default)]
struct Received {
    spans: Vec<Span>,
    metric_names: Vec<String>,
    /// Everything received, as debug text (for the patient-data check).
    dump: String,
}

/// A running receiver; stops with the test's runtime.
#[derive(Clone)]
pub struct OtlpReceiver {
    /// Base URL for `telemetry.otlp_endpoint` with `otlp_protocol = "http/protobuf"`.
    pub url: String,
    /// Endpoint for `telemetry.otlp_endpoint` with `otlp_protocol = "grpc"`.
    pub grpc_url: String,
    state: Arc<Mutex<Received>>,
}

impl OtlpReceiver {
    /// Listens on two ephemeral ports: OTLP/HTTP and OTLP/gRPC (both record into one place).
    pub async fn start() -> Self {
        let state: Arc<Mutex<Received>> = Arc::default();
        let app = Router::new()
            .route("/v1/traces", post(traces))
            .route("/v1/metrics", post(metrics))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });

        let grpc = Grpc(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let grpc_url = format!("http://{}", listener.local_addr().unwrap());
        let incoming = tonic::transport::server::TcpIncoming::from(listener);
        tokio::spawn(async move {
            tonic::transport::Server::builder()
                .add_service(TraceServiceServer::new(grpc.clone()))
                .add_service(MetricsServiceServer::new(grpc))
                .serve_with_incoming(incoming)
                .await
        });
        Self {
            url,
            grpc_url,
            state,
        }
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<Span> {
        self.state.lock().unwrap().spans.clone()
    }

    /// Names of every metric received so far.
    pub fn metric_names(&self) -> Vec<String> {
        self.state.lock().unwrap().metric_names.clone()
    }

    /// Everything received, as text.
    pub fn dump(&self) -> String {
        self.state.lock().unwrap().dump.clone()
    }
}

fn protobuf(body: Vec<u8>) -> impl IntoResponse {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/x-protobuf")],
        body,
    )
}

async fn traces(State(state): State<Arc<Mutex<Received>>>, body: Bytes) -> impl IntoResponse {
    let Ok(req) = ExportTraceServiceRequest::decode(body) else {
        return (StatusCode::BAD_REQUEST, Vec::new()).into_response();
    };
    record_traces(&state, &req);
    protobuf(ExportTraceServiceResponse::default().encode_to_vec()).into_response()
}

async fn metrics(State(state): State<Arc<Mutex<Received>>>, body: Bytes) -> impl IntoResponse {
    let Ok(req) = ExportMetricsServiceRequest::decode(body) else {
        return (StatusCode::BAD_REQUEST, Vec::new()).into_response();
    };
    record_metrics(&state, &req);
    protobuf(ExportMetricsServiceResponse::default().encode_to_vec()).into_response()
}

/// The OTLP/gRPC collector services.
#[derive(Clone)]
struct Grpc(Arc<Mutex<Received>>);

#[tonic::async_trait]
impl TraceService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        record_traces(&self.0, request.get_ref());
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl MetricsService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        record_metrics(&self.0, request.get_ref());
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

fn record_traces(state: &Mutex<Received>, req: &ExportTraceServiceRequest) {
    let mut st = state.lock().unwrap();
    st.dump.push_str(&format!("{req:?}\n"));
    for rs in &req.resource_spans {
        for ss in &rs.scope_spans {
            for s in &ss.spans {
                st.spans.push(Span {
                    trace_id: hex(&s.trace_id),
                    span_id: hex(&s.span_id),
                    parent_span_id: hex(&s.parent_span_id),
                    name: s.name.clone(),
                    kind: s.kind,
                    attributes: attributes(&s.attributes),
                    links: s
                        .links
                        .iter()
                        .map(|l| (hex(&l.trace_id), hex(&l.span_id)))
                        .collect(),
                    status: s.status.as_ref().map_or(0, |x| x.code),
                });
            }
        }
    }
}

fn record_metrics(state: &Mutex<Received>, req: &ExportMetricsServiceRequest) {
    let mut st = state.lock().unwrap();
    st.dump.push_str(&format!("{req:?}\n"));
    for rm in &req.resource_metrics {
        for sm in &rm.scope_metrics {
            for m in &sm.metrics {
                st.metric_names.push(m.name.clone());
            }
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn attributes(kvs: &[KeyValue]) -> BTreeMap<String, String> {
    kvs.iter()
        .map(|kv| {
            (
                kv.key.clone(),
                kv.value.as_ref().map(text).unwrap_or_default(),
            )
        })
        .collect()
}

fn text(v: &AnyValue) -> String {
    match &v.value {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

/// A free TCP port on 127.0.0.1 (for the gateway's admin server).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `config_text` (from [`crate::gateway::config_with`]) with the admin server on `admin_port`,
/// OTLP export to `otlp_url` (when given) and JSON logs.
pub fn with_telemetry(config_text: &str, admin_port: u16, otlp_url: Option<&str>) -> String {
    let disabled = "[admin]\nenabled = false\n";
    assert!(
        config_text.contains(disabled),
        "unexpected test configuration"
    );
    let endpoint = otlp_url
        .map(|u| format!("otlp_endpoint = \"{u}\"\n"))
        .unwrap_or_default();
    config_text.replace(
        disabled,
        &format!(
            "[admin]\nlisten = \"127.0.0.1:{admin_port}\"\n[telemetry]\n{endpoint}json_logs = true\n"
        ),
    )
}

/// `config_text` (from [`with_telemetry`]) exporting over OTLP/gRPC instead of HTTP/protobuf.
pub fn over_grpc(config_text: &str) -> String {
    assert!(
        config_text.contains("[telemetry]\n"),
        "no telemetry section"
    );
    config_text.replace("[telemetry]\n", "[telemetry]\notlp_protocol = \"grpc\"\n")
}

/// GET `http://127.0.0.1:{port}{path}`: (status, body).
pub async fn admin_get(port: u16, path: &str) -> (u16, String) {
    let resp = reqwest::get(format!("http://127.0.0.1:{port}{path}"))
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

/// The patient data in [`crate::consultation_event`]'s test patients, in the forms it could leak.
pub const PATIENT_DATA: &[&str] = &[
    "9000000009",
    "900 000 0009",
    "Smith",
    "SMITH",
    "John",
    "1970-01-01",
    "19700101",
    "9000000017",
    "Jones",
    "Mary",
    "1980-02-02",
    "19800202",
    "LS1 1AA",
];

/// Panics when `text` (logs, spans, metrics) contains any of [`PATIENT_DATA`].
pub fn assert_no_patient_data(what: &str, text: &str) {
    for p in PATIENT_DATA {
        if let Some(at) = text.find(p) {
            let from = text[..at]
                .char_indices()
                .rev()
                .nth(200)
                .map_or(0, |(i, _)| i);
            let to = (at + 200).min(text.len());
            let context = text.get(from..to).unwrap_or(p);
            panic!("patient data {p:?} in {what}: ...{context}...");
        }
    }
}
