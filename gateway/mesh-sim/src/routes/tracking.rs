//! Tracking (`GET /{mb}/outbox/tracking?messageID=`), sender only (others get 404), in the
//! TrackingV2 / TrackingV1 shapes of spec §6.2.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{AppState, query_pairs, query_value};
use crate::auth::authorise;
use crate::errors::{ApiError, JSON, V2_JSON, ValidationItem, json_response};
use crate::headers::api_version;
use crate::message::{Kind, Message};
use crate::sim::{MailboxInfo, Sim};

fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

fn compact(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y%m%d%H%M%S").to_string())
        .unwrap_or_default()
}

/// Name, ODS code, organisation code and organisation name of a mailbox. The simulator's
/// configuration has no display names, so the id and ODS code stand in for them.
fn party(sim: &Sim, id: &str) -> [Option<String>; 4] {
    match sim.mailboxes.get(id) {
        Some(MailboxInfo { id, ods_code, .. }) => [
            Some(id.clone()),
            Some(ods_code.clone()),
            Some(ods_code.clone()),
            Some(ods_code.clone()),
        ],
        None => [None, None, None, None],
    }
}

#[derive(Serialize)]
struct TrackingV2 {
    message_id: String,
    local_id: String,
    workflow_id: String,
    filename: String,
    expiry_time: String,
    upload_timestamp: String,
    recipient: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    recipient_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recipient_ods_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recipient_org_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recipient_org_name: Option<String>,
    status_success: bool,
    status: &'static str,
}

fn v2(sim: &Sim, m: &Message) -> TrackingV2 {
    let [
        recipient_name,
        recipient_ods_code,
        recipient_org_code,
        recipient_org_name,
    ] = party(sim, &m.recipient);
    TrackingV2 {
        message_id: m.id.to_string(),
        local_id: m.meta.local_id.clone(),
        workflow_id: m.workflow_id.clone(),
        filename: m.file_name(),
        expiry_time: iso(m.expiry()),
        upload_timestamp: iso(m.created),
        recipient: m.recipient.clone(),
        recipient_name,
        recipient_ods_code,
        recipient_org_code,
        recipient_org_name,
        status_success: m.successful(),
        status: m.status.as_str(),
    }
}

fn v1(sim: &Sim, m: &Message) -> serde_json::Value {
    let [
        recipient_name,
        recipient_ods,
        recipient_org_code,
        recipient_org_name,
    ] = party(sim, &m.recipient);
    let [sender_name, sender_ods, sender_org_code, sender_org_name] = party(sim, &m.sender);
    let yes = |on: bool| if on { "Y" } else { "" };
    let data_error = m.error.as_ref().filter(|_| m.kind == Kind::Data);
    let report_error = m.error.as_ref().filter(|_| m.kind == Kind::Report);
    let mut v = serde_json::json!({
        "addressType": "ALL",
        "checksum": m.meta.checksum,
        "chunkCount": m.total_chunks,
        "compressFlag": yes(m.meta.compressed),
        "contentEncoding": m.meta.content_encoding,
        "downloadTimestamp": compact(m.acknowledged_at),
        "dtsId": &*m.id,
        "encryptedFlag": yes(m.meta.encrypted),
        "expiryTime": compact(Some(m.expiry())),
        "fileName": m.file_name(),
        "fileSize": m.file_size,
        "isCompressed": yes(m.meta.compressed),
        "localId": m.meta.local_id,
        "meshRecipientOdsCode": recipient_ods,
        "messageId": &*m.id,
        "messageType": if m.kind == Kind::Data { "Data" } else { "Report" },
        "partnerId": m.meta.partner_id,
        "recipient": m.recipient,
        "recipientName": recipient_name,
        "recipientOrgCode": recipient_org_code,
        "recipientOrgName": recipient_org_name,
        "recipientSmtp": "",
        "sender": m.sender,
        "senderName": sender_name,
        "senderOdsCode": sender_ods,
        "senderOrgCode": sender_org_code,
        "senderOrgName": sender_org_name,
        "senderSmtp": "",
        "status": m.status.title(),
        "statusSuccess": if m.successful() { "SUCCESS" } else { "ERROR" },
        "subject": m.meta.subject,
        "uploadTimestamp": compact(Some(m.created)),
        "version": "1.0",
        "workflowId": m.workflow_id,
    });
    if let (Some(e), Some(obj)) = (data_error, v.as_object_mut()) {
        obj.insert("failureDate".into(), compact(Some(e.at)).into());
        obj.insert("failureDiagnostic".into(), e.description.clone().into());
    }
    if let (Some(e), Some(obj)) = (report_error, v.as_object_mut()) {
        obj.insert("statusCode".into(), e.code.clone().into());
        obj.insert("statusDescription".into(), e.description.clone().into());
        obj.insert("statusEvent".into(), e.event.clone().into());
        obj.insert("statusTimestamp".into(), compact(Some(e.at)).into());
    }
    if let (Some(link), Some(obj)) = (
        m.error.as_ref().and_then(|e| e.linked_message_id.clone()),
        v.as_object_mut(),
    ) {
        obj.insert("linkedMsgId".into(), link.into());
    }
    // Absent parties are omitted rather than null, as MESH does.
    if let Some(obj) = v.as_object_mut() {
        obj.retain(|_, value| !value.is_null());
    }
    v
}

/// `GET /messageexchange/{mb}/outbox/tracking?messageID={id}`.
pub(crate) async fn by_message_id(
    State(sim): State<AppState>,
    Path(mb): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let mb = mb.to_uppercase();
    authorise(&sim, &mb, &headers)?;
    let pairs = query_pairs(&uri)?;
    let id = match query_value(&pairs, "messageID") {
        Some(id) if !id.is_empty() => id.to_uppercase(),
        Some(_) => {
            return Err(ApiError::validation(ValidationItem::too_short(
                "query",
                "messageID",
                1,
            )));
        }
        None => {
            return Err(ApiError::validation(ValidationItem::missing(
                "query",
                "messageID",
            )));
        }
    };
    let version = api_version(&headers)?;
    let store = sim.store();
    let msg = store.get(&id).ok_or_else(ApiError::not_found)?;
    // Deliberately 404, not 403, for someone else's message (as Spine does).
    if msg.sender.is_empty() || msg.sender != mb || !msg.outbox_visible {
        return Err(ApiError::not_found());
    }
    if version >= 2 {
        let body = v2(&sim, msg);
        drop(store);
        Ok(json_response(StatusCode::OK, V2_JSON, &body))
    } else {
        let body = v1(&sim, msg);
        drop(store);
        Ok(json_response(StatusCode::OK, JSON, &body))
    }
}

/// `GET /messageexchange/{mb}/outbox/tracking/{local_id}` (deprecated): always the v1 shape;
/// 300 when several sent messages share the local id. Scans the store, which is acceptable for a
/// deprecated call that clients should not poll.
pub(crate) async fn by_local_id(
    State(sim): State<AppState>,
    Path((mb, local_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let mb = mb.to_uppercase();
    authorise(&sim, &mb, &headers)?;
    let body = {
        let store = sim.store();
        let mut found = store.sent_by(&mb).filter(|m| m.meta.local_id == local_id);
        let msg = found.next().ok_or_else(ApiError::not_found)?;
        if found.next().is_some() {
            return Err(ApiError::plain(
                StatusCode::MULTIPLE_CHOICES,
                "Multiple Choices",
            ));
        }
        v1(&sim, msg)
    };
    Ok(json_response(StatusCode::OK, JSON, &body))
}
