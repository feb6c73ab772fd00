//! The pipeline between inputs and MESH: ingest (parse, map, store), the sender, the inbox
//! pollers that correlate acknowledgements and reports, the outbox publisher and the timeout sweep.
//! Each stage is a task; they meet only in the store, so a crash at any point leaves a state the
//! next start resumes from.

pub(crate) mod correlate;
pub(crate) mod events;
pub mod inbox;
pub mod ingest;
pub mod outbox;
pub mod sender;
pub mod sweep;
pub mod tracking;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;
use gateway_adapter_mesh::MeshClient;
use gateway_core::MailboxDirectory;
use gateway_store::Store;
use tokio::sync::Notify;

use crate::registry::Registry;
use crate::telemetry::{Health, Telemetry};

/// Sender mailbox lookup by ODS code, with an optional default mailbox.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    by_ods: HashMap<String, String>,
    default: Option<String>,
}

impl Directory {
    /// From (mailbox id, ODS codes) pairs; a mailbox without ODS codes is the default.
    pub fn new<'a>(mailboxes: impl IntoIterator<Item = (&'a str, &'a [String])>) -> Self {
        let mut d = Self::default();
        for (id, ods) in mailboxes {
            if ods.is_empty() {
                d.default = Some(id.to_string());
            }
            for code in ods {
                d.by_ods.insert(code.to_uppercase(), id.to_string());
            }
        }
        d
    }
}

impl MailboxDirectory for Directory {
    fn mailbox_for_ods(&self, ods_code: &str) -> Option<String> {
        self.by_ods
            .get(&ods_code.to_uppercase())
            .cloned()
            .or_else(|| self.default.clone())
    }
}

/// What every stage shares.
#[derive(Clone)]
pub struct Shared {
    /// The durable store.
    pub store: Arc<dyn Store>,
    /// Mapping plugins.
    pub registry: Registry,
    /// Sender mailbox lookup.
    pub directory: Arc<Directory>,
    /// MESH clients by mailbox id (one pooled connection each).
    pub clients: Arc<HashMap<String, MeshClient>>,
    /// Wakes the sender after new messages were stored.
    pub wake_sender: Arc<Notify>,
    /// Wakes the outbox publisher after new events were stored.
    pub wake_outbox: Arc<Notify>,
    /// `source` of output events.
    pub source: String,
    /// Metric instruments and the tracer ([`Telemetry::global`] unless replaced).
    pub telemetry: Telemetry,
    /// Mailbox and bus health for `/readyz`.
    pub health: Arc<Health>,
}

impl Shared {
    /// A shared context.
    pub fn new(
        store: Arc<dyn Store>,
        registry: Registry,
        directory: Directory,
        clients: HashMap<String, MeshClient>,
        instance: &str,
    ) -> Self {
        let telemetry = Telemetry::global();
        let health = Arc::new(Health::new(clients.keys(), telemetry.clone()));
        Self {
            store,
            registry,
            directory: Arc::new(directory),
            clients: Arc::new(clients),
            wake_sender: Arc::new(Notify::new()),
            wake_outbox: Arc::new(Notify::new()),
            source: format!("urn:gpc-gateway:{instance}"),
            telemetry,
            health,
        }
    }
}

/// Milliseconds since the epoch.
pub(crate) fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}
