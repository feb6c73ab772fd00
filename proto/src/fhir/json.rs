//! FHIR STU3 JSON writer (the default wire format is XML, spec §10.1; routes may choose JSON):
//! `resourceType` first, then the elements in STU3 order, repeating elements as arrays, decimals
//! written as JSON numbers in their lexical form, narrative XHTML as a string.

use serde_json::{Map, Value as Json};

use super::{Content, Node, Value};

/// Converts a resource to FHIR JSON.
pub fn to_json_value(resource: &Node) -> Json {
    let mut map = Map::new();
    map.insert("resourceType".into(), Json::String(resource.ty.to_owned()));
    fill(&mut map, resource);
    Json::Object(map)
}

/// Serialises a resource as pretty-printed FHIR JSON (two-space indent), keeping
/// `resourceType` first and the element order of the tree.
pub fn to_json(resource: &Node) -> String {
    let mut out = String::with_capacity(16 * 1024);
    write_object(&mut out, resource, Some(resource.ty), 0);
    out
}

/// Members of a node in tree order, repeated names gathered into one array member.
fn members(node: &Node) -> Vec<(&'static str, bool, Vec<&Content>)> {
    let mut out: Vec<(&'static str, bool, Vec<&Content>)> = Vec::new();
    for el in &node.children {
        match out.iter_mut().find(|(name, _, _)| *name == el.name) {
            Some((_, _, items)) => items.push(&el.content),
            None => out.push((el.name, el.repeats, vec![&el.content])),
        }
    }
    out
}

fn write_object(out: &mut String, node: &Node, resource_type: Option<&str>, depth: usize) {
    let attributes = [
        ("resourceType", resource_type),
        ("id", node.id.as_deref()),
        ("url", node.url.as_deref()),
    ];
    out.push('{');
    let mut first = true;
    let mut sep = |out: &mut String| {
        out.push_str(if first { "\n" } else { ",\n" });
        first = false;
        indent(out, depth + 1);
    };
    for (name, value) in attributes {
        if let Some(value) = value {
            sep(out);
            write_str(out, name);
            out.push_str(": ");
            write_str(out, value);
        }
    }
    for (name, repeats, items) in members(node) {
        sep(out);
        write_str(out, name);
        out.push_str(": ");
        if repeats {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                indent(out, depth + 2);
                write_content(out, item, depth + 2);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            indent(out, depth + 1);
            out.push(']');
        } else if let Some(last) = items.last() {
            write_content(out, last, depth + 1);
        }
    }
    if !first {
        out.push('\n');
        indent(out, depth);
    }
    out.push('}');
}

fn write_content(out: &mut String, content: &Content, depth: usize) {
    match content {
        Content::Value(v) => out.push_str(&primitive(v).to_string()),
        Content::Complex(n) => write_object(out, n, None, depth),
        Content::Resource(n) => write_object(out, n, Some(n.ty), depth),
        Content::Xhtml(s) => write_str(out, s),
    }
}

fn write_str(out: &mut String, s: &str) {
    out.push_str(&Json::String(s.to_owned()).to_string());
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn fill(map: &mut Map<String, Json>, node: &Node) {
    if let Some(id) = &node.id {
        map.insert("id".into(), Json::String(id.clone()));
    }
    if let Some(url) = &node.url {
        map.insert("url".into(), Json::String(url.clone()));
    }
    for el in &node.children {
        let value = match &el.content {
            Content::Value(v) => primitive(v),
            Content::Complex(n) => {
                let mut m = Map::new();
                fill(&mut m, n);
                Json::Object(m)
            }
            Content::Resource(n) => to_json_value(n),
            Content::Xhtml(s) => Json::String(s.clone()),
        };
        if el.repeats {
            match map
                .entry(el.name)
                .or_insert_with(|| Json::Array(Vec::new()))
            {
                Json::Array(items) => items.push(value),
                // A name used both single and repeating is a builder bug; keep the last value.
                other => *other = value,
            }
        } else {
            map.insert(el.name.into(), value);
        }
    }
}

fn primitive(v: &Value) -> Json {
    match v {
        Value::String(s) => Json::String(s.clone()),
        Value::Boolean(b) => Json::Bool(*b),
        Value::Integer(i) => Json::from(*i),
        Value::Decimal(s) => s
            .parse::<serde_json::Number>()
            .map(Json::Number)
            .unwrap_or_else(|_| Json::String(s.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_resource_type_and_numbers() {
        let p = Node::resource("Observation", "o1")
            .item("identifier", Node::new("Identifier").str("value", "x"))
            .child(
                "valueQuantity",
                Node::new("Quantity").decimal("value", "37.1"),
            )
            .resource_child("resource", Node::resource("Patient", "p"));
        let j = to_json_value(&p);
        assert_eq!(j["resourceType"], "Observation");
        assert_eq!(j["identifier"][0]["value"], "x");
        assert_eq!(j["valueQuantity"]["value"].to_string(), "37.1");
        assert_eq!(j["resource"]["resourceType"], "Patient");
        let text = to_json(&p);
        assert!(text.starts_with("{\n  \"resourceType\": \"Observation\",\n  \"id\": \"o1\""));
        let back: Json = serde_json::from_str(&text).unwrap();
        assert_eq!(back, j);
    }
}
