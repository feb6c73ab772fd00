//! GP Connect Send Document (ITK007C) payload rules (spec §5, §9 #18–#20).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::header::Header;
use super::patient;
use super::{Report, codings, profiles};
use crate::validate::bundle::{self, of_type};
use crate::xmldom::XmlNode;

const SNOMED: &str = "http://snomed.info/sct";
const PROFILE_DOCUMENT_BUNDLE: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Document-Bundle-1";
const CARE_SETTING: &str =
    "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-CareSettingType-1";
/// Attachments above this size may be refused with ITK 20015 (spec §5.4).
pub(crate) const ADVISED_MAX_ATTACHMENT_BYTES: usize = 5 * 1024 * 1024;

/// The document bundle `MessageHeader.focus` points at, with its path; reports why not.
pub(super) fn focus_document<'a>(
    root: &'a XmlNode<'a>,
    h: &Header<'_>,
    rule: &'static str,
    r: &mut Report,
) -> Option<(&'a XmlNode<'a>, String)> {
    let focus: Vec<&XmlNode> = h.node.children_named("focus").collect();
    if focus.len() > 1 {
        r.error(
            rule,
            format!("{}.focus", h.path),
            "a single focus is allowed (0..1)",
        );
    }
    let Some(reference) = focus.first().and_then(|f| f.value_at(&["reference"])) else {
        r.error(
            rule,
            format!("{}.focus", h.path),
            "focus must reference the document bundle",
        );
        return None;
    };
    // An unresolved focus is reported by REF-RESOLVE.
    let doc = bundle::resolve(root, reference)?;
    if doc.name != "Bundle" || doc.value_at(&["type"]) != Some("document") {
        r.error(
            rule,
            format!("{}.focus", h.path),
            "focus must reference a Bundle of type document",
        );
        return None;
    }
    if !profiles(doc).contains(&PROFILE_DOCUMENT_BUNDLE) {
        r.warn(
            "ITK-PROFILE",
            "payload Bundle.meta.profile",
            "expected ITK-Document-Bundle-1",
        );
    }
    let index = root
        .entries()
        .position(|(_, res)| res.is_some_and(|res| std::ptr::eq(res, doc)))
        .unwrap_or_default();
    Some((doc, format!("Bundle.entry[{index}].resource(Bundle)")))
}

pub(super) fn check(root: &XmlNode, h: &Header<'_>, mex_to: Option<&str>, r: &mut Report) {
    let mh = &h.path;
    for key in ["BusAckRequested", "InfAckRequested"] {
        if h.flag(key).is_some_and(|v| !v) {
            r.error(
                "SD-ACKS",
                format!("{mh}.{key}"),
                "must be true for Send Document",
            );
        }
    }
    if h.key("MessageDefinition")
        .and_then(|v| v.value_at(&["reference"]))
        .is_some_and(|md| md != crate::send_document::MESSAGE_DEFINITION)
    {
        r.error(
            "SD-MSGDEF",
            format!("{mh}.MessageDefinition"),
            "must be ITK-GPConnectSendDocument-MessageDefinition-1",
        );
    }
    if h.key("LocalExtension")
        .is_some_and(|v| v.value.as_deref() != Some("None"))
    {
        r.warn(
            "SD-LOCALEXT",
            format!("{mh}.LocalExtension"),
            "v2 senders use 'None'",
        );
    }
    let Some((doc, dpath)) = focus_document(root, h, "SD-FOCUS", r) else {
        return;
    };
    bundle::check_bundle(doc, &dpath, r);
    if let Some((ci, comp)) = of_type(doc, "Composition").next() {
        composition(
            doc,
            comp,
            &format!("{dpath}.entry[{ci}].resource(Composition)"),
            r,
        );
    }
    for (bi, b) in of_type(doc, "Binary") {
        binary(b, &format!("{dpath}.entry[{bi}].resource(Binary)"), r);
    }
    let patients: Vec<_> = of_type(doc, "Patient").collect();
    for (pi, p) in &patients {
        let rules = patient::Rules {
            nhsno: "SD-PATIENT-NHSNO",
            name: "SD-PATIENT-NAME",
            dob: "SD-PATIENT-DOB",
        };
        patient::check(
            p,
            &format!("{dpath}.entry[{pi}].resource(Patient)"),
            &rules,
            mex_to,
            r,
        );
    }
    if patients.len() != 1 {
        r.error("SD-PATIENT", &dpath, "exactly one Patient is required");
    }
    for (i, (_, res)) in doc.entries().enumerate() {
        if let Some(res) = res
            && !matches!(
                res.name.as_ref(),
                "Composition" | "Patient" | "Organization" | "Practitioner" | "Binary"
            )
        {
            r.warn(
                "SD-RESOURCES",
                format!("{dpath}.entry[{i}]"),
                "Send Document 2.x payloads carry Composition, Patient, Organization, \
                     Practitioner and Binary only",
            );
        }
    }
}

