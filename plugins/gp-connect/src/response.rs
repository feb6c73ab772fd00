//! ITK3 responses (ITK008M, spec §7): building them (the GP side, used by the MESH simulator and
//! tests) and reading the ones GP systems send back.

use chrono::{DateTime, FixedOffset};
use gateway_core::IdSource;
use gateway_proto::fhir::datatypes::{coding, meta, urn_ref};
use gateway_proto::fhir::{Node, xml};

use crate::envelope::{self, Envelope, RecipientType, entry};
use crate::response_codes::RESPONSE_CODES;
use crate::xmldom::{self, XmlError};

/// ITK-ResponseCodes-1.
pub const RESPONSE_CODE_SYSTEM: &str = "https://fhir.nhs.uk/STU3/CodeSystem/ITK-ResponseCodes-1";
/// MessageDefinition of ITK3 responses.
pub const RESPONSE_MESSAGE_DEFINITION: &str =
    "https://fhir.nhs.uk/STU3/MessageDefinition/ITK-Response-MessageDefinition-1";
/// `response.identifier` of a response to a message the receiver could not read (code 10009).
pub const UNREADABLE: &str = "UNREADABLE-IN-ORIGINAL-MESSAGE";
const PROFILE_RESPONSE_OO: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Response-OperationOutcome-1";

/// What to answer, to which message, as whom.
pub struct ResponseSpec<'a> {
    /// `MessageHeader.id` of the message answered (or [`UNREADABLE`]).
    pub responds_to: &'a str,
    /// SenderReference of the message answered (echoed; `None` when it had none).
    pub sender_reference: &'a str,
    /// ITK3 response code, 10001..30025.
    pub code: &'a str,
    /// Explanation; required in spirit for negative codes (the code's display is used if absent).
    /// Must not contain patient data (FHIR-BA-02).
    pub diagnostics: Option<&'a str>,
    /// Responder's ODS code (header Organization).
    pub responder_ods: &'a str,
    /// Responder's MESH mailbox (`source.endpoint`).
    pub responder_mailbox: &'a str,
    /// Response time.
    pub now: DateTime<FixedOffset>,
    /// Id source for resource ids and the bundle identifier.
    pub ids: &'a dyn IdSource,
}

/// Infrastructure (1xxxx / 2xxxx) or business (3xxxx) response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseKind {
    /// Infrastructure response (InfAckRequested).
    Infrastructure,
    /// Business response (BusAckRequested).
    Business,
}

/// A parsed ITK3 response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItkResponse {
    /// `MessageHeader.response.identifier`: the original MessageHeader.id, or [`UNREADABLE`].
    pub responds_to: String,
    /// Echoed SenderReference (`None` when absent or the ITK default `None`).
    pub sender_reference: Option<String>,
    /// ITK3 response code.
    pub code: String,
    /// Display of the code (from the message, else from the code system).
    pub display: String,
    /// `OperationOutcome.issue.diagnostics`.
    pub diagnostics: Option<String>,
    /// Positive outcome (20013, 30001, 30004, …).
    pub positive: bool,
    /// Infrastructure or business.
    pub kind: ResponseKind,
}

/// Why a response could not be built or read. Messages never contain patient data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// The code is not an ITK3 response code (codes are not patient data).
    #[error("unknown ITK3 response code {0:?}")]
    UnknownCode(String),
    /// A required input is empty.
    #[error("response field `{0}` must not be empty")]
    EmptyField(&'static str),
    /// The document is not readable XML.
    #[error(transparent)]
    Xml(#[from] XmlError),
    /// A required element is missing.
    #[error("ITK3 message has no {0}")]
    Missing(&'static str),
}

/// `(positive, display)` of an ITK3 response code (10001..30025), `None` for unknown codes.
pub fn code_info(code: &str) -> Option<(bool, &'static str)> {
    RESPONSE_CODES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, p, d)| (*p, *d))
}

/// `(response.code, issue.severity, issue.code)` per the ITK3 2.10.0 mapping table; codes the
/// table omits follow their polarity.
fn mapping(code: &str, positive: bool) -> (&'static str, &'static str, &'static str) {
    let issue = match code {
        "20001" | "20002" | "20003" | "20010" | "20011" | "30002" => "not-found",
        "20004" | "20005" | "20012" => "security",
        "20006" | "20009" => "invalid",
        "20007" | "20008" => "duplicate",
        "20015" => "too-long",
        "30003" => "business-rule",
        c if c.starts_with('1') || c == "20014" => "processing",
        _ if positive => "informational",
        _ => "business-rule",
    };
    if positive {
        ("ok", "information", issue)
    } else {
        ("fatal-error", "fatal", issue)
    }
}

