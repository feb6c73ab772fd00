//! Constructors for the STU3 datatypes the gateway writes, each emitting its children in STU3
//! order so that callers only assemble them.

use super::Node;

/// SNOMED CT code system URI.
pub const SNOMED: &str = "http://snomed.info/sct";
/// UCUM code system URI.
pub const UCUM: &str = "http://unitsofmeasure.org";

/// `Coding` with an optional display.
pub fn coding(system: &str, code: &str, display: Option<&str>) -> Node {
    Node::new("Coding")
        .str("system", system)
        .str("code", code)
        .opt_str("display", display)
}

/// `CodeableConcept` with one coding and, when given, a text.
pub fn concept(system: &str, code: &str, display: Option<&str>, text: Option<&str>) -> Node {
    Node::new("CodeableConcept")
        .item("coding", coding(system, code, display))
        .opt_str("text", text)
}

/// `CodeableConcept` with one coding whose display is also the text (the GP Connect examples'
/// habit, which GP systems show when they do not know the code).
pub fn concept_text(system: &str, code: &str, display: &str) -> Node {
    concept(system, code, Some(display), Some(display))
}

/// SNOMED CT `CodeableConcept` with display and text.
pub fn snomed(code: &str, display: &str) -> Node {
    concept_text(SNOMED, code, display)
}

/// `Reference` by URL (urn:uuid in ITK3).
pub fn reference(url: &str) -> Node {
    Node::new("Reference").str("reference", url)
}

/// `Reference` to a resource of this message by its UUID.
pub fn urn_ref(uuid: &str) -> Node {
    reference(&format!("urn:uuid:{uuid}"))
}

/// `Identifier` with system and value.
pub fn identifier(system: &str, value: &str) -> Node {
    Node::new("Identifier")
        .str("system", system)
        .str("value", value)
}

/// `Quantity` with value, unit, system and code (decimal in lexical form).
pub fn quantity(value: &str, unit: &str, system: &str, code: &str) -> Node {
    Node::new("Quantity")
        .decimal("value", value)
        .str("unit", unit)
        .str("system", system)
        .str("code", code)
}

/// `Meta` with optional lastUpdated, one profile and tags (Codings).
pub fn meta(last_updated: Option<&str>, profile: &str, tags: Vec<Node>) -> Node {
    Node::new("Meta")
        .opt_str("lastUpdated", last_updated)
        .str_item("profile", profile)
        .items("tag", tags)
}

/// `Period` with start and optional end.
pub fn period(start: &str, end: Option<&str>) -> Node {
    Node::new("Period").str("start", start).opt_str("end", end)
}

/// Complex `Extension` with sub-extensions.
pub fn extension_complex(url: &str, subs: Vec<Node>) -> Node {
    Node::new("Extension")
        .with_url(url)
        .items("extension", subs)
}

/// `Extension` carrying one complex `value[x]` (`value_name` e.g. `valueCoding`).
pub fn extension_node(url: &str, value_name: &'static str, value: Node) -> Node {
    Node::new("Extension")
        .with_url(url)
        .child(value_name, value)
}

/// `Extension` carrying a `valueString`.
pub fn extension_string(url: &str, value: &str) -> Node {
    Node::new("Extension")
        .with_url(url)
        .str("valueString", value)
}

/// `Extension` carrying a `valueBoolean`.
pub fn extension_bool(url: &str, value: bool) -> Node {
    Node::new("Extension")
        .with_url(url)
        .boolean("valueBoolean", value)
}

#[cfg(test)]
mod tests {
    use super::super::order;
    use super::*;

    #[test]
    fn datatypes_are_in_stu3_order() {
        let r = Node::resource("Observation", "o")
            .child(
                "meta",
                meta(
                    Some("2026-01-01T00:00:00Z"),
                    "p",
                    vec![coding("s", "c", None)],
                ),
            )
            .item("identifier", identifier("s", "v"))
            .child("code", snomed("271649006", "Systolic blood pressure"))
            .child("subject", urn_ref("x"))
            .child("valueQuantity", quantity("1.5", "kg", UCUM, "kg"))
            .item(
                "component",
                Node::new("Observation.component").child("code", snomed("1", "d")),
            );
        assert!(order::check(&r).is_empty(), "{:?}", order::check(&r));
        let e = extension_complex(
            "u",
            vec![extension_bool("a", true), extension_string("b", "c")],
        );
        let p = Node::resource("MessageHeader", "m").item("extension", e);
        assert!(order::check(&p).is_empty(), "{:?}", order::check(&p));
        assert_eq!(period("a", None).children.len(), 1);
        assert_eq!(
            extension_node("u", "valueCoding", coding("s", "c", None))
                .url
                .as_deref(),
            Some("u")
        );
    }
}
