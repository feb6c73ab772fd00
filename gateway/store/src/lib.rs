//! The durable message store: one row per message with its state, the built ITK3 bytes and the
//! ids needed to correlate acknowledgements, the history of every transition, rejected inputs,
//! processed MESH inbox items (so a crash between "stored" and "acknowledged at MESH" never
//! applies an acknowledgement twice) and the transactional outbox of bus events.
//!
//! Every state change and the output events it causes are written in one transaction, and calls
//! carry batches (SQLite adds group commit across calls), so throughput does not pay one fsync per
//! message.
//!
//! [`Store`] is the interface; [`SqliteStore`] is the embedded default. `PostgresStore` (feature
//! `postgres`, on by default) implements the same trait for deployments that run several gateways
//! against one database: the semantics that matter there (claiming due messages so two gateways
//! never send the same row, idempotent inserts by event id, compare-and-set transitions, one
//! publisher per outbox event) are part of the trait contract. Both stores pass the same
//! `conformance` suite (compiled for tests, or with feature `conformance`).

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
mod model;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod sqlite;

use async_trait::async_trait;
use gateway_core::{BusEvent, MessageState};

pub use model::*;
#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Store failures. The pipeline treats every one as temporary (retry later, settle nothing).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database refused or failed an operation.
    #[error("store operation failed: {0}")]
    Database(String),
    /// The store's worker is gone (shutting down).
    #[error("store is closed")]
    Closed,
}

/// Durable state of messages, inbox items and outbox events.
#[async_trait]
pub trait Store: Send + Sync {
    /// Inserts new messages (idempotent by correlation id) and rejected inputs in one transaction.
    /// One result per item, in order.
    async fn ingest(&self, items: Vec<IngestItem>) -> Result<Vec<InsertResult>, StoreError>;

    /// Claims up to `limit` messages that are due for sending (state `received`, next attempt
    /// reached) and not claimed by anyone else. A claim lasts until the message is recorded as
    /// sent, retried or failed, or until `lease` runs out (a crashed claimer).
    async fn claim_due(
        &self,
        limit: usize,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Vec<PendingSend>, StoreError>;

    /// Records the results of send attempts (sent / retry later / failed) in one transaction.
    async fn record_send_results(&self, results: Vec<SendResult>) -> Result<(), StoreError>;

    /// Looks a message up by its ITK3 MessageHeader.id.
    async fn find_by_itk_id(&self, itk_message_id: &str) -> Result<Option<MessageRef>, StoreError>;

    /// Looks a message up by the id MESH gave it.
    async fn find_by_mesh_id(
        &self,
        mesh_message_id: &str,
    ) -> Result<Option<MessageRef>, StoreError>;

    /// Records one MESH inbox item and applies its transition, once: a second call with the same
    /// (mailbox, MESH id) changes nothing and answers [`InboxResult::AlreadySeen`].
    async fn record_inbox(&self, record: InboxRecord) -> Result<InboxResult, StoreError>;

    /// Applies transitions found by a sweep (acknowledgement timeouts), compare-and-set on state.
    async fn apply(&self, transitions: Vec<Transition>) -> Result<Vec<bool>, StoreError>;

    /// Messages waiting for an acknowledgement past their deadline.
    async fn overdue(
        &self,
        infack_deadline_ms: i64,
        busack_deadline_ms: i64,
        limit: usize,
    ) -> Result<Vec<MessageRef>, StoreError>;

    /// Unpublished outbox events in sequence order.
    async fn pending_events(&self, limit: usize) -> Result<Vec<BusEvent>, StoreError>;

    /// Marks outbox events published.
    async fn mark_published(&self, seqs: Vec<i64>) -> Result<(), StoreError>;

    /// Operator search (newest first).
    async fn search(&self, query: SearchQuery) -> Result<Vec<MessageSummary>, StoreError>;

    /// Full history of one message.
    async fn history(&self, id: &str) -> Result<Option<MessageDetail>, StoreError>;

    /// Counts of messages per state (readiness, metrics, demo summary).
    async fn state_counts(&self) -> Result<Vec<(String, i64)>, StoreError>;

    /// When the message that has been in `state` longest entered it (ms), if any is: the
    /// "oldest acknowledgement wait" gauges.
    async fn oldest_in_state(&self, state: MessageState) -> Result<Option<i64>, StoreError>;

    /// Puts a `failed` message that its receiver never acknowledged back to `received`, due at
    /// `now_ms`, with its attempts, MESH id and failure cleared, and notes it in the history.
    /// The sender then sends the stored bytes again (same ITK ids).
    async fn resend(&self, id: &str, now_ms: i64) -> Result<ResendOutcome, StoreError>;
}