/// Builds an ITK008M response as FHIR XML (spec §7.1): both acknowledgement flags false,
/// MessageDefinition ITK-Response-MessageDefinition-1, diagnostics on negative codes.
///
/// # Errors
/// [`ResponseError::UnknownCode`] for codes outside ITK-ResponseCodes-1,
/// [`ResponseError::EmptyField`] when an identifier or the mailbox is empty.
pub fn build_response(spec: &ResponseSpec<'_>) -> Result<Vec<u8>, ResponseError> {
    let (positive, display) =
        code_info(spec.code).ok_or_else(|| ResponseError::UnknownCode(spec.code.to_owned()))?;
    for (name, value) in [
        ("responds_to", spec.responds_to),
        ("responder_ods", spec.responder_ods),
        ("responder_mailbox", spec.responder_mailbox),
    ] {
        if value.trim().is_empty() {
            return Err(ResponseError::EmptyField(name));
        }
    }
    let (response_code, severity, issue_code) = mapping(spec.code, positive);
    let bundle_id = spec.ids.next_uuid().to_string();
    let header_id = spec.ids.next_uuid().to_string();
    let org_id = spec.ids.next_uuid().to_string();
    let oo_id = spec.ids.next_uuid().to_string();
    let diagnostics = match spec.diagnostics.filter(|d| !d.trim().is_empty()) {
        Some(d) => Some(d),
        None if !positive => Some(display),
        None => None,
    };
    let issue = Node::new("OperationOutcome.issue")
        .str("severity", severity)
        .str("code", issue_code)
        .child(
            "details",
            Node::new("CodeableConcept").item(
                "coding",
                coding(RESPONSE_CODE_SYSTEM, spec.code, Some(display)),
            ),
        )
        .opt_str("diagnostics", diagnostics);
    let outcome = Node::resource("OperationOutcome", &oo_id)
        .child("meta", meta(None, PROFILE_RESPONSE_OO, vec![]))
        .item("issue", issue);
    let response = Node::new("MessageHeader.response")
        .str("identifier", spec.responds_to)
        .str("code", response_code)
        .child("details", urn_ref(&oo_id));
    let sender_reference = if spec.sender_reference.trim().is_empty() {
        "None"
    } else {
        spec.sender_reference
    };
    let timestamp = crate::fhir_instant(spec.now);
    let env = Envelope {
        bundle_id: &bundle_id,
        bundle_identifier: &bundle_id,
        header_id: &header_id,
        header_org_id: &org_id,
        event_code: "ITK008M",
        event_display: "ITK Response",
        acks_requested: false,
        recipient_type: RecipientType::ForInformation,
        message_definition: RESPONSE_MESSAGE_DEFINITION,
        sender_reference,
        sender_ods: spec.responder_ods,
        timestamp: &timestamp,
        source_endpoint: spec.responder_mailbox,
        response: Some(response),
        focus: None,
    };
    let bundle = envelope::message_bundle(&env, vec![entry(&oo_id, outcome)]);
    Ok(xml::to_xml(&bundle).into_bytes())
}

/// Reads an ITK3 response, FHIR XML or FHIR JSON (tolerant: any element order, prefixes,
/// comments, unknown elements).
///
/// # Errors
/// [`ResponseError::Xml`] when the bytes are not XML; [`ResponseError::Missing`] naming the
/// first required element absent (MessageHeader, response.identifier, the response code).
pub fn parse_response(xml: &[u8]) -> Result<ItkResponse, ResponseError> {
    let root = xmldom::parse_message(xml)?;
    let header = root
        .first_resource("MessageHeader")
        .ok_or(ResponseError::Missing("MessageHeader"))?;
    let response = header
        .child("response")
        .ok_or(ResponseError::Missing("MessageHeader.response"))?;
    let responds_to = response
        .value_at(&["identifier"])
        .ok_or(ResponseError::Missing("MessageHeader.response.identifier"))?;
    let outcome = response
        .value_at(&["details", "reference"])
        .and_then(|r| root.resolve(r))
        .or_else(|| root.first_resource("OperationOutcome"))
        .ok_or(ResponseError::Missing("OperationOutcome"))?;
    let (issue, coded) = outcome
        .children_named("issue")
        .find_map(|issue| {
            let details = issue.child("details")?;
            let codings: Vec<_> = details.children_named("coding").collect();
            let coded = codings
                .iter()
                .find(|c| c.value_at(&["system"]) == Some(RESPONSE_CODE_SYSTEM))
                .or_else(|| codings.first())?;
            coded.value_at(&["code"]).map(|_| (issue, *coded))
        })
        .ok_or(ResponseError::Missing(
            "OperationOutcome.issue.details.coding.code",
        ))?;
    let code = coded
        .value_at(&["code"])
        .unwrap_or_default()
        .trim()
        .to_owned();
    let known = code_info(&code);
    let display = coded
        .value_at(&["display"])
        .map(str::to_owned)
        .or_else(|| known.map(|(_, d)| d.to_owned()))
        .unwrap_or_default();
    let positive = match known {
        Some((p, _)) => p,
        None => response.value_at(&["code"]) == Some("ok"),
    };
    let sender_reference = header
        .extension(envelope::HANDLING_URL)
        .and_then(|h| h.extension("SenderReference"))
        .and_then(|s| s.value_at(&["valueString"]))
        .filter(|s| !s.is_empty() && *s != "None")
        .map(str::to_owned);
    Ok(ItkResponse {
        responds_to: responds_to.trim().to_owned(),
        sender_reference,
        kind: if code.starts_with('3') {
            ResponseKind::Business
        } else {
            ResponseKind::Infrastructure
        },
        code,
        display,
        diagnostics: issue.value_at(&["diagnostics"]).map(str::to_owned),
        positive,
    })
}

#[cfg(test)]
#[path = "response_tests.rs"]
mod tests;
