//! Download (`GET /{mb}/inbox/{id}[/{n}]`), `HEAD` and acknowledge, with the `Mex-*` response
//! headers of spec §3.2 and the gzip negotiation of §7.

use std::io::Read;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::Utc;
use serde_json::json;

use super::{AppState, chunk_number};
use crate::auth::authorise;
use crate::errors::{ApiError, JSON, json_response};
use crate::headers::{api_version, header_text, to_header_value};
use crate::message::{Kind, Message, Status};

/// Response headers for chunk `n` of `msg`, in MESH's order; empty values are left out.
fn mex_headers(msg: &Message, n: u32) -> Vec<(&'static str, String)> {
    let stamp = msg
        .status_time()
        .unwrap_or_else(Utc::now)
        .format("%Y%m%d%H%M%S")
        .to_string();
    let mut h: Vec<(&'static str, String)> = vec![
        ("mex-from", msg.sender.clone()),
        ("mex-to", msg.recipient.clone()),
        ("mex-workflowid", msg.workflow_id.clone()),
        ("mex-chunk-range", format!("{n}:{}", msg.total_chunks)),
        ("mex-total-chunks", msg.total_chunks.to_string()),
        ("mex-addresstype", "ALL".to_owned()),
        ("mex-localid", msg.meta.local_id.clone()),
        ("mex-partnerid", msg.meta.partner_id.clone()),
        ("mex-filename", msg.file_name()),
        ("mex-subject", msg.meta.subject.clone()),
        ("mex-version", "1.0".to_owned()),
        ("mex-messagetype", msg.kind.as_str().to_owned()),
        ("mex-messageid", msg.id.to_string()),
    ];
    if msg.kind == Kind::Data {
        h.push(("content-encoding", msg.meta.content_encoding.clone()));
    }
    match (&msg.error, msg.kind) {
        (None, Kind::Data) => h.extend([
            ("mex-statuscode", "00".to_owned()),
            ("mex-statusevent", "TRANSFER".to_owned()),
            (
                "mex-statusdescription",
                "Transferred to recipient mailbox".to_owned(),
            ),
            ("mex-statussuccess", "SUCCESS".to_owned()),
        ]),
        (None, Kind::Report) => h.push(("mex-statussuccess", "ERROR".to_owned())),
        (Some(e), _) => h.extend([
            (
                "mex-linkedmsgid",
                e.linked_message_id.clone().unwrap_or_default(),
            ),
            ("mex-statuscode", e.code.clone()),
            ("mex-statusevent", e.event.clone()),
            ("mex-statusdescription", e.description.clone()),
            ("mex-statussuccess", "ERROR".to_owned()),
        ]),
    }
    h.push(("mex-statustimestamp", stamp));
    let flag = |on: bool| if on { "Y".to_owned() } else { String::new() };
    h.extend([
        ("mex-content-compressed", flag(msg.meta.compressed)),
        ("mex-content-encrypted", flag(msg.meta.encrypted)),
        ("mex-content-checksum", msg.meta.checksum.clone()),
        ("mex-content-type", msg.meta.content_type.clone()),
        (
            "last-modified",
            msg.last_event
                .format("%a, %d %b %Y %H:%M:%S UTC")
                .to_string(),
        ),
    ]);
    h.retain(|(_, v)| !v.is_empty());
    h
}

