//! Topology: builds every component from the configuration and runs them as tasks until shutdown
//! (SIGTERM/SIGINT), then drains: inputs stop first, in-flight sends finish and are recorded, the
//! outbox publishes what it can.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use gateway_adapter_amqp::{AmqpConfig, AmqpEventSink, AmqpInput};
use gateway_adapter_filedrop::{
    CsvDecoder, Decoder, DropFormat, FileDropConfig, FileDropInput, Hl7v2Decoder, JsonDecoder,
};
use gateway_adapter_mesh::{MeshClient, MeshClientConfig};
use gateway_core::{EventSink, Ingest};
use gateway_store::{PostgresStore, SqliteStore, Store};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::{GatewayConfig, StoreKind};
use crate::embedded_bus::{JsonlSink, JsonlTarget};
use crate::pipeline::ingest::Ingestor;
use crate::pipeline::sender::SenderSettings;
use crate::pipeline::sweep::SweepSettings;
use crate::pipeline::tracking::{self, TrackingSettings};
use crate::pipeline::{Directory, Shared, inbox, outbox, sender, sweep};
use crate::registry::Registry;

/// Handshake again at least this often (MESH rule: daily).
const HANDSHAKE_EVERY: Duration = Duration::from_secs(24 * 3600);

/// Options that replace parts of the configured topology (demo, tests).
#[derive(Default, Clone)]
pub struct StartOptions {
    /// Use this event sink instead of the configured bus.
    pub sink: Option<Arc<dyn EventSink>>,
}

/// A running gateway.
pub struct RunningGateway {
    /// Shared pipeline context (store, clients).
    pub shared: Shared,
    /// The ingest entry point (for in-process feeding).
    pub ingest: Arc<dyn Ingest>,
    inputs_stop: CancellationToken,
    stages_stop: CancellationToken,
    inputs: JoinSet<()>,
    stages: JoinSet<()>,
}

/// MESH client for each configured mailbox.
///
/// # Errors
/// A mailbox's TLS material or URL is unusable.
pub fn mesh_clients(cfg: &GatewayConfig) -> anyhow::Result<HashMap<String, MeshClient>> {
    let mut clients = HashMap::new();
    for (id, mb) in &cfg.mesh.mailboxes {
        let url = mb
            .url
            .clone()
            .or_else(|| cfg.mesh.url.clone())
            .unwrap_or_default();
        let mut c = MeshClientConfig::new(
            url,
            id.clone(),
            mb.password.clone(),
            cfg.mesh.shared_key.clone(),
        );
        c.connect_timeout = Duration::from_secs(cfg.mesh.connect_timeout_secs);
        c.request_timeout = Duration::from_secs(cfg.mesh.request_timeout_secs);
        c.client_cert = mb.client_cert.clone();
        c.client_key = mb.client_key.clone();
        c.ca_bundle = mb.ca_bundle.clone();
        c.proxy = mb.proxy.clone();
        c.chunk_size = cfg.mesh.chunk_size;
        let client = MeshClient::new(c).with_context(|| format!("MESH mailbox {id}"))?;
        clients.insert(id.clone(), client);
    }
    Ok(clients)
}

fn amqp_config(cfg: &GatewayConfig, url: &gateway_core::Secret) -> AmqpConfig {
    let (ca, identity, password) = cfg.amqp_tls();
    AmqpConfig {
        url: url.clone(),
        queue: cfg.inputs.amqp.queue.clone(),
        dead_letter_queue: cfg.inputs.amqp.dead_letter_queue.clone(),
        exchange: cfg.bus.exchange.clone(),
        prefetch: cfg.inputs.amqp.prefetch,
        // Half the prefetch: the broker keeps delivering while a batch is mapped and committed.
        batch_max: usize::from(cfg.inputs.amqp.prefetch / 2).max(1),
        delivery_limit: cfg.inputs.amqp.delivery_limit,
        tls_ca_bundle: ca.cloned(),
        tls_client_identity: identity.cloned(),
        tls_client_identity_password: password.cloned(),
        ..AmqpConfig::default()
    }
}

