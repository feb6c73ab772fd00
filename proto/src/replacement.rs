//! Replacement documents (spec itk3-gpconnect §3.6): a corrected consultation or document is
//! sent as a new message whose Composition says which earlier document it `replaces`.
//!
//! Producers name the replaced message in one of two ways:
//!
//! - `eventId`: the CloudEvent `id` of the event the earlier message was built from. The
//!   gateway derives every ITK3 id from the event id, so it can work out the earlier document
//!   identifier itself. Use this when the earlier message came through this gateway.
//! - `documentIdentifier`: the earlier document Bundle's `identifier.value` (a UUID; the
//!   gateway records it per message as `document_id`, shown by `gpc-gateway messages show`).
//!
//! Exactly one of the two is given. The replacement also carries `version` (2, 3, …) on the
//! event `data`: it becomes `Composition.meta.versionId` and the version in `Mex-Subject`.

use serde::{Deserialize, Serialize};

/// Which earlier message an event replaces (`data.replaces`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Replacement {
    /// CloudEvent id of the event whose message is replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// Document Bundle identifier (UUID) of the replaced message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_identifier: Option<String>,
}
