//! The ITK3 message envelope shared by payload messages and responses (spec §3.1–3.4, §3.8):
//! message Bundle, MessageHeader with the six handling keys in the official order, and the
//! header Organization that carries only the sender's ODS code.

use gateway_proto::fhir::Node;
use gateway_proto::fhir::datatypes::{
    coding, extension_bool, extension_complex, extension_node, extension_string, identifier, meta,
    reference, urn_ref,
};

/// ITK-Message-Bundle-1.
pub(crate) const PROFILE_MESSAGE_BUNDLE: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Message-Bundle-1";
/// ITK-Document-Bundle-1.
pub(crate) const PROFILE_DOCUMENT_BUNDLE: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Document-Bundle-1";
const PROFILE_MESSAGE_HEADER: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-MessageHeader-2";
const PROFILE_HEADER_ORG: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-Header-Organization-1";
/// Extension-ITK-MessageHandling-2.
pub(crate) const HANDLING_URL: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-ITK-MessageHandling-2";
/// ITK-MessageEvent-2.
pub(crate) const EVENT_SYSTEM: &str = "https://fhir.nhs.uk/STU3/CodeSystem/ITK-MessageEvent-2";
const RECIPIENT_TYPE_SYSTEM: &str = "https://fhir.nhs.uk/STU3/CodeSystem/ITK-RecipientType-1";
/// Namespace of UUID identifiers (as in the project's derived acknowledgements).
pub(crate) const UUID_SYSTEM: &str = "https://tools.ietf.org/html/rfc4122";
/// ODS organisation code identifier system.
pub(crate) const ODS_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";

/// Handling key RecipientType.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecipientType {
    /// FA "For Action".
    ForAction,
    /// FI "For Information".
    ForInformation,
}

/// Everything the envelope needs; ids are bare UUID strings.
pub(crate) struct Envelope<'a> {
    pub(crate) bundle_id: &'a str,
    pub(crate) bundle_identifier: &'a str,
    pub(crate) header_id: &'a str,
    pub(crate) header_org_id: &'a str,
    pub(crate) event_code: &'a str,
    pub(crate) event_display: &'a str,
    pub(crate) acks_requested: bool,
    pub(crate) recipient_type: RecipientType,
    pub(crate) message_definition: &'a str,
    pub(crate) sender_reference: &'a str,
    pub(crate) sender_ods: &'a str,
    pub(crate) timestamp: &'a str,
    pub(crate) source_endpoint: &'a str,
    /// `MessageHeader.response` (responses only).
    pub(crate) response: Option<Node>,
    /// UUID of the focus (the document bundle), payload messages only.
    pub(crate) focus: Option<&'a str>,
}

/// A `Bundle.entry` with `fullUrl urn:uuid:<id>` around `resource`.
pub(crate) fn entry(id: &str, resource: Node) -> Node {
    Node::new("Bundle.entry")
        .str("fullUrl", format!("urn:uuid:{id}"))
        .resource_child("resource", resource)
}

/// The message Bundle: MessageHeader, header Organization, then `payload` entries.
pub(crate) fn message_bundle(env: &Envelope<'_>, payload: Vec<Node>) -> Node {
    Node::resource("Bundle", env.bundle_id)
        .child("meta", meta(None, PROFILE_MESSAGE_BUNDLE, vec![]))
        .child("identifier", identifier(UUID_SYSTEM, env.bundle_identifier))
        .str("type", "message")
        .item("entry", entry(env.header_id, message_header(env)))
        .item("entry", entry(env.header_org_id, header_organization(env)))
        .items("entry", payload)
}

fn message_header(env: &Envelope<'_>) -> Node {
    let (rt_code, rt_display) = match env.recipient_type {
        RecipientType::ForAction => ("FA", "For Action"),
        RecipientType::ForInformation => ("FI", "For Information"),
    };
    let handling = extension_complex(
        HANDLING_URL,
        vec![
            extension_bool("BusAckRequested", env.acks_requested),
            extension_bool("InfAckRequested", env.acks_requested),
            extension_node(
                "RecipientType",
                "valueCoding",
                coding(RECIPIENT_TYPE_SYSTEM, rt_code, Some(rt_display)),
            ),
            extension_node(
                "MessageDefinition",
                "valueReference",
                reference(env.message_definition),
            ),
            extension_string("SenderReference", env.sender_reference),
            extension_string("LocalExtension", "None"),
        ],
    );
    Node::resource("MessageHeader", env.header_id)
        .child("meta", meta(None, PROFILE_MESSAGE_HEADER, vec![]))
        .item("extension", handling)
        .child(
            "event",
            coding(EVENT_SYSTEM, env.event_code, Some(env.event_display)),
        )
        .child("sender", urn_ref(env.header_org_id))
        .str("timestamp", env.timestamp)
        .child(
            "source",
            Node::new("MessageHeader.source").str("endpoint", env.source_endpoint),
        )
        .opt_child("response", env.response.clone())
        .items("focus", env.focus.map(urn_ref))
}

fn header_organization(env: &Envelope<'_>) -> Node {
    Node::resource("Organization", env.header_org_id)
        .child("meta", meta(None, PROFILE_HEADER_ORG, vec![]))
        .item("identifier", identifier(ODS_SYSTEM, env.sender_ods))
}
