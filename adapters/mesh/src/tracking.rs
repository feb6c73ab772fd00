//! Outbox tracking (`GET .../outbox/tracking?messageID=`), v2 and v1 response shapes.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use reqwest::Method;
use serde_json::Value;

use crate::{MeshClient, MeshError, TrackingInfo};

impl MeshClient {
    /// Status of a message this mailbox sent. Not for frequent polling (real MESH asks callers
    /// to rely on application acknowledgements instead).
    ///
    /// # Errors
    ///
    /// [`MeshError::Status`] 404 for unknown ids or messages sent by another mailbox.
    pub async fn track(&self, message_id: &str) -> Result<TrackingInfo, MeshError> {
        let mut url = self.url(&["outbox", "tracking"])?;
        url.query_pairs_mut().append_pair("messageID", message_id);
        let body = self
            .with_retry("track", |_| async {
                let response = self
                    .execute("track", self.request(Method::GET, url.clone()))
                    .await?;
                self.body("track", response).await
            })
            .await?;
        parse_tracking(&body, message_id)
    }
}

/// Parses TrackingV2 (snake_case) or TrackingV1 (camelCase) bodies, tolerating a record wrapped
/// in a one-element list, keys in either spelling, numbers or booleans where text is expected,
/// and both timestamp forms (ISO-8601 with or without zone, `yyyyMMddHHmmss`).
pub(crate) fn parse_tracking(body: &[u8], message_id: &str) -> Result<TrackingInfo, MeshError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| MeshError::Protocol(format!("tracking response is not json: {e}")))?;
    let record = match &value {
        Value::Array(items) if items.len() == 1 => items.first(),
        other => Some(other),
    };
    let Some(Value::Object(record)) = record else {
        return Err(MeshError::Protocol(
            "tracking response is not a single json object".to_owned(),
        ));
    };
    // `message_id`, `messageId` and `messageID` all become `messageid`.
    let fields: HashMap<String, &Value> = record
        .iter()
        .map(|(k, v)| (k.replace('_', "").to_ascii_lowercase(), v))
        .collect();
    let text = |key: &str| match fields.get(key).copied() {
        Some(Value::String(s)) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Some(v @ (Value::Number(_) | Value::Bool(_))) => Some(v.to_string()),
        _ => None,
    };
    let time = |key: &str| text(key).as_deref().and_then(parse_time);
    let acknowledged_at = time("downloadtimestamp");
    let status = match text("status") {
        Some(status) => status.to_ascii_lowercase(),
        // Some v1 answers carry no status, only the acknowledgement time.
        None if acknowledged_at.is_some() => "acknowledged".to_owned(),
        None => {
            return Err(MeshError::Protocol(
                "tracking response has no status".to_owned(),
            ));
        }
    };
    let status_success = match fields.get("statussuccess").copied() {
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(s)) => match s.trim().to_ascii_uppercase().as_str() {
            "SUCCESS" | "TRUE" | "Y" => Some(true),
            "ERROR" | "FAILURE" | "FALSE" | "N" => Some(false),
            _ => None,
        },
        _ => None,
    };
    Ok(TrackingInfo {
        message_id: text("messageid").unwrap_or_else(|| message_id.to_owned()),
        status,
        status_success,
        recipient: text("recipient"),
        status_code: text("statuscode"),
        status_description: text("statusdescription").or_else(|| text("failurediagnostic")),
        uploaded_at: time("uploadtimestamp"),
        acknowledged_at,
        status_at: time("statustimestamp").or_else(|| time("failuredate")),
        expires_at: time("expirytime"),
    })
}

