//! The configuration's sections, one struct per component, each field's doc stating its default.

use std::collections::BTreeMap;
use std::path::PathBuf;

use gateway_adapter_filedrop::{CsvOptions, Hl7v2Options};
use gateway_core::Secret;
use gateway_plugin_gp_connect::{OutputFormat, SendDocumentOptions};
use serde::{Deserialize, Serialize};

/// Which store implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// Embedded SQLite file (one gateway).
    Sqlite,
    /// PostgreSQL shared by several gateways.
    Postgres,
}

/// Store settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `sqlite` (default) or `postgres`.
    pub kind: StoreKind,
    /// SQLite file, relative to `data_dir` (default `gateway.db`).
    pub path: PathBuf,
    /// SQLite: fsync every group commit (default true; false survives process crashes, not
    /// power loss).
    pub synchronous_full: bool,
    /// PostgreSQL URL (may hold a password), e.g. `postgres://gpc@db/gpc`.
    pub url: Option<Secret>,
    /// PostgreSQL connections per gateway (default 8; one more is used for outbox publishing).
    pub pool_size: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            kind: StoreKind::Sqlite,
            path: PathBuf::from("gateway.db"),
            synchronous_full: true,
            url: None,
            pool_size: 8,
        }
    }
}

/// MESH settings shared by all mailboxes, and the mailbox registry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MeshConfig {
    /// Default MESH base URL for mailboxes that do not set their own.
    pub url: Option<String>,
    /// Environment shared secret for the NHSMESH token.
    pub shared_key: Secret,
    /// Inbox poll interval in seconds (default 300, the MESH rule; tests use 1).
    pub poll_interval_secs: f64,
    /// Connect timeout in seconds (default 10).
    pub connect_timeout_secs: u64,
    /// Per-request timeout in seconds (default 60).
    pub request_timeout_secs: u64,
    /// Payloads above this many bytes are sent in chunks (default 75 MiB).
    pub chunk_size: usize,
    /// Most MESH sends in flight at once per gateway (default 64).
    pub max_in_flight: usize,
    /// Ask MESH tracking about messages still without an infrastructure ack this many seconds
    /// after sending (default 3600).
    pub tracking_after_secs: u64,
    /// How often to run the tracking sweep, seconds (default 1800; MESH asks senders not to
    /// poll tracking often).
    pub tracking_interval_secs: u64,
    /// Sender mailboxes by MESH mailbox id.
    pub mailboxes: BTreeMap<String, MailboxConfig>,
}

impl Default for MeshConfig {
    fn default() -> Self {
        Self {
            url: None,
            shared_key: Secret::default(),
            poll_interval_secs: 300.0,
            connect_timeout_secs: 10,
            request_timeout_secs: 60,
            chunk_size: 75 * 1024 * 1024,
            max_in_flight: 64,
            tracking_after_secs: 3600,
            tracking_interval_secs: 1800,
            mailboxes: BTreeMap::new(),
        }
    }
}

/// One sending MESH mailbox.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailboxConfig {
    /// Mailbox password.
    pub password: Secret,
    /// ODS codes of the organisations this mailbox sends for (empty = the default mailbox).
    pub ods_codes: Vec<String>,
    /// MESH base URL for this mailbox (default `mesh.url`).
    pub url: Option<String>,
    /// Client certificate (PEM) for mutual TLS.
    pub client_cert: Option<PathBuf>,
    /// Client key (PEM) for mutual TLS.
    pub client_key: Option<PathBuf>,
    /// Extra CA bundle (PEM), e.g. the NHS environment's.
    pub ca_bundle: Option<PathBuf>,
    /// HTTPS proxy for this mailbox.
    pub proxy: Option<String>,
}

/// Output bus settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusConfig {
    /// AMQP URL; absent = embedded bus (events as JSON lines on stdout or `events_file`).
    pub url: Option<Secret>,
    /// Topic exchange for output events (default `gpc.delivery`).
    pub exchange: String,
    /// Embedded bus only: append events to this JSONL file (relative to `data_dir`) instead of
    /// stdout.
    pub events_file: Option<PathBuf>,
    /// `amqps://` only: PEM CA certificates trusted in addition to the system's (default none;
    /// relative paths are taken from the working directory).
    pub tls_ca_bundle: Option<PathBuf>,
    /// `amqps://` only: PKCS#12 client certificate and key shown to the broker (default none).
    pub tls_client_identity: Option<PathBuf>,
    /// Password of `tls_client_identity` (default none: an empty password).
    pub tls_client_identity_password: Option<Secret>,
}

impl Default for BusConfig {
    fn default() -> Self {
        Self {
            url: None,
            exchange: "gpc.delivery".into(),
            events_file: None,
            tls_ca_bundle: None,
            tls_client_identity: None,
            tls_client_identity_password: None,
        }
    }
}

/// Inputs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InputsConfig {
    /// AMQP input (active when an AMQP URL is known).
    pub amqp: AmqpInputConfig,
    /// File drop folders.
    pub drops: Vec<DropConfig>,
}

