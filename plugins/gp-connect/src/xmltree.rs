//! The message tree the gateway built, seen as the element tree the XML reader
//! ([`crate::xmldom::parse`]) returns for its serialisation: the validator checks a message the
//! gateway is about to send without reading the 20–30 KB document back. The two trees are the
//! same (names, values, `url` attributes, namespaces, XHTML), which the tests check on every
//! golden message.

use std::borrow::Cow;

use gateway_proto::fhir::{Content, Element, FHIR_NS, Node, Value};

use crate::xmldom::{self, XmlError, XmlNode};

/// The element tree of `root`'s FHIR XML serialisation. Fails only when narrative XHTML is not
/// well-formed, as reading the serialised document would.
pub(crate) fn from_tree(root: &Node) -> Result<XmlNode<'_>, XmlError> {
    let mut node = complex(root.ty, root)?;
    node.xmlns = Some(Cow::Borrowed(FHIR_NS));
    Ok(node)
}

fn complex<'a>(name: &'a str, n: &'a Node) -> Result<XmlNode<'a>, XmlError> {
    let mut children = Vec::with_capacity(n.children.len());
    for el in &n.children {
        children.push(element(el)?);
    }
    Ok(XmlNode {
        name: Cow::Borrowed(name),
        // The datatype `id` attribute is not part of the reader's tree either.
        url: n.url.as_deref().map(Cow::Borrowed),
        children,
        ..XmlNode::default()
    })
}

fn element(el: &Element) -> Result<XmlNode<'_>, XmlError> {
    Ok(match &el.content {
        Content::Value(v) => XmlNode {
            name: Cow::Borrowed(el.name),
            value: Some(match v {
                Value::String(s) | Value::Decimal(s) => attribute_value(s),
                Value::Boolean(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
                Value::Integer(i) => Cow::Owned(i.to_string()),
            }),
            ..XmlNode::default()
        },
        Content::Complex(n) => complex(el.name, n)?,
        Content::Resource(n) => XmlNode {
            name: Cow::Borrowed(el.name),
            children: vec![complex(n.ty, n)?],
            ..XmlNode::default()
        },
        Content::Xhtml(div) => xmldom::parse(div.as_bytes())?,
    })
}

/// What the reader returns for a value the writer escaped: characters XML cannot carry are
/// dropped by the writer, so they are dropped here too.
fn attribute_value(s: &str) -> Cow<'_, str> {
    if s.chars().all(gateway_proto::fhir::xml::is_xml_char) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(
            s.chars()
                .filter(|c| gateway_proto::fhir::xml::is_xml_char(*c))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use gateway_proto::fhir::{Node, xml};

    use super::from_tree;
    use crate::xmldom;

    #[test]
    fn equals_what_the_reader_makes_of_the_serialisation() {
        let ext = Node::new("Extension")
            .with_url("https://example.org/ext")
            .child("valueCoding", Node::new("Coding").str("code", "FA"));
        let entry = Node::new("Bundle.entry")
            .str("fullUrl", "urn:uuid:1")
            .resource_child(
                "resource",
                Node::resource("Patient", "1")
                    .xhtml(
                        "div",
                        "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>x &amp; y</p></div>",
                    )
                    .item("extension", ext)
                    .str("gender", "a\"<&>\n\r\t\u{1}b é")
                    .boolean("active", true),
            );
        let bundle = Node::resource("Bundle", "b").item("entry", entry);
        let text = xml::to_xml(&bundle);
        assert_eq!(from_tree(&bundle), xmldom::parse(text.as_bytes()));
    }
}
