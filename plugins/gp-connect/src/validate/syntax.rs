//! STU3 syntax on the element tree, typed by [`gateway_proto::fhir::stu3`]: known element names,
//! definition order and repetition (XML), arrays (JSON), no empty elements, only `value` / `url`
//! / `id` attributes, primitive formats and JSON types, required bindings, base minimum
//! cardinalities. Types outside the table (rare resources, some backbone elements) are walked
//! for the type-independent rules only.

use gateway_proto::fhir::stu3::{self, ChildInfo};
use gateway_proto::fhir::{FHIR_NS, XHTML_NS};

use super::Report;
use super::path::Path;
use super::primitives::{binding, format_problem, required};
use crate::xmldom::{JsonPrimitive, XmlNode};

/// Checks the whole tree under the root Bundle.
pub(super) fn check(root: &XmlNode, json: bool, r: &mut Report) {
    let mut w = Walker { json, r };
    w.node(root, Some("Bundle"), &Path::root("Bundle"));
}

struct Walker<'r> {
    json: bool,
    r: &'r mut Report,
}

impl Walker<'_> {
    /// Checks `node` (of type `ty` when known) and everything below it.
    fn node(&mut self, node: &XmlNode, ty: Option<&str>, path: &Path<'_>) {
        self.attributes(node, path);
        let table_known = ty.is_some_and(stu3::is_known);
        let mut last: Option<(usize, &str)> = None;
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for child in &node.children {
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
            let cpath = path.field(&child.name);
            if child.xhtml {
                self.xhtml_div(child, ty, &cpath);
                continue;
            }
            let info = match ty.filter(|_| table_known) {
                None => None,
                Some(t) => match stu3::child(t, &child.name) {
                    Some(info) => Some(info),
                    None => {
                        let rule = if self.json {
                            "FHIR-STRUCT"
                        } else {
                            "XML-UNKNOWN"
                        };
                        self.r
                            .error(rule, cpath, format!("not an element of {}", t));
                        continue;
                    }
                },
            };
            let ipath = match info {
                Some(i) if i.repeats => path.item(&child.name, n),
                _ => cpath,
            };
            if let Some(info) = info
                && !self.placement(child, info, n, &mut last, &cpath)
            {
                continue;
            }
            match info.map(|i| i.ty) {
                Some("Resource") => self.resource_slot(child, &ipath),
                Some(t) if stu3::is_primitive(t) => self.primitive(child, ty, t, &ipath),
                Some(t) => self.complex(child, Some(t), &ipath),
                None if child.value.is_some() => self.untyped_leaf(child, &ipath),
                None => self.complex(child, None, &ipath),
            }
        }
        if let Some(t) = ty.filter(|_| table_known) {
            for req in required(t) {
                let present = node.children.iter().any(|c| {
                    c.name == *req
                        || c.name.strip_prefix(req).is_some_and(|rest| {
                            rest.starts_with(|ch: char| ch.is_ascii_uppercase())
                        })
                });
                if !present {
                    self.r.error(
                        "FHIR-STRUCT",
                        path.field(req),
                        format!("{req} is required (STU3 {t})"),
                    );
                }
            }
        }
    }

    /// Order and repetition (XML) or array shape (JSON); false when the child must be skipped.
    fn placement<'a>(
        &mut self,
        child: &'a XmlNode<'a>,
        info: ChildInfo,
        n: usize,
        last: &mut Option<(usize, &'a str)>,
        cpath: &Path<'_>,
    ) -> bool {
        if self.json {
            if let Some(shape) = child.json
                && shape.array != info.repeats
            {
                let what = if info.repeats {
                    "must be an array"
                } else {
                    "must not be an array"
                };
                self.r.error("FHIR-STRUCT", cpath, what);
            }
            return true;
        }
        if n >= 1 && !info.repeats {
            self.r.error("XML-REPEAT", cpath, "may occur at most once");
            return false;
        }
        if let Some((prev, prev_name)) = *last
            && info.index < prev
        {
            self.r.error(
                "XML-ORDER",
                cpath,
                format!("appears after <{prev_name}>; STU3 requires it before"),
            );
            return true;
        }
        *last = Some((info.index, &child.name));
        true
    }

    fn attributes(&mut self, node: &XmlNode, path: &Path<'_>) {
        for a in &node.other_attrs {
            self.r
                .error("XML-ATTR", path, format!("unexpected attribute '{a}'"));
        }
        if node.has_text {
            self.r.error(
                "XML-TEXT",
                path,
                "text content is not allowed in FHIR XML (use value attributes)",
            );
        }
        if !self.json && node.xmlns.as_deref().is_some_and(|ns| ns != FHIR_NS) && !node.xhtml {
            self.r
                .error("XML-NS", path, "element is not in the FHIR namespace");
        }
    }

    fn xhtml_div(&mut self, div: &XmlNode, parent: Option<&str>, path: &Path<'_>) {
        if div.name != "div" || parent.is_some_and(|p| p != "Narrative") {
            self.r
                .error("XML-NS", path, "XHTML is only allowed as the narrative div");
        }
    }

    fn resource_slot(&mut self, slot: &XmlNode, path: &Path<'_>) {
        if slot.value.is_some() || slot.children.len() != 1 {
            self.r
                .error("XML-RESOURCE", path, "must contain exactly one resource");
            return;
        }
        for res in &slot.children {
            let rpath = path.resource(&res.name);
            let known = stu3::is_resource(&res.name);
            if !self.json && res.xmlns.as_deref().is_some_and(|ns| ns != FHIR_NS) {
                self.r
                    .error("XML-NS", rpath, "resource is not in the FHIR namespace");
            }
            self.node(res, known.then_some(res.name.as_ref()), &rpath);
        }
    }

    fn complex(&mut self, node: &XmlNode, ty: Option<&str>, path: &Path<'_>) {
        if node.value.is_some() {
            self.r.error(
                "XML-ATTR",
                path,
                "a complex element carries no value (only id and url attributes)",
            );
        }
        if node.children.is_empty() && node.url.is_none() {
            self.r.error(
                "XML-EMPTY",
                path,
                "element has no value and no children (ele-1)",
            );
            return;
        }
        if self.json && node.json.is_some_and(|s| s.primitive.is_some()) {
            self.r.error("FHIR-STRUCT", path, "must be a JSON object");
            return;
        }
        self.node(node, ty, path);
    }

    fn untyped_leaf(&mut self, node: &XmlNode, path: &Path<'_>) {
        if node.value.as_deref() == Some("") {
            self.r.error("XML-EMPTY", path, "@value must not be empty");
        }
    }

    fn primitive(&mut self, node: &XmlNode, parent: Option<&str>, ty: &str, path: &Path<'_>) {
        self.attributes(node, path);
        let Some(v) = node.value.as_deref() else {
            let only_extensions =
                !node.children.is_empty() && node.children.iter().all(|c| c.name == "extension");
            if !only_extensions {
                self.r.error(
                    "XML-EMPTY",
                    path,
                    "primitive element has neither a value nor extensions (ele-1)",
                );
            }
            return;
        };
        if v.is_empty() {
            self.r.error("XML-EMPTY", path, "@value must not be empty");
            return;
        }
        if ty == "xhtml" {
            // JSON narrative: the div travels as a string.
            if !(v.starts_with("<div") && v.contains(XHTML_NS)) {
                self.r.error(
                    "FHIR-STRUCT",
                    path,
                    "narrative must be a div in the XHTML namespace",
                );
            }
            return;
        }
        if let Some(kind) = node.json.and_then(|s| s.primitive) {
            let expected = match ty {
                "boolean" => JsonPrimitive::Bool,
                "integer" | "positiveInt" | "unsignedInt" | "decimal" => JsonPrimitive::Number,
                _ => JsonPrimitive::String,
            };
            if kind != expected {
                self.r.error(
                    "FHIR-STRUCT",
                    path,
                    format!("must be a JSON {}", json_kind(expected)),
                );
                return;
            }
        }
        if let Some(problem) = format_problem(ty, v) {
            let rule = match ty {
                "boolean" | "integer" | "positiveInt" | "unsignedInt" | "decimal" => "XML-VALUE",
                _ => "FHIR-STRUCT",
            };
            self.r.error(rule, path, problem);
            return;
        }
        let bound = parent.and_then(|p| binding(p, &node.name));
        if let Some(codes) = bound.filter(|codes| !codes.contains(&v)) {
            self.r.error(
                "FHIR-CODE",
                path,
                format!("not in the required value set ({})", codes.join(" | ")),
            );
        }
    }
}

fn json_kind(k: JsonPrimitive) -> &'static str {
    match k {
        JsonPrimitive::Bool => "boolean",
        JsonPrimitive::Number => "number",
        JsonPrimitive::String => "string",
    }
}
