//! Test-only admin endpoints, compatible with the sandbox's (spec §9.4): reset, report injection
//! and message status events. Not part of the real MESH API; no authentication.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use crate::errors::{ApiError, JSON, ValidationItem, json_response};
use crate::message::{ErrorEvent, Meta, Status};

/// `DELETE /admin/reset`: wipe every mailbox.
pub(crate) async fn reset(State(sim): State<AppState>) -> Response {
    sim.store().reset();
    json_response(
        StatusCode::OK,
        JSON,
        &json!({ "message": "all mailboxes reset" }),
    )
}

/// `DELETE /admin/reset/{mb}`: wipe one mailbox.
pub(crate) async fn reset_mailbox(
    State(sim): State<AppState>,
    Path(mb): Path<String>,
) -> Result<Response, ApiError> {
    let mb = mb.to_uppercase();
    if !sim.mailboxes.contains_key(&mb) {
        return Err(ApiError::plain(
            StatusCode::NOT_FOUND,
            "mailbox does not exist",
        ));
    }
    sim.store().reset_mailbox(&mb);
    Ok(json_response(
        StatusCode::OK,
        JSON,
        &json!({ "message": format!("mailbox {mb} reset") }),
    ))
}

#[derive(Deserialize)]
struct ReportRequest {
    mailbox_id: Option<String>,
    code: Option<String>,
    description: Option<String>,
    workflow_id: Option<String>,
    subject: Option<String>,
    local_id: Option<String>,
    status: Option<String>,
    file_name: Option<String>,
    linked_message_id: Option<String>,
}

fn parse_json<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::validation(ValidationItem::other(
            "body",
            "",
            "json_invalid",
            &e.to_string(),
        ))
    })
}

fn required(value: Option<String>, name: &str, problems: &mut Vec<ValidationItem>) -> String {
    value.unwrap_or_else(|| {
        problems.push(ValidationItem::missing("body", name));
        String::new()
    })
}

/// `POST /messageexchange/admin/report`: put a REPORT into a mailbox. `undeliverable` (default)
/// is the 5-day non-delivery report (code 14); `error` uses the given code and description.
pub(crate) async fn report(State(sim): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let req: ReportRequest = parse_json(&body)?;
    let mut problems = Vec::new();
    let mailbox = required(req.mailbox_id, "mailbox_id", &mut problems)
        .trim()
        .to_uppercase();
    let code = required(req.code, "code", &mut problems);
    let description = required(req.description, "description", &mut problems);
    let workflow = required(req.workflow_id, "workflow_id", &mut problems);
    if !problems.is_empty() {
        return Err(ApiError::Validation(problems));
    }
    if !sim.mailboxes.contains_key(&mailbox) {
        return Err(ApiError::plain(
            StatusCode::NOT_FOUND,
            "mailbox does not exist",
        ));
    }
    let now = Utc::now();
    let linked = req.linked_message_id.map(|id| id.to_uppercase());
    let (error, meta) = match req.status.as_deref().unwrap_or("undeliverable") {
        "undeliverable" => {
            let error = ErrorEvent {
                event: "SEND".into(),
                code: "14".into(),
                description: "Message not collected by recipient after 5 days".into(),
                linked_message_id: linked,
                at: now,
            };
            let subject = req
                .subject
                .filter(|s| !s.is_empty())
                .map_or("NDR".into(), |s| format!("NDR: {s}"));
            (
                error,
                Meta {
                    subject,
                    local_id: req.local_id.unwrap_or_default(),
                    ..Meta::default()
                },
            )
        }
        "error" => {
            let error = ErrorEvent {
                event: "TRANSFER".into(),
                code,
                description,
                linked_message_id: linked,
                at: now,
            };
            let meta = Meta {
                subject: req.subject.unwrap_or_default(),
                local_id: req.local_id.unwrap_or_default(),
                file_name: req.file_name.unwrap_or_default(),
                ..Meta::default()
            };
            (error, meta)
        }
        // The sandbox fails an assertion here.
        _ => return Err(ApiError::Generic(StatusCode::INTERNAL_SERVER_ERROR)),
    };
    let id = sim
        .store()
        .add_report(&mailbox, &workflow, meta, error, now);
    tracing::debug!(message_id = %id, "Simulated MESH report injected.");
    Ok(json_response(
        StatusCode::OK,
        JSON,
        &json!({ "message_id": &*id }),
    ))
}

#[derive(Deserialize)]
struct EventRequest {
    status: Option<String>,
    code: Option<String>,
    event: Option<String>,
    description: Option<String>,
    linked_message_id: Option<String>,
}

/// `POST /messageexchange/admin/message/{id}/event`: set a message's status, e.g.
/// `undeliverable` (download then answers 410) or `error` with code and description.
pub(crate) async fn message_event(
    State(sim): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: EventRequest = parse_json(&body)?;
    let raw = req
        .status
        .ok_or_else(|| ApiError::validation(ValidationItem::missing("body", "status")))?;
    let status = Status::parse(&raw).ok_or_else(|| {
        ApiError::validation(ValidationItem::other(
            "body",
            "status",
            "value_error",
            "Unknown status",
        ))
    })?;
    let now = Utc::now();
    let error = (status == Status::Error).then(|| ErrorEvent {
        event: req.event.unwrap_or_default(),
        code: req.code.unwrap_or_default(),
        description: req.description.unwrap_or_default(),
        linked_message_id: req.linked_message_id,
        at: now,
    });
    if !sim
        .store()
        .set_status(&id.to_uppercase(), status, error, now)
    {
        return Err(ApiError::not_found());
    }
    Ok(StatusCode::OK.into_response())
}
