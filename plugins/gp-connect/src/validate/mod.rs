//! The gateway's own sender checklist (spec itk3-gpconnect §9) on a serialised ITK3 message, FHIR
//! XML or FHIR JSON: a last line of defence before a message leaves, independent of how it was
//! built, and the checker behind `gpc-gateway validate`.
//!
//! Layers, in order (rule ids follow `tools/fhir-validate/validate.py`, whose verdict this
//! checker shares on the project fixtures and mutants, see `tests/agreement.rs`):
//! well-formedness (`FMT-*`, `JSON-*`); STU3 syntax against the definitions in
//! [`gateway_proto::fhir::stu3`] — element names, order, repetition, empty elements, attributes,
//! primitive formats, required bindings, minimum cardinalities (`XML-*`, `FHIR-STRUCT`,
//! `FHIR-CODE`); bundle rules (`BDL-*`, `REF-*`, `MSG-FIRST`, `DOC-*`); SNOMED CT / dm+d check
//! digits (`SNOMED-SCTID`); the ITK3 header (`ITK-*`); then the rules of the event: Update Record
//! (`UR-*`), Send Document (`SD-*`), ITK3 responses (`RSP-*`); NHS numbers (`NHSNO-CHECKSUM`) and,
//! when given, the MESH metadata (`MESH-*`).
//!
//! Findings name elements by path, never values (they reach logs and dead-letter reasons).

mod bundle;
mod header;
pub(crate) mod jsontree;
mod path;
mod patient;
mod primitives;
mod response;
mod send_document;
mod syntax;
mod update_record;
mod ur_resources;

use std::fmt;

use gateway_proto::fhir::{FHIR_NS, Node};

use crate::xmldom::{self, XmlNode};

/// MESH metadata to cross-check with the message (both optional).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ValidateOptions<'a> {
    /// `Mex-To`: `GPPROVIDER_<NHS number>_<YYYYMMDD>_<surname>` must match the Patient.
    pub mex_to: Option<&'a str>,
    /// `Mex-WorkflowID`: must fit `MessageHeader.event`.
    pub workflow_id: Option<&'a str>,
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Severity {
    /// The message must not be sent.
    Error,
    /// Advice (a receiver may still accept the message).
    Warning,
}

/// One problem found in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// Rule id (as in `tools/fhir-validate`), e.g. `XML-ORDER`, `SD-BINARY`.
    pub rule: &'static str,
    /// Element path, e.g. `Bundle.entry[0].resource(MessageHeader).timestamp`.
    pub path: String,
    /// What is wrong, without quoting values.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} [{}]", self.path, self.message, self.rule)
    }
}

/// Checks an ITK3 message (XML or JSON); an empty result means no error was found. Each line
/// is `<element path>: <problem> [<rule>]`.
pub fn validate_message(bytes: &[u8]) -> Vec<String> {
    validate_message_with(bytes, &ValidateOptions::default())
}

/// [`validate_message`] plus the MESH cross-checks of `options`.
pub fn validate_message_with(bytes: &[u8], options: &ValidateOptions<'_>) -> Vec<String> {
    check_message(bytes, options)
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.to_string())
        .collect()
}

/// Every finding (errors and warnings) on an ITK3 message.
pub fn check_message(bytes: &[u8], options: &ValidateOptions<'_>) -> Vec<Finding> {
    let mut r = Report::default();
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let json = match text.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'<') => false,
        Some(b'{') => true,
        _ => {
            r.error("FMT-PARSE", "$", "input is neither FHIR XML nor FHIR JSON");
            return r.findings;
        }
    };
    let root = if json {
        match jsontree::parse(text, &mut r) {
            Some(root) => root,
            None => return r.findings,
        }
    } else {
        match xmldom::parse(text) {
            Ok(root) => root,
            Err(e) => {
                r.error("FMT-PARSE", "$", e.to_string());
                return r.findings;
            }
        }
    };
    check_root(&root, json, options, &mut r);
    r.findings
}

