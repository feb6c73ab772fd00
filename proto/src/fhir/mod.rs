//! A small FHIR STU3 element tree, the builders that fill it and its two serialisations.
//!
//! The tree is deliberately untyped (names and values, not one struct per resource): mappers
//! build exactly the elements a profile asks for, in the order the STU3 definitions give
//! (`stu3` holds those definitions with element types, `order` a checker), and the writers
//! turn it into FHIR XML — the ITK3 wire format ([`xml::to_xml`]) — or FHIR JSON
//! ([`json::to_json`]) for routes that agree to it.
//!
//! The tree records what the two formats need beyond names and values: whether a child repeats
//! (a JSON array), whether a complex element is a resource (XML `<resource>` wrapper, JSON
//! `resourceType`), and the STU3 type of every complex element (used by the order checker).

pub mod datatypes;
pub mod json;
pub mod order;
pub mod stu3;
pub mod xml;

/// The FHIR namespace of every FHIR XML element.
pub const FHIR_NS: &str = "http://hl7.org/fhir";
/// The XHTML namespace of narrative `div`s.
pub const XHTML_NS: &str = "http://www.w3.org/1999/xhtml";

/// A primitive value, kept as FHIR writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// string, code, uri, id, dateTime, instant, date, … (JSON string).
    String(String),
    /// boolean.
    Boolean(bool),
    /// integer / positiveInt / unsignedInt.
    Integer(i64),
    /// decimal, kept in its lexical form so that `80.50` stays `80.50`.
    Decimal(String),
}

/// What an element holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// A primitive (XML `value` attribute).
    Value(Value),
    /// A datatype or backbone element.
    Complex(Node),
    /// A resource in a resource-typed slot (`Bundle.entry.resource`): XML wraps it as
    /// `<resource><Type>…</Type></resource>`.
    Resource(Node),
    /// Narrative XHTML, written verbatim; must be a `<div xmlns="http://www.w3.org/1999/xhtml">`.
    Xhtml(String),
}

/// One named child of a complex element or resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// Element name as in FHIR, including any choice suffix (`valueQuantity`).
    pub name: &'static str,
    /// The element may repeat (JSON array), whether or not it does here.
    pub repeats: bool,
    /// The value.
    pub content: Content,
}

/// A complex element (datatype, backbone element) or a resource.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Node {
    /// STU3 type: a resource type (`Patient`), a datatype (`CodeableConcept`) or a backbone path
    /// (`Encounter.participant`).
    pub ty: &'static str,
    /// `id` attribute of a datatype / backbone element (resources carry `id` as a child).
    pub id: Option<String>,
    /// `url` attribute (extensions).
    pub url: Option<String>,
    /// Children in document order.
    pub children: Vec<Element>,
}

impl Node {
    /// An empty node of STU3 type `ty`.
    pub fn new(ty: &'static str) -> Self {
        Self {
            ty,
            id: None,
            url: None,
            children: Vec::new(),
        }
    }

    /// An empty resource with its logical id as the first child.
    pub fn resource(ty: &'static str, id: impl Into<String>) -> Self {
        Self::new(ty).str("id", id)
    }

    /// True when the node has neither attributes nor children (`ele-1` forbids writing it).
    pub fn is_empty(&self) -> bool {
        self.children.is_empty() && self.id.is_none() && self.url.is_none()
    }

    fn push(mut self, name: &'static str, repeats: bool, content: Content) -> Self {
        self.children.push(Element {
            name,
            repeats,
            content,
        });
        self
    }

    /// Adds a single-valued string-like primitive.
    pub fn str(self, name: &'static str, value: impl Into<String>) -> Self {
        self.push(name, false, Content::Value(Value::String(value.into())))
    }

    /// Adds a single-valued string-like primitive when present.
    pub fn opt_str(self, name: &'static str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.str(name, v),
            None => self,
        }
    }

    /// Adds one occurrence of a repeating string-like primitive (`given`, `profile`, `line`).
    pub fn str_item(self, name: &'static str, value: impl Into<String>) -> Self {
        self.push(name, true, Content::Value(Value::String(value.into())))
    }

    /// Adds every item of a repeating string-like primitive.
    pub fn str_items<I, S>(self, name: &'static str, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        values.into_iter().fold(self, |n, v| n.str_item(name, v))
    }

    /// Adds a boolean.
    pub fn boolean(self, name: &'static str, value: bool) -> Self {
        self.push(name, false, Content::Value(Value::Boolean(value)))
    }

    /// Adds an integer.
    pub fn integer(self, name: &'static str, value: i64) -> Self {
        self.push(name, false, Content::Value(Value::Integer(value)))
    }

    /// Adds a decimal in its lexical form.
    pub fn decimal(self, name: &'static str, value: impl Into<String>) -> Self {
        self.push(name, false, Content::Value(Value::Decimal(value.into())))
    }

    /// Adds a single-valued complex child.
    pub fn child(self, name: &'static str, node: Node) -> Self {
        self.push(name, false, Content::Complex(node))
    }

    /// Adds a single-valued complex child when present.
    pub fn opt_child(self, name: &'static str, node: Option<Node>) -> Self {
        match node {
            Some(n) => self.child(name, n),
            None => self,
        }
    }

    /// Adds one occurrence of a repeating complex child.
    pub fn item(self, name: &'static str, node: Node) -> Self {
        self.push(name, true, Content::Complex(node))
    }

    /// Adds every occurrence of a repeating complex child.
    pub fn items(self, name: &'static str, nodes: impl IntoIterator<Item = Node>) -> Self {
        nodes.into_iter().fold(self, |n, c| n.item(name, c))
    }

    /// Adds a contained resource in a resource slot (`Bundle.entry.resource`).
    pub fn resource_child(self, name: &'static str, resource: Node) -> Self {
        self.push(name, false, Content::Resource(resource))
    }

    /// Adds a narrative `div` (verbatim XHTML).
    pub fn xhtml(self, name: &'static str, div: impl Into<String>) -> Self {
        self.push(name, false, Content::Xhtml(div.into()))
    }

    /// Sets the `url` attribute (extensions).
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// First child element named `name`.
    pub fn get(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|e| e.name == name)
    }

    /// String value of the first primitive child named `name`.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        match self.get(name).map(|e| &e.content) {
            Some(Content::Value(Value::String(s))) => Some(s),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_keeps_order_and_repetition() {
        let n = Node::resource("Patient", "p1")
            .str("gender", "male")
            .str_items("given", ["A", "B"])
            .opt_str("birthDate", None::<String>);
        assert_eq!(n.children.len(), 4);
        assert_eq!(n.get_str("id"), Some("p1"));
        assert!(n.children[2].repeats && !n.children[1].repeats);
        assert!(!n.is_empty());
        assert!(Node::new("Meta").is_empty());
    }
}
