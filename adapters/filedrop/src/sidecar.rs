//! The `error/<name>.error.json` sidecar (contract §8 "File-drop outcome").

use serde::Serialize;

/// Suffix appended to a file's name in `error/` to name its sidecar.
pub(crate) const SUFFIX: &str = ".error.json";

/// One failed message or row of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ErrorEntry {
    /// 1-based line where the message or row starts, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) line: Option<usize>,
    /// 0-based message or row number.
    pub(crate) index: usize,
    /// Failure stage, `input` or `mapping`.
    pub(crate) stage: &'static str,
    /// A sentence a person can act on.
    pub(crate) reason: String,
}

#[derive(Serialize)]
struct Sidecar<'a> {
    file: &'a str,
    errors: &'a [ErrorEntry],
}

/// The sidecar document for `file` (the name as dropped), pretty-printed for people.
pub(crate) fn render(file: &str, errors: &[ErrorEntry]) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = serde_json::to_vec_pretty(&Sidecar { file, errors })?;
    out.push(b'\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_matches_contract() {
        let errors = [
            ErrorEntry {
                line: Some(4),
                index: 2,
                stage: "mapping",
                reason: "bad".into(),
            },
            ErrorEntry {
                line: None,
                index: 3,
                stage: "input",
                reason: "worse".into(),
            },
        ];
        let doc: serde_json::Value =
            serde_json::from_slice(&render("a.json", &errors).unwrap()).unwrap();
        assert_eq!(
            doc,
            serde_json::json!({"file": "a.json", "errors": [
                {"line": 4, "index": 2, "stage": "mapping", "reason": "bad"},
                {"index": 3, "stage": "input", "reason": "worse"}
            ]})
        );
    }
}
