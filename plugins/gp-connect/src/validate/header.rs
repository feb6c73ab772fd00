//! ITK3 header rules (spec §3.1–3.5, §9 #4/#7/#8): the message bundle, the MessageHeader, its
//! handling extension with the six keys, and the header Organization of the sender.

use super::{Report, profiles};
use crate::envelope::{EVENT_SYSTEM, HANDLING_URL, ODS_SYSTEM};
use crate::xmldom::XmlNode;

const PROFILE_MESSAGE_BUNDLE: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Message-Bundle-1";
const PROFILE_MESSAGE_HEADER: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-MessageHeader-2";
const PROFILE_HEADER_ORG: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-Header-Organization-1";
const PROFILE_HEADER_PRACTITIONER: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-Header-Practitioner-1";
const RECIPIENT_TYPE_SYSTEM: &str = "https://fhir.nhs.uk/STU3/CodeSystem/ITK-RecipientType-1";

/// `(handling key, value type)`; LocalExtension takes any value.
const HANDLING_KEYS: [(&str, Option<&str>); 6] = [
    ("BusAckRequested", Some("valueBoolean")),
    ("InfAckRequested", Some("valueBoolean")),
    ("RecipientType", Some("valueCoding")),
    ("MessageDefinition", Some("valueReference")),
    ("SenderReference", Some("valueString")),
    ("LocalExtension", None),
];

/// ITK-MessageEvent-2 codes and displays.
const EVENTS: [(&str, &str); 12] = [
    ("ITK003D", "ITK eDischarge"),
    ("ITK004D", "ITK Mental Health eDischarge"),
    ("ITK005D", "ITK Emergency Care eDischarge"),
    ("ITK006D", "ITK Outpatient Letter"),
    ("ITK007C", "ITK GP Connect Send Document"),
    ("ITK008M", "ITK Response"),
    ("ITK009D", "ITK Digital Medicine Immunization Document"),
    ("ITK010D", "ITK Digital Medicine Emergency Supply Document"),
    ("ITK011M", "ITK Events Management Service"),
    ("ITK012M", "ITK National Pathology"),
    ("ITK013D", "ITK Digital Medicine Minor Illness Document"),
    ("ITK014M", "ITK Update Record"),
];

/// What the use-case rules need from the header.
pub(super) struct Header<'a> {
    /// The MessageHeader.
    pub(super) node: &'a XmlNode<'a>,
    /// Its path.
    pub(super) path: String,
    /// `event.code`.
    pub(super) event: Option<&'a str>,
    /// Handling key values: `(key, value element)` of each key found exactly once.
    pub(super) keys: Vec<(&'static str, &'a XmlNode<'a>)>,
}