/// Parses the timestamp forms MESH uses; naive values are UTC.
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y%m%d%H%M%S",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
    .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_recorded_exchange() {
        let body = br#"{"message_id":"7F05C532E22F4EF1BB271F77B8B28A9D","local_id":"FA001","workflow_id":"GPCONNECT_UPDATE_RECORD","filename":"update-record.json","expiry_time":"2026-11-26T04:06:17.572510","upload_timestamp":"2026-11-21T04:06:17.572548","recipient":"GPPRAC01","recipient_name":"Test GP practice one","recipient_ods_code":"A99901","recipient_org_code":"A99901","recipient_org_name":"Test Surgery One","status_success":true,"status":"acknowledged"}"#;
        let t = parse_tracking(body, "x").unwrap();
        assert_eq!(
            t,
            TrackingInfo {
                message_id: "7F05C532E22F4EF1BB271F77B8B28A9D".into(),
                status: "acknowledged".into(),
                status_success: Some(true),
                recipient: Some("GPPRAC01".into()),
                status_code: None,
                status_description: None,
                uploaded_at: Some(utc("2026-11-21T04:06:17.572548Z")),
                acknowledged_at: None,
                status_at: None,
                expires_at: Some(utc("2026-11-26T04:06:17.572510Z")),
            }
        );
        assert!(t.is_delivered() && !t.is_failed());
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    /// A v1 answer as the sandbox gives it for an acknowledged message (`Accept` v1).
    #[test]
    fn v1_sandbox_shape() {
        let body = br#"{"addressType":"ALL","checksum":"","chunkCount":1,"compressFlag":"","contentEncoding":"","downloadTimestamp":"20261121040630","dtsId":"ID1","encryptedFlag":"","expiryTime":"20261126040617","failureDate":null,"failureDiagnostic":null,"fileName":"b.json","fileSize":57,"isCompressed":"","linkedMsgId":null,"localId":"FA001","meshRecipientOdsCode":"A99901","messageId":"ID1","messageType":"Data","partnerId":"","recipient":"GPPRAC01","recipientName":"Test GP practice one","recipientOrgCode":"A99901","recipientOrgName":"Test Surgery One","recipientSmtp":"","sender":"PHARM001","senderName":"Pharmacy","senderOdsCode":"FA001","senderOrgCode":"FA001","senderOrgName":"Test Pharmacy","senderSmtp":"","status":"Acknowledged","statusCode":null,"statusDescription":null,"statusEvent":null,"statusSuccess":"SUCCESS","statusTimestamp":null,"subject":"x","uploadTimestamp":"20261121040617","version":"1.0","workflowId":"GPCONNECT_UPDATE_RECORD"}"#;
        let t = parse_tracking(body, "ID1").unwrap();
        assert_eq!(t.status, "acknowledged");
        assert_eq!(t.status_success, Some(true));
        assert_eq!(t.acknowledged_at, Some(utc("2026-11-21T04:06:30Z")));
        assert_eq!(t.uploaded_at, Some(utc("2026-11-21T04:06:17Z")));
        assert_eq!(t.expires_at, Some(utc("2026-11-26T04:06:17Z")));
        assert!(t.status_code.is_none() && t.status_at.is_none());
        assert!(t.is_delivered());
    }

    #[test]
    fn tolerant_variants() {
        // A one-element list, numbers for codes, a zoned timestamp, v1 failure fields.
        let body = br#"[{"messageID":"ID","status":" Accepted ","statusSuccess":"ERROR","statusCode":14,"failureDiagnostic":"not collected","failureDate":"20261126040617","uploadTimestamp":"2026-11-21T04:06:17+00:00","downloadTimestamp":""}]"#;
        let t = parse_tracking(body, "ID").unwrap();
        assert_eq!(t.message_id, "ID");
        assert_eq!(t.status, "accepted");
        assert_eq!(t.status_code.as_deref(), Some("14"));
        assert_eq!(t.status_description.as_deref(), Some("not collected"));
        assert_eq!(t.status_at, Some(utc("2026-11-26T04:06:17Z")));
        assert_eq!(t.uploaded_at, Some(utc("2026-11-21T04:06:17Z")));
        assert!(!t.is_delivered() && t.is_failed());
        // No status but an acknowledgement time: delivered.
        let t = parse_tracking(br#"{"downloadTimestamp":"20261121040630"}"#, "ID").unwrap();
        assert_eq!(
            (t.status.as_str(), t.message_id.as_str()),
            ("acknowledged", "ID")
        );
        assert!(t.is_delivered());
        // v2 with a null success flag and an uploading status.
        let t = parse_tracking(br#"{"status":"uploading","status_success":null}"#, "ID").unwrap();
        assert_eq!(t.status_success, None);
        assert!(!t.is_delivered() && !t.is_failed());
    }

    #[test]
    fn v1_shape_is_normalised() {
        let body = br#"{"messageId":"ID","status":"Undeliverable","statusSuccess":"ERROR","recipient":"X26ABC2","statusCode":"14","statusDescription":"Message not collected"}"#;
        let t = parse_tracking(body, "ID").unwrap();
        assert_eq!(t.status, "undeliverable");
        assert_eq!(t.status_success, Some(false));
        assert_eq!(t.status_code.as_deref(), Some("14"));
        assert_eq!(
            t.status_description.as_deref(),
            Some("Message not collected")
        );
        assert!(t.is_failed() && !t.is_delivered());
    }

    #[test]
    fn missing_status_is_a_protocol_error() {
        assert!(matches!(
            parse_tracking(b"{}", "ID"),
            Err(MeshError::Protocol(_))
        ));
        for bad in [&b"<html>"[..], b"[]", b"[{},{}]", b"\"accepted\"", b"null"] {
            assert!(matches!(
                parse_tracking(bad, "ID"),
                Err(MeshError::Protocol(_))
            ));
        }
    }
}
