//! Input events from a template: the contract-§8 example with a fresh `id` and the current
//! `time` per event. The template is serialised once with placeholders and split around them,
//! so rendering one event is a few copies, cheap enough not to slow the load generator.

use std::path::Path;

use anyhow::Context;
use serde_json::Value;

const ID_MARK: &str = "@@BENCH-ID@@";
const TIME_MARK: &str = "@@BENCH-TIME@@";

/// A pre-split event body with holes for the id and the time.
#[derive(Debug, Clone)]
pub struct EventTemplate {
    /// Text before the id, between id and time (or time and id), and after.
    parts: [String; 3],
    /// True when `time` comes before `id` in the serialised template.
    time_first: bool,
}

impl EventTemplate {
    /// Reads a CloudEvent JSON file to use as the template.
    ///
    /// # Errors
    /// The file is unreadable or not a JSON object.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the event template {}", path.display()))?;
        Self::from_json(&text)
    }

    /// Builds a template from CloudEvent JSON text.
    ///
    /// # Errors
    /// The text is not a JSON object.
    pub fn from_json(text: &str) -> anyhow::Result<Self> {
        let mut value: Value = serde_json::from_str(text).context("event template is not JSON")?;
        let obj = value
            .as_object_mut()
            .context("event template is not a JSON object")?;
        obj.insert("id".into(), Value::String(ID_MARK.into()));
        obj.insert("time".into(), Value::String(TIME_MARK.into()));
        let text = serde_json::to_string(&value)?;
        let (id, time) = (ID_MARK, TIME_MARK);
        let (i, t) = (
            text.find(id).context("id placeholder lost")?,
            text.find(time).context("time placeholder lost")?,
        );
        let time_first = t < i;
        let (first, first_len, second, second_len) = if time_first {
            (t, time.len(), i, id.len())
        } else {
            (i, id.len(), t, time.len())
        };
        let parts = [
            text[..first].to_owned(),
            text[first + first_len..second].to_owned(),
            text[second + second_len..].to_owned(),
        ];
        Ok(Self { parts, time_first })
    }

    /// One event body. `id` and `time` must not need JSON escaping (uuids and RFC 3339 don't).
    pub fn render(&self, id: &str, time: &str) -> Vec<u8> {
        let (a, b) = if self.time_first {
            (time, id)
        } else {
            (id, time)
        };
        let [p0, p1, p2] = &self.parts;
        let mut out = Vec::with_capacity(p0.len() + p1.len() + p2.len() + a.len() + b.len());
        for piece in [p0.as_str(), a, p1, b, p2] {
            out.extend_from_slice(piece.as_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../examples/events/pharmacy-first.json");

    #[test]
    fn renders_the_example_with_a_new_id_and_time() {
        let t = EventTemplate::from_json(EXAMPLE).unwrap();
        let body = t.render("abc-123", "2026-01-02T03:04:05.678Z");
        let v: Value = serde_json::from_slice(&body).unwrap();
        let original: Value = serde_json::from_str(EXAMPLE).unwrap();
        assert_eq!(v["id"], "abc-123");
        assert_eq!(v["time"], "2026-01-02T03:04:05.678Z");
        assert_eq!(v["data"], original["data"]);
        assert_eq!(v["type"], original["type"]);
        assert_eq!(v["specversion"], "1.0");
    }

    #[test]
    fn rejects_non_objects() {
        assert!(EventTemplate::from_json("[1]").is_err());
        assert!(EventTemplate::from_json("nope").is_err());
    }
}
