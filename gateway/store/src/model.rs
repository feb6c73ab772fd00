//! Data the store takes and returns.

use gateway_core::{MessageState, Outbound};
use gateway_proto::output::FailureStage;
use serde::Serialize;

/// An output event to write to the outbox together with a state change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// CloudEvent type (= routing key).
    pub event_type: String,
    /// CloudEvent JSON.
    pub body: Vec<u8>,
    /// Trace context of the event.
    pub traceparent: Option<String>,
}

/// A new, valid message.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Input event id.
    pub correlation_id: String,
    /// CloudEvent type of the input.
    pub event_type: String,
    /// Where the input came from.
    pub origin: String,
    /// The message's trace context (continues the input's trace).
    pub traceparent: String,
    /// The built message and its MESH metadata.
    pub outbound: Outbound,
    /// When it was received (ms since epoch).
    pub now_ms: i64,
}

/// An input that could not become a message.
#[derive(Debug, Clone)]
pub struct NewReject {
    /// Input event id, or the id derived from its position when unreadable.
    pub correlation_id: String,
    /// Where it came from.
    pub origin: String,
    /// `input` or `mapping`.
    pub stage: FailureStage,
    /// Machine code.
    pub code: String,
    /// What a person should fix.
    pub reason: String,
    /// The `gpc.message.failed` event.
    pub event: NewEvent,
    /// When (ms since epoch).
    pub now_ms: i64,
}

/// One item of an ingest batch.
#[derive(Debug, Clone)]
pub enum IngestItem {
    /// Store and send (boxed: a built message is far larger than a rejection).
    Message(Box<NewMessage>),
    /// Record the rejection and its failed event.
    Reject(NewReject),
}

/// What happened to one ingest item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertResult {
    /// Stored as a new message.
    Inserted,
    /// A message with this correlation id exists: nothing stored.
    Duplicate,
    /// The rejection and its event are stored.
    Rejected,
}

/// A claimed message ready to send.
#[derive(Debug, Clone)]
pub struct PendingSend {
    /// Correlation id.
    pub id: String,
    /// Sending mailbox.
    pub mailbox: String,
    /// MESH workflow.
    pub workflow_id: String,
    /// Routing address (patient data).
    pub mex_to: String,
    /// Subject (patient data).
    pub mex_subject: String,
    /// Sender ODS code.
    pub local_id: String,
    /// File name.
    pub file_name: String,
    /// Content type.
    pub content_type: String,
    /// The ITK3 message, byte-identical on every attempt.
    pub body: Vec<u8>,
    /// MessageHeader.id.
    pub itk_message_id: String,
    /// Trace context.
    pub traceparent: String,
    /// Attempts so far.
    pub attempts: i64,
}

/// The result of one send attempt.
#[derive(Debug, Clone)]
pub enum SendResult {
    /// MESH accepted it.
    Sent {
        /// Correlation id.
        id: String,
        /// MESH message id.
        mesh_message_id: String,
        /// The `gpc.message.sent` event.
        event: NewEvent,
        /// When (ms).
        now_ms: i64,
    },
    /// Try again later.
    Retry {
        /// Correlation id.
        id: String,
        /// When to try again (ms).
        next_attempt_ms: i64,
        /// Why (no patient data).
        error: String,
        /// When (ms).
        now_ms: i64,
    },
    /// Terminal failure.
    Failed {
        /// Correlation id.
        id: String,
        /// Stage, code, reason and event.
        failure: Failure,
        /// When (ms).
        now_ms: i64,
    },
}

impl SendResult {
    /// The correlation id the result is for.
    pub(crate) fn id(&self) -> &str {
        match self {
            Self::Sent { id, .. } | Self::Retry { id, .. } | Self::Failed { id, .. } => id,
        }
    }
}

/// A terminal failure and its `gpc.message.failed` event.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Stage.
    pub stage: FailureStage,
    /// Code.
    pub code: String,
    /// Reason.
    pub reason: String,
    /// The event.
    pub event: NewEvent,
}

impl Failure {
    /// The transition that records this failure of a send of message `id`: only a message still
    /// waiting to be sent fails.
    pub(crate) fn transition(&self, id: &str, now_ms: i64) -> Transition {
        Transition {
            message_id: id.to_string(),
            expect: vec![MessageState::Received],
            to: Some(MessageState::Failed),
            infack_code: None,
            busack_code: None,
            failure: Some((self.stage, self.code.clone(), self.reason.clone())),
            events: vec![self.event.clone()],
            note: format!("{}: {}", self.stage.as_str(), self.reason),
            now_ms,
        }
    }
}

