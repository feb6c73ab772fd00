//! Data paths of the consultation event (`patient.nhsNumber`, `observations.0.systolic`, …):
//! which exist, what JSON type each takes, and how a row's cells become the `data` object.

use std::collections::BTreeMap;

use serde_json::{Map, Number, Value};

/// Highest array index a path may use (`observations.19.type`), so that a header cannot make a
/// row allocate a huge array.
pub(crate) const MAX_INDEX: usize = 19;

/// JSON type of a data path's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The `id` column: the event id, not part of `data`.
    Id,
    /// A string.
    Str,
    /// A number.
    Num,
    /// A whole number (days).
    UInt,
    /// `true` / `false` (also yes/no, y/n, 1/0).
    Bool,
    /// One given name, written as an array of one.
    Given,
    /// A number when it reads as one, else a code.
    NumOrStr,
}

/// The kind of `path`, or `None` when it is not a data path of the consultation event.
pub(crate) fn kind(path: &str) -> Option<Kind> {
    let parts: Vec<&str> = path.split('.').collect();
    let index = |s: &str| {
        s.parse::<usize>()
            .ok()
            .filter(|i| *i <= MAX_INDEX && (s == "0" || !s.starts_with('0')))
    };
    use Kind::*;
    Some(match parts.as_slice() {
        ["id"] => Id,
        ["service"] => Str,
        ["consent"] => Bool,
        ["patient", "given"] | ["practitioner", "given"] => Given,
        [
            "patient",
            "nhsNumber" | "family" | "birthDate" | "gender" | "postcode" | "address",
        ]
        | ["pharmacy", "odsCode" | "name"]
        | [
            "practitioner",
            "family" | "gphcNumber" | "sdsUserId" | "role",
        ]
        | ["encounter", "start" | "end"]
        | ["presentingComplaint", "code" | "display"]
        | [
            "clinicalNotes",
            "clinicalSummary"
            | "history"
            | "informationAndAdviceGiven"
            | "planAndRequestedActions"
            | "redFlags"
            | "signpostDetails",
        ] => Str,
        ["patient", "address", i] if index(i).is_some() => Str,
        ["observations", i, field] if index(i).is_some() => match *field {
            "type" | "position" | "effective" => Str,
            "systolic" | "diastolic" => Num,
            "value" => NumOrStr,
            _ => return None,
        },
        ["medicationsSupplied", i, field] if index(i).is_some() => match *field {
            "code" | "display" | "dosageText" | "patientInstruction" | "supplyType" => Str,
            "daysSupply" => UInt,
            _ => return None,
        },
        ["medicationsSupplied", i, "quantity", "value"] if index(i).is_some() => Num,
        ["medicationsSupplied", i, "quantity", "unit"] if index(i).is_some() => Str,
        _ => return None,
    })
}

/// The JSON value of a non-empty, trimmed cell, or what it must be.
pub(crate) fn typed(kind: Kind, cell: &str) -> Result<Value, &'static str> {
    match kind {
        Kind::Id | Kind::Str => Ok(Value::String(cell.to_owned())),
        Kind::Given => Ok(Value::Array(vec![Value::String(cell.to_owned())])),
        Kind::Num => number(cell).ok_or("a number"),
        Kind::UInt => cell
            .parse::<u32>()
            .map(Value::from)
            .map_err(|_| "a whole number"),
        Kind::Bool => match cell.to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "1" => Ok(Value::Bool(true)),
            "false" | "no" | "n" | "0" => Ok(Value::Bool(false)),
            _ => Err("true or false"),
        },
        Kind::NumOrStr => Ok(number(cell).unwrap_or_else(|| Value::String(cell.to_owned()))),
    }
}

/// Integers stay integers (`128`, not `128.0`).
fn number(cell: &str) -> Option<Value> {
    if let Ok(i) = cell.parse::<i64>() {
        return Some(Value::from(i));
    }
    cell.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map(Value::Number)
}

/// A `data` object under construction; arrays are keyed by index and compacted at the end, so
/// that a row filling `observations.1` but not `observations.0` yields one observation.
#[derive(Debug)]
pub(crate) struct Tree {
    root: Node,
}

impl Default for Tree {
    fn default() -> Self {
        Self {
            root: Node::Obj(BTreeMap::new()),
        }
    }
}

