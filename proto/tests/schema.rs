//! The JSON Schemas under `proto/schema/` describe what the serde types accept: the shipped
//! examples validate against them and deserialise into the typed structs, and broken variants
//! are rejected. The schema evaluator here is a deliberately small subset of draft 2020-12
//! (`$ref` to `#/$defs`, `type`, `properties`, `required`, `enum`, `const`, `items`,
//! `minLength`, `minimum`, `exclusiveMinimum`, `allOf` / `anyOf` / `oneOf`, `if` / `then`, and
//! `pattern` for anchored character-class sequences); annotations and `format` are ignored. It
//! keeps the crate free of a JSON Schema dependency.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};

use gateway_proto::CloudEvent;
use gateway_proto::consultation::ConsultationCompleted;
use gateway_proto::document::DocumentCreated;
use serde_json::{Value, json};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn load(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every error of `v` against `schema`, as JSON-pointer-ish paths.
fn errors(schema: &Value, root: &Value, v: &Value, path: &str, out: &mut Vec<String>) {
    let Some(s) = schema.as_object() else { return };
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let name = r.strip_prefix("#/$defs/").unwrap();
        errors(&root["$defs"][name], root, v, path, out);
    }
    if let Some(t) = s.get("type") {
        let types: Vec<&str> = match t {
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            other => vec![other.as_str().unwrap()],
        };
        if !types.iter().any(|t| type_ok(t, v)) {
            out.push(format!("{path}: not of type {types:?}"));
            return;
        }
    }
    if let Some(c) = s.get("const")
        && c != v
    {
        out.push(format!("{path}: must be {c}"));
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array)
        && !e.contains(v)
    {
        out.push(format!("{path}: not in enum"));
    }
    if let (Some(n), Some(text)) = (s.get("minLength").and_then(Value::as_u64), v.as_str())
        && (text.chars().count() as u64) < n
    {
        out.push(format!("{path}: shorter than {n}"));
    }
    if let (Some(p), Some(text)) = (s.get("pattern").and_then(Value::as_str), v.as_str())
        && !pattern_matches(p, text)
    {
        out.push(format!("{path}: does not match {p}"));
    }
    if let Some(x) = v.as_f64() {
        if s.get("minimum")
            .and_then(Value::as_f64)
            .is_some_and(|m| x < m)
        {
            out.push(format!("{path}: below minimum"));
        }
        if s.get("exclusiveMinimum")
            .and_then(Value::as_f64)
            .is_some_and(|m| x <= m)
        {
            out.push(format!("{path}: not above exclusiveMinimum"));
        }
    }
    if let Some(obj) = v.as_object() {
        for req in s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !obj.contains_key(req.as_str().unwrap()) {
                out.push(format!("{path}/{}: required", req.as_str().unwrap()));
            }
        }
        if let Some(props) = s.get("properties").and_then(Value::as_object) {
            for (k, sub) in props {
                if let Some(child) = obj.get(k) {
                    errors(sub, root, child, &format!("{path}/{k}"), out);
                }
            }
        }
    }
    if let (Some(items), Some(arr)) = (s.get("items"), v.as_array()) {
        for (i, item) in arr.iter().enumerate() {
            errors(items, root, item, &format!("{path}/{i}"), out);
        }
    }
    let passes = |sub: &Value| {
        let mut e = Vec::new();
        errors(sub, root, v, path, &mut e);
        e.is_empty()
    };
    for sub in s
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        errors(sub, root, v, path, out);
    }
    if let Some(any) = s.get("anyOf").and_then(Value::as_array)
        && !any.iter().any(passes)
    {
        out.push(format!("{path}: matches none of anyOf"));
    }
    if let Some(one) = s.get("oneOf").and_then(Value::as_array) {
        let n = one.iter().filter(|sub| passes(sub)).count();
        if n != 1 {
            out.push(format!("{path}: matches {n} of oneOf (exactly 1 required)"));
        }
    }
    if let (Some(cond), Some(then)) = (s.get("if"), s.get("then"))
        && passes(cond)
    {
        errors(then, root, v, path, out);
    }
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_u64() || v.is_i64(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        other => panic!("unsupported type {other}"),
    }
}

