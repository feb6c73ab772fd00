//! The bus publisher: output events to the topic exchange with publisher confirms.

use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use gateway_core::{BusEvent, EventSink, SinkError};
use lapin::{
    BasicProperties, Channel, Confirmation, Connection, ConnectionStatus, PublisherConfirm,
    options::BasicPublishOptions,
    types::{AMQPValue, FieldTable, LongString, ShortString},
};
use tracing::{Instrument, debug, info, info_span};

use crate::{config::AmqpConfig, error::AmqpError, topology::short};

/// Content type of every output event (CloudEvents structured mode).
pub const CLOUDEVENTS_JSON: &str = "application/cloudevents+json";

/// Publishes [`BusEvent`]s to the output exchange on a dedicated confirm-mode channel.
///
/// Routing key = event type, persistent, content type `application/cloudevents+json`,
/// correlation id = input event id, message id = outbox sequence number, `traceparent` header.
/// A batch counts as published only when the broker confirmed every event of it.
pub struct AmqpEventSink {
    cfg: AmqpConfig,
    exchange: ShortString,
    /// Batches are published one at a time so their order on the bus is the outbox order.
    state: tokio::sync::Mutex<State>,
    /// Status of the connection in use, readable without waiting for a batch in flight.
    status: Mutex<ConnectionStatus>,
}

struct State {
    channel: Channel,
    conn_status: ConnectionStatus,
    /// A connection of the sink's own, opened when its first channel closed for good.
    own: Option<Connection>,
    /// Since when the channel has been waiting for lapin's recovery.
    recovering_since: Option<tokio::time::Instant>,
    /// The last batch failed or hung on this channel: lapin's recovery can leave a channel that
    /// reports itself connected while publishes never complete, so it is not trusted again.
    stale: bool,
}

impl AmqpEventSink {
    /// Opens the publisher's channel on `conn` and enables publisher confirms.
    ///
    /// # Errors
    /// [`AmqpError::Channel`] when the channel cannot be opened or put in confirm mode,
    /// [`AmqpError::Config`] for an invalid configuration.
    pub async fn new(conn: &Connection, cfg: &AmqpConfig) -> Result<Self, AmqpError> {
        cfg.validate()?;
        let exchange = short(&cfg.exchange)?;
        let channel = crate::channel::open_confirming(conn, "publisher").await?;
        let conn_status = conn.status().clone();
        Ok(Self {
            cfg: cfg.clone(),
            exchange,
            status: Mutex::new(conn_status.clone()),
            state: tokio::sync::Mutex::new(State {
                channel,
                conn_status,
                own: None,
                recovering_since: None,
                stale: false,
            }),
        })
    }

    /// Makes sure the channel can publish: waits for nothing, but replaces a channel that is
    /// closed for good (a channel-level error, or lapin gave up recovering the connection).
    async fn ensure_channel(&self, state: &mut State) -> Result<(), SinkError> {
        let channel = state.channel.status();
        if state.stale {
            return self.reconnect(state).await;
        }
        if channel.connected() {
            state.recovering_since = None;
            return Ok(());
        }
        let conn_dead = state.conn_status.closed() || state.conn_status.errored();
        let since = *state
            .recovering_since
            .get_or_insert_with(tokio::time::Instant::now);
        if channel.reconnecting() && !conn_dead && since.elapsed() < crate::RECOVERY_STALL_LIMIT {
            return Err(SinkError::Unavailable(
                "connection is being recovered".to_owned(),
            ));
        }
        state.recovering_since = None;
        if let Some(own) = state.own.as_ref().filter(|c| c.status().connected()) {
            state.channel = crate::channel::open_confirming(own, "publisher")
                .await
                .map_err(unavailable)?;
            return Ok(());
        }
        self.reconnect(state).await
    }

    /// Replaces the channel with one on a new connection of the sink's own.
    async fn reconnect(&self, state: &mut State) -> Result<(), SinkError> {
        let own = crate::connect(&self.cfg).await.map_err(unavailable)?;
        info!("The bus publisher opened a new AMQP connection.");
        state.channel = crate::channel::open_confirming(&own, "publisher")
            .await
            .map_err(unavailable)?;
        state.conn_status = own.status().clone();
        *self.status.lock().unwrap_or_else(PoisonError::into_inner) = state.conn_status.clone();
        if let Some(old) = state.own.replace(own) {
            // Best effort: the old connection may be half dead; do not wait on it.
            tokio::spawn(async move {
                let _ = old.close(200, ShortString::from("replaced")).await;
            });
        }
        state.stale = false;
        state.recovering_since = None;
        Ok(())
    }

    /// Publishes a batch and waits for its confirms, all within `confirm_timeout`: a publish
    /// on a connection that died mid-batch can wait forever otherwise.
    async fn publish_all(&self, events: &[BusEvent]) -> Result<(), SinkError> {
        let mut state = self.state.lock().await;
        self.ensure_channel(&mut state).await?;
        let timeout = self.cfg.confirm_timeout;
        let result = tokio::time::timeout(timeout, self.publish_on(&state.channel, events))
            .await
            .unwrap_or_else(|_| {
                Err(SinkError::Unavailable(format!(
                    "the batch was not confirmed within {timeout:?}"
                )))
            });
        if let Err(SinkError::Unavailable(reason)) = &result {
            if !state.stale {
                info!(%reason, "Bus publish failed; the next batch uses a new channel.");
            }
            state.stale = true;
        }
        result
    }

