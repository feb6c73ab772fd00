//! Inbox listing (`GET /{mb}/inbox`, paged with `continue_from`, filtered with `workflow_filter`)
//! and the deprecated count.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde::Serialize;
use serde_json::json;

use super::{AppState, query_pairs, query_value, quote_plus};
use crate::auth::authorise;
use crate::errors::{ApiError, JSON, V2_JSON, ValidationItem, json_response};
use crate::headers::api_version;

const DEFAULT_MAX_RESULTS: i64 = 500;

/// A `workflow_filter` (spec §2), parsed with the sandbox's rules.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Filter {
    Exact(String),
    NotExact(String),
    Begins(String),
    NotBegins(String),
    Contains(String),
    NotContains(String),
}

impl Filter {
    /// `WF`, `!WF`, `WF*`, `!WF*`, `*WF*`, `!*WF*`. A leading `*` strips the first and the last
    /// character (the sandbox quirk the gateway's clients are written against).
    pub(crate) fn parse(raw: &str) -> Option<Self> {
        let mut f = raw.trim();
        if f.is_empty() {
            return None;
        }
        let is_not = f.starts_with('!');
        if is_not {
            f = &f[1..];
        }
        let is_contains = f.starts_with('*');
        if is_contains {
            let inner = &f[1..];
            f = inner
                .char_indices()
                .last()
                .map_or(inner, |(i, _)| &inner[..i]);
        }
        let is_begins = f.ends_with('*');
        if is_begins {
            f = &f[..f.len() - 1];
        }
        let f = f.to_owned();
        Some(match (is_not, is_contains, is_begins) {
            (false, false, false) => Self::Exact(f),
            (true, false, false) => Self::NotExact(f),
            (false, _, true) => Self::Begins(f),
            (true, _, true) => Self::NotBegins(f),
            (false, true, false) => Self::Contains(f),
            (true, true, false) => Self::NotContains(f),
        })
    }

    pub(crate) fn matches(&self, workflow: &str) -> bool {
        match self {
            Self::Exact(f) => workflow == f,
            Self::NotExact(f) => workflow != f,
            Self::Begins(f) => workflow.starts_with(f.as_str()),
            Self::NotBegins(f) => !workflow.starts_with(f.as_str()),
            Self::Contains(f) => workflow.contains(f.as_str()),
            Self::NotContains(f) => !workflow.contains(f.as_str()),
        }
    }
}

/// Opaque v2 paging cursor: the inbox sequence number as 32 hex digits (MESH requires 24+ chars).
fn encode_cursor(seq: u64) -> String {
    format!("{seq:032x}")
}

fn decode_cursor(text: &str) -> Option<u64> {
    if text.len() != 32 {
        return None;
    }
    u128::from_str_radix(text, 16)
        .ok()
        .and_then(|v| u64::try_from(v).ok())
}

fn length_check(name: &str, value: &str, min: usize, max: usize) -> Result<(), ApiError> {
    let len = value.chars().count();
    if len < min {
        return Err(ApiError::validation(ValidationItem::too_short(
            "query", name, min,
        )));
    }
    if len > max {
        return Err(ApiError::validation(ValidationItem::too_long(
            "query", name, max,
        )));
    }
    Ok(())
}

fn max_results(raw: Option<&str>) -> Result<i64, ApiError> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_MAX_RESULTS);
    };
    let item = |kind, msg: &str, ctx| ValidationItem {
        kind,
        loc: ("query", "max_results".to_owned()),
        msg: msg.to_owned(),
        input: Some(raw.to_owned()),
        ctx,
    };
    let n: i64 = raw.trim().parse().map_err(|_| {
        ApiError::validation(item(
            "int_parsing",
            "Input should be a valid integer, unable to parse string as an integer",
            None,
        ))
    })?;
    if n < 10 {
        let msg = "Input should be greater than or equal to 10";
        return Err(ApiError::validation(item(
            "greater_than_equal",
            msg,
            Some(json!({"ge": 10})),
        )));
    }
    if n > 5000 {
        let msg = "Input should be less than or equal to 5000";
        return Err(ApiError::validation(item(
            "less_than_equal",
            msg,
            Some(json!({"le": 5000})),
        )));
    }
    Ok(n)
}

#[derive(Serialize)]
struct Links {
    #[serde(rename = "self")]
    this: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
}

#[derive(Serialize)]
struct InboxV2<'a> {
    messages: Vec<&'a str>,
    links: Links,
    approx_inbox_count: usize,
}

