//! `*.json` drops: one CloudEvent object, or a JSON array of them.

use gateway_core::RawEvent;
use serde_json::value::RawValue;

use super::{DecodeContext, DecodedItem, Decoder, ItemDecodeError, count_lines, line_at};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Decodes a JSON drop. Each element of a top-level array (or the single top-level value) is
/// handed to the pipeline unchanged; whether it is a valid CloudEvent is the pipeline's call.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonDecoder;

impl Decoder for JsonDecoder {
    fn decode(
        &self,
        bytes: &[u8],
        cx: &DecodeContext<'_>,
    ) -> Vec<Result<DecodedItem, ItemDecodeError>> {
        let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let line = line_at(bytes, e.valid_up_to());
                return vec![Err(ItemDecodeError {
                    line: Some(line),
                    reason: format!("file is not valid UTF-8 (first bad byte on line {line})"),
                })];
            }
        };
        let parsed: Result<Vec<&RawValue>, serde_json::Error> =
            if text.trim_start().starts_with('[') {
                serde_json::from_str(text)
            } else {
                serde_json::from_str::<&RawValue>(text).map(|v| vec![v])
            };
        let values = match parsed {
            Ok(values) => values,
            // serde_json's syntax errors name the problem and its line and column, never the
            // offending content.
            Err(e) => {
                return vec![Err(ItemDecodeError {
                    line: Some(e.line()).filter(|l| *l > 0),
                    reason: format!("file is not valid JSON: {e}"),
                })];
            }
        };
        let mut lines = Lines {
            text,
            offset: 0,
            line: 1,
        };
        values
            .into_iter()
            .enumerate()
            .map(|(index, value)| {
                let json = value.get();
                Ok(DecodedItem {
                    line: lines.line_of(json),
                    raw: RawEvent {
                        body: json.as_bytes().to_vec(),
                        traceparent: None,
                        origin: cx.item_origin(index),
                        derived_id: None,
                    },
                })
            })
            .collect()
    }
}

/// Finds the line of successive slices of `text`, scanning each byte once.
struct Lines<'a> {
    text: &'a str,
    offset: usize,
    line: usize,
}

impl Lines<'_> {
    /// Line where `part` (a slice of `text` at or after the previous one) starts.
    fn line_of(&mut self, part: &str) -> Option<usize> {
        // Borrowed raw values point into the input, so the address difference is the offset.
        let start = (part.as_ptr() as usize).checked_sub(self.text.as_ptr() as usize)?;
        let skipped = self.text.as_bytes().get(self.offset..start)?;
        self.line += count_lines(skipped);
        self.offset = start;
        Some(self.line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(input: &str) -> Vec<Result<DecodedItem, ItemDecodeError>> {
        let cx = DecodeContext {
            file_name: "a.json",
            origin: "file:json/a.json",
        };
        JsonDecoder.decode(input.as_bytes(), &cx)
    }

    #[test]
    fn single_object_is_one_item() {
        let items = decode("\u{feff}\n {\"id\": \"1\"}\n");
        assert_eq!(items.len(), 1);
        let item = items[0].as_ref().unwrap();
        assert_eq!(item.raw.body, br#"{"id": "1"}"#);
        assert_eq!(item.raw.origin, "file:json/a.json#0");
        assert_eq!(item.line, Some(2));
    }

    #[test]
    fn array_items_keep_order_origin_and_line() {
        let items = decode("[\n  {\"id\": \"1\"},\r\n  {\"id\": \"2\",\n \"x\": 1},\n  3\n]");
        let items: Vec<_> = items.into_iter().map(Result::unwrap).collect();
        assert_eq!(items.len(), 3);
        assert_eq!(items[1].raw.body, b"{\"id\": \"2\",\n \"x\": 1}");
        assert_eq!(items[2].raw.origin, "file:json/a.json#2");
        let lines: Vec<_> = items.iter().map(|i| i.line).collect();
        assert_eq!(lines, [Some(2), Some(3), Some(5)]);
    }

    #[test]
    fn empty_array_has_no_items() {
        assert!(decode(" [ ] ").is_empty());
    }

    #[test]
    fn invalid_json_is_one_error_with_line() {
        let items = decode("{\n\"id\": \"1\",\n\"x\": }");
        assert_eq!(items.len(), 1);
        let err = items[0].as_ref().unwrap_err();
        assert_eq!(err.line, Some(3));
        assert!(
            err.reason.starts_with("file is not valid JSON: "),
            "{}",
            err.reason
        );
        assert!(err.reason.contains("line 3"), "{}", err.reason);
    }

    #[test]
    fn empty_file_and_bad_utf8_are_errors() {
        assert!(decode("").into_iter().all(|r| r.is_err()));
        let cx = DecodeContext {
            file_name: "a.json",
            origin: "file:json/a.json",
        };
        let items = JsonDecoder.decode(b"{\n\"a\": \"\xff\"}", &cx);
        assert_eq!(items[0].as_ref().unwrap_err().line, Some(2));
    }
}