/// AMQP input.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AmqpInputConfig {
    /// Consume at all (default true when an AMQP URL is configured).
    pub enabled: bool,
    /// Broker URL (default `bus.url`).
    pub url: Option<Secret>,
    /// Input queue (default `gpc.events`).
    pub queue: String,
    /// Dead-letter queue (default `gpc.events.dead`).
    pub dead_letter_queue: String,
    /// Consumer prefetch (default 256).
    pub prefetch: u16,
    /// Redeliveries before the broker dead-letters a message itself (default 20).
    pub delivery_limit: u32,
    /// TLS settings as under `bus` (default: `bus`'s). The input and the bus share one
    /// connection, so these win over `bus`'s when set; the identity and its password go together.
    /// CA bundle (default `bus.tls_ca_bundle`).
    pub tls_ca_bundle: Option<PathBuf>,
    /// PKCS#12 client identity (default `bus.tls_client_identity`).
    pub tls_client_identity: Option<PathBuf>,
    /// Password of `inputs.amqp.tls_client_identity` (default none: an empty password).
    pub tls_client_identity_password: Option<Secret>,
}

impl Default for AmqpInputConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            url: None,
            queue: "gpc.events".into(),
            dead_letter_queue: "gpc.events.dead".into(),
            prefetch: 256,
            delivery_limit: 20,
            tls_ca_bundle: None,
            tls_client_identity: None,
            tls_client_identity_password: None,
        }
    }
}

/// One drop folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DropConfig {
    /// Folder, relative to `data_dir`.
    pub dir: PathBuf,
    /// `json`, `hl7v2` or `csv`.
    #[serde(default = "default_format")]
    pub format: String,
    /// Seconds a file's size must stay unchanged before it is taken (default 1).
    #[serde(default = "default_settle")]
    pub settle_secs: f64,
    /// HL7v2 folders: service, charset, time zone and size settings.
    #[serde(default)]
    pub hl7v2: Option<Hl7v2Options>,
    /// CSV folders: delimiter, column map and defaults.
    #[serde(default)]
    pub csv: Option<CsvOptions>,
}

fn default_format() -> String {
    "json".into()
}

fn default_settle() -> f64 {
    1.0
}

/// Admin HTTP server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Listen address (default `127.0.0.1:9464`).
    pub listen: String,
    /// Serve at all (default true).
    pub enabled: bool,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:9464".into(),
            enabled: true,
        }
    }
}

/// Telemetry.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    /// OTLP base URL; absent = no export. Over `http/protobuf` `/v1/traces` and `/v1/metrics`
    /// are appended (e.g. `http://collector:4318`); over `grpc` it is the collector's gRPC
    /// address (e.g. `http://collector:4317`).
    pub otlp_endpoint: Option<String>,
    /// OTLP transport: `http/protobuf` (default) or `grpc`.
    pub otlp_protocol: crate::telemetry::OtlpProtocol,
    /// JSON log lines instead of text (default false).
    pub json_logs: bool,
}

/// Acknowledgement timeouts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AckConfig {
    /// Infrastructure ack deadline after sending, seconds (default 48 h).
    pub infack_timeout_secs: u64,
    /// Business ack deadline after the infrastructure ack, seconds (default 5 days).
    pub busack_timeout_secs: u64,
    /// How often overdue messages are looked for, seconds (default 60).
    pub sweep_interval_secs: u64,
}

impl Default for AckConfig {
    fn default() -> Self {
        Self {
            infack_timeout_secs: 48 * 3600,
            busack_timeout_secs: 5 * 24 * 3600,
            sweep_interval_secs: 60,
        }
    }
}

/// Send retry policy (capped exponential backoff with jitter).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    /// First delay in milliseconds (default 1000).
    pub initial_ms: u64,
    /// Longest delay in milliseconds (default 300000).
    pub max_ms: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            initial_ms: 1000,
            max_ms: 300_000,
        }
    }
}

/// Per-route mapping settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RoutesConfig {
    /// `update-record` (GP Connect Update Record).
    pub update_record: UpdateRecordRoute,
    /// `send-document` (GP Connect Send Document).
    pub send_document: SendDocumentRoute,
}

/// Update Record route.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpdateRecordRoute {
    /// `xml` (default, the wire format GP systems take) or `json`.
    pub format: OutputFormat,
}

/// Send Document route.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SendDocumentRoute {
    /// Folder `pdfPath` is read from, relative to `data_dir` (default none: only `pdfBase64`).
    pub document_root: Option<PathBuf>,
    /// Send on the legacy `GPFED_CONSULT_REPORT` workflow for receivers still on GP Connect
    /// Messaging 1.x (default false: `GPCONNECT_SEND_DOCUMENT`).
    pub legacy_workflow: bool,
    /// `xml` (default) or `json`.
    pub format: OutputFormat,
    /// Largest PDF accepted, bytes (default 100 MiB; receivers may refuse more than 5 MB with
    /// ITK 20015).
    pub max_pdf_bytes: u64,
}

impl Default for SendDocumentRoute {
    fn default() -> Self {
        let d = SendDocumentOptions::default();
        Self {
            document_root: None,
            legacy_workflow: d.legacy_workflow,
            format: d.format,
            max_pdf_bytes: d.max_pdf_bytes,
        }
    }
}
