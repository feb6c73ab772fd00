//! How input adapters hand events to the pipeline. An adapter batches what it has received,
//! calls [`Ingest::ingest`], and settles its inputs (AMQP ack / dead-letter, file to `done/` or
//! `error/`) only after that call returns: by then every outcome is durable in the store.

use async_trait::async_trait;
use gateway_proto::output::FailureStage;

/// One input event as received, before any parsing.
#[derive(Debug, Clone)]
pub struct RawEvent {
    /// The bytes as received (a CloudEvent in JSON for AMQP and JSON drops).
    pub body: Vec<u8>,
    /// `traceparent` from transport headers, if any (the CloudEvent's own wins when both exist).
    pub traceparent: Option<String>,
    /// Where it came from, for the store and logs, e.g. `amqp:gpc.events`, `file:json/a.json#0`.
    pub origin: String,
    /// Id to use when the input itself has none (HL7v2 / CSV rows): derived by the adapter.
    pub derived_id: Option<String>,
}

/// The fate of one input event, durable when returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestOutcome {
    /// New message stored; it will be sent.
    Accepted {
        /// The input event id.
        correlation_id: String,
    },
    /// The event id was seen before: nothing new was stored or will be sent.
    Duplicate {
        /// The input event id.
        correlation_id: String,
    },
    /// Invalid input: a `gpc.message.failed` event has been stored; the adapter dead-letters it.
    Rejected {
        /// The input event id, when it could be read.
        correlation_id: Option<String>,
        /// `input` or `mapping`.
        stage: FailureStage,
        /// Machine code.
        code: String,
        /// A sentence a person can act on (no patient data).
        reason: String,
    },
}

/// The pipeline could not make outcomes durable (store unavailable): settle nothing, retry later.
#[derive(Debug, thiserror::Error)]
#[error("ingest failed: {0}")]
pub struct IngestError(pub String);

/// The pipeline entry point adapters call.
#[async_trait]
pub trait Ingest: Send + Sync {
    /// Parses, maps, validates and stores a batch; one outcome per event, in order.
    ///
    /// # Errors
    /// [`IngestError`] when nothing could be made durable; the adapter must not settle the batch.
    async fn ingest(&self, batch: Vec<RawEvent>) -> Result<Vec<IngestOutcome>, IngestError>;
}
