//! FHIR STU3 XML writer (spec itk3-gpconnect §10.1): resource ids as `<id value>` children,
//! primitives in `value` attributes, extension `url` and datatype `id` as attributes, resources
//! in entries wrapped in `<resource>`, narrative XHTML verbatim, no XML declaration (the official
//! examples carry none). Output is compact (no indentation): a GP Connect message is about a
//! third whitespace when indented, which every send, store and validation would pay for;
//! `xmllint --format` shows it indented.

use super::{Content, Element, FHIR_NS, Node, Value};

/// Serialises a resource (normally the message Bundle) as a FHIR XML document.
pub fn to_xml(root: &Node) -> String {
    let mut out = String::with_capacity(16 * 1024);
    out.push('<');
    out.push_str(root.ty);
    out.push_str(" xmlns=\"");
    out.push_str(FHIR_NS);
    out.push('"');
    write_body(&mut out, root);
    out.push_str(root.ty);
    out.push_str(">\n");
    out
}

/// Writes `>`, the children and `</`; the caller appends the name.
fn write_body(out: &mut String, node: &Node) {
    out.push('>');
    for child in &node.children {
        write_element(out, child);
    }
    out.push_str("</");
}

fn write_element(out: &mut String, el: &Element) {
    match &el.content {
        Content::Value(v) => {
            out.push('<');
            out.push_str(el.name);
            out.push_str(" value=\"");
            match v {
                Value::String(s) | Value::Decimal(s) => escape_attr(out, s),
                Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
                Value::Integer(i) => out.push_str(&i.to_string()),
            }
            out.push_str("\"/>");
        }
        Content::Complex(node) => {
            out.push('<');
            out.push_str(el.name);
            if let Some(id) = &node.id {
                out.push_str(" id=\"");
                escape_attr(out, id);
                out.push('"');
            }
            if let Some(url) = &node.url {
                out.push_str(" url=\"");
                escape_attr(out, url);
                out.push('"');
            }
            if node.children.is_empty() {
                out.push_str("/>");
                return;
            }
            write_body(out, node);
            out.push_str(el.name);
            out.push('>');
        }
        Content::Resource(node) => {
            out.push('<');
            out.push_str(el.name);
            out.push_str("><");
            out.push_str(node.ty);
            write_body(out, node);
            out.push_str(node.ty);
            out.push_str("></");
            out.push_str(el.name);
            out.push('>');
        }
        Content::Xhtml(div) => {
            out.push_str(div);
        }
    }
}

/// Escapes an attribute value. Whitespace controls become character references so that they
/// survive attribute-value normalisation; characters XML 1.0 cannot carry at all are dropped
/// (inputs are validated upstream, this only keeps the document well-formed).
pub fn escape_attr(out: &mut String, s: &str) {
    // Copy runs that need nothing in one go; stop at markup characters, controls and 0xEF
    // (the lead byte of U+FFFE / U+FFFF, the only non-ASCII characters XML forbids in a str).
    let mut rest = s;
    while let Some(i) = rest
        .bytes()
        .position(|b| matches!(b, b'&' | b'<' | b'>' | b'"' | 0xEF) || b < 0x20)
    {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let Some(c) = tail.chars().next() else {
            break;
        };
        escape_attr_char(out, c);
        rest = &tail[c.len_utf8()..];
    }
    out.push_str(rest);
}

fn escape_attr_char(out: &mut String, c: char) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        '\n' => out.push_str("&#10;"),
        '\r' => out.push_str("&#13;"),
        '\t' => out.push_str("&#9;"),
        c if is_xml_char(c) => out.push(c),
        _ => {}
    }
}

/// XML 1.0 `Char` production.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
        || c >= '\u{10000}'
}

/// Escapes text for XHTML narrative content.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c if is_xml_char(c) => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_stu3_xml_rules() {
        let ext = Node::new("Extension")
            .with_url("https://example.org/ext")
            .child("valueCoding", Node::new("Coding").str("code", "FA"));
        let entry = Node::new("Bundle.entry")
            .str("fullUrl", "urn:uuid:1")
            .resource_child(
                "resource",
                Node::resource("Patient", "1")
                    .xhtml("div", "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>")
                    .item("extension", ext)
                    .str("gender", "a\"<&>\n\u{1}b")
                    .boolean("active", true),
            );
        let xml = to_xml(&Node::resource("Bundle", "b").item("entry", entry));
        let expected = concat!(
            r#"<Bundle xmlns="http://hl7.org/fhir"><id value="b"/><entry><fullUrl value="urn:uuid:1"/>"#,
            r#"<resource><Patient><id value="1"/><div xmlns="http://www.w3.org/1999/xhtml">x</div>"#,
            r#"<extension url="https://example.org/ext"><valueCoding><code value="FA"/></valueCoding>"#,
            r#"</extension><gender value="a&quot;&lt;&amp;&gt;&#10;b"/><active value="true"/>"#,
            r#"</Patient></resource></entry></Bundle>"#,
            "\n"
        );
        assert_eq!(xml, expected);
    }

    #[test]
    fn attribute_escaping_keeps_plain_runs_and_drops_what_xml_cannot_carry() {
        let mut out = String::new();
        escape_attr(&mut out, "Zoë & \u{FFFE}co\u{1}\r\"é\u{FFFF}");
        assert_eq!(out, "Zoë &amp; co&#13;&quot;é");
    }

    #[test]
    fn text_escaping() {
        assert_eq!(escape_text("a<b>&c\u{0}"), "a&lt;b&gt;&amp;c");
    }
}
