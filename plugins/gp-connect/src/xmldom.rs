//! A tolerant FHIR XML reader: builds a small element tree (local names, `value` / `url` / `id` /
//! `xmlns` attributes, children) from any well-formed document. Readers of ITK3 responses and
//! headers navigate it by element names, so namespace prefixes, comments, whitespace and element
//! order of the sender do not matter.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::events::attributes::Attributes;
use quick_xml::events::{BytesStart, Event};

/// Deeper nesting than any FHIR message needs; bounds memory on hostile input.
const MAX_DEPTH: usize = 128;

/// One XML element. Names and values borrow from the document unless they had to be unescaped:
/// the validator reads every message the gateway sends, and copying each string was most of
/// its cost.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct XmlNode<'a> {
    /// Local name (prefix stripped).
    pub(crate) name: Cow<'a, str>,
    /// Default-namespace declaration on this element, if any.
    pub(crate) xmlns: Option<Cow<'a, str>>,
    /// `value` attribute.
    pub(crate) value: Option<Cow<'a, str>>,
    /// `url` attribute.
    pub(crate) url: Option<Cow<'a, str>>,
    /// Child elements in document order.
    pub(crate) children: Vec<XmlNode<'a>>,
    /// Names of attributes FHIR XML does not allow (anything but `value`, `url`, `id`, `xmlns`).
    pub(crate) other_attrs: Vec<String>,
    /// Non-whitespace text directly inside the element (FHIR XML carries none outside XHTML).
    pub(crate) has_text: bool,
    /// The element is narrative XHTML (a `div` in the XHTML namespace, or inside one).
    pub(crate) xhtml: bool,
    /// Set when the tree was read from FHIR JSON (see `validate::jsontree`).
    pub(crate) json: Option<JsonShape>,
}

/// How a node was written in FHIR JSON: the validator checks arrays and primitive types there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JsonShape {
    /// The property was a JSON array (this node is one of its items).
    pub(crate) array: bool,
    /// The JSON type of a primitive value.
    pub(crate) primitive: Option<JsonPrimitive>,
}

/// JSON type of a primitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonPrimitive {
    /// A string.
    String,
    /// A number.
    Number,
    /// `true` / `false`.
    Bool,
}

impl<'x> XmlNode<'x> {
    /// First child named `name`.
    pub(crate) fn child(&self, name: &str) -> Option<&XmlNode<'x>> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child named `name`.
    pub(crate) fn children_named<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = &'a XmlNode<'x>> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Follows a path of child names.
    pub(crate) fn at(&self, path: &[&str]) -> Option<&XmlNode<'x>> {
        path.iter().try_fold(self, |n, name| n.child(name))
    }

    /// `value` attribute at a path of child names.
    pub(crate) fn value_at(&self, path: &[&str]) -> Option<&str> {
        self.at(path).and_then(|n| n.value.as_deref())
    }

    /// The resource inside a `Bundle.entry` (`entry/resource/<Type>`).
    pub(crate) fn entry_resource(&self) -> Option<&XmlNode<'x>> {
        self.child("resource").and_then(|r| r.children.first())
    }

    /// `(fullUrl, resource)` of every entry of a Bundle.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (Option<&str>, Option<&XmlNode<'x>>)> {
        self.children_named("entry")
            .map(|e| (e.value_at(&["fullUrl"]), e.entry_resource()))
    }

    /// The resource of the entry whose fullUrl is `url`.
    pub(crate) fn resolve(&self, url: &str) -> Option<&XmlNode<'x>> {
        self.entries()
            .find(|(u, _)| *u == Some(url))
            .and_then(|(_, r)| r)
    }

    /// First resource of type `ty` among the entries of a Bundle.
    pub(crate) fn first_resource(&self, ty: &str) -> Option<&XmlNode<'x>> {
        self.entries().filter_map(|(_, r)| r).find(|r| r.name == ty)
    }

    /// Sub-extension with `url` of a complex extension.
    pub(crate) fn extension(&self, url: &str) -> Option<&XmlNode<'x>> {
        self.children_named("extension")
            .find(|e| e.url.as_deref() == Some(url))
    }
}

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XmlError {
    /// Not UTF-8.
    #[error("message is not UTF-8")]
    Encoding,
    /// Not well-formed XML (position only, never content).
    #[error("message is not well-formed XML (near byte {0})")]
    Malformed(u64),
    /// No root element.
    #[error("message has no root element")]
    Empty,
    /// Nesting deeper than any FHIR message.
    #[error("message nests elements deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// Not well-formed JSON (position only, never content).
    #[error("message is not well-formed JSON (line {line}, column {column})")]
    Json {
        /// Line of the error.
        line: usize,
        /// Column of the error.
        column: usize,
    },
}