#[derive(Debug)]
enum Node {
    Leaf(Value),
    Obj(BTreeMap<String, Node>),
    Arr(BTreeMap<usize, Node>),
}

impl Tree {
    /// Sets `path` (a valid data path) to `value`. `false` when another column already set it
    /// or a part of it.
    pub(crate) fn set(&mut self, path: &str, value: Value) -> bool {
        let parts: Vec<&str> = path.split('.').collect();
        insert(&mut self.root, &parts, value)
    }

    /// The finished `data` object. Observations with a systolic or diastolic value and no type
    /// are blood-pressure readings.
    pub(crate) fn into_value(self) -> Value {
        let mut data = value(self.root);
        if let Some(Value::Array(obs)) = data.get_mut("observations") {
            for o in obs.iter_mut().filter_map(Value::as_object_mut) {
                let bp = o.contains_key("systolic") || o.contains_key("diastolic");
                if bp && !o.contains_key("type") {
                    o.insert("type".into(), Value::String("blood-pressure".into()));
                }
            }
        }
        data
    }
}

fn insert(node: &mut Node, parts: &[&str], v: Value) -> bool {
    let Some((head, rest)) = parts.split_first() else {
        return false;
    };
    let child = match node {
        Node::Obj(m) => m.entry((*head).to_owned()).or_insert_with(|| fresh(rest)),
        Node::Arr(a) => match head.parse::<usize>() {
            Ok(i) => a.entry(i).or_insert_with(|| fresh(rest)),
            Err(_) => return false,
        },
        Node::Leaf(_) => return false,
    };
    match (rest.is_empty(), child) {
        (true, Node::Leaf(slot)) if slot.is_null() => {
            *slot = v;
            true
        }
        (true, _) => false,
        (false, child) => insert(child, rest, v),
    }
}

/// A new node for what follows: a leaf at the end, an array before an index, else an object.
fn fresh(rest: &[&str]) -> Node {
    match rest.first() {
        None => Node::Leaf(Value::Null),
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => Node::Arr(BTreeMap::new()),
        Some(_) => Node::Obj(BTreeMap::new()),
    }
}

fn obj(m: BTreeMap<String, Node>) -> Map<String, Value> {
    m.into_iter().map(|(k, n)| (k, value(n))).collect()
}

fn value(n: Node) -> Value {
    match n {
        Node::Leaf(v) => v,
        Node::Obj(m) => Value::Object(obj(m)),
        Node::Arr(a) => Value::Array(a.into_values().map(value).collect()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(kind("patient.nhsNumber"), Some(Kind::Str));
        assert_eq!(kind("patient.given"), Some(Kind::Given));
        assert_eq!(kind("observations.0.systolic"), Some(Kind::Num));
        assert_eq!(
            kind("medicationsSupplied.1.quantity.value"),
            Some(Kind::Num)
        );
        assert_eq!(kind("medicationsSupplied.0.daysSupply"), Some(Kind::UInt));
        assert_eq!(kind("consent"), Some(Kind::Bool));
        for bad in [
            "patient.nhsnumber",
            "observations.20.type",
            "observations.01.type",
            "observations.x.type",
            "observations.0",
            "patient",
            "",
        ] {
            assert_eq!(kind(bad), None, "{bad}");
        }
    }

    #[test]
    fn tree_builds_compacted_objects() {
        let mut t = Tree::default();
        assert!(t.set("patient.nhsNumber", json!("9000000009")));
        assert!(t.set("patient.given", json!(["Jo"])));
        assert!(t.set("observations.1.systolic", json!(128)));
        assert!(t.set("observations.1.diastolic", json!(82)));
        assert!(t.set("medicationsSupplied.0.quantity.value", json!(28)));
        assert!(!t.set("patient.nhsNumber", json!("x")));
        assert_eq!(
            t.into_value(),
            json!({
                "patient": {"nhsNumber": "9000000009", "given": ["Jo"]},
                "observations": [{"type": "blood-pressure", "systolic": 128, "diastolic": 82}],
                "medicationsSupplied": [{"quantity": {"value": 28}}]
            })
        );
        let mut t = Tree::default();
        assert!(t.set("patient.address", json!("1 High St")));
        assert!(!t.set("patient.address.0", json!("x")));
    }
}
