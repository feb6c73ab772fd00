//! Output serialisation, chosen per route (plugin constructors take it).

use gateway_proto::fhir::{Node, json, xml};
use serde::{Deserialize, Serialize};

use crate::mesh;

/// How the ITK3 message is serialised. The MESH wire format is FHIR XML (spec §10.1); FHIR
/// JSON carries the same element tree (`MessageHeader.focus` as an array, as STU3 JSON wants)
/// for receivers and tools that agree to it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// FHIR STU3 XML, `application/fhir+xml` (default).
    #[default]
    Xml,
    /// FHIR STU3 JSON, `application/fhir+json`.
    Json,
}

impl OutputFormat {
    /// MIME type sent as `Content-Type`.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Xml => mesh::CONTENT_TYPE,
            Self::Json => mesh::CONTENT_TYPE_JSON,
        }
    }

    /// File extension of `Mex-FileName`.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Xml => "xml",
            Self::Json => "json",
        }
    }

    /// The sender checklist on a built message and its serialisation `body`; each line is one
    /// error. XML is checked on the tree (the same element tree a reader gets from `body`).
    pub(crate) fn validate(
        self,
        bundle: &Node,
        body: &[u8],
        checks: &crate::validate::ValidateOptions<'_>,
    ) -> Vec<String> {
        match self {
            Self::Xml => crate::validate::validate_built_xml(bundle, checks),
            Self::Json => crate::validate::validate_message_with(body, checks),
        }
    }

    /// Serialises a message bundle.
    pub(crate) fn serialise(self, bundle: &Node) -> Vec<u8> {
        match self {
            Self::Xml => xml::to_xml(bundle).into_bytes(),
            Self::Json => {
                let mut s = json::to_json(bundle);
                s.push('\n');
                s.into_bytes()
            }
        }
    }
}

/// The error a plugin returns for an event type that is not its own.
pub(crate) fn check_event_type(
    event: &gateway_proto::CloudEvent,
    expected: &str,
    route: &str,
) -> Result<(), gateway_core::MapError> {
    if event.event_type == expected {
        return Ok(());
    }
    Err(gateway_core::MapError::new(
        "unknown-type",
        format!(
            "event type {:?} is not handled by route {route}",
            event.event_type
        ),
    ))
}