/// Anchored sequences of `[classes]` with optional `{n}` / `{n,m}` quantifiers.
fn pattern_matches(pattern: &str, text: &str) -> bool {
    let body = pattern
        .strip_prefix('^')
        .and_then(|p| p.strip_suffix('$'))
        .unwrap_or_else(|| panic!("unsupported pattern {pattern}"));
    type Atom = (Vec<(char, char)>, usize, usize);
    let mut atoms: Vec<Atom> = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let close = rest.find(']').unwrap();
        let class: Vec<char> = rest[1..close].chars().collect();
        let ranges = class.chunks(3).map(|c| (c[0], c[2])).collect();
        rest = &rest[close + 1..];
        let (min, max) = if let Some(q) = rest.strip_prefix('{') {
            let end = q.find('}').unwrap();
            let (a, b) = q[..end].split_once(',').unwrap_or((&q[..end], &q[..end]));
            rest = &q[end + 1..];
            (a.parse().unwrap(), b.parse().unwrap())
        } else {
            (1, 1)
        };
        atoms.push((ranges, min, max));
    }
    let chars: Vec<char> = text.chars().collect();
    let mut pos = 0;
    for (ranges, min, max) in atoms {
        let mut n = 0;
        while n < max
            && pos < chars.len()
            && ranges.iter().any(|(a, b)| (*a..=*b).contains(&chars[pos]))
        {
            n += 1;
            pos += 1;
        }
        if n < min {
            return false;
        }
    }
    pos == chars.len()
}

fn check(schema: &Value, event: &Value) -> Vec<String> {
    let mut out = Vec::new();
    errors(schema, schema, event, "", &mut out);
    out
}

fn schema(name: &str) -> Value {
    let s = load(&root().join("schema").join(name));
    assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
    s
}

fn examples(event_type: &str) -> Vec<(PathBuf, Value)> {
    let dirs = [
        root().join("../examples/events"),
        root().join("schema/examples"),
    ];
    let mut out = Vec::new();
    for dir in dirs {
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in read {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let v = load(&path);
                if v["type"] == event_type {
                    out.push((path, v));
                }
            }
        }
    }
    out
}

#[test]
fn consultation_examples_match_the_schema_and_the_types() {
    let s = schema("consultation-completed.v1.json");
    let found = examples("uk.nhs.pharmacy.consultation.completed.v1");
    assert!(!found.is_empty(), "no consultation examples found");
    for (path, ev) in found {
        assert_eq!(check(&s, &ev), Vec::<String>::new(), "{}", path.display());
        let parsed = CloudEvent::parse(&serde_json::to_vec(&ev).unwrap()).unwrap();
        let _: ConsultationCompleted = serde_json::from_value(parsed.data).unwrap();
    }
}

#[test]
fn document_examples_match_the_schema_and_the_types() {
    let s = schema("document-created.v1.json");
    let found = examples("uk.nhs.consultation.document.created.v1");
    assert!(!found.is_empty(), "no document examples found");
    for (path, ev) in found {
        assert_eq!(check(&s, &ev), Vec::<String>::new(), "{}", path.display());
        let parsed = CloudEvent::parse(&serde_json::to_vec(&ev).unwrap()).unwrap();
        let _: DocumentCreated = serde_json::from_value(parsed.data).unwrap();
    }
}

#[test]
fn schemas_reject_broken_events() {
    let s = schema("consultation-completed.v1.json");
    let (_, good) = examples("uk.nhs.pharmacy.consultation.completed.v1")
        .into_iter()
        .next()
        .unwrap();
    let broken: [(&str, Value); 6] = [
        ("/data/patient/nhsNumber", json!("900000000")),
        ("/data/service", json!("dentistry")),
        ("/data/patient/postcode", Value::Null),
        (
            "/data/observations",
            json!([{"type": "blood-pressure", "systolic": "high"}]),
        ),
        (
            "/data/replaces",
            json!({"eventId": "a", "documentIdentifier": "b"}),
        ),
        ("/data/version", json!(0)),
    ];
    for (pointer, value) in broken {
        let mut ev = good.clone();
        set(&mut ev, pointer, value);
        assert!(!check(&s, &ev).is_empty(), "{pointer} accepted");
    }
    let mut contraception = good.clone();
    set(&mut contraception, "/data/service", json!("contraception"));
    contraception["data"]
        .as_object_mut()
        .unwrap()
        .remove("consent");
    assert!(!check(&s, &contraception).is_empty());

    let d = schema("document-created.v1.json");
    let (_, doc) = examples("uk.nhs.consultation.document.created.v1")
        .into_iter()
        .next()
        .unwrap();
    let mut both = doc.clone();
    set(&mut both, "/data/pdfPath", json!("a.pdf"));
    assert!(
        !check(&d, &both).is_empty(),
        "pdfBase64 and pdfPath together"
    );
    let mut neither = doc.clone();
    neither["data"].as_object_mut().unwrap().remove("pdfBase64");
    assert!(!check(&d, &neither).is_empty(), "no PDF");
    let mut no_title = doc;
    no_title["data"].as_object_mut().unwrap().remove("title");
    assert!(!check(&d, &no_title).is_empty());
}

fn set(v: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    v.pointer_mut(parent)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .insert(key.to_owned(), value);
}