/// Builds and starts everything.
///
/// # Errors
/// The store cannot be opened, a MESH client cannot be built, or the broker is unreachable at
/// start-up.
pub async fn start(cfg: &GatewayConfig, opts: StartOptions) -> anyhow::Result<RunningGateway> {
    let store = open_store(cfg).await?;
    let clients = mesh_clients(cfg)?;
    let directory = Directory::new(
        cfg.mesh
            .mailboxes
            .iter()
            .map(|(id, m)| (id.as_str(), m.ods_codes.as_slice())),
    );
    let shared = Shared::new(
        store,
        Registry::from_config(cfg),
        directory,
        clients,
        &cfg.instance,
    );
    let ingest: Arc<dyn Ingest> = Arc::new(Ingestor::new(shared.clone()));
    let inputs_stop = CancellationToken::new();
    let stages_stop = CancellationToken::new();
    let mut inputs = JoinSet::new();
    let mut stages = JoinSet::new();

    let amqp_conn = match cfg.bus.url.as_ref().or(cfg.amqp_input_url()) {
        Some(url) => {
            let acfg = amqp_config(cfg, url);
            let conn = gateway_adapter_amqp::connect(&acfg)
                .await
                .context("RabbitMQ")?;
            gateway_adapter_amqp::declare_topology(&conn, &acfg)
                .await
                .context("AMQP topology")?;
            Some(conn)
        }
        None => None,
    };
    let sink: Arc<dyn EventSink> = match (&opts.sink, &cfg.bus.url, &amqp_conn) {
        (Some(s), _, _) => s.clone(),
        (None, Some(url), Some(conn)) => Arc::new(
            AmqpEventSink::new(conn, &amqp_config(cfg, url))
                .await
                .context("AMQP bus")?,
        ),
        _ => Arc::new(JsonlSink::new(match &cfg.bus.events_file {
            Some(f) => JsonlTarget::File(cfg.resolve(f)),
            None => JsonlTarget::Stdout,
        })),
    };

    for client in shared.clients.values() {
        let client = client.clone();
        let interval = Duration::from_secs_f64(cfg.mesh.poll_interval_secs);
        let stop = stages_stop.clone();
        let s = shared.clone();
        stages.spawn(async move {
            handshake_loop_and_poll(s, client, interval, stop).await;
        });
    }
    let settings = SenderSettings {
        max_in_flight: cfg.mesh.max_in_flight,
        retry: cfg.retry.clone(),
    };
    stages.spawn(sender::run(shared.clone(), settings, stages_stop.clone()));
    stages.spawn(outbox::run(shared.clone(), sink, stages_stop.clone()));
    let sweep_settings = SweepSettings {
        infack_timeout_ms: secs_ms(cfg.acks.infack_timeout_secs),
        busack_timeout_ms: secs_ms(cfg.acks.busack_timeout_secs),
        interval: Duration::from_secs(cfg.acks.sweep_interval_secs.max(1)),
    };
    stages.spawn(sweep::run(
        shared.clone(),
        sweep_settings,
        stages_stop.clone(),
    ));
    let tracking = TrackingSettings {
        after: Duration::from_secs(cfg.mesh.tracking_after_secs),
        interval: Duration::from_secs(cfg.mesh.tracking_interval_secs.max(1)),
    };
    stages.spawn(tracking::run(shared.clone(), tracking, stages_stop.clone()));

    if let (Some(conn), Some(url)) = (amqp_conn, cfg.amqp_input_url()) {
        let input = AmqpInput::new(conn, amqp_config(cfg, url));
        let (ing, stop) = (ingest.clone(), inputs_stop.clone());
        inputs.spawn(async move {
            if let Err(error) = input.run(ing, stop).await {
                tracing::error!(%error, "AMQP input stopped.");
            }
        });
    }
    for d in &cfg.inputs.drops {
        let dir = cfg.resolve(&d.dir);
        // The gateway owns its drop folders: create them rather than fail on a fresh data_dir.
        std::fs::create_dir_all(&dir).with_context(|| format!("drop folder {}", dir.display()))?;
        let (format, decoder): (DropFormat, Arc<dyn Decoder>) = match d.format.as_str() {
            "hl7v2" => (
                DropFormat::Hl7v2,
                Arc::new(Hl7v2Decoder::new(d.hl7v2.clone().unwrap_or_default())),
            ),
            "csv" => (
                DropFormat::Csv,
                Arc::new(CsvDecoder::new(d.csv.clone().unwrap_or_default())),
            ),
            _ => (DropFormat::Json, Arc::new(JsonDecoder)),
        };
        let mut dc = FileDropConfig::new(dir, format);
        dc.settle_time = Duration::from_secs_f64(d.settle_secs);
        let input = FileDropInput::with_decoder(dc, decoder);
        let (ing, stop) = (ingest.clone(), inputs_stop.clone());
        inputs.spawn(async move {
            if let Err(error) = input.run(ing, stop).await {
                tracing::error!(%error, "File drop input stopped.");
            }
        });
    }
    Ok(RunningGateway {
        shared,
        ingest,
        inputs_stop,
        stages_stop,
        inputs,
        stages,
    })
}

