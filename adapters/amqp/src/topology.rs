//! Start-up declaration of the queues and the exchange the gateway needs (contract §6).

use lapin::{
    Channel, Connection, ExchangeKind,
    options::{ExchangeDeclareOptions, QueueDeclareOptions},
    types::{AMQPValue, FieldTable, LongString, ShortString},
};

use crate::{config::AmqpConfig, error::AmqpError};

/// Declares the input quorum queue, the dead-letter quorum queue and the output topic exchange.
///
/// Idempotent: declaring again with the same configuration changes nothing. The input queue
/// carries `x-delivery-limit` and dead-letters through the default exchange to
/// `dead_letter_queue`, so poison messages redelivered more than the limit land there too.
///
/// # Errors
/// [`AmqpError::Declare`] when a queue or the exchange exists with other arguments (the broker
/// answers `PRECONDITION_FAILED`), [`AmqpError::Channel`] when no channel can be opened,
/// [`AmqpError::Config`] for invalid names.
pub async fn declare_topology(conn: &Connection, cfg: &AmqpConfig) -> Result<(), AmqpError> {
    cfg.validate()?;
    let channel = conn
        .create_channel()
        .await
        .map_err(|source| AmqpError::Channel {
            purpose: "topology",
            source,
        })?;
    let result = declare_all(&channel, cfg).await;
    // A failed declare has already closed the channel; a close error then says nothing new.
    if channel.status().connected() {
        let _ = channel.close(200, ShortString::from("OK")).await;
    }
    result
}

async fn declare_all(channel: &Channel, cfg: &AmqpConfig) -> Result<(), AmqpError> {
    declare_queue(channel, &cfg.dead_letter_queue, quorum_arguments()).await?;
    declare_queue(channel, &cfg.queue, input_queue_arguments(cfg)?).await?;
    if !cfg.exchange.is_empty() {
        channel
            .exchange_declare(
                short(&cfg.exchange)?,
                ExchangeKind::Topic,
                ExchangeDeclareOptions {
                    durable: true,
                    ..ExchangeDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(|source| AmqpError::Declare {
                kind: "exchange",
                name: cfg.exchange.clone(),
                source,
            })?;
    }
    Ok(())
}

async fn declare_queue(
    channel: &Channel,
    name: &str,
    arguments: FieldTable,
) -> Result<(), AmqpError> {
    channel
        .queue_declare(
            short(name)?,
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            arguments,
        )
        .await
        .map(|_| ())
        .map_err(|source| AmqpError::Declare {
            kind: "queue",
            name: name.to_owned(),
            source,
        })
}

fn quorum_arguments() -> FieldTable {
    let mut args = FieldTable::default();
    args.insert(
        ShortString::from("x-queue-type"),
        AMQPValue::LongString(LongString::from("quorum")),
    );
    args
}

/// The input queue's arguments. Integers are sent as `long` (as definitions files do), so a
/// queue declared by an operator from a definitions file is equivalent.
fn input_queue_arguments(cfg: &AmqpConfig) -> Result<FieldTable, AmqpError> {
    let mut args = quorum_arguments();
    args.insert(
        ShortString::from("x-delivery-limit"),
        AMQPValue::LongLongInt(i64::from(cfg.delivery_limit)),
    );
    args.insert(
        ShortString::from("x-dead-letter-exchange"),
        AMQPValue::LongString(LongString::from("")),
    );
    short(&cfg.dead_letter_queue)?;
    args.insert(
        ShortString::from("x-dead-letter-routing-key"),
        AMQPValue::LongString(LongString::from(cfg.dead_letter_queue.as_str())),
    );
    Ok(args)
}

/// A queue, exchange or routing-key name as an AMQP short string (at most 255 bytes).
pub(crate) fn short(name: &str) -> Result<ShortString, AmqpError> {
    ShortString::try_new(name)
        .map_err(|_| AmqpError::Config(format!("name `{name}` is longer than 255 bytes")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_queue_dead_letters_to_the_dead_letter_queue() {
        let cfg = AmqpConfig::default();
        let args = input_queue_arguments(&cfg).unwrap();
        let get = |k: &str| args.inner().get(k).cloned();
        assert_eq!(
            get("x-queue-type"),
            Some(AMQPValue::LongString("quorum".into()))
        );
        assert_eq!(get("x-delivery-limit"), Some(AMQPValue::LongLongInt(20)));
        assert_eq!(
            get("x-dead-letter-exchange"),
            Some(AMQPValue::LongString("".into()))
        );
        assert_eq!(
            get("x-dead-letter-routing-key"),
            Some(AMQPValue::LongString("gpc.events.dead".into()))
        );
    }

    #[test]
    fn long_names_are_errors_not_panics() {
        assert!(short(&"x".repeat(256)).is_err());
        assert!(short("gpc.events").is_ok());
    }
}
