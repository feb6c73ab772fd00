//! Durable message states and the transitions an acknowledgement may cause.

use serde::{Deserialize, Serialize};

/// Where a message is in its life. Stored as the lowercase name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageState {
    /// Built and stored; waiting to be (re)sent.
    Received,
    /// MESH accepted it (202); waiting for the infrastructure ack.
    Sent,
    /// Positive infrastructure ack; waiting for the business ack.
    Infack,
    /// Positive business ack: complete.
    Busack,
    /// Terminal failure (a `gpc.message.failed` was emitted).
    Failed,
}

impl MessageState {
    /// Lowercase name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Sent => "sent",
            Self::Infack => "infack",
            Self::Busack => "busack",
            Self::Failed => "failed",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "received" => Self::Received,
            "sent" => Self::Sent,
            "infack" => Self::Infack,
            "busack" => Self::Busack,
            "failed" => Self::Failed,
            _ => return None,
        })
    }

    /// No further transitions happen from here.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Busack | Self::Failed)
    }
}