/// [`validate_message_with`] for a message the gateway built and serialises as FHIR XML:
/// checks the tree the writer serialises, which is the element tree the XML reader returns
/// for the written document (see `xmltree`), without reading the document back.
pub(crate) fn validate_built_xml(bundle: &Node, options: &ValidateOptions<'_>) -> Vec<String> {
    let mut r = Report::default();
    match crate::xmltree::from_tree(bundle) {
        Ok(root) => check_root(&root, false, options, &mut r),
        Err(e) => r.error("FMT-PARSE", "$", e.to_string()),
    }
    r.findings
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.to_string())
        .collect()
}

fn check_root(root: &XmlNode<'_>, json: bool, options: &ValidateOptions<'_>, r: &mut Report) {
    if root.name != "Bundle" || (!json && root.xmlns.as_deref() != Some(FHIR_NS)) {
        r.error(
            "FMT-ROOT",
            "$",
            format!("the root must be a Bundle in the {FHIR_NS} namespace"),
        );
        return;
    }
    check_tree(root, json, options, r);
}

fn check_tree(root: &XmlNode, json: bool, options: &ValidateOptions<'_>, r: &mut Report) {
    syntax::check(root, json, r);
    bundle::check_bundle(root, "Bundle", r);
    bundle::check_codes(root, &path::Path::root("Bundle"), r);
    if root.value_at(&["type"]) != Some("message") {
        r.error(
            "ITK-BUNDLE",
            "Bundle.type",
            "an ITK3 message must be a Bundle of type message",
        );
    }
    let Some(h) = header::check(root, r) else {
        return;
    };
    let event = h.event.unwrap_or_default();
    if let Some(w) = options.workflow_id {
        let allowed = crate::mesh::workflows_for_event(event);
        if !allowed.is_empty() && !allowed.contains(&w) {
            r.error(
                "MESH-WORKFLOW",
                "Mex-WorkflowID",
                format!(
                    "workflow does not fit event {event} (expected one of {})",
                    allowed.join(", ")
                ),
            );
        }
    }
    match event {
        "ITK014M" => update_record::check(root, &h, options.mex_to, r),
        "ITK007C" => send_document::check(root, &h, options.mex_to, r),
        "ITK008M" => response::check(root, &h, r),
        _ => {
            for (i, (_, res)) in root.entries().enumerate() {
                if let Some(b) = res.filter(|b| b.name == "Bundle") {
                    bundle::check_bundle(b, &format!("Bundle.entry[{i}].resource(Bundle)"), r);
                }
            }
        }
    }
}

/// Findings collected by the checks.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub(crate) findings: Vec<Finding>,
}

impl Report {
    pub(crate) fn error(
        &mut self,
        rule: &'static str,
        path: impl fmt::Display,
        message: impl Into<String>,
    ) {
        self.push(Severity::Error, rule, path.to_string(), message.into());
    }

    pub(crate) fn warn(
        &mut self,
        rule: &'static str,
        path: impl fmt::Display,
        message: impl Into<String>,
    ) {
        self.push(Severity::Warning, rule, path.to_string(), message.into());
    }

    fn push(&mut self, severity: Severity, rule: &'static str, path: String, message: String) {
        self.findings.push(Finding {
            severity,
            rule,
            path,
            message,
        });
    }
}

/// `meta.profile` values of a resource.
pub(crate) fn profiles<'a>(res: &'a XmlNode<'a>) -> Vec<&'a str> {
    res.child("meta")
        .map(|m| {
            m.children_named("profile")
                .filter_map(|p| p.value.as_deref())
                .collect()
        })
        .unwrap_or_default()
}

/// Codings (`coding` children) of a CodeableConcept.
pub(crate) fn codings<'a>(cc: Option<&'a XmlNode<'a>>) -> impl Iterator<Item = &'a XmlNode<'a>> {
    cc.into_iter().flat_map(|c| c.children_named("coding"))
}

/// True when a CodeableConcept has a coding with `system` (and `code`, when given).
pub(crate) fn has_coding(cc: Option<&XmlNode>, system: &str, code: Option<&str>) -> bool {
    codings(cc).any(|c| {
        c.value_at(&["system"]) == Some(system)
            && code.is_none_or(|code| c.value_at(&["code"]) == Some(code))
    })
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
