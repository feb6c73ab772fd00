//! Message types crossing the client API: what we send, what we download, what tracking says.
//!
//! Subjects, recipients and bodies carry patient identifiers, so the `Debug` impls leave them out.

use std::fmt;
use std::path::PathBuf;

use chrono::{DateTime, Utc};

/// A message to send from our mailbox.
#[derive(Clone, PartialEq, Eq)]
pub struct OutboundMessage {
    /// `Mex-To`: recipient mailbox id or `GPPROVIDER_...` routing address (patient data).
    pub to: String,
    /// `Mex-WorkflowID`.
    pub workflow_id: String,
    /// `Mex-Subject` (patient data; at most 500 characters, no control characters).
    pub subject: Option<String>,
    /// `Mex-LocalID`: our own reference (GP Connect: our ODS code). Never patient data.
    pub local_id: Option<String>,
    /// `Mex-FileName`.
    pub file_name: Option<String>,
    /// Content type of the whole message (`Mex-Content-Type`, and `Content-Type` when unchunked).
    pub content_type: String,
    /// The payload.
    pub body: bytes::Bytes,
}

impl fmt::Debug for OutboundMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutboundMessage")
            .field("to", &"<redacted>")
            .field("workflow_id", &self.workflow_id)
            .field("subject", &self.subject.as_ref().map(|_| "<redacted>"))
            .field("local_id", &self.local_id)
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// A message to send from our mailbox whose payload is a file, read one chunk at a time by
/// [`crate::MeshClient::send_file`]. Same metadata as [`OutboundMessage`].
#[derive(Clone, PartialEq, Eq)]
pub struct OutboundFile {
    /// `Mex-To`: recipient mailbox id or `GPPROVIDER_...` routing address (patient data).
    pub to: String,
    /// `Mex-WorkflowID`.
    pub workflow_id: String,
    /// `Mex-Subject` (patient data; at most 500 characters, no control characters).
    pub subject: Option<String>,
    /// `Mex-LocalID`: our own reference (GP Connect: our ODS code). Never patient data.
    pub local_id: Option<String>,
    /// `Mex-FileName`.
    pub file_name: Option<String>,
    /// Content type of the whole message (`Mex-Content-Type`, and `Content-Type` when unchunked).
    pub content_type: String,
    /// The payload file; it must not change while it is being sent.
    pub path: PathBuf,
}

impl fmt::Debug for OutboundFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutboundFile")
            .field("to", &"<redacted>")
            .field("workflow_id", &self.workflow_id)
            .field("subject", &self.subject.as_ref().map(|_| "<redacted>"))
            .field("local_id", &self.local_id)
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("path", &self.path)
            .finish()
    }
}

/// The send headers of an [`OutboundMessage`] or [`OutboundFile`].
#[derive(Clone, Copy)]
pub(crate) struct SendHeaders<'a> {
    pub(crate) to: &'a str,
    pub(crate) workflow_id: &'a str,
    pub(crate) subject: Option<&'a str>,
    pub(crate) local_id: Option<&'a str>,
    pub(crate) file_name: Option<&'a str>,
    pub(crate) content_type: &'a str,
}

impl OutboundMessage {
    pub(crate) fn headers(&self) -> SendHeaders<'_> {
        SendHeaders {
            to: &self.to,
            workflow_id: &self.workflow_id,
            subject: self.subject.as_deref(),
            local_id: self.local_id.as_deref(),
            file_name: self.file_name.as_deref(),
            content_type: &self.content_type,
        }
    }
}

impl OutboundFile {
    pub(crate) fn headers(&self) -> SendHeaders<'_> {
        SendHeaders {
            to: &self.to,
            workflow_id: &self.workflow_id,
            subject: self.subject.as_deref(),
            local_id: self.local_id.as_deref(),
            file_name: self.file_name.as_deref(),
            content_type: &self.content_type,
        }
    }
}

/// `Mex-MessageType` of a downloaded message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    /// An ordinary message with a payload.
    Data,
    /// A MESH report about a message we sent (non-delivery, routing error); empty body.
    Report,
}

/// The `Mex-*` headers of a downloaded message.
#[derive(Clone, PartialEq, Eq)]
pub struct InboxHeaders {
    /// `Mex-MessageID` (for a report: the report's own id).
    pub message_id: String,
    /// `Mex-MessageType`.
    pub message_type: MessageType,
    /// `Mex-From` (absent on reports).
    pub from: Option<String>,
    /// `Mex-To`.
    pub to: Option<String>,
    /// `Mex-WorkflowID`.
    pub workflow_id: Option<String>,
    /// `Mex-LocalID`.
    pub local_id: Option<String>,
    /// `Mex-Subject` (patient data).
    pub subject: Option<String>,
    /// `Mex-FileName`.
    pub file_name: Option<String>,
    /// `Mex-LinkedMsgID`: on a report, the message it is about.
    pub linked_message_id: Option<String>,
    /// `Mex-StatusCode` (`00` for data; an error code such as `14` or `EPL-153` on reports).
    pub status_code: Option<String>,
    /// `Mex-StatusEvent`.
    pub status_event: Option<String>,
    /// `Mex-StatusDescription`.
    pub status_description: Option<String>,
    /// `Mex-StatusSuccess` (`SUCCESS` / `ERROR`).
    pub status_success: Option<String>,
    /// `Mex-Content-Type`, else `Content-Type`.
    pub content_type: Option<String>,
}