impl<'a> Header<'a> {
    /// The value element of a handling key.
    pub(super) fn key(&self, key: &str) -> Option<&'a XmlNode<'a>> {
        self.keys.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    /// A boolean handling key.
    pub(super) fn flag(&self, key: &str) -> Option<bool> {
        self.key(key).and_then(|v| match v.value.as_deref() {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => None,
        })
    }
}

/// Checks the envelope; `None` when there is no MessageHeader to go on from.
pub(super) fn check<'a>(root: &'a XmlNode<'a>, r: &mut Report) -> Option<Header<'a>> {
    if !profiles(root).contains(&PROFILE_MESSAGE_BUNDLE) {
        r.warn(
            "ITK-PROFILE",
            "Bundle.meta.profile",
            "expected ITK-Message-Bundle-1",
        );
    }
    if root.value_at(&["identifier", "value"]).is_none() {
        r.error(
            "ITK-BUNDLE-ID",
            "Bundle.identifier",
            "ITK-Message-Bundle-1 requires identifier.value (unique per message)",
        );
    }
    for forbidden in ["total", "link", "signature"] {
        if root.child(forbidden).is_some() {
            r.error(
                "ITK-BUNDLE",
                format!("Bundle.{forbidden}"),
                "not allowed in ITK-Message-Bundle-1",
            );
        }
    }
    let Some((i, mh)) = super::bundle::of_type(root, "MessageHeader").next() else {
        r.error("ITK-MH", "Bundle", "no MessageHeader found");
        return None;
    };
    let path = format!("Bundle.entry[{i}].resource(MessageHeader)");
    if !profiles(mh).contains(&PROFILE_MESSAGE_HEADER) {
        r.warn(
            "ITK-PROFILE",
            format!("{path}.meta.profile"),
            "expected ITK-MessageHeader-2",
        );
    }
    let keys = handling(mh, &path, r);
    let event = mh.value_at(&["event", "code"]);
    if mh.value_at(&["event", "system"]) != Some(EVENT_SYSTEM) {
        r.error(
            "ITK-MH-EVENT",
            format!("{path}.event.system"),
            "must be ITK-MessageEvent-2",
        );
    }
    let known = EVENTS.iter().find(|(c, _)| Some(*c) == event);
    if known.is_none() {
        r.error(
            "ITK-MH-EVENT",
            format!("{path}.event.code"),
            "not in ITK-MessageEvent-2",
        );
    }
    match (mh.value_at(&["event", "display"]), known) {
        (None, _) => r.error(
            "ITK-MH-EVENT",
            format!("{path}.event.display"),
            "display is required (1..1 in ITK-MessageHeader-2)",
        ),
        (Some(d), Some((_, expected))) if d != *expected => r.warn(
            "ITK-MH-EVENT",
            format!("{path}.event.display"),
            format!("display should be '{expected}'"),
        ),
        _ => {}
    }
    if mh.child("destination").is_some() {
        r.error(
            "ITK-MH-DEST",
            format!("{path}.destination"),
            "not allowed (0..0)",
        );
    }
    for forbidden in ["enterer", "author", "responsible", "reason"] {
        if mh.child(forbidden).is_some() {
            r.error(
                "ITK-MH",
                format!("{path}.{forbidden}"),
                "not allowed (0..0)",
            );
        }
    }
    if mh.value_at(&["source", "endpoint"]).is_none() {
        r.error(
            "ITK-MH-SOURCE",
            format!("{path}.source.endpoint"),
            "must hold the sender's MESH mailbox id",
        );
    }
    for forbidden in ["name", "software", "version", "contact"] {
        if mh.at(&["source", forbidden]).is_some() {
            r.error(
                "ITK-MH-SOURCE",
                format!("{path}.source.{forbidden}"),
                "only source.endpoint is allowed in ITK-MessageHeader-2",
            );
        }
    }
    sender(root, mh, &path, r);
    Some(Header {
        node: mh,
        path,
        event,
        keys,
    })
}

fn sender(root: &XmlNode, mh: &XmlNode, path: &str, r: &mut Report) {
    let Some(reference) = mh.value_at(&["sender", "reference"]) else {
        r.error(
            "ITK-MH-SENDER",
            format!("{path}.sender"),
            "sender is required (1..1)",
        );
        return;
    };
    // An unresolved reference is reported by REF-RESOLVE.
    let Some(target) = super::bundle::resolve(root, reference) else {
        return;
    };
    let tpath = format!("{path}.sender->{}", target.name);
    match target.name.as_ref() {
        "Organization" => {
            if !profiles(target).contains(&PROFILE_HEADER_ORG) {
                r.warn(
                    "ITK-PROFILE",
                    &tpath,
                    "expected CareConnect-ITK-Header-Organization-1",
                );
            }
            let has_ods = target.children_named("identifier").any(|i| {
                i.value_at(&["system"]) == Some(ODS_SYSTEM) && i.value_at(&["value"]).is_some()
            });
            if !has_ods {
                r.error(
                    "ITK-HDR-ORG",
                    &tpath,
                    "the header Organization needs an ODS code",
                );
            }
            for forbidden in [
                "active", "type", "name", "alias", "telecom", "address", "partOf", "contact",
                "endpoint",
            ] {
                if target.child(forbidden).is_some() {
                    r.error(
                        "ITK-HDR-ORG",
                        format!("{tpath}.{forbidden}"),
                        "not allowed (0..0) in CareConnect-ITK-Header-Organization-1",
                    );
                }
            }
        }
        "Practitioner" => {
            if !profiles(target).contains(&PROFILE_HEADER_PRACTITIONER) {
                r.warn(
                    "ITK-PROFILE",
                    &tpath,
                    "expected CareConnect-ITK-Header-Practitioner-1",
                );
            }
        }
        _ => r.error(
            "ITK-MH-SENDER",
            format!("{path}.sender"),
            "sender must reference an Organization or Practitioner",
        ),
    }
}

/// Extension-ITK-MessageHandling-2: once, with each key once and of the right type.
fn handling<'a>(
    mh: &'a XmlNode<'a>,
    path: &str,
    r: &mut Report,
) -> Vec<(&'static str, &'a XmlNode<'a>)> {
    let mut out = Vec::new();
    let exts: Vec<_> = mh
        .children_named("extension")
        .filter(|e| e.url.as_deref() == Some(HANDLING_URL))
        .collect();
    let Some(ext) = exts.first() else {
        r.error(
            "ITK-MH-HANDLING",
            format!("{path}.extension"),
            "exactly one Extension-ITK-MessageHandling-2 is required, found none",
        );
        return out;
    };
    if exts.len() > 1 {
        r.error(
            "ITK-MH-HANDLING",
            format!("{path}.extension"),
            "exactly one Extension-ITK-MessageHandling-2 is allowed",
        );
    }
    let epath = format!("{path}.extension(ITKMessageHandling)");
    if ext.children.iter().any(|c| c.name.starts_with("value")) {
        r.error(
            "ITK-MH-HANDLING",
            &epath,
            "the handling extension is complex and carries no value[x]",
        );
    }
    for (key, vtype) in HANDLING_KEYS {
        let rule = key_rule(key);
        let kpath = format!("{epath}.{key}");
        let found: Vec<_> = ext
            .children_named("extension")
            .filter(|s| s.url.as_deref() == Some(key))
            .collect();
        let [sub] = found.as_slice() else {
            r.error(
                rule,
                kpath,
                format!("must occur exactly once (found {})", found.len()),
            );
            continue;
        };
        let values: Vec<_> = sub
            .children
            .iter()
            .filter(|c| c.name.starts_with("value"))
            .collect();
        let [value] = values.as_slice() else {
            r.error(rule, kpath, "must carry exactly one value[x]");
            continue;
        };
        if vtype.is_some_and(|t| value.name != t) {
            r.error(
                rule,
                kpath,
                format!("value type must be {}", vtype.unwrap_or_default()),
            );
            continue;
        }
        out.push((key, *value));
    }
    if let Some(rt) = out
        .iter()
        .find(|(k, _)| *k == "RecipientType")
        .map(|(_, v)| *v)
    {
        let rpath = format!("{epath}.RecipientType");
        let rule = "ITK-MH-KEY-RecipientType";
        if rt.value_at(&["system"]) != Some(RECIPIENT_TYPE_SYSTEM) {
            r.error(rule, &rpath, "system must be ITK-RecipientType-1");
        }
        if !matches!(rt.value_at(&["code"]), Some("FA" | "FI")) {
            r.error(rule, &rpath, "code must be FA or FI");
        }
        if rt.value_at(&["display"]).is_none() {
            r.error(rule, &rpath, "display is required (1..1)");
        }
    }
    if let Some(md) = out
        .iter()
        .find(|(k, _)| *k == "MessageDefinition")
        .map(|(_, v)| *v)
        && md.value_at(&["reference"]).is_none()
    {
        r.error(
            "ITK-MH-KEY-MessageDefinition",
            format!("{epath}.MessageDefinition"),
            "valueReference.reference is required",
        );
    }
    if let Some(sr) = out
        .iter()
        .find(|(k, _)| *k == "SenderReference")
        .map(|(_, v)| *v)
        && sr.value.as_deref().is_some_and(|s| s.chars().count() > 255)
    {
        r.error(
            "ITK-MH-KEY-SenderReference",
            format!("{epath}.SenderReference"),
            "SenderReference is limited to 255 characters",
        );
    }
    out
}

fn key_rule(key: &str) -> &'static str {
    match key {
        "BusAckRequested" => "ITK-MH-KEY-BusAckRequested",
        "InfAckRequested" => "ITK-MH-KEY-InfAckRequested",
        "RecipientType" => "ITK-MH-KEY-RecipientType",
        "MessageDefinition" => "ITK-MH-KEY-MessageDefinition",
        "SenderReference" => "ITK-MH-KEY-SenderReference",
        _ => "ITK-MH-KEY-LocalExtension",
    }
}