fn apply_headers(resp: &mut Response, headers: Vec<(&'static str, String)>) {
    for (name, value) in headers {
        if let Some(value) = to_header_value(&value) {
            resp.headers_mut()
                .insert(HeaderName::from_static(name), value);
        }
    }
}

/// What a download needs, copied out of the store so the lock is not held while building it.
struct Snapshot {
    headers: Vec<(&'static str, String)>,
    kind: Kind,
    total: u32,
    content_type: String,
    gzip: bool,
    chunk: Option<Bytes>,
}

async fn download(
    sim: AppState,
    mb: String,
    id: String,
    n: i64,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let mb = mb.to_uppercase();
    let id = id.to_uppercase();
    authorise(&sim, &mb, &headers)?;
    let version = api_version(&headers)?;
    let snap = {
        let store = sim.store();
        let msg = store.get(&id).ok_or_else(ApiError::no_such_message)?;
        if msg.recipient != mb {
            return Err(ApiError::forbidden());
        }
        // Acknowledged messages are no longer served by real MESH (the sandbox still serves them).
        if msg.status != Status::Accepted {
            return Err(ApiError::gone());
        }
        let k = u32::try_from(n).unwrap_or(u32::MAX);
        Snapshot {
            headers: mex_headers(msg, k),
            kind: msg.kind,
            total: msg.total_chunks,
            content_type: msg.meta.content_type.clone(),
            gzip: msg.meta.content_encoding == "gzip",
            chunk: if msg.kind == Kind::Data && n >= 1 {
                msg.chunk(k)
            } else {
                None
            },
        }
    };
    if snap.kind == Kind::Report {
        let mut resp = StatusCode::OK.into_response();
        apply_headers(&mut resp, snap.headers);
        return Ok(resp);
    }
    let chunk = snap.chunk.ok_or_else(ApiError::no_such_message)?;
    let status = if n >= i64::from(snap.total) {
        StatusCode::OK
    } else {
        StatusCode::PARTIAL_CONTENT
    };
    let accepts_gzip =
        header_text(&headers, header::ACCEPT_ENCODING.as_str()).is_some_and(|v| v.contains("gzip"));
    let mut mex = snap.headers;
    let body = if snap.gzip && !accepts_gzip {
        mex.retain(|(name, _)| *name != "content-encoding");
        gunzip(&chunk)?
    } else {
        chunk
    };
    let content_type = if version >= 2 && snap.total < 2 && !snap.content_type.is_empty() {
        to_header_value(&snap.content_type)
    } else {
        None
    };
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    apply_headers(&mut resp, mex);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        content_type.unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    Ok(resp)
}

/// Clients that do not accept gzip get the stored bytes decompressed.
fn gunzip(data: &[u8]) -> Result<Bytes, ApiError> {
    let mut out = Vec::with_capacity(data.len().saturating_mul(4));
    flate2::read::MultiGzDecoder::new(data)
        .read_to_end(&mut out)
        .map_err(|_| ApiError::Generic(StatusCode::INTERNAL_SERVER_ERROR))?;
    Ok(Bytes::from(out))
}

/// `GET /messageexchange/{mb}/inbox/{id}`: the message or its first chunk.
pub(crate) async fn message(
    State(sim): State<AppState>,
    Path((mb, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    download(sim, mb, id, 1, headers).await
}

/// `GET /messageexchange/{mb}/inbox/{id}/{n}`.
pub(crate) async fn chunk(
    State(sim): State<AppState>,
    Path((mb, id, chunk)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let n = chunk_number(&chunk)?;
    if n < 1 {
        return Err(ApiError::validation(crate::errors::ValidationItem {
            kind: "greater_than_equal",
            loc: ("path", "chunk_number".to_owned()),
            msg: "Input should be greater than or equal to 1".to_owned(),
            input: Some(chunk.clone()),
            ctx: Some(json!({ "ge": 1 })),
        }));
    }
    download(sim, mb, id, n, headers).await
}

/// `HEAD /messageexchange/{mb}/inbox/{id}`: headers only; the recipient while the message is
/// accepted or acknowledged, the sender in any status.
pub(crate) async fn head(
    State(sim): State<AppState>,
    Path((mb, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let mb = mb.to_uppercase();
    let id = id.to_uppercase();
    authorise(&sim, &mb, &headers)?;
    let mex = {
        let store = sim.store();
        let msg = store.get(&id).ok_or_else(ApiError::no_such_message)?;
        let is_recipient = msg.recipient == mb;
        if !is_recipient && msg.sender != mb {
            return Err(ApiError::no_such_message());
        }
        if is_recipient && !matches!(msg.status, Status::Accepted | Status::Acknowledged) {
            return Err(ApiError::gone());
        }
        mex_headers(msg, 1)
    };
    let mut resp = StatusCode::OK.into_response();
    apply_headers(&mut resp, mex);
    Ok(resp)
}

/// `PUT /messageexchange/{mb}/inbox/{id}/status/acknowledged`.
pub(crate) async fn acknowledge(
    State(sim): State<AppState>,
    Path((mb, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let mb = mb.to_uppercase();
    let id = id.to_uppercase();
    authorise(&sim, &mb, &headers)?;
    let version = api_version(&headers)?;
    {
        let mut store = sim.store();
        let msg = store.get(&id).ok_or_else(ApiError::no_such_message)?;
        if msg.recipient != mb {
            return Err(ApiError::forbidden());
        }
        store.acknowledge(&id, Utc::now());
    }
    if version < 2 {
        return Ok(json_response(
            StatusCode::OK,
            JSON,
            &json!({ "messageId": id }),
        ));
    }
    Ok(StatusCode::OK.into_response())
}
