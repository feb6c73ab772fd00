//! The test's view of RabbitMQ: unique input/dead-letter queues and output exchange, a capture
//! queue bound to every routing key of the exchange, and helpers to publish and read.

use std::time::Duration;

use gateway_adapter_amqp::{AmqpConfig, declare_topology};
use gateway_core::Secret;
use gateway_proto::CloudEvent;
use lapin::options::{
    BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions, ExchangeDeleteOptions,
    QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};

/// One test's topology.
pub struct TestBus {
    /// Names the gateway is configured with.
    pub cfg: AmqpConfig,
    capture: String,
    conn: Connection,
    channel: Channel,
}

/// A dead-lettered message.
#[derive(Debug)]
pub struct DeadLetter {
    /// Unchanged body.
    pub body: Vec<u8>,
    /// `x-gpc-stage`.
    pub stage: String,
    /// `x-gpc-reason`.
    pub reason: String,
}

impl TestBus {
    /// Declares the gateway's topology under unique names plus a capture queue.
    pub async fn new() -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let cfg = AmqpConfig {
            url: Secret::new(crate::amqp_url()),
            queue: format!("it.gpc.events.{id}"),
            dead_letter_queue: format!("it.gpc.events.dead.{id}"),
            exchange: format!("it.gpc.delivery.{id}"),
            ..AmqpConfig::default()
        };
        let capture = format!("it.capture.{id}");
        let (conn, channel) = Self::open(&cfg, &capture).await;
        Self {
            cfg,
            capture,
            conn,
            channel,
        }
    }

    /// Connects, declares (idempotently) and binds the capture queue. The capture queue is
    /// durable so that events survive a broker restart in the resilience tests.
    async fn open(cfg: &AmqpConfig, capture: &str) -> (Connection, Channel) {
        let conn = Connection::connect(&crate::amqp_url(), ConnectionProperties::default())
            .await
            .unwrap_or_else(|e| {
                panic!("RabbitMQ unreachable ({e}); start it: rabbitmq-server -detached")
            });
        declare_topology(&conn, cfg).await.unwrap();
        let channel = conn.create_channel().await.unwrap();
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .unwrap();
        let opts = QueueDeclareOptions {
            durable: true,
            ..Default::default()
        };
        channel
            .queue_declare(capture.into(), opts, FieldTable::default())
            .await
            .unwrap();
        channel
            .queue_bind(
                capture.into(),
                cfg.exchange.as_str().into(),
                "#".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
        (conn, channel)
    }

    /// Reconnects after a broker restart (waits up to 60 s for the broker).
    pub async fn reconnect(&mut self) {
        for _ in 0..120 {
            if Connection::connect(&crate::amqp_url(), ConnectionProperties::default())
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let (conn, channel) = Self::open(&self.cfg, &self.capture).await;
        self.conn = conn;
        self.channel = channel;
    }

    /// Publishes an input event (confirmed), optionally with a `traceparent` header.
    pub async fn publish(&self, body: &[u8]) {
        let props = BasicProperties::default()
            .with_content_type("application/cloudevents+json".into())
            .with_delivery_mode(2);
        let confirm = self
            .channel
            .basic_publish(
                "".into(),
                self.cfg.queue.as_str().into(),
                BasicPublishOptions::default(),
                body,
                props,
            )
            .await
            .unwrap()
            .await
            .unwrap();
        assert!(confirm.is_ack());
    }

    /// Next output event, if one arrives within `timeout`.
    pub async fn next_event(&self, timeout: Duration) -> Option<CloudEvent> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let got = self
                .channel
                .basic_get(
                    self.capture.as_str().into(),
                    BasicGetOptions { no_ack: true },
                )
                .await
                .unwrap();
            if let Some(m) = got {
                return Some(
                    serde_json::from_slice(&m.delivery.data).expect("output event is a CloudEvent"),
                );
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Collects events until `done` says the collection is complete, or fails after `timeout`.
    pub async fn events_until(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&[CloudEvent]) -> bool,
    ) -> Vec<CloudEvent> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut seen = Vec::new();
        while !done(&seen) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            assert!(
                !left.is_zero(),
                "timed out; events so far: {:#?}",
                summary(&seen)
            );
            if let Some(e) = self.next_event(left.min(Duration::from_millis(500))).await {
                seen.push(e);
            }
        }
        seen
    }

    /// Takes one dead letter, waiting up to `timeout`.
    pub async fn next_dead_letter(&self, timeout: Duration) -> Option<DeadLetter> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let got = self
                .channel
                .basic_get(
                    self.cfg.dead_letter_queue.as_str().into(),
                    BasicGetOptions { no_ack: true },
                )
                .await
                .unwrap();
            if let Some(m) = got {
                let headers = m.delivery.properties.headers().clone().unwrap_or_default();
                let get = |k: &str| match headers.inner().get(k) {
                    Some(AMQPValue::LongString(s)) => {
                        String::from_utf8_lossy(s.as_bytes()).into_owned()
                    }
                    Some(AMQPValue::ShortString(s)) => s.as_str().to_owned(),
                    _ => String::new(),
                };
                return Some(DeadLetter {
                    body: m.delivery.data.clone(),
                    stage: get("x-gpc-stage"),
                    reason: get("x-gpc-reason"),
                });
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Deletes the test's queues and exchange.
    pub async fn cleanup(self) {
        for q in [&self.cfg.queue, &self.cfg.dead_letter_queue, &self.capture] {
            let _ = self
                .channel
                .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
                .await;
        }
        let _ = self
            .channel
            .exchange_delete(
                self.cfg.exchange.as_str().into(),
                ExchangeDeleteOptions::default(),
            )
            .await;
        let _ = self.conn.close(200, "OK".into()).await;
    }
}

/// (type, subject) pairs, for assertion messages.
pub fn summary(events: &[CloudEvent]) -> Vec<(String, String)> {
    events
        .iter()
        .map(|e| (e.event_type.clone(), e.subject.clone().unwrap_or_default()))
        .collect()
}
