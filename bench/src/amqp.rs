//! Broker helpers shared by the binaries: connecting and the gateway-identical topology.

use anyhow::Context;
use gateway_adapter_amqp::AmqpConfig;
use gateway_core::Secret;
use lapin::types::ShortString;
use lapin::{Connection, ConnectionProperties};

/// The names one benchmark run uses; mirrors the gateway's `bus.exchange`,
/// `inputs.amqp.queue` and `inputs.amqp.dead_letter_queue`.
#[derive(Debug, Clone)]
pub struct Names {
    /// Input quorum queue.
    pub queue: String,
    /// Dead-letter quorum queue of the input queue.
    pub dead_letter_queue: String,
    /// Output topic exchange.
    pub exchange: String,
}

/// The gateway's AMQP configuration for `names` (defaults for everything else), so topology
/// declared from it is exactly what the gateway declares.
pub fn gateway_config(url: &str, names: &Names) -> AmqpConfig {
    AmqpConfig {
        url: Secret::new(url),
        queue: names.queue.clone(),
        dead_letter_queue: names.dead_letter_queue.clone(),
        exchange: names.exchange.clone(),
        ..AmqpConfig::default()
    }
}

/// Opens a plain connection (no automatic recovery: a benchmark that loses its broker fails).
///
/// # Errors
/// The broker is unreachable or refuses the credentials.
pub async fn connect(url: &str, name: &str) -> anyhow::Result<Connection> {
    let props = ConnectionProperties::default().with_connection_name(name.into());
    Connection::connect(url, props)
        .await
        .with_context(|| format!("connecting to RabbitMQ as {name}"))
}

/// Declares the input queue, its dead-letter queue and the output exchange exactly as
/// `gpc-gateway run` does (idempotent).
///
/// # Errors
/// A queue or the exchange exists with other arguments, or the broker is unreachable.
pub async fn declare(conn: &Connection, url: &str, names: &Names) -> anyhow::Result<()> {
    gateway_adapter_amqp::declare_topology(conn, &gateway_config(url, names))
        .await
        .context("declaring the gateway topology")
}

/// A queue, exchange or routing key name as an AMQP short string.
///
/// # Errors
/// The name is longer than 255 bytes.
pub fn short(name: &str) -> anyhow::Result<ShortString> {
    ShortString::try_new(name)
        .map_err(|_| anyhow::anyhow!("name {name:?} is longer than 255 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_uses_the_gateway_defaults_for_everything_but_names() {
        let names = Names {
            queue: "q".into(),
            dead_letter_queue: "q.dead".into(),
            exchange: "x".into(),
        };
        let cfg = gateway_config("amqp://127.0.0.1", &names);
        assert_eq!(cfg.prefetch, AmqpConfig::default().prefetch);
        assert_eq!(cfg.delivery_limit, AmqpConfig::default().delivery_limit);
        assert_eq!(cfg.queue, "q");
        cfg.validate().unwrap();
        assert!(short(&"x".repeat(256)).is_err());
    }
}
