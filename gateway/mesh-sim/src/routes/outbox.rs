//! Sending: `POST /{mb}/outbox` (single message or chunk 1 of n) and `POST /{mb}/outbox/{id}/{n}`
//! (further chunks), with the header validation of spec §3.1 and the chunk rules of §7.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use chrono::Utc;
use serde_json::json;

use super::{AppState, chunk_number};
use crate::auth::authorise;
use crate::errors::{ApiError, JSON, ValidationItem, json_response};
use crate::headers::{api_version, has_control_chars, header_text, looks_like_url, truthy};
use crate::message::{Kind, Message, Meta, Status};
use crate::routing::NO_MAILBOX;

/// Send headers with their maximum lengths, in the order MESH validates them.
const SEND_HEADERS: [(&str, usize); 11] = [
    ("mex-to", 100),
    ("mex-workflowid", 300),
    ("mex-chunk-range", 20),
    ("mex-subject", 500),
    ("mex-localid", 300),
    ("mex-partnerid", 500),
    ("mex-filename", 300),
    ("mex-content-encrypted", 20),
    ("mex-content-compressed", 20),
    ("mex-content-checksum", 100),
    ("mex-content-type", 100),
];

/// Validated send headers; absent optional values are empty.
struct SendHeaders {
    values: [String; 11],
}

impl SendHeaders {
    fn get(&self, name: &str) -> &str {
        SEND_HEADERS
            .iter()
            .position(|(n, _)| *n == name)
            .and_then(|i| self.values.get(i))
            .map_or("", String::as_str)
    }
}

fn read_send_headers(headers: &HeaderMap) -> Result<SendHeaders, ApiError> {
    let mut values: [String; 11] = Default::default();
    let mut problems = Vec::new();
    for ((name, max), slot) in SEND_HEADERS.iter().zip(values.iter_mut()) {
        match header_text(headers, name) {
            None if matches!(*name, "mex-to" | "mex-workflowid") => {
                problems.push(ValidationItem::missing("header", name));
            }
            None => {}
            Some(v) if v.chars().count() > *max => {
                problems.push(ValidationItem::too_long("header", name, *max));
            }
            Some(v) => *slot = v.into_owned(),
        }
    }
    if !problems.is_empty() {
        return Err(ApiError::Validation(problems));
    }
    let [to, workflow, range, ..] = &mut values;
    *to = to.trim().to_uppercase();
    *workflow = workflow.trim().to_owned();
    *range = range.trim().to_owned();
    let h = SendHeaders { values };
    let control = SEND_HEADERS
        .iter()
        .zip(&h.values)
        .filter(|((name, _), _)| {
            !matches!(*name, "mex-content-encrypted" | "mex-content-compressed")
        })
        .any(|(_, v)| has_control_chars(v));
    let urls = ["mex-to", "mex-workflowid", "mex-content-checksum"]
        .iter()
        .any(|n| looks_like_url(h.get(n)));
    if control || urls {
        return Err(ApiError::mesh(
            StatusCode::BAD_REQUEST,
            "TRANSFER",
            "06",
            "MalformedControlFile",
        ));
    }
    let checksum_ok = h
        .get("mex-content-checksum")
        .trim()
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c.is_ascii_whitespace() || ":-/".contains(c));
    if !checksum_ok {
        return Err(ApiError::mesh(
            StatusCode::BAD_REQUEST,
            "SEND",
            "Invalid checksum",
            "Invalid checksum",
        ));
    }
    Ok(h)
}

/// `Mex-Chunk-Range` rules: empty means 1:1 (first request only); otherwise `k:n` with
/// 0 < k <= n and k equal to the chunk number of the request.
fn chunk_range(range: &str, request_chunk: i64) -> Option<(u32, u32)> {
    if range.is_empty() {
        return (request_chunk == 1).then_some((1, 1));
    }
    let (k, n) = range.split_once(':')?;
    let k: i64 = k.trim().parse().ok()?;
    let n: i64 = n.trim().parse().ok()?;
    if !(0 < k && k <= n) || k != request_chunk {
        return None;
    }
    Some((u32::try_from(k).ok()?, u32::try_from(n).ok()?))
}

