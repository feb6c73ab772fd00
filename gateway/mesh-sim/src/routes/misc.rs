//! Handshake, the no-op update call, endpoint lookup and the liveness endpoints.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use crate::auth::authorise;
use crate::errors::{ApiError, JSON, ValidationItem, json_response};
use crate::headers::{api_version, header_text};

/// `POST` (and `GET`) `/messageexchange/{mb}`: validate the mailbox; the client headers
/// `mex-ClientVersion`, `mex-OSName` and `mex-OSVersion` are required.
pub(crate) async fn handshake(
    State(sim): State<AppState>,
    Path(mb): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let mb = mb.to_uppercase();
    let mailbox = authorise(&sim, &mb, &headers)?;
    let missing: Vec<_> = ["mex-clientversion", "mex-osname", "mex-osversion"]
        .into_iter()
        .filter(|name| header_text(&headers, name).is_none())
        .map(|name| ValidationItem::missing("header", name))
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::Validation(missing));
    }
    if api_version(&headers)? < 2 {
        return Ok(json_response(
            StatusCode::OK,
            JSON,
            &json!({ "mailboxId": mailbox.id }),
        ));
    }
    Ok(StatusCode::OK.into_response())
}

/// `POST /messageexchange/{mb}/update`: authenticated no-op.
pub(crate) async fn update(
    State(sim): State<AppState>,
    Path(mb): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorise(&sim, &mb.to_uppercase(), &headers)?;
    Ok(StatusCode::OK.into_response())
}

/// `GET /messageexchange/endpointlookup/{ods}/{workflow}`: mailboxes of an ODS code. The
/// simulator has no workflow registrations, so every workflow matches.
pub(crate) async fn endpoint_lookup(
    State(sim): State<AppState>,
    Path((ods, _workflow)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let version = api_version(&headers)?;
    let mut found: Vec<_> = sim
        .mailboxes
        .values()
        .filter(|m| m.ods_code.eq_ignore_ascii_case(ods.trim()))
        .collect();
    found.sort_by(|a, b| a.id.cmp(&b.id));
    let body = if version >= 2 {
        let results: Vec<_> = found
            .iter()
            .map(|m| json!({ "mailbox_id": m.id, "mailbox_name": m.id }))
            .collect();
        json!({ "results": results })
    } else {
        let results: Vec<_> = found
            .iter()
            .map(|m| json!({ "address": m.id, "description": m.id, "endpoint_type": "MESH" }))
            .collect();
        json!({ "query_id": uuid::Uuid::new_v4().simple().to_string(), "results": results })
    };
    Ok(json_response(StatusCode::OK, JSON, &body))
}

/// Liveness (`/health`, `/_ping`, ...).
pub(crate) async fn health() -> Response {
    let body = json!({
        "env": "local",
        "build_label": "gateway-mesh-sim",
        "status": "running",
        "outcome": "Yes",
    });
    json_response(StatusCode::OK, JSON, &body)
}
