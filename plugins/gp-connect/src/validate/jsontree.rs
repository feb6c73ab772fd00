//! FHIR JSON → the same element tree the XML reader builds, so that one set of checks serves both
//! formats. The JSON text rules are checked on the way: no duplicate keys (`JSON-DUPKEY`), no
//! `null` (`JSON-NULL`), no empty strings, arrays or objects (`JSON-EMPTY`). Arrays become
//! repeated children marked as array items; `resourceType` names the resource node; an
//! extension's `url` becomes the node's url, as the XML attribute would.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::Report;
use crate::xmldom::{JsonPrimitive, JsonShape, XmlError, XmlNode};

/// A JSON value that keeps duplicate keys and the lexical kind of numbers.
enum J {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl<'de> Deserialize<'de> for J {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JVisitor)
    }
}

struct JVisitor;

impl<'de> Visitor<'de> for JVisitor {
    type Value = J;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<J, E> {
        Ok(J::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<J, E> {
        Ok(J::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<J, E> {
        Ok(J::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<J, E> {
        Ok(J::Num(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<J, E> {
        Ok(J::Num(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<J, E> {
        Ok(J::Num(v.to_string()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<J, E> {
        Ok(J::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<J, E> {
        Ok(J::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<J, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(J::Arr(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<J, A::Error> {
        let mut pairs = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, J>()? {
            pairs.push((k, v));
        }
        Ok(J::Obj(pairs))
    }
}

/// Reads a FHIR JSON resource into a tree; `None` (with the reason reported) when it is not
/// well-formed JSON or not a Bundle. Checks the JSON text rules on the way.
pub(crate) fn parse(text: &[u8], r: &mut Report) -> Option<XmlNode<'static>> {
    let value = match read_value(text) {
        Ok(v) => v,
        Err(e) => {
            r.error("FMT-PARSE", "$", e.to_string());
            return None;
        }
    };
    sanity(&value, "Bundle", r);
    match &value {
        J::Obj(pairs) if resource_type(pairs) == Some("Bundle") => {
            Some(resource(pairs, "Bundle", None))
        }
        _ => {
            r.error(
                "FMT-ROOT",
                "$",
                "the top-level JSON object must have resourceType Bundle",
            );
            None
        }
    }
}

/// Reads any FHIR JSON resource into a tree (the root named by its `resourceType`), for the
/// tolerant readers of headers and responses.
///
/// # Errors
/// [`XmlError::Json`] when the text is not JSON; [`XmlError::Empty`] when it is not a resource.
pub(crate) fn read(text: &[u8]) -> Result<XmlNode<'static>, XmlError> {
    match read_value(text)? {
        J::Obj(pairs) => match resource_type(&pairs) {
            Some(rt) => Ok(resource(&pairs, rt, None)),
            None => Err(XmlError::Empty),
        },
        _ => Err(XmlError::Empty),
    }
}

fn read_value(text: &[u8]) -> Result<J, XmlError> {
    // serde_json's errors on untyped input quote no content, only the position.
    serde_json::from_slice(text).map_err(|e| XmlError::Json {
        line: e.line(),
        column: e.column(),
    })
}

fn resource_type(pairs: &[(String, J)]) -> Option<&str> {
    pairs.iter().find_map(|(k, v)| match (k.as_str(), v) {
        ("resourceType", J::Str(s)) => Some(s.as_str()),
        _ => None,
    })
}

/// JSON text rules, reported once per offending property.
fn sanity(v: &J, path: &str, r: &mut Report) {
    match v {
        J::Null => r.error("JSON-NULL", path, "null is not allowed in FHIR JSON"),
        J::Str(s) if s.is_empty() => r.error("JSON-EMPTY", path, "empty string is not allowed"),
        J::Arr(items) => {
            if items.is_empty() {
                r.error("JSON-EMPTY", path, "empty array is not allowed");
            }
            for (i, item) in items.iter().enumerate() {
                // `null` is legal inside primitive arrays paired with `_name` arrays.
                if !matches!(item, J::Null) {
                    sanity(item, &format!("{path}[{i}]"), r);
                }
            }
        }
        J::Obj(pairs) => {
            if pairs.is_empty() {
                r.error("JSON-EMPTY", path, "empty object is not allowed (ele-1)");
            }
            let mut seen: Vec<&str> = Vec::new();
            for (k, v) in pairs {
                if seen.contains(&k.as_str()) {
                    r.error(
                        "JSON-DUPKEY",
                        format!("{path}.{k}"),
                        "duplicate JSON property",
                    );
                }
                seen.push(k);
                sanity(v, &format!("{path}.{k}"), r);
            }
        }
        J::Bool(_) | J::Num(_) | J::Str(_) => {}
    }
}

fn resource(pairs: &[(String, J)], name: &str, shape: Option<JsonShape>) -> XmlNode<'static> {
    let mut node = XmlNode {
        name: name.to_owned().into(),
        json: shape,
        ..XmlNode::default()
    };
    fill(&mut node, pairs, true, false);
    node
}

fn fill(node: &mut XmlNode, pairs: &[(String, J)], is_resource: bool, is_extension: bool) {
    for (k, v) in pairs {
        match k.as_str() {
            "resourceType" | "fhir_comments" => continue,
            "url" if is_extension => {
                if let J::Str(s) = v {
                    node.url = Some(s.clone().into());
                }
                continue;
            }
            // Element.id of datatypes is an XML attribute; resources carry `id` as an element.
            "id" if !is_resource => continue,
            k if k.starts_with('_') => continue,
            _ => {}
        }
        match v {
            J::Arr(items) => {
                for item in items {
                    if let Some(child) = element(k, item, true) {
                        node.children.push(child);
                    }
                }
            }
            other => {
                if let Some(child) = element(k, other, false) {
                    node.children.push(child);
                }
            }
        }
    }
}

fn element(name: &str, v: &J, array: bool) -> Option<XmlNode<'static>> {
    let shape = |primitive| JsonShape { array, primitive };
    let leaf = |value: String, kind| XmlNode {
        name: name.to_owned().into(),
        value: Some(value.into()),
        json: Some(shape(Some(kind))),
        ..XmlNode::default()
    };
    Some(match v {
        J::Null => return None,
        J::Bool(b) => leaf(b.to_string(), JsonPrimitive::Bool),
        J::Num(n) => leaf(n.clone(), JsonPrimitive::Number),
        J::Str(s) => leaf(s.clone(), JsonPrimitive::String),
        // Arrays of arrays are not FHIR; keep the node so that the structure check names it.
        J::Arr(_) => XmlNode {
            name: name.to_owned().into(),
            json: Some(shape(None)),
            ..XmlNode::default()
        },
        J::Obj(pairs) => match resource_type(pairs) {
            Some(rt) => XmlNode {
                name: name.to_owned().into(),
                json: Some(shape(None)),
                children: vec![resource(pairs, rt, Some(shape(None)))],
                ..XmlNode::default()
            },
            None => {
                let mut node = XmlNode {
                    name: name.to_owned().into(),
                    json: Some(shape(None)),
                    ..XmlNode::default()
                };
                let ext = matches!(name, "extension" | "modifierExtension");
                fill(&mut node, pairs, false, ext);
                node
            }
        },
    })
}
