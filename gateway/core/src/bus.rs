//! Output events on their way to the bus. The store's transactional outbox yields [`BusEvent`]s in
//! order; an [`EventSink`] (AMQP exchange, or stdout / JSONL in the embedded default) publishes them
//! and the outbox marks them published only after the sink confirms.

use async_trait::async_trait;

/// One output event ready to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusEvent {
    /// Outbox sequence number (monotonic).
    pub seq: i64,
    /// CloudEvent `type`, used as the AMQP routing key.
    pub event_type: String,
    /// The CloudEvent, serialised as JSON.
    pub body: Vec<u8>,
    /// The message's trace context, also set as an AMQP header.
    pub traceparent: Option<String>,
    /// Correlation id (input event id), set as the AMQP correlation id.
    pub correlation_id: String,
}

/// A publish that did not complete; the outbox keeps the events and retries.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// Broker unreachable or connection lost.
    #[error("bus unavailable: {0}")]
    Unavailable(String),
    /// The broker refused (nack) a publish.
    #[error("bus refused the event: {0}")]
    Nacked(String),
    /// Local output (stdout / file) failed.
    #[error("event output failed: {0}")]
    Io(String),
}

/// Where output events go.
#[async_trait]
pub trait EventSink: Send + Sync {
    /// Publishes the events in order and returns once all are confirmed.
    ///
    /// # Errors
    /// [`SinkError`]; none of the batch is then considered published.
    async fn publish_batch(&self, events: &[BusEvent]) -> Result<(), SinkError>;

    /// Cheap liveness check for `/readyz`.
    ///
    /// # Errors
    /// [`SinkError::Unavailable`] when the sink cannot publish now.
    async fn healthcheck(&self) -> Result<(), SinkError>;
}