/// What the pipeline needs to know about a message to correlate an acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRef {
    /// Correlation id.
    pub id: String,
    /// Current state.
    pub state: MessageState,
    /// MessageHeader.id.
    pub itk_message_id: String,
    /// MESH id once sent.
    pub mesh_message_id: Option<String>,
    /// Trace context.
    pub traceparent: String,
    /// Infrastructure ack code received, if any.
    pub infack_code: Option<String>,
    /// Business ack code received, if any.
    pub busack_code: Option<String>,
    /// Workflow.
    pub workflow_id: String,
    /// Masked-able routing address (patient data: only ever masked in output).
    pub mex_to: String,
}

/// A state change, applied only when the message is in one of `expect`.
#[derive(Debug, Clone)]
pub struct Transition {
    /// Correlation id.
    pub message_id: String,
    /// States the change applies from.
    pub expect: Vec<MessageState>,
    /// New state (`None` = record only).
    pub to: Option<MessageState>,
    /// Infrastructure ack code to record.
    pub infack_code: Option<String>,
    /// Business ack code to record.
    pub busack_code: Option<String>,
    /// Failure details when `to` is `Failed`.
    pub failure: Option<(FailureStage, String, String)>,
    /// Events to publish if applied.
    pub events: Vec<NewEvent>,
    /// History note (no patient data).
    pub note: String,
    /// When (ms).
    pub now_ms: i64,
}

/// A processed MESH inbox item.
#[derive(Debug, Clone)]
pub struct InboxRecord {
    /// Mailbox it arrived in.
    pub mailbox: String,
    /// Its MESH id.
    pub mesh_message_id: String,
    /// `itk-response`, `report` or `unmatched`.
    pub kind: String,
    /// Correlated message, if any.
    pub message_id: Option<String>,
    /// Raw bytes kept for operators (unreadable responses are kept, never dropped).
    pub body: Vec<u8>,
    /// Summary for operators (no patient data).
    pub summary: String,
    /// State change to apply, if correlated.
    pub transition: Option<Transition>,
    /// When (ms).
    pub now_ms: i64,
}

/// Result of [`crate::Store::record_inbox`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxResult {
    /// This inbox item was processed before: nothing changed.
    AlreadySeen,
    /// Recorded; the transition (if any) was applied.
    Applied,
    /// Recorded; the message was not in an expected state, so only the codes were kept.
    NotApplied,
}

/// Operator search filter; every field optional.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    /// NHS number.
    pub nhs_number: Option<String>,
    /// Sender ODS code.
    pub ods_code: Option<String>,
    /// State.
    pub state: Option<String>,
    /// MESH message id.
    pub mesh_message_id: Option<String>,
    /// Correlation id.
    pub correlation_id: Option<String>,
    /// Created at or after (ms).
    pub since_ms: Option<i64>,
    /// Created before (ms).
    pub until_ms: Option<i64>,
    /// Maximum rows.
    pub limit: usize,
}

/// One row of a search.
#[derive(Debug, Clone, Serialize)]
pub struct MessageSummary {
    /// Correlation id.
    pub id: String,
    /// State.
    pub state: String,
    /// Route.
    pub route: String,
    /// Workflow.
    pub workflow_id: String,
    /// Sender ODS.
    pub ods_code: String,
    /// MESH id.
    pub mesh_message_id: Option<String>,
    /// ITK id.
    pub itk_message_id: String,
    /// Created (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
    /// Failure reason, if failed.
    pub fail_reason: Option<String>,
}

/// A message with its history.
#[derive(Debug, Clone, Serialize)]
pub struct MessageDetail {
    /// The summary row.
    pub summary: MessageSummary,
    /// (time ms, state, note) in order.
    pub history: Vec<(i64, String, String)>,
}

/// What [`crate::Store::resend`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResendOutcome {
    /// The message is `received` again and due now; a running gateway sends it.
    Queued,
    /// No message has this correlation id.
    NotFound,
    /// Only a `failed` message can be resent; this one is in the given state.
    NotFailed(String),
    /// The receiving system acknowledged the message (this ITK code): an identical resend would
    /// be discarded as a duplicate, so a corrected event (a replacement) is needed instead.
    ReceiverHasIt(String),
}
