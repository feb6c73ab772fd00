//! Element paths built only when a finding is reported: the checks walk every element of a
//! 30 KB message, and formatting a path string per element cost more than the checks themselves.

use std::fmt;

/// A path such as `Bundle.entry[0].resource(MessageHeader).timestamp`, as a chain of borrowed
/// segments on the walker's stack.
#[derive(Clone, Copy)]
pub(crate) struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    name: &'a str,
    kind: Kind,
}

#[derive(Clone, Copy)]
enum Kind {
    Root,
    /// `.name`
    Field,
    /// `.name[i]`
    Item(usize),
    /// `(Type)` directly after the slot
    Resource,
}

impl<'a> Path<'a> {
    /// A root path (`Bundle`).
    pub(crate) fn root(name: &'a str) -> Self {
        Self {
            parent: None,
            name,
            kind: Kind::Root,
        }
    }

    /// `self.name`
    pub(crate) fn field(&'a self, name: &'a str) -> Self {
        self.with(name, Kind::Field)
    }

    /// `self.name[index]`
    pub(crate) fn item(&'a self, name: &'a str, index: usize) -> Self {
        self.with(name, Kind::Item(index))
    }

    /// `self(Type)`: the resource inside a resource slot.
    pub(crate) fn resource(&'a self, ty: &'a str) -> Self {
        self.with(ty, Kind::Resource)
    }

    fn with(&'a self, name: &'a str, kind: Kind) -> Self {
        Self {
            parent: Some(self),
            name,
            kind,
        }
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(parent) = self.parent {
            parent.fmt(f)?;
        }
        match self.kind {
            Kind::Root => f.write_str(self.name),
            Kind::Field => write!(f, ".{}", self.name),
            Kind::Item(i) => write!(f, ".{}[{i}]", self.name),
            Kind::Resource => write!(f, "({})", self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Path;

    #[test]
    fn renders_fields_items_and_resources() {
        let root = Path::root("Bundle");
        let entry = root.item("entry", 0);
        let slot = entry.field("resource");
        let res = slot.resource("MessageHeader");
        let leaf = res.field("timestamp");
        assert_eq!(
            leaf.to_string(),
            "Bundle.entry[0].resource(MessageHeader).timestamp"
        );
    }
}