/// Parses an ITK3 message in FHIR XML or FHIR JSON (chosen by its first character).
pub(crate) fn parse_message(bytes: &[u8]) -> Result<XmlNode<'_>, XmlError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => crate::validate::jsontree::read(bytes),
        _ => parse(bytes),
    }
}

/// Parses a document into its root element.
pub(crate) fn parse(bytes: &[u8]) -> Result<XmlNode<'_>, XmlError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| XmlError::Encoding)?;
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<XmlNode<'_>> = Vec::new();
    let mut root: Option<XmlNode<'_>> = None;
    loop {
        let pos = reader.buffer_position();
        let event = reader.read_event().map_err(|_| XmlError::Malformed(pos))?;
        match event {
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                let raw = tag_at(text, pos, reader.buffer_position(), false);
                let node = element(&reader, raw, &start, stack.last())
                    .map_err(|_| XmlError::Malformed(pos))?;
                stack.push(node);
            }
            Event::Empty(start) => {
                let raw = tag_at(text, pos, reader.buffer_position(), true);
                let node = element(&reader, raw, &start, stack.last())
                    .map_err(|_| XmlError::Malformed(pos))?;
                attach(&mut stack, &mut root, node, pos)?;
            }
            Event::Text(t) if !t.iter().all(u8::is_ascii_whitespace) => mark_text(&mut stack),
            Event::CData(_) => mark_text(&mut stack),
            Event::End(_) => {
                let node = stack.pop().ok_or(XmlError::Malformed(pos))?;
                attach(&mut stack, &mut root, node, pos)?;
            }
            Event::Eof => break,
            // Whitespace, comments, declarations, processing instructions: not needed.
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Malformed(reader.buffer_position()));
    }
    root.ok_or(XmlError::Empty)
}

fn attach<'a>(
    stack: &mut [XmlNode<'a>],
    root: &mut Option<XmlNode<'a>>,
    node: XmlNode<'a>,
    pos: u64,
) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(node),
        None if root.is_none() => *root = Some(node),
        None => return Err(XmlError::Malformed(pos)),
    }
    Ok(())
}

