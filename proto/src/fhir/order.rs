//! STU3 element order and repetition (spec itk3-gpconnect §10.2; the table is [`super::stu3`])
//! and a checker that walks a tree against it. FHIR XML is order-sensitive, so every golden
//! message is checked with [`check`] in tests; a `*` suffix marks a repeating element (JSON
//! array) and `[x]` a choice element.

use super::{Content, Node};

pub use super::stu3::children_of;

/// Position of `name` in the table and whether it repeats.
fn position(table: &[&str], name: &str) -> Option<(usize, bool)> {
    table.iter().enumerate().find_map(|(i, entry)| {
        let (base, repeats) = match entry.strip_suffix('*') {
            Some(b) => (b, true),
            None => (*entry, false),
        };
        let hit = match base.strip_suffix("[x]") {
            Some(stem) => name
                .strip_prefix(stem)
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase())),
            None => base == name,
        };
        hit.then_some((i, repeats))
    })
}

/// Checks element order, known names and repetition flags of `root` and everything below it.
/// Returns one line per problem (element paths only, never values).
pub fn check(root: &Node) -> Vec<String> {
    let mut problems = Vec::new();
    walk(root, root.ty, &mut problems);
    problems
}

fn walk(node: &Node, path: &str, problems: &mut Vec<String>) {
    let Some(table) = children_of(node.ty) else {
        problems.push(format!("{path}: no STU3 order table for type {}", node.ty));
        return;
    };
    let mut last: Option<(usize, &str)> = None;
    for el in &node.children {
        let cpath = format!("{path}.{}", el.name);
        match position(&table, el.name) {
            None => problems.push(format!("{cpath}: not an element of {}", node.ty)),
            Some((idx, repeats)) => {
                if let Some((prev, prev_name)) = last {
                    if idx < prev {
                        problems.push(format!("{cpath}: must come before {prev_name}"));
                    } else if idx == prev && !repeats {
                        problems.push(format!("{cpath}: may occur only once"));
                    }
                }
                if repeats != el.repeats {
                    problems.push(format!("{cpath}: repetition flag should be {repeats}"));
                }
                if last.is_none_or(|(p, _)| idx >= p) {
                    last = Some((idx, el.name));
                }
            }
        }
        match &el.content {
            Content::Complex(n) | Content::Resource(n) => {
                if n.is_empty() {
                    problems.push(format!("{cpath}: empty element (ele-1)"));
                }
                walk(n, &cpath, problems);
            }
            Content::Value(_) | Content::Xhtml(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordered_and_rejects_misordered() {
        let ok = Node::resource("Patient", "p")
            .child("meta", Node::new("Meta").str_item("profile", "x"))
            .item("identifier", Node::new("Identifier").str("value", "1"))
            .item("name", Node::new("HumanName").str("family", "F"))
            .str("gender", "male")
            .str("deceasedBoolean", "false");
        assert!(check(&ok).is_empty(), "{:?}", check(&ok));
        let bad = Node::resource("Patient", "p")
            .str("gender", "male")
            .item("identifier", Node::new("Identifier").str("value", "1"))
            .str("gender", "female")
            .child("bogus", Node::new("Period").str("start", "x"));
        let problems = check(&bad);
        assert!(
            problems
                .iter()
                .any(|p| p.contains("Patient.identifier: must come before gender"))
        );
        assert!(problems.iter().any(|p| p.contains("may occur only once")));
        assert!(problems.iter().any(|p| p.contains("bogus: not an element")));
    }

    #[test]
    fn repetition_flag_and_empty_elements() {
        let bad = Node::resource("Patient", "p")
            .child("identifier", Node::new("Identifier").str("value", "1"))
            .item("name", Node::new("HumanName"));
        let problems = check(&bad);
        assert!(problems.iter().any(|p| p.contains("repetition flag")));
        assert!(problems.iter().any(|p| p.contains("empty element")));
    }
}
