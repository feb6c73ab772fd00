//! CloudEvents 1.0 structured-mode envelope (contract §3).

use serde::{Deserialize, Serialize};

/// A CloudEvents 1.0 event in structured JSON mode. `data` stays untyped here: the mapping plugin
/// chosen by `type` deserialises it into its own typed struct, so unknown event types can still be
/// parsed, stored and dead-lettered with a precise reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudEvent {
    /// Must be "1.0".
    pub specversion: String,
    /// Idempotency key end to end.
    pub id: String,
    /// Producer, e.g. `urn:nhs:ods:FA001`.
    pub source: String,
    /// Event type, e.g. `uk.nhs.pharmacy.consultation.completed.v1`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Time the event happened (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Content type of `data`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datacontenttype: Option<String>,
    /// Subject (output events: the input event id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// W3C trace context (CloudEvents distributed-tracing extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    /// Event payload.
    #[serde(default)]
    pub data: serde_json::Value,
}

/// Why an input could not be read as a CloudEvent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// Not JSON at all, or not an object with the CloudEvents attributes.
    #[error("input is not a CloudEvents 1.0 JSON event: {0}")]
    Malformed(String),
    /// A required attribute is empty or has the wrong value.
    #[error("CloudEvent attribute `{attribute}` is invalid: {problem}")]
    Attribute {
        /// Attribute name.
        attribute: &'static str,
        /// What is wrong with it.
        problem: String,
    },
}

impl CloudEvent {
    /// Parses and checks the envelope (not the `data`).
    ///
    /// # Errors
    /// [`EnvelopeError`] naming what is wrong, in words a person can act on.
    pub fn parse(body: &[u8]) -> Result<Self, EnvelopeError> {
        let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
        let ev: CloudEvent =
            serde_json::from_slice(body).map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
        if ev.specversion != "1.0" {
            return Err(EnvelopeError::Attribute {
                attribute: "specversion",
                problem: format!("must be \"1.0\", got {:?}", ev.specversion),
            });
        }
        for (attribute, value) in [
            ("id", &ev.id),
            ("source", &ev.source),
            ("type", &ev.event_type),
        ] {
            if value.trim().is_empty() {
                return Err(EnvelopeError::Attribute {
                    attribute,
                    problem: "must not be empty".into(),
                });
            }
        }
        if ev.id.len() > 200 {
            return Err(EnvelopeError::Attribute {
                attribute: "id",
                problem: "longer than 200 characters".into(),
            });
        }
        Ok(ev)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_minimal_event_and_rejects_bad_ones() {
        let ok = br#"{"specversion":"1.0","id":"a","source":"s","type":"t","data":{}}"#;
        assert_eq!(CloudEvent::parse(ok).unwrap().id, "a");
        let bom = [b"\xEF\xBB\xBF".as_slice(), ok].concat();
        assert!(CloudEvent::parse(&bom).is_ok());
        assert!(matches!(
            CloudEvent::parse(b"{not json"),
            Err(EnvelopeError::Malformed(_))
        ));
        let empty_id = br#"{"specversion":"1.0","id":" ","source":"s","type":"t"}"#;
        let err = CloudEvent::parse(empty_id).unwrap_err().to_string();
        assert!(err.contains("`id`"), "{err}");
        let v02 = br#"{"specversion":"0.2","id":"a","source":"s","type":"t"}"#;
        assert!(
            CloudEvent::parse(v02)
                .unwrap_err()
                .to_string()
                .contains("specversion")
        );
    }
}
