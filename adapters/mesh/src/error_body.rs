//! Parsing of MESH error bodies in all shapes (spec/mesh.md §11.2): v1
//! (`errorEvent`/`errorCode`/`errorDescription`), v2 (`detail[{event,code,msg}]`), validation
//! (`detail[{type,loc,msg}]`), plus the generic `{"message"}` and FastAPI `{"detail": "..."}`
//! bodies the sandbox uses for detail-less errors.

use serde::Deserialize;
use serde_json::Value;

/// The useful part of a MESH error body, whatever its shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorBody {
    /// MESH event (`SEND`, `RECEIVE`, ...); `None` when absent or empty.
    pub event: Option<String>,
    /// MESH error code (`12`, `20`, `EPL-151`, ...); `None` when absent or empty.
    pub code: Option<String>,
    /// Human-readable text; validation errors become `"<loc>: <msg>"`.
    pub description: String,
    /// Message id echoed by some errors.
    pub message_id: Option<String>,
}

#[derive(Deserialize)]
struct RawBody {
    // v1
    #[serde(rename = "errorEvent")]
    error_event: Option<String>,
    #[serde(rename = "errorCode")]
    error_code: Option<String>,
    #[serde(rename = "errorDescription")]
    error_description: Option<String>,
    #[serde(rename = "messageID")]
    v1_message_id: Option<String>,
    // v2 and validation; a plain string in FastAPI's own errors
    detail: Option<Value>,
    message_id: Option<String>,
    // generic 500-style body
    message: Option<String>,
}

#[derive(Deserialize)]
struct DetailItem {
    event: Option<String>,
    code: Option<String>,
    msg: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    loc: Option<Vec<Value>>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Longest description kept from a body that is not JSON (it may be an HTML proxy page).
const MAX_TEXT: usize = 200;

impl ErrorBody {
    /// Parses a response body; `None` when it is empty or carries nothing usable.
    pub fn parse(body: &[u8]) -> Option<Self> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        let raw = match serde_json::from_slice::<Value>(body) {
            Ok(Value::Null) => return None,
            Ok(value @ Value::Object(_)) => match serde_json::from_value::<RawBody>(value) {
                Ok(raw) => raw,
                Err(_) => return Some(Self::from_text(body)),
            },
            _ => return Some(Self::from_text(body)),
        };
        let message_id = non_empty(raw.message_id).or(non_empty(raw.v1_message_id));
        if let Some(description) = non_empty(raw.error_description) {
            return Some(Self {
                event: non_empty(raw.error_event),
                code: non_empty(raw.error_code),
                description,
                message_id,
            });
        }
        match raw.detail {
            Some(Value::Array(items)) => Self::from_detail(items, message_id),
            Some(Value::String(text)) => Some(Self {
                event: None,
                code: None,
                description: text,
                message_id,
            }),
            _ => non_empty(raw.message).map(|description| Self {
                event: None,
                code: None,
                description,
                message_id,
            }),
        }
    }

    fn from_detail(items: Vec<Value>, message_id: Option<String>) -> Option<Self> {
        let items: Vec<DetailItem> = items
            .into_iter()
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect();
        let first = items.first()?;
        if first.kind.is_some() || first.loc.is_some() {
            // Validation shape: summarise every item, e.g. "header mex-to: Field required".
            let description = items
                .iter()
                .map(|item| {
                    let loc = item
                        .loc
                        .iter()
                        .flatten()
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                        .collect::<Vec<_>>()
                        .join(" ");
                    format!("{loc}: {}", item.msg.as_deref().unwrap_or("invalid"))
                })
                .collect::<Vec<_>>()
                .join("; ");
            return Some(Self {
                event: None,
                code: None,
                description,
                message_id,
            });
        }
        Some(Self {
            event: non_empty(first.event.clone()),
            code: non_empty(first.code.clone()),
            description: first.msg.clone().unwrap_or_default(),
            message_id,
        })
    }

    fn from_text(body: &[u8]) -> Self {
        let text = String::from_utf8_lossy(body);
        let text: String = text.trim().chars().take(MAX_TEXT).collect();
        Self {
            event: None,
            code: None,
            description: text,
            message_id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> ErrorBody {
        ErrorBody::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn v1_shape() {
        let b = parse(
            r#"{"errorEvent":"SEND","errorCode":"12","errorDescription":"Unregistered to address"}"#,
        );
        assert_eq!(b.event.as_deref(), Some("SEND"));
        assert_eq!(b.code.as_deref(), Some("12"));
        assert_eq!(b.description, "Unregistered to address");
        let b = parse(
            r#"{"errorEvent":"","errorCode":"","errorDescription":"Invalid Authentication Token"}"#,
        );
        assert_eq!((b.event, b.code), (None, None));
        assert_eq!(b.description, "Invalid Authentication Token");
    }

    #[test]
    fn v2_shape() {
        let b =
            parse(r#"{"detail":[{"event":"RECEIVE","code":"20","msg":"Message does not exist"}]}"#);
        assert_eq!(b.code.as_deref(), Some("20"));
        assert_eq!(b.event.as_deref(), Some("RECEIVE"));
        assert_eq!(b.description, "Message does not exist");
        let b = parse(
            r#"{"message_id":"D3F9","detail":[{"event":"SEND","code":"InvalidHeaderChunks","msg":"Invalid chunk values sent in mex-Chunk-Range header"}]}"#,
        );
        assert_eq!(b.code.as_deref(), Some("InvalidHeaderChunks"));
        assert_eq!(b.message_id.as_deref(), Some("D3F9"));
        let b =
            parse(r#"{"detail":[{"event":"","code":"","msg":"Invalid Authentication Token"}]}"#);
        assert_eq!((b.event, b.code), (None, None));
        assert_eq!(b.description, "Invalid Authentication Token");
    }

    #[test]
    fn validation_shape() {
        let b = parse(
            r#"{"detail":[{"type":"missing","loc":["header","mex-workflowid"],"msg":"Field required"},{"type":"missing","loc":["header","mex-to"],"msg":"Field required"}]}"#,
        );
        assert_eq!(b.code, None);
        assert_eq!(
            b.description,
            "header mex-workflowid: Field required; header mex-to: Field required"
        );
        let b = parse(
            r#"{"detail":[{"type":"greater_than_equal","loc":["query","max_results",0],"msg":"too small"}]}"#,
        );
        assert_eq!(b.description, "query max_results 0: too small");
    }

    #[test]
    fn generic_and_fastapi_shapes() {
        let b = parse(r#"{"internal_id":"x","message":"An internal error occurred."}"#);
        assert_eq!(b.description, "An internal error occurred.");
        let b = parse(r#"{"detail":"mailbox does not exist"}"#);
        assert_eq!(b.description, "mailbox does not exist");
    }

    #[test]
    fn non_json_and_empty_bodies() {
        assert_eq!(ErrorBody::parse(b""), None);
        assert_eq!(ErrorBody::parse(b"  \n"), None);
        assert_eq!(ErrorBody::parse(b"null"), None);
        assert_eq!(ErrorBody::parse(b"{}"), None);
        let b = ErrorBody::parse(&[b'x'; 1000]).unwrap();
        assert_eq!(b.description.len(), MAX_TEXT);
        assert_eq!(
            parse("<html>Bad Gateway</html>").description,
            "<html>Bad Gateway</html>"
        );
    }
}