/// `GET /messageexchange/{mb}/inbox`.
pub(crate) async fn list(
    State(sim): State<AppState>,
    Path(mb): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let mb = mb.to_uppercase();
    authorise(&sim, &mb, &headers)?;
    let pairs = query_pairs(&uri)?;
    let max = max_results(query_value(&pairs, "max_results"))?;
    let continue_from = query_value(&pairs, "continue_from");
    if let Some(c) = continue_from {
        length_check("continue_from", c, 24, 1000)?;
    }
    let workflow_filter = query_value(&pairs, "workflow_filter");
    if let Some(w) = workflow_filter {
        length_check("workflow_filter", w, 2, 255)?;
    }
    let version = api_version(&headers)?;
    let filter = workflow_filter.and_then(Filter::parse);
    let keep = |wf: &str| filter.as_ref().is_none_or(|f| f.matches(wf));
    let page = {
        let store = sim.store();
        let after = match continue_from {
            None => None,
            Some(c) => match decode_cursor(c).or_else(|| store.seq_of(&mb, &c.to_uppercase())) {
                Some(seq) => Some(seq),
                // v1 clients page by message id; an unknown one restarts, as in the sandbox.
                None if version < 2 => None,
                None => {
                    return Err(ApiError::validation(ValidationItem::other(
                        "query",
                        "continue_from",
                        "value_error",
                        "Invalid continue_from",
                    )));
                }
            },
        };
        let keep: Option<&dyn Fn(&str) -> bool> = filter.as_ref().map(|_| &keep as _);
        store.list(&mb, after, keep, usize::try_from(max).unwrap_or(500))
    };
    if version < 2 {
        let ids: Vec<&str> = page.ids.iter().map(|id| &**id).collect();
        return Ok(json_response(
            StatusCode::OK,
            JSON,
            &json!({ "messages": ids }),
        ));
    }
    let mut query = Vec::new();
    if max != DEFAULT_MAX_RESULTS {
        query.push(format!("max_results={max}"));
    }
    if let Some(w) = workflow_filter.filter(|w| !w.is_empty()) {
        query.push(format!("workflow_filter={}", quote_plus(w)));
    }
    let base = format!("/messageexchange/{mb}/inbox");
    let link = |q: &[String]| {
        if q.is_empty() {
            base.clone()
        } else {
            format!("{base}?{}", q.join("&"))
        }
    };
    let this = link(&query);
    let next = page.next_after.map(|seq| {
        query.push(format!("continue_from={}", encode_cursor(seq)));
        link(&query)
    });
    let body = InboxV2 {
        messages: page.ids.iter().map(|id| &**id).collect(),
        links: Links { this, next },
        approx_inbox_count: page.count,
    };
    Ok(json_response(StatusCode::OK, V2_JSON, &body))
}

/// `GET /messageexchange/{mb}/count` (deprecated).
pub(crate) async fn count(
    State(sim): State<AppState>,
    Path(mb): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let mb = mb.to_uppercase();
    authorise(&sim, &mb, &headers)?;
    let version = api_version(&headers)?;
    let count = sim.store().inbox_count(&mb);
    let body = if version < 2 {
        let internal = uuid::Uuid::new_v4().simple().to_string();
        json!({ "count": count, "internalID": internal, "allResultsIncluded": true })
    } else {
        json!({ "count": count })
    };
    Ok(json_response(StatusCode::OK, JSON, &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_forms() {
        let p = |s: &str| Filter::parse(s).unwrap();
        assert_eq!(p("WF"), Filter::Exact("WF".into()));
        assert_eq!(p("!WF"), Filter::NotExact("WF".into()));
        assert_eq!(p("WF*"), Filter::Begins("WF".into()));
        assert_eq!(p("!WF*"), Filter::NotBegins("WF".into()));
        assert_eq!(p("*_ACK*"), Filter::Contains("_ACK".into()));
        assert_eq!(p("!*_ACK*"), Filter::NotContains("_ACK".into()));
        // Sandbox quirk: "*_ACK" loses its last character too.
        assert_eq!(p("*_ACK"), Filter::Contains("_AC".into()));
        assert_eq!(Filter::parse("  "), None);
        assert!(p("*_ACK*").matches("GPCONNECT_UPDATE_RECORD_ACK"));
        assert!(!p("!*_ACK*").matches("GPCONNECT_UPDATE_RECORD_ACK"));
        assert!(p("GPCONNECT*").matches("GPCONNECT_SEND_DOCUMENT"));
    }

    #[test]
    fn cursors_round_trip() {
        let c = encode_cursor(42);
        assert_eq!(c.len(), 32);
        assert_eq!(decode_cursor(&c), Some(42));
        assert_eq!(decode_cursor("20250101120000000000_ABCDEF"), None);
    }
}