/// The configured store.
///
/// # Errors
/// The store cannot be opened or migrated.
pub async fn open_store(cfg: &GatewayConfig) -> anyhow::Result<Arc<dyn Store>> {
    Ok(match cfg.store.kind {
        StoreKind::Sqlite => {
            let path = cfg.resolve(&cfg.store.path);
            Arc::new(
                SqliteStore::open(&path, cfg.store.synchronous_full)
                    .with_context(|| format!("store {}", path.display()))?,
            )
        }
        StoreKind::Postgres => {
            let url = cfg
                .store
                .url
                .as_ref()
                .context("store.url is required for postgres")?;
            Arc::new(
                PostgresStore::connect(url.expose(), &cfg.instance, cfg.store.pool_size)
                    .await
                    .context("store (postgres)")?,
            )
        }
    })
}

fn secs_ms(s: u64) -> i64 {
    i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX)
}

async fn handshake_loop_and_poll(
    shared: Shared,
    client: gateway_adapter_mesh::MeshClient,
    interval: Duration,
    stop: CancellationToken,
) {
    let hs_client = client.clone();
    let hs_stop = stop.clone();
    let health = shared.health.clone();
    tokio::spawn(async move {
        loop {
            let mailbox = hs_client.mailbox_id();
            match hs_client.handshake().await {
                Ok(()) => {
                    health.mailbox_ok(mailbox);
                    tracing::info!(mailbox = %mailbox, "MESH handshake succeeded.");
                }
                Err(error) => {
                    health.mailbox_failed(mailbox, "handshake", error.to_string());
                    tracing::error!(mailbox = %mailbox, %error,
                        "MESH handshake failed; this mailbox's messages wait until it succeeds.");
                }
            }
            tokio::select! {
                _ = hs_stop.cancelled() => return,
                _ = tokio::time::sleep(HANDSHAKE_EVERY) => {}
            }
        }
    });
    inbox::run(shared, client, interval, stop).await;
}

impl RunningGateway {
    /// Graceful drain: inputs stop and finish their batch, then the stages.
    pub async fn shutdown(mut self) {
        self.inputs_stop.cancel();
        while self.inputs.join_next().await.is_some() {}
        self.stages_stop.cancel();
        while self.stages.join_next().await.is_some() {}
    }

    /// Waits for SIGTERM or SIGINT, then shuts down.
    pub async fn run_until_signal(self) {
        wait_for_signal().await;
        tracing::info!("Shutting down: draining in-flight work.");
        self.shutdown().await;
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
