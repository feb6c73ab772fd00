//! The mapping-plugin contract: a pure, synchronous function from a domain event to one ready-to-send
//! ITK3 message plus the MESH metadata derived from it.

use chrono::{DateTime, FixedOffset};
use gateway_proto::CloudEvent;

use crate::ids::IdSource;

/// Finds the sending MESH mailbox for an organisation (regional hubs run many mailboxes).
pub trait MailboxDirectory: Send + Sync {
    /// Mailbox id that sends for the organisation with this ODS code, if any is configured.
    fn mailbox_for_ods(&self, ods_code: &str) -> Option<String>;
}

/// Everything a mapper may depend on besides the event: clock, ids, mailbox directory.
/// Mappers never read the system clock or random sources themselves, so their output is
/// reproducible (golden tests) and identical when rebuilt.
pub struct MapContext<'a> {
    /// "Now" for MessageHeader.timestamp and meta.lastUpdated.
    pub now: DateTime<FixedOffset>,
    /// Id source (seeded from the event id in production).
    pub ids: &'a dyn IdSource,
    /// Sender mailbox lookup.
    pub mailboxes: &'a dyn MailboxDirectory,
}

/// A fully built ITK3 message and the MESH headers to send it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outbound {
    /// Route name (`update-record`, `send-document`).
    pub route: String,
    /// Sending MESH mailbox id (= MessageHeader.source.endpoint = `Mex-From`).
    pub mailbox: String,
    /// `Mex-WorkflowID`.
    pub workflow_id: String,
    /// `Mex-To` (GPPROVIDER routing address). Contains patient data: never log it.
    pub mex_to: String,
    /// `Mex-Subject`. Contains patient data: never log it.
    pub mex_subject: String,
    /// `Mex-LocalID` = the sender's ODS code.
    pub local_id: String,
    /// `Mex-FileName`.
    pub file_name: String,
    /// Content type of `body`.
    pub content_type: String,
    /// The serialised ITK3 message bundle.
    pub body: Vec<u8>,
    /// MessageHeader.id: ITK3 responses quote it in `response.identifier`.
    pub itk_message_id: String,
    /// Outer Bundle.identifier.value.
    pub itk_bundle_id: String,
    /// Document Bundle.identifier.value.
    pub document_id: String,
    /// Handling key SenderReference.
    pub sender_reference: String,
    /// Patient NHS number, kept in the store's search index only (never in telemetry).
    pub nhs_number: String,
}

/// Why an event could not become a message. `problems` name the offending fields; they never
/// quote patient data values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.reason())]
#[non_exhaustive]
pub struct MapError {
    /// Machine code, e.g. `invalid-event`, `unknown-type`, `validation-failed`.
    pub code: String,
    /// One line per problem, each naming the field.
    pub problems: Vec<String>,
}

impl MapError {
    /// A mapping error with one problem.
    pub fn new(code: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            problems: vec![problem.into()],
        }
    }

    /// A mapping error with several problems.
    pub fn many(code: impl Into<String>, problems: Vec<String>) -> Self {
        Self {
            code: code.into(),
            problems,
        }
    }

    /// All problems joined into one sentence-like reason.
    pub fn reason(&self) -> String {
        self.problems.join("; ")
    }
}

/// A mapping plugin: one crate, one implementation, registered in `gateway/app/src/registry.rs`.
pub trait MappingPlugin: Send + Sync {
    /// Stable route name.
    fn id(&self) -> &'static str;
    /// CloudEvent types this plugin maps.
    fn event_types(&self) -> &'static [&'static str];
    /// Maps one event.
    ///
    /// # Errors
    /// [`MapError`] naming each invalid or missing field.
    fn map(&self, event: &CloudEvent, cx: &MapContext<'_>) -> Result<Outbound, MapError>;
}
