//! Bundle rules (spec §3.1, §3.6, §9 #5/#6/#9): urn:uuid fullUrls, unique and matching the
//! resource id; every in-message reference resolves inside its own bundle (the nested document
//! bundle is its own scope); MessageHeader first in a message, Composition first and alone in a
//! document, document identifier; and the SNOMED CT / dm+d check digits of every coding.

use super::Report;
use super::path::Path;
use crate::checks::{is_uuid, sctid_valid};
use crate::xmldom::XmlNode;

const SNOMED: &str = "http://snomed.info/sct";
const DMD: &str = "https://dmd.nhs.uk";
const UCUM: &str = "http://unitsofmeasure.org";

/// The resource an in-bundle reference points at: by `fullUrl`, or by `Type/id`.
pub(crate) fn resolve<'a>(bundle: &'a XmlNode<'a>, reference: &str) -> Option<&'a XmlNode<'a>> {
    bundle.resolve(reference).or_else(|| {
        let (ty, id) = reference.split_once('/')?;
        bundle
            .entries()
            .filter_map(|(_, r)| r)
            .find(|r| r.name == ty && r.value_at(&["id"]) == Some(id))
    })
}

/// `(index, resource)` of the entries of type `ty`.
pub(crate) fn of_type<'a>(
    bundle: &'a XmlNode<'a>,
    ty: &'a str,
) -> impl Iterator<Item = (usize, &'a XmlNode<'a>)> + 'a {
    bundle
        .entries()
        .enumerate()
        .filter_map(move |(i, (_, r))| r.filter(|r| r.name == ty).map(|r| (i, r)))
}

/// Checks one bundle (not its nested bundles, which are their own scope).
pub(super) fn check_bundle(bundle: &XmlNode, path: &str, r: &mut Report) {
    let btype = bundle.value_at(&["type"]);
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for (i, (url, res)) in bundle.entries().enumerate() {
        let epath = format!("{path}.entry[{i}]");
        let Some(url) = url else {
            r.error(
                "BDL-FULLURL",
                epath,
                "every ITK3 entry needs a fullUrl urn:uuid:<resource id>",
            );
            continue;
        };
        if let Some((_, first)) = seen.iter().find(|(u, _)| *u == url) {
            r.error(
                "BDL-FULLURL-UNIQUE",
                &epath,
                format!("fullUrl duplicates entry[{first}] (bdl-7)"),
            );
        }
        seen.push((url, i));
        match url.strip_prefix("urn:uuid:") {
            Some(u) if !is_uuid(u) => {
                r.error(
                    "BDL-UUID",
                    format!("{epath}.fullUrl"),
                    "not a valid urn:uuid",
                );
            }
            Some(u) => {
                let id = res.and_then(|res| res.value_at(&["id"]));
                if id.is_some_and(|id| id != u) {
                    r.warn(
                        "BDL-FULLURL-ID",
                        &epath,
                        "resource.id differs from the UUID in fullUrl",
                    );
                }
            }
            None => r.error(
                "BDL-FULLURL",
                format!("{epath}.fullUrl"),
                "ITK3 identifies entries by urn:uuid fullUrls",
            ),
        }
    }
    for (i, (_, res)) in bundle.entries().enumerate() {
        let Some(res) = res.filter(|res| res.name != "Bundle") else {
            continue;
        };
        let rpath = format!("{path}.entry[{i}].resource({})", res.name);
        for reference in references(res) {
            if reference.starts_with('#')
                || (btype == Some("message")
                    && reference.starts_with("https://fhir.nhs.uk/")
                    && reference.contains("MessageDefinition"))
                || resolve(bundle, reference).is_some()
            {
                continue;
            }
            let internal = reference.starts_with("urn:uuid:")
                || reference.starts_with("urn:oid:")
                || !reference.contains("://");
            if internal {
                r.error(
                    "REF-RESOLVE",
                    &rpath,
                    "a reference does not resolve to an entry in this bundle",
                );
            } else {
                r.warn(
                    "REF-EXTERNAL",
                    &rpath,
                    "an absolute reference is not in the bundle",
                );
            }
        }
    }
    let first = bundle.entries().next().and_then(|(_, r)| r);
    match btype {
        Some("message") => {
            if first.is_none_or(|f| f.name != "MessageHeader") {
                r.error(
                    "MSG-FIRST",
                    format!("{path}.entry[0]"),
                    "the first entry of a message bundle must be the MessageHeader",
                );
            }
            if of_type(bundle, "MessageHeader").count() > 1 {
                r.error(
                    "MSG-FIRST",
                    path,
                    "a message bundle must contain exactly one MessageHeader",
                );
            }
        }
        Some("document") => {
            if first.is_none_or(|f| f.name != "Composition") {
                r.error(
                    "DOC-FIRST",
                    format!("{path}.entry[0]"),
                    "the first entry of a document bundle must be the Composition",
                );
            }
            if of_type(bundle, "Composition").count() != 1 {
                r.error(
                    "DOC-FIRST",
                    path,
                    "a document bundle must contain exactly one Composition",
                );
            }
            if bundle.value_at(&["identifier", "value"]).is_none() {
                r.error(
                    "DOC-IDENTIFIER",
                    format!("{path}.identifier"),
                    "the document bundle needs identifier.value (ITK-Document-Bundle-1 1..1)",
                );
            }
            if bundle.value_at(&["meta", "lastUpdated"]).is_none() {
                r.warn(
                    "DOC-LASTUPDATED",
                    format!("{path}.meta.lastUpdated"),
                    "FHIR documents should carry meta.lastUpdated",
                );
            }
        }
        _ => {}
    }
}

/// Every `reference/@value` below `node`, not descending into nested Bundles.
pub(super) fn references<'a>(node: &'a XmlNode<'a>) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if let (true, Some(v)) = (n.name == "reference", n.value.as_deref()) {
            out.push(v);
        }
        stack.extend(
            n.children.iter().filter(|c| {
                !(c.name == "resource" && c.children.iter().any(|r| r.name == "Bundle"))
            }),
        );
    }
    out
}

/// SNOMED CT / dm+d identifiers (format, partition, Verhoeff) and UCUM codes of every
/// system + code pair in the tree (Codings and Quantities).
pub(super) fn check_codes(node: &XmlNode, path: &Path<'_>, r: &mut Report) {
    if let (Some(system), Some(code)) = (node.value_at(&["system"]), node.value_at(&["code"])) {
        if (system == SNOMED || system == DMD) && !sctid_valid(code) {
            r.error(
                "SNOMED-SCTID",
                path,
                "code is not a valid SNOMED CT / dm+d identifier (format, partition or Verhoeff \
                 check digit)",
            );
        }
        if system == UCUM && code.chars().any(char::is_whitespace) {
            r.error("UCUM", path, "UCUM codes must not contain whitespace");
        }
    }
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for child in node.children.iter().filter(|c| !c.xhtml) {
        if child.name == "resource" {
            let slot = path.field("resource");
            for res in &child.children {
                check_codes(res, &slot.resource(&res.name), r);
            }
            continue;
        }
        let n = match counts.iter_mut().find(|(name, _)| *name == child.name) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                counts.push((&child.name, 0));
                0
            }
        };
        check_codes(child, &path.item(&child.name, n), r);
    }
}