/// Records text inside the innermost open element (outside XHTML, where text is normal).
fn mark_text(stack: &mut [XmlNode<'_>]) {
    if let Some(top) = stack.last_mut()
        && !top.xhtml
    {
        top.has_text = true;
    }
}

/// The text between `<` and `>` (or `/>`) of the tag the reader just read from `start..end`,
/// when the positions frame exactly that tag; `None` sends [`element`] down the copying path.
fn tag_at(text: &str, start: u64, end: u64, empty: bool) -> Option<&str> {
    let raw = text.get(usize::try_from(start).ok()?..usize::try_from(end).ok()?)?;
    let close = if empty { "/>" } else { ">" };
    raw.strip_prefix('<')?.strip_suffix(close)
}

/// Builds a node from a start tag. With `raw` (the tag's text in the document) names and values
/// borrow from the document; otherwise they are copied out of the event.
fn element<'a>(
    reader: &Reader<&'a [u8]>,
    raw: Option<&'a str>,
    start: &BytesStart<'_>,
    parent: Option<&XmlNode<'_>>,
) -> Result<XmlNode<'a>, ()> {
    let mut node = match raw {
        Some(raw) => {
            let name_end = raw
                .find(|c: char| c.is_ascii_whitespace())
                .unwrap_or(raw.len());
            let qname = &raw[..name_end];
            let local = qname.rsplit_once(':').map_or(qname, |(_, l)| l);
            let mut node = XmlNode {
                name: Cow::Borrowed(local),
                ..XmlNode::default()
            };
            for attr in Attributes::new(raw, name_end) {
                let attr = attr.map_err(|_| ())?;
                let value = attr
                    .decode_and_unescape_value(reader.decoder())
                    .map_err(|_| ())?;
                set_attribute(&mut node, attr.key.as_ref(), value);
            }
            node
        }
        None => {
            let name = std::str::from_utf8(start.name().local_name().as_ref())
                .map_err(|_| ())?
                .to_owned();
            let mut node = XmlNode {
                name: Cow::Owned(name),
                ..XmlNode::default()
            };
            for attr in start.attributes() {
                let attr = attr.map_err(|_| ())?;
                let value = attr
                    .decode_and_unescape_value(reader.decoder())
                    .map_err(|_| ())?
                    .into_owned();
                set_attribute(&mut node, attr.key.as_ref(), Cow::Owned(value));
            }
            node
        }
    };
    node.xhtml = parent.is_some_and(|p| p.xhtml)
        || node.xmlns.as_deref() == Some(gateway_proto::fhir::XHTML_NS);
    Ok(node)
}

fn set_attribute<'a>(node: &mut XmlNode<'a>, key: &[u8], value: Cow<'a, str>) {
    match key {
        b"value" => node.value = Some(value),
        b"url" => node.url = Some(value),
        b"xmlns" => node.xmlns = Some(value),
        b"id" => {}
        k if k.starts_with(b"xmlns:") => {}
        k => node
            .other_attrs
            .push(String::from_utf8_lossy(k).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_values_and_ignores_comments_and_prefixes() {
        let xml = br#"<?xml version="1.0"?><f:Bundle xmlns:f="http://hl7.org/fhir"><!-- c -->
          <f:entry><f:fullUrl value="urn:uuid:1"/><f:resource><f:Patient>
          <f:id value="a&amp;b"/></f:Patient></f:resource></f:entry></f:Bundle>"#;
        let root = parse(xml).unwrap();
        assert_eq!(root.name, "Bundle");
        let p = root.resolve("urn:uuid:1").unwrap();
        assert_eq!(p.value_at(&["id"]), Some("a&b"));
        assert_eq!(root.first_resource("Patient"), Some(p));
    }

    #[test]
    fn names_and_plain_values_borrow_from_the_document() {
        let xml = br#"<Bundle xmlns="http://hl7.org/fhir"><id value="x1"/><type value="a&lt;b"></type></Bundle>"#;
        let root = parse(xml).unwrap();
        assert!(matches!(root.name, Cow::Borrowed("Bundle")));
        let id = root.child("id").unwrap();
        assert!(matches!(id.value, Some(Cow::Borrowed("x1"))));
        // Escaped values are unescaped into their own copy.
        assert_eq!(root.value_at(&["type"]), Some("a<b"));
    }

    #[test]
    fn rejects_broken_documents() {
        assert!(matches!(parse(b"<a><b></a>"), Err(XmlError::Malformed(_))));
        assert!(matches!(parse(b"<a>"), Err(XmlError::Malformed(_))));
        assert_eq!(parse(b""), Err(XmlError::Empty));
        assert_eq!(parse(b"\xff<a/>"), Err(XmlError::Encoding));
        assert!(parse(b"<a/><b/>").is_err());
        let deep = "<a>".repeat(200) + &"</a>".repeat(200);
        assert_eq!(parse(deep.as_bytes()), Err(XmlError::TooDeep));
    }
}
