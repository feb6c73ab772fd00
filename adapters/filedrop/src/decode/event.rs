//! The CloudEvents that the HL7v2 and CSV decoders build, and the stable ids derived for them.
//!
//! A derived id is the UUIDv5, in the RFC 4122 URL namespace
//! (`6ba7b811-9dad-11d1-80b4-00c04fd430c8`), of a name that depends only on the content of the
//! message or row: `hl7v2:<MSH-4.1>:<MSH-10>` for HL7v2 and `csv:<normalised row>` for CSV.
//! Dropping the same content again (under any file name) therefore yields the same id, which the
//! pipeline recognises as a duplicate. Anyone can recompute an id, e.g. in Python with
//! `uuid.uuid5(uuid.NAMESPACE_URL, "hl7v2:FA001:MSG00001")`.

use gateway_core::RawEvent;
use gateway_proto::CloudEvent;
use serde::Serialize;
use uuid::Uuid;

use super::{DecodeContext, DecodedItem, ItemDecodeError};

/// The stable id for the content name `name` (see the module docs).
pub(crate) fn derived_id(name: &str) -> String {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, name.as_bytes()).to_string()
}

/// The parts of one event that differ between decoders.
pub(crate) struct EventParts<'a, T: Serialize> {
    /// The derived (or given) id, also set as the raw event's `derived_id`.
    pub(crate) id: String,
    /// ODS code of the sending organisation; `source` becomes `urn:nhs:ods:<ods>`.
    pub(crate) ods: &'a str,
    /// CloudEvent `type`.
    pub(crate) event_type: &'static str,
    /// When the event happened (RFC 3339), if known.
    pub(crate) time: Option<String>,
    /// The typed `data`.
    pub(crate) data: &'a T,
}

/// Builds the CloudEvent JSON of one item and wraps it for the pipeline.
///
/// # Errors
/// Only when `data` cannot be serialised, which the decoders' plain data types never cause.
pub(crate) fn item<T: Serialize>(
    parts: EventParts<'_, T>,
    cx: &DecodeContext<'_>,
    index: usize,
    line: Option<usize>,
) -> Result<DecodedItem, ItemDecodeError> {
    let fail = |_| ItemDecodeError {
        line,
        reason: "the event could not be serialised as JSON".into(),
    };
    let event = CloudEvent {
        specversion: "1.0".into(),
        id: parts.id.clone(),
        source: format!("urn:nhs:ods:{}", parts.ods),
        event_type: parts.event_type.into(),
        time: parts.time,
        datacontenttype: Some("application/json".into()),
        subject: None,
        traceparent: None,
        data: serde_json::to_value(parts.data).map_err(fail)?,
    };
    let body = serde_json::to_vec(&event).map_err(fail)?;
    Ok(DecodedItem {
        raw: RawEvent {
            body,
            traceparent: None,
            origin: cx.item_origin(index),
            derived_id: Some(parts.id),
        },
        line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_uuid_v5_in_the_url_namespace() {
        // Python: uuid.uuid5(uuid.NAMESPACE_URL, "hl7v2:FA001:MSG00001")
        let id = derived_id("hl7v2:FA001:MSG00001");
        let parsed = Uuid::parse_str(&id).unwrap();
        assert_eq!(parsed.get_version_num(), 5);
        assert_eq!(id, derived_id("hl7v2:FA001:MSG00001"));
        assert_ne!(id, derived_id("hl7v2:FA001:MSG00002"));
    }
}