/// Transport encoding, trimmed and lower case; only gzip is allowed.
fn content_encoding(headers: &HeaderMap) -> String {
    header_text(headers, header::CONTENT_ENCODING.as_str())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// `POST /messageexchange/{mb}/outbox`.
pub(crate) async fn send(
    State(sim): State<AppState>,
    Path(mb): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mb = mb.to_uppercase();
    let sender = authorise(&sim, &mb, &headers)?;
    let h = read_send_headers(&headers)?;
    let version = api_version(&headers)?;
    let to = h.get("mex-to");
    if to.is_empty() {
        return Err(ApiError::mesh(
            StatusCode::BAD_REQUEST,
            "SEND",
            "08",
            "TO_DTS missing",
        ));
    }
    let encoding = content_encoding(&headers);
    if !encoding.is_empty() && encoding != "gzip" {
        return Err(ApiError::mesh(
            StatusCode::UNPROCESSABLE_ENTITY,
            "SEND",
            "UnsupportedContentEncoding",
            "Unsupported content encoding",
        ));
    }
    let (_, total) =
        chunk_range(h.get("mex-chunk-range"), 1).ok_or_else(ApiError::invalid_chunks)?;
    let workflow = h.get("mex-workflowid");
    let (recipient, routing_failure) = match sim.registry.route(to, workflow) {
        Some(Ok(practice)) if sim.mailboxes.contains_key(practice) => (practice, None),
        Some(Ok(_)) => (to, Some(NO_MAILBOX)),
        Some(Err(failure)) => (to, Some(failure)),
        None if sim.mailboxes.contains_key(to) => (to, None),
        None => {
            return Err(ApiError::mesh(
                StatusCode::EXPECTATION_FAILED,
                "SEND",
                "12",
                "Unregistered to address",
            ));
        }
    };
    if body.is_empty() {
        return Err(ApiError::mesh(
            StatusCode::EXPECTATION_FAILED,
            "COLLECT",
            "02",
            "Data file is missing or inaccessible.",
        ));
    }
    let content_type = match h.get("mex-content-type") {
        "" => header_text(&headers, header::CONTENT_TYPE.as_str())
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default(),
        mex => mex.to_owned(),
    };
    let meta = Meta {
        subject: h.get("mex-subject").to_owned(),
        local_id: h.get("mex-localid").to_owned(),
        file_name: h.get("mex-filename").to_owned(),
        partner_id: h.get("mex-partnerid").to_owned(),
        checksum: h.get("mex-content-checksum").to_owned(),
        content_type,
        content_encoding: encoding,
        compressed: truthy(h.get("mex-content-compressed")),
        encrypted: truthy(h.get("mex-content-encrypted")),
    };
    let now = Utc::now();
    let id = {
        let mut store = sim.store();
        let id = store.new_id(now);
        let mut msg = Message::new(id.clone(), Kind::Data, now);
        msg.sender = sender.id.clone();
        msg.recipient = recipient.to_owned();
        msg.workflow_id = workflow.to_owned();
        msg.meta = meta;
        msg.total_chunks = total;
        msg.routing_failure = routing_failure;
        msg.put_chunk(1, body);
        store.insert(msg);
        if total == 1 {
            store.complete(&id, now);
        }
        id
    };
    tracing::debug!(message_id = %id, chunks = total, "Simulated MESH message received.");
    let body = if version >= 2 {
        json!({ "message_id": &*id })
    } else {
        json!({ "messageID": &*id })
    };
    Ok(json_response(StatusCode::ACCEPTED, JSON, &body))
}

/// `POST /messageexchange/{mb}/outbox/{id}/{n}`.
pub(crate) async fn upload_chunk(
    State(sim): State<AppState>,
    Path((mb, id, chunk)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mb = mb.to_uppercase();
    let id = id.to_uppercase();
    authorise(&sim, &mb, &headers)?;
    let range = header_text(&headers, "mex-chunk-range")
        .unwrap_or_default()
        .trim()
        .to_owned();
    if range.chars().count() > 20 {
        return Err(ApiError::validation(ValidationItem::too_long(
            "header",
            "mex-chunk-range",
            20,
        )));
    }
    let encoding = content_encoding(&headers);
    let n = chunk_number(&chunk)?;
    let version = api_version(&headers)?;
    if range.is_empty() || chunk_range(&range, n).is_none() {
        return Err(ApiError::invalid_chunks().with_message_id(&id));
    }
    // chunk_range guarantees 1 <= n <= declared total.
    let n = u32::try_from(n).map_err(|_| ApiError::invalid_chunks().with_message_id(&id))?;
    let now = Utc::now();
    {
        let mut store = sim.store();
        let msg = store.get_mut(&id).ok_or_else(ApiError::not_found)?;
        if msg.sender != mb {
            return Err(ApiError::forbidden());
        }
        if msg.status != Status::Uploading {
            return Err(ApiError::Generic(StatusCode::LOCKED));
        }
        if n > msg.total_chunks || msg.kind != Kind::Data {
            return Err(ApiError::Generic(StatusCode::NOT_ACCEPTABLE));
        }
        if encoding != msg.meta.content_encoding {
            return Err(ApiError::plain(
                StatusCode::EXPECTATION_FAILED,
                "cannot change content encoding",
            ));
        }
        msg.put_chunk(n, body);
        if n == msg.total_chunks {
            store.complete(&id, now);
        }
    }
    let body = if version >= 2 {
        serde_json::Value::Null
    } else {
        json!({ "messageID": id, "blockID": n })
    };
    Ok(json_response(StatusCode::ACCEPTED, JSON, &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_ranges() {
        assert_eq!(chunk_range("", 1), Some((1, 1)));
        assert_eq!(chunk_range("", 2), None);
        assert_eq!(chunk_range("1:3", 1), Some((1, 3)));
        assert_eq!(chunk_range(" 2 : 3 ", 2), Some((2, 3)));
        assert_eq!(chunk_range("2:3", 1), None);
        assert_eq!(chunk_range("4:3", 4), None);
        assert_eq!(chunk_range("0:3", 0), None);
        assert_eq!(chunk_range("1-3", 1), None);
        assert_eq!(chunk_range("a:3", 1), None);
    }
}