/// Patient data (`Mex-To`, `Mex-Subject`) is redacted: messages are logged by their headers.
impl fmt::Debug for InboxHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InboxHeaders")
            .field("message_id", &self.message_id)
            .field("message_type", &self.message_type)
            .field("from", &self.from)
            .field("to", &self.to.as_ref().map(|_| "<redacted>"))
            .field("workflow_id", &self.workflow_id)
            .field("local_id", &self.local_id)
            .field("subject", &self.subject.as_ref().map(|_| "<redacted>"))
            .field("file_name", &self.file_name)
            .field("linked_message_id", &self.linked_message_id)
            .field("status_code", &self.status_code)
            .field("status_event", &self.status_event)
            .field("status_description", &self.status_description)
            .field("status_success", &self.status_success)
            .field("content_type", &self.content_type)
            .finish()
    }
}

/// A downloaded (and reassembled, decompressed) message. Its headers read as its own fields
/// (`msg.workflow_id`) through `Deref`.
#[derive(Clone, PartialEq, Eq)]
pub struct InboxMessage {
    /// The `Mex-*` headers.
    pub headers: InboxHeaders,
    /// The payload, chunks joined and transport gzip removed (patient data).
    pub body: Vec<u8>,
}

impl std::ops::Deref for InboxMessage {
    type Target = InboxHeaders;

    fn deref(&self) -> &InboxHeaders {
        &self.headers
    }
}

impl fmt::Debug for InboxMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InboxMessage")
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// A message that [`crate::MeshClient::download_to`] wrote to a file: its headers, its size
/// and how many chunks it came in. The headers read as its own fields through `Deref`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxMessageMeta {
    /// The `Mex-*` headers.
    pub headers: InboxHeaders,
    /// Bytes written: the payload with chunks joined and transport gzip removed.
    pub size: u64,
    /// Chunks downloaded: 1 for a plain `200`, n after a `206` and `GET .../{2..n}`.
    pub chunks: usize,
}

impl std::ops::Deref for InboxMessageMeta {
    type Target = InboxHeaders;

    fn deref(&self) -> &InboxHeaders {
        &self.headers
    }
}

impl InboxMessageMeta {
    /// Joins the headers with an in-memory body.
    pub(crate) fn with_body(self, body: Vec<u8>) -> InboxMessage {
        InboxMessage {
            headers: self.headers,
            body,
        }
    }
}

/// What outbox tracking reports about a message we sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingInfo {
    /// The tracked message id.
    pub message_id: String,
    /// Lower-case status: `uploading`, `accepted`, `acknowledged`, `undeliverable`, `error`, ...
    pub status: String,
    /// `status_success` (v2 bool, or v1 `SUCCESS`/`ERROR`).
    pub status_success: Option<bool>,
    /// Recipient mailbox (after routing).
    pub recipient: Option<String>,
    /// Status code, when MESH gives one.
    pub status_code: Option<String>,
    /// Status description, when MESH gives one (v1: also `failureDiagnostic`).
    pub status_description: Option<String>,
    /// When MESH accepted the upload (`upload_timestamp` / `uploadTimestamp`).
    pub uploaded_at: Option<DateTime<Utc>>,
    /// When the recipient acknowledged the message (v1 `downloadTimestamp`; v2 has no such
    /// field).
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Time of the last status change, when MESH gives one (v1: also `failureDate`).
    pub status_at: Option<DateTime<Utc>>,
    /// When the message leaves the recipient's inbox unless acknowledged.
    pub expires_at: Option<DateTime<Utc>>,
}

impl TrackingInfo {
    /// True when the recipient has downloaded and acknowledged the message: status
    /// `acknowledged` (or `downloaded` / `delivered`, as other MESH versions may say), or a v1
    /// acknowledgement timestamp. Delivery, not business acceptance: that comes as an application
    /// acknowledgement over MESH.
    pub fn is_delivered(&self) -> bool {
        matches!(
            self.status.as_str(),
            "acknowledged" | "downloaded" | "delivered"
        ) || self.acknowledged_at.is_some()
    }

    /// True when MESH has given up on the message: status `undeliverable`, `error`, `failed`,
    /// `rejected` or `expired`, or `status_success` false, unless it was delivered after all.
    pub fn is_failed(&self) -> bool {
        let failed_status = matches!(
            self.status.as_str(),
            "undeliverable" | "error" | "failed" | "rejected" | "expired"
        );
        !self.is_delivered() && (failed_status || self.status_success == Some(false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_patient_data() {
        let out = OutboundMessage {
            to: "GPPROVIDER_9000000009_19700101_Smith".into(),
            workflow_id: "GPCONNECT_UPDATE_RECORD".into(),
            subject: Some("Consultation for Mr John Smith".into()),
            local_id: Some("FA001".into()),
            file_name: None,
            content_type: "application/fhir+json".into(),
            body: bytes::Bytes::from_static(b"{\"nhs\":\"9000000009\"}"),
        };
        let text = format!("{out:?}");
        assert!(
            !text.contains("Smith") && !text.contains("9000000009"),
            "{text}"
        );
        assert!(
            text.contains("FA001") && text.contains("body_len: 20"),
            "{text}"
        );

        let msg = InboxMessage {
            headers: InboxHeaders {
                message_id: "ID1".into(),
                message_type: MessageType::Data,
                from: Some("PHARM001".into()),
                to: Some("GPPROVIDER_9000000009_19700101_Smith".into()),
                workflow_id: None,
                local_id: None,
                subject: Some("Mr John Smith".into()),
                file_name: None,
                linked_message_id: None,
                status_code: None,
                status_event: None,
                status_description: None,
                status_success: None,
                content_type: None,
            },
            body: b"9000000009".to_vec(),
        };
        let text = format!("{msg:?}");
        assert!(
            !text.contains("Smith") && !text.contains("9000000009"),
            "{text}"
        );
        assert!(text.contains("ID1") && text.contains("PHARM001"), "{text}");
    }
}
