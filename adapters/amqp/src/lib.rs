//! The gateway's RabbitMQ side (AMQP 0-9-1 with `lapin`): the input that consumes domain events
//! from a quorum queue and hands them to the pipeline, dead-letters invalid ones and acks only
//! once their outcome is durable ([`AmqpInput`]); the bus publisher that sends delivery and
//! acknowledgement events to a topic exchange with publisher confirms ([`AmqpEventSink`]); the
//! shared connection settings ([`AmqpConfig`], [`connect`]) and the start-up declaration of
//! the topology ([`declare_topology`]).
//!
//! Delivery is at least once: a message may be redelivered after a connection loss or a
//! restart, which is harmless because the pipeline is idempotent by event id.

mod batch;
mod channel;
mod config;
mod dead_letter;
mod error;
mod input;
mod retry;
mod session;
mod sink;
mod tls;
mod topology;
mod watch;

use lapin::{
    Connection, ConnectionProperties, DefaultConnectionBuilder,
    tcp::OwnedTLSConfig,
    types::{LongString, ShortString},
};

pub use config::AmqpConfig;
pub use dead_letter::{HEADER_CODE, HEADER_CORRELATION_ID, HEADER_REASON, HEADER_STAGE};
pub use error::AmqpError;
pub use input::AmqpInput;
pub use sink::{AmqpEventSink, CLOUDEVENTS_JSON};
pub use topology::declare_topology;

/// How long lapin's own connection recovery may take before the input and the bus publisher
/// give up on it and open a fresh connection. Recovery was seen to stall after a broker restart
/// (`rabbitmqctl stop_app` / `start_app`) with the broker back up; a bounded wait keeps the
/// gateway from waiting on it forever.
pub const RECOVERY_STALL_LIMIT: std::time::Duration = std::time::Duration::from_secs(15);

/// Name the gateway's connections show in the RabbitMQ management UI.
pub const CONNECTION_NAME: &str = "gpc-gateway";

/// Opens a connection with automatic recovery enabled: after a network failure lapin
/// reconnects with exponential backoff and restores channels, QoS, confirm mode and consumers.
///
/// Fails fast when the broker is unreachable now: lapin would otherwise retry even the first
/// connection for minutes, so a plain connection (no retries) probes the broker first.
/// For `amqps://` URLs both connections trust the system's CA certificates plus
/// [`AmqpConfig::tls_ca_bundle`] and present [`AmqpConfig::tls_client_identity`] if set; the
/// files are read and checked before connecting.
/// Must be called inside a tokio runtime.
///
/// # Errors
/// [`AmqpError::Connect`] when the broker is unreachable, the TLS handshake fails or the
/// broker refuses the credentials; [`AmqpError::Config`] for an invalid configuration;
/// [`AmqpError::TlsFile`] for a missing or invalid CA bundle or client identity.
pub async fn connect(cfg: &AmqpConfig) -> Result<Connection, AmqpError> {
    cfg.validate()?;
    let tls = if tls::is_amqps(cfg.url.expose()) {
        tls::tls_config(cfg)?
    } else {
        OwnedTLSConfig::default()
    };
    let name = LongString::from(CONNECTION_NAME);
    let probe = open(
        cfg,
        &tls,
        ConnectionProperties::default().with_connection_name(name.clone()),
    )
    .await?;
    if let Err(error) = probe.close(200, ShortString::from("OK")).await {
        tracing::debug!(error = %error, "Closing the probe connection failed.");
    }
    let properties = ConnectionProperties::default()
        .with_connection_name(name)
        .enable_auto_recover();
    open(cfg, &tls, properties).await
}

/// One connection attempt with the given TLS settings and properties.
async fn open(
    cfg: &AmqpConfig,
    tls: &OwnedTLSConfig,
    properties: ConnectionProperties,
) -> Result<Connection, AmqpError> {
    DefaultConnectionBuilder::new()
        .map_err(AmqpError::Connect)?
        .with_uri_str(cfg.url.expose().to_owned())
        .with_tls_config(tls.clone())
        .with_properties(properties)
        .connect()
        .await
        .map_err(AmqpError::Connect)
}
