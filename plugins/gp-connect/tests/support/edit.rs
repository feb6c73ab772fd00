//! Text surgery on fixture XML/JSON for the mutant tests (what `selftest.py` does with regular
//! expressions), and the valid bases the mutants start from.

use std::path::PathBuf;

use gateway_testkit::fhir_validate::shared_dir;

/// A shared fixture's text.
pub(crate) fn fixture(rel: &str) -> String {
    std::fs::read_to_string(shared_dir().join("fixtures/itk3").join(rel)).unwrap()
}

/// Pharmacy First example 1 with a modulus-11-valid NHS number.
pub(crate) fn pf1() -> String {
    fixture("update-record/pharmacy-first-service--example-1.xml")
        .replace("4857773456", "9434765919")
}

/// The Send Document example with a valid NHS number and the custodian it lacks.
pub(crate) fn sd1() -> String {
    let t = fixture("send-document/send-document--generic-example.xml")
        .replace("4857773456", "9434765919");
    sub(
        &t,
        r#"<title value="[document-title]" />"#,
        r#"<title value="[document-title]" /><custodian><reference value="urn:uuid:d850c18b-5143-4ae6-bf5f-96f102e7d3d7" /></custodian>"#,
    )
}

/// The official ITK008M business response.
pub(crate) fn ack1() -> String {
    fixture("acks/ITK008M_ITK_Response.xml")
}

/// One of our own golden JSON messages (selftest renders its JSON base with fhir.resources).
pub(crate) fn json_base() -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pharmacy-first-json/expected.json");
    std::fs::read_to_string(p).unwrap()
}

/// Finds `parts` in sequence with only whitespace between them: `(start, end)`.
pub(crate) fn find_seq(text: &str, parts: &[&str]) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(i) = text[from..].find(parts[0]) {
        let start = from + i;
        let mut end = start + parts[0].len();
        let ok = parts[1..].iter().all(|p| {
            let rest = &text[end..];
            let skipped = rest.len() - rest.trim_start().len();
            let hit = rest[skipped..].starts_with(p);
            if hit {
                end += skipped + p.len();
            }
            hit
        });
        if ok {
            return Some((start, end));
        }
        from = start + 1;
    }
    None
}

/// Replaces the first whitespace-tolerant match of `parts`.
pub(crate) fn replace_seq(text: &str, parts: &[&str], new: &str) -> String {
    let (s, e) = find_seq(text, parts).unwrap_or_else(|| panic!("not found: {parts:?}"));
    splice(text, (s, e), new)
}

/// Replaces the first occurrence of `old`, which must exist.
pub(crate) fn sub(text: &str, old: &str, new: &str) -> String {
    assert!(text.contains(old), "not found: {old}");
    text.replacen(old, new, 1)
}

/// `(start, end)` from the first `open` to the next `close` (inclusive).
pub(crate) fn span(text: &str, open: &str, close: &str) -> (usize, usize) {
    let s = text
        .find(open)
        .unwrap_or_else(|| panic!("not found: {open}"));
    let e = s + text[s..].find(close).unwrap() + close.len();
    (s, e)
}

/// The `<entry>` holding the resource whose fullUrl starts like this.
pub(crate) fn entry_span(text: &str, full_url: &str) -> (usize, usize) {
    let at = text.find(full_url).unwrap();
    let s = text[..at].rfind("<entry>").unwrap();
    let e = at + text[at..].find("</entry>").unwrap() + "</entry>".len();
    (s, e)
}

/// `text` with the span replaced by `new`.
pub(crate) fn splice(text: &str, (s, e): (usize, usize), new: &str) -> String {
    format!("{}{new}{}", &text[..s], &text[e..])
}

/// `text` with two non-overlapping spans exchanged.
pub(crate) fn swap(text: &str, a: (usize, usize), b: (usize, usize)) -> String {
    let (first, second) = if a.0 < b.0 { (a, b) } else { (b, a) };
    format!(
        "{}{}{}{}{}",
        &text[..first.0],
        &text[second.0..second.1],
        &text[first.1..second.0],
        &text[first.0..first.1],
        &text[second.1..]
    )
}
