//! ITK3 response (ITK008M) rules (spec §7.1, §7.3): `MessageHeader.response` with identifier,
//! code and details; an OperationOutcome with one ITK-ResponseCodes-1 coding per issue; response
//! code, severity and issue type consistent with the ITK3 2.10.0 mapping table.

use super::header::Header;
use super::{Report, codings, profiles};
use crate::response::code_info;
use crate::validate::bundle;
use crate::xmldom::XmlNode;

const RESPONSE_SYSTEM: &str = "https://fhir.nhs.uk/STU3/CodeSystem/ITK-ResponseCodes-1";
const PROFILE_OO: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Response-OperationOutcome-1";
const INVALID_FAMILY: &[&str] = &[
    "invalid",
    "structure",
    "required",
    "value",
    "invariant",
    "processing",
    "not-supported",
    "code-invalid",
    "extension",
    "business-rule",
];

/// `(response.code, issue.severity, allowed issue.code)` of the codes the mapping table lists.
fn mapping(code: &str) -> Option<(&'static str, &'static str, &'static [&'static str])> {
    Some(match code {
        "10001" | "10002" | "10003" | "10004" | "10005" | "10007" | "10008" | "10009" | "10010"
        | "20014" => ("fatal-error", "fatal", &["processing"]),
        "20001" | "20002" | "20003" | "20010" | "20011" | "30002" => {
            ("fatal-error", "fatal", &["not-found"])
        }
        "20004" | "20005" | "20012" => ("fatal-error", "fatal", &["security"]),
        "20006" => (
            "fatal-error",
            "fatal",
            &[
                "invalid",
                "structure",
                "required",
                "value",
                "processing",
                "code-invalid",
                "extension",
            ],
        ),
        "20007" | "20008" => ("fatal-error", "fatal", &["duplicate"]),
        "20009" => ("fatal-error", "fatal", INVALID_FAMILY),
        "20013" | "30001" | "30004" => ("ok", "information", &["informational"]),
        "30003" => ("fatal-error", "fatal", &["business-rule"]),
        _ => return None,
    })
}

pub(super) fn check(root: &XmlNode, h: &Header<'_>, r: &mut Report) {
    let mh = &h.path;
    for key in ["BusAckRequested", "InfAckRequested"] {
        if h.flag(key) == Some(true) {
            r.warn(
                "RSP-ACKFLAGS",
                format!("{mh}.{key}"),
                "responses set both flags to false",
            );
        }
    }
    let Some(resp) = h.node.child("response") else {
        r.error(
            "RSP-RESPONSE",
            format!("{mh}.response"),
            "a response must populate MessageHeader.response",
        );
        return;
    };
    match resp.value_at(&["identifier"]) {
        None => r.error(
            "RSP-RESPONSE",
            format!("{mh}.response.identifier"),
            "the MessageHeader.id of the original is required",
        ),
        Some(id) if !crate::checks::is_uuid(id) && id != "UNREADABLE-IN-ORIGINAL-MESSAGE" => r
            .warn(
                "RSP-RESPONSE",
                format!("{mh}.response.identifier"),
                "expected the original MessageHeader.id (a UUID)",
            ),
        Some(_) => {}
    }
    let outcome = resp
        .value_at(&["details", "reference"])
        .and_then(|x| bundle::resolve(root, x))
        .filter(|o| o.name == "OperationOutcome");
    let Some(oo) = outcome else {
        r.error(
            "RSP-RESPONSE",
            format!("{mh}.response.details"),
            "details must reference the OperationOutcome in the bundle",
        );
        return;
    };
    if !profiles(oo).contains(&PROFILE_OO) {
        r.warn(
            "ITK-PROFILE",
            "OperationOutcome.meta.profile",
            "expected ITK-Response-OperationOutcome-1",
        );
    }
    let response_code = resp.value_at(&["code"]);
    for (k, issue) in oo.children_named("issue").enumerate() {
        let ipath = format!("OperationOutcome.issue[{k}]");
        let all: Vec<&XmlNode> = codings(issue.child("details")).collect();
        let coded: Vec<&&XmlNode> = all
            .iter()
            .filter(|c| c.value_at(&["system"]) == Some(RESPONSE_SYSTEM))
            .collect();
        let ([coding], 1) = (coded.as_slice(), all.len()) else {
            r.error(
                "RSP-OO",
                format!("{ipath}.details"),
                "exactly one ITK-ResponseCodes-1 coding is required",
            );
            continue;
        };
        let code = coding.value_at(&["code"]).unwrap_or_default();
        let Some((positive, _)) = code_info(code) else {
            r.error(
                "RSP-OO",
                format!("{ipath}.details"),
                "not an ITK3 response code",
            );
            continue;
        };
        if coding.value_at(&["display"]).is_none() {
            r.error(
                "RSP-OO",
                format!("{ipath}.details"),
                "display is required (1..1)",
            );
        }
        match mapping(code) {
            Some((rcode, severity, types)) => {
                if response_code != Some(rcode) {
                    r.error(
                        "RSP-MAPPING",
                        format!("{mh}.response.code"),
                        format!("code {code} requires '{rcode}'"),
                    );
                }
                if issue.value_at(&["severity"]) != Some(severity) {
                    r.error(
                        "RSP-MAPPING",
                        format!("{ipath}.severity"),
                        format!("code {code} requires '{severity}'"),
                    );
                }
                if !issue
                    .value_at(&["code"])
                    .is_some_and(|c| types.contains(&c))
                {
                    r.error(
                        "RSP-MAPPING",
                        format!("{ipath}.code"),
                        format!("code {code} requires one of {}", types.join(", ")),
                    );
                }
            }
            None => {
                let expected = if positive { "ok" } else { "fatal-error" };
                if response_code != Some(expected) {
                    r.warn(
                        "RSP-MAPPING",
                        format!("{mh}.response.code"),
                        format!("expected '{expected}'"),
                    );
                }
            }
        }
        if !positive && issue.value_at(&["diagnostics"]).is_none() {
            r.warn(
                "RSP-DIAG",
                format!("{ipath}.diagnostics"),
                "negative responses must explain the error",
            );
        }
    }
    let sender = h
        .node
        .value_at(&["sender", "reference"])
        .and_then(|x| bundle::resolve(root, x));
    if sender.is_some_and(|s| s.name != "Organization") {
        r.warn(
            "RSP-SENDER",
            format!("{mh}.sender"),
            "GP Connect responders use the header Organization",
        );
    }
}
