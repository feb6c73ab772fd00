//! The stored message: metadata, chunks and lifecycle (spec §6).

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};

/// DATA (a payload) or REPORT (a status report from the central system).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Data,
    Report,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Data => "DATA",
            Self::Report => "REPORT",
        }
    }
}

/// Message status (tracking v2 shows it lower case, v1 title case).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Uploading,
    Accepted,
    Acknowledged,
    Undeliverable,
    Error,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Uploading => "uploading",
            Self::Accepted => "accepted",
            Self::Acknowledged => "acknowledged",
            Self::Undeliverable => "undeliverable",
            Self::Error => "error",
        }
    }

    pub(crate) fn title(self) -> &'static str {
        match self {
            Self::Uploading => "Uploading",
            Self::Accepted => "Accepted",
            Self::Acknowledged => "Acknowledged",
            Self::Undeliverable => "Undeliverable",
            Self::Error => "Error",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "uploading" => Self::Uploading,
            "accepted" => Self::Accepted,
            "acknowledged" => Self::Acknowledged,
            "undeliverable" => Self::Undeliverable,
            "error" => Self::Error,
            _ => return None,
        })
    }
}

/// An error event: the reason in a REPORT, or a failure recorded against a DATA message.
#[derive(Clone, Debug)]
pub(crate) struct ErrorEvent {
    pub(crate) event: String,
    pub(crate) code: String,
    pub(crate) description: String,
    pub(crate) linked_message_id: Option<String>,
    pub(crate) at: DateTime<Utc>,
}

/// Sender-supplied metadata, passed through to the recipient. Strings are empty when absent.
#[derive(Clone, Debug, Default)]
pub(crate) struct Meta {
    pub(crate) subject: String,
    pub(crate) local_id: String,
    pub(crate) file_name: String,
    pub(crate) partner_id: String,
    pub(crate) checksum: String,
    pub(crate) content_type: String,
    /// Transport encoding the bytes are stored in: empty or `gzip`.
    pub(crate) content_encoding: String,
    pub(crate) compressed: bool,
    pub(crate) encrypted: bool,
}

/// One message as stored.
#[derive(Clone, Debug)]
pub(crate) struct Message {
    pub(crate) id: Arc<str>,
    pub(crate) kind: Kind,
    /// Sending mailbox; empty for reports (the central system has no mailbox).
    pub(crate) sender: String,
    /// Receiving mailbox after routing, or the unresolved address when routing failed.
    pub(crate) recipient: String,
    pub(crate) workflow_id: String,
    pub(crate) meta: Meta,
    /// Declared number of chunks (0 for reports).
    pub(crate) total_chunks: u32,
    pub(crate) chunks: Vec<Option<Bytes>>,
    /// Stored (possibly compressed) size in bytes.
    pub(crate) file_size: u64,
    pub(crate) status: Status,
    pub(crate) error: Option<ErrorEvent>,
    pub(crate) created: DateTime<Utc>,
    /// Time of the most recent status event (`Last-Modified`).
    pub(crate) last_event: DateTime<Utc>,
    pub(crate) accepted_at: Option<DateTime<Utc>>,
    pub(crate) acknowledged_at: Option<DateTime<Utc>>,
    /// Position in the recipient's inbox order, set on acceptance; the paging cursor.
    pub(crate) inbox_seq: Option<u64>,
    /// GPPROVIDER routing failure to report to the sender once the upload completes.
    pub(crate) routing_failure: Option<crate::routing::RoutingFailure>,
    /// False after an admin reset of the sender's mailbox (tracking then answers 404).
    pub(crate) outbox_visible: bool,
}

/// Unacknowledged messages leave the inbox after 5 days on real MESH.
pub(crate) const INBOX_EXPIRY_DAYS: i64 = 5;

impl Message {
    /// A new DATA or REPORT message with no chunks yet.
    pub(crate) fn new(id: Arc<str>, kind: Kind, now: DateTime<Utc>) -> Self {
        Self {
            id,
            kind,
            sender: String::new(),
            recipient: String::new(),
            workflow_id: String::new(),
            meta: Meta::default(),
            total_chunks: 1,
            chunks: Vec::new(),
            file_size: 0,
            status: Status::Uploading,
            error: None,
            created: now,
            last_event: now,
            accepted_at: None,
            acknowledged_at: None,
            inbox_seq: None,
            routing_failure: None,
            outbox_visible: true,
        }
    }

    pub(crate) fn expiry(&self) -> DateTime<Utc> {
        self.created + Duration::days(INBOX_EXPIRY_DAYS)
    }

    /// `Mex-FileName` as served: the sender's, else `<id>.dat`.
    pub(crate) fn file_name(&self) -> String {
        if self.meta.file_name.is_empty() {
            format!("{}.dat", self.id)
        } else {
            self.meta.file_name.clone()
        }
    }

    /// Time of the latest accepted or error event (`Mex-StatusTimestamp`).
    pub(crate) fn status_time(&self) -> Option<DateTime<Utc>> {
        match (self.accepted_at, self.error.as_ref().map(|e| e.at)) {
            (Some(a), Some(e)) => Some(a.max(e)),
            (a, e) => a.or(e),
        }
    }

    /// Stores chunk `n` (1-based).
    pub(crate) fn put_chunk(&mut self, n: u32, bytes: Bytes) {
        let idx = n.saturating_sub(1) as usize;
        if self.chunks.len() <= idx {
            self.chunks.resize(idx + 1, None);
        }
        if let Some(slot) = self.chunks.get_mut(idx) {
            *slot = Some(bytes);
        }
    }

    pub(crate) fn chunk(&self, n: u32) -> Option<Bytes> {
        self.chunks.get(n.checked_sub(1)? as usize)?.clone()
    }

    /// Whether the message is a successful DATA message (tracking `status_success`).
    pub(crate) fn successful(&self) -> bool {
        self.kind == Kind::Data && self.error.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_and_defaults() {
        let now = Utc::now();
        let mut m = Message::new(Arc::from("ID1"), Kind::Data, now);
        assert_eq!(m.file_name(), "ID1.dat");
        m.put_chunk(2, Bytes::from_static(b"b"));
        assert_eq!(m.chunk(1), None);
        assert_eq!(m.chunk(2).as_deref(), Some(&b"b"[..]));
        assert_eq!(m.chunk(0), None);
        assert_eq!(m.status_time(), None);
        m.accepted_at = Some(now);
        assert_eq!(m.status_time(), Some(now));
        assert_eq!(Status::parse("Undeliverable"), Some(Status::Undeliverable));
        assert_eq!(Status::Acknowledged.title(), "Acknowledged");
    }
}