fn composition(doc: &XmlNode, comp: &XmlNode, cpath: &str, r: &mut Report) {
    if !codings(comp.child("type")).any(|c| c.value_at(&["system"]) == Some(SNOMED)) {
        r.error(
            "SD-COMP-TYPE",
            format!("{cpath}.type"),
            "must carry a SNOMED CT document type",
        );
    }
    for el in ["title", "date"] {
        if comp.value_at(&[el]).is_none() {
            r.error(
                "SD-COMP",
                format!("{cpath}.{el}"),
                format!("{el} is required"),
            );
        }
    }
    if comp.at(&["text", "div"]).is_none() {
        r.warn(
            "SD-COMP-TEXT",
            format!("{cpath}.text"),
            "Composition.text is Mandatory",
        );
    }
    if comp.value_at(&["status"]) != Some("final") {
        r.warn(
            "SD-COMP",
            format!("{cpath}.status"),
            "payloads are expected to be final",
        );
    }
    if comp.value_at(&["confidentiality"]) == Some("R") {
        r.error(
            "SD-CONFIDENTIAL",
            format!("{cpath}.confidentiality"),
            "confidential items must not be sent (receivers reject R with 20009)",
        );
    }
    let target = |name: &str| {
        comp.value_at(&[name, "reference"])
            .and_then(|reference| bundle::resolve(doc, reference))
    };
    if target("subject").is_none_or(|t| t.name != "Patient") {
        r.error(
            "SD-COMP-SUBJECT",
            format!("{cpath}.subject"),
            "must reference the Patient",
        );
    }
    if target("custodian").is_none_or(|t| t.name != "Organization") {
        r.error(
            "SD-COMP-CUSTODIAN",
            format!("{cpath}.custodian"),
            "must reference the sending Organization (Mandatory)",
        );
    }
    if comp.extension(CARE_SETTING).is_none() {
        r.warn(
            "SD-CARESETTING",
            cpath,
            "careSettingType is recommended when the service is known",
        );
    }
    let binaries = comp
        .children_named("section")
        .flat_map(|s| s.children_named("entry"))
        .filter_map(|e| e.value_at(&["reference"]))
        .filter_map(|x| bundle::resolve(doc, x))
        .filter(|t| t.name == "Binary")
        .count();
    if binaries == 0 {
        r.error(
            "SD-BINARY",
            format!("{cpath}.section"),
            "section.entry must reference at least one Binary attachment",
        );
    }
    let unreferenced = of_type(doc, "Binary").count() > binaries;
    if unreferenced {
        r.error(
            "SD-BINARY",
            format!("{cpath}.section"),
            "section.entry must reference every Binary attached",
        );
    }
}

fn binary(b: &XmlNode, bpath: &str, r: &mut Report) {
    let content: String = b
        .value_at(&["content"])
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let Ok(decoded) = STANDARD.decode(content.as_bytes()) else {
        r.error(
            "SD-BINARY",
            format!("{bpath}.content"),
            "content is not valid base64",
        );
        return;
    };
    if b.value_at(&["contentType"]) == Some("application/pdf") && !decoded.starts_with(b"%PDF-") {
        r.error(
            "SD-BINARY",
            format!("{bpath}.content"),
            "contentType is application/pdf but the content is not a PDF",
        );
    }
    if decoded.len() > ADVISED_MAX_ATTACHMENT_BYTES {
        r.warn(
            "SD-BINARY-SIZE",
            bpath,
            "attachment exceeds 5 MB; receivers may answer 20015 (Message too large)",
        );
    }
}