    async fn publish_on(&self, channel: &Channel, events: &[BusEvent]) -> Result<(), SinkError> {
        let mut confirms = Vec::with_capacity(events.len());
        for event in events {
            let routing_key = ShortString::try_new(event.event_type.as_str()).map_err(|_| {
                SinkError::Nacked(format!(
                    "event type of seq {} is longer than 255 bytes",
                    event.seq
                ))
            })?;
            let confirm = channel
                .basic_publish(
                    self.exchange.clone(),
                    routing_key,
                    BasicPublishOptions::default(),
                    &event.body,
                    properties(event),
                )
                .await
                .map_err(|e| SinkError::Unavailable(format!("publish failed: {e}")))?;
            confirms.push(confirm);
        }
        await_confirms(confirms).await
    }
}

#[async_trait]
impl EventSink for AmqpEventSink {
    async fn publish_batch(&self, events: &[BusEvent]) -> Result<(), SinkError> {
        if events.is_empty() {
            return Ok(());
        }
        let span = info_span!(
            "send",
            otel.name = format!("send {}", self.cfg.exchange),
            otel.kind = "producer",
            messaging.system = gateway_core::telemetry::SYSTEM_RABBITMQ,
            messaging.destination.name = self.cfg.exchange.as_str(),
            messaging.operation.type = "send",
            messaging.batch.message_count = events.len(),
        );
        let published = self.publish_all(events).instrument(span).await;
        if published.is_ok() {
            debug!(
                count = events.len(),
                "Published and confirmed output events."
            );
        }
        published
    }

    async fn healthcheck(&self) -> Result<(), SinkError> {
        let status = self
            .status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if !status.connected() {
            return Err(SinkError::Unavailable(
                "not connected to the broker".to_owned(),
            ));
        }
        if status.blocked() {
            return Err(SinkError::Unavailable(
                "the broker blocks publishing (resource alarm)".to_owned(),
            ));
        }
        Ok(())
    }
}

/// Awaits every confirm of a batch; the first nack or error fails the whole batch.
async fn await_confirms(confirms: Vec<PublisherConfirm>) -> Result<(), SinkError> {
    for confirm in confirms {
        match confirm.await {
            Ok(Confirmation::Ack(_)) => {}
            Ok(Confirmation::Nack(_)) => {
                return Err(SinkError::Nacked("the broker nacked a publish".to_owned()));
            }
            Ok(Confirmation::NotRequested) => {
                return Err(SinkError::Unavailable(
                    "publisher confirms are off on the channel".to_owned(),
                ));
            }
            Err(e) => return Err(SinkError::Unavailable(format!("confirm failed: {e}"))),
        }
    }
    Ok(())
}

fn properties(event: &BusEvent) -> BasicProperties {
    let mut headers = FieldTable::default();
    if let Some(traceparent) = &event.traceparent {
        headers.insert(
            ShortString::from("traceparent"),
            AMQPValue::LongString(LongString::from(traceparent.as_str())),
        );
    }
    let mut p = BasicProperties::default()
        .with_content_type(ShortString::from(CLOUDEVENTS_JSON))
        .with_delivery_mode(2)
        .with_message_id(ShortString::from(event.seq.to_string()))
        .with_headers(headers);
    // The type is also the routing key; as a property it survives re-routing.
    if let Ok(kind) = ShortString::try_new(event.event_type.as_str()) {
        p = p.with_type(kind);
    }
    match ShortString::try_new(event.correlation_id.as_str()) {
        Ok(id) => p = p.with_correlation_id(id),
        // The id is in the event body (`subject`) too; an over-long one must not block the outbox.
        Err(_) => debug!(
            seq = event.seq,
            "Correlation id too long for an AMQP property."
        ),
    }
    p
}

fn unavailable(error: AmqpError) -> SinkError {
    SinkError::Unavailable(crate::error::chain(&error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_carry_ids_and_trace() {
        let event = BusEvent {
            seq: 42,
            event_type: "gpc.message.sent".to_owned(),
            body: b"{}".to_vec(),
            traceparent: Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into()),
            correlation_id: "ev-1".to_owned(),
        };
        let p = properties(&event);
        assert_eq!(p.delivery_mode(), &Some(2));
        assert_eq!(p.message_id().as_ref().map(ShortString::as_str), Some("42"));
        assert_eq!(
            p.correlation_id().as_ref().map(ShortString::as_str),
            Some("ev-1")
        );
        assert_eq!(
            p.content_type().as_ref().map(ShortString::as_str),
            Some(CLOUDEVENTS_JSON)
        );
        let long = BusEvent {
            correlation_id: "x".repeat(300),
            ..event
        };
        assert_eq!(properties(&long).correlation_id(), &None);
    }
}
