//! Sending: `POST .../outbox` for the message (or chunk 1) and `POST .../outbox/{id}/{k}` for the
//! remaining chunks, in order.

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE};
use tracing::debug;

use crate::message::SendHeaders;
use crate::payload::Chunks;
use crate::{MeshClient, MeshError, OutboundFile, OutboundMessage};

/// Header limits of MESH (spec/mesh.md §3.1), checked locally so a bad message fails clearly and
/// without a round trip. Values are never echoed in errors (they may hold patient data).
const LIMITS: [(&str, usize); 5] = [
    ("to", 100),
    ("workflow_id", 300),
    ("subject", 500),
    ("local_id", 300),
    ("file_name", 300),
];

impl MeshClient {
    /// Sends `msg` and returns its MESH message id. Bodies larger than `chunk_size` go as
    /// ordered chunks (`Mex-Chunk-Range k:n`), each gzipped on its own when `compress` is set.
    /// Chunks are zero-copy slices of `msg.body`; only the chunk in flight has a gzip copy.
    ///
    /// The first `POST .../outbox` is never retried here: if its response is lost MESH may hold
    /// the message, so the caller must decide (see [`MeshError::outcome_unknown`]). Later chunks
    /// are retried, as re-uploading a chunk cannot duplicate a message.
    ///
    /// # Errors
    ///
    /// [`MeshError::InvalidMessage`] before any request; [`MeshError::Status`] for MESH refusals
    /// (e.g. code `12` unregistered recipient); [`MeshError::ChunkUpload`] when a later chunk
    /// fails; [`MeshError::SendUnconfirmed`] when MESH accepted without a readable id.
    pub async fn send(&self, msg: &OutboundMessage) -> Result<String, MeshError> {
        let headers = msg.headers();
        validate(&headers)?;
        let cfg = &self.inner.cfg;
        let (chunks, total) = Chunks::memory(&msg.body, cfg.chunk_size, cfg.compress);
        self.send_chunks(headers, chunks, total, msg.body.len() as u64)
            .await
    }

    /// Sends the file `msg.path` like [`MeshClient::send`], reading it one chunk at a time so
    /// that at most one chunk (and its gzip copy) is in memory, whatever the file size. The file
    /// must not change until this returns.
    ///
    /// # Errors
    ///
    /// As [`MeshClient::send`]; [`MeshError::File`] when the file cannot be opened or read
    /// (wrapped in [`MeshError::ChunkUpload`] when that happens after the first chunk, as MESH
    /// then already holds an incomplete message that it will never deliver).
    pub async fn send_file(&self, msg: &OutboundFile) -> Result<String, MeshError> {
        let headers = msg.headers();
        validate(&headers)?;
        let cfg = &self.inner.cfg;
        let (chunks, total, size) = Chunks::file(&msg.path, cfg.chunk_size, cfg.compress).await?;
        self.send_chunks(headers, chunks, total, size).await
    }

    /// Posts chunk 1 with the message headers, then uploads chunks 2..=total in order.
    async fn send_chunks(
        &self,
        msg: SendHeaders<'_>,
        mut chunks: Chunks,
        total: usize,
        bytes: u64,
    ) -> Result<String, MeshError> {
        let compress = self.inner.cfg.compress;
        let first = chunks.next().await.unwrap_or(Ok(Bytes::new()))?;
        // The stored content type travels in Mex-Content-Type; a chunk on its own is just bytes.
        let wire_type = if total == 1 {
            msg.content_type
        } else {
            "application/octet-stream"
        };
        let mut rb = self
            .request(Method::POST, self.url(&["outbox"])?)
            .header("mex-from", self.mailbox_id())
            .header("mex-to", msg.to)
            .header("mex-workflowid", msg.workflow_id)
            .header("mex-chunk-range", format!("1:{total}"))
            .header("mex-content-type", msg.content_type)
            .header(CONTENT_TYPE, wire_type);
        for (name, value) in [
            ("mex-subject", msg.subject),
            ("mex-localid", msg.local_id),
            ("mex-filename", msg.file_name),
        ] {
            if let Some(value) = value {
                rb = rb.header(name, value);
            }
        }
        if compress {
            rb = rb
                .header(CONTENT_ENCODING, "gzip")
                .header("mex-content-compressed", "Y");
        }
        let response = self.execute("send", rb.body(first.clone())).await?;
        let body = response
            .bytes()
            .await
            .map_err(|e| MeshError::SendUnconfirmed(format!("reading the response failed: {e}")))?;
        let message_id = parse_send_response(&body)?;
        chunks.recycle(first);
        debug!(
            mailbox = %self.mailbox_id(),
            message_id = %message_id,
            workflow_id = %msg.workflow_id,
            local_id = msg.local_id.unwrap_or(""),
            chunks = total,
            bytes,
            "MESH message accepted."
        );
        for number in 2..=total {
            let chunk_failed = |source| MeshError::ChunkUpload {
                message_id: message_id.clone(),
                chunk: number,
                total,
                source: Box::new(source),
            };
            let data = match chunks.next().await {
                Some(Ok(data)) => data,
                Some(Err(e)) => return Err(chunk_failed(e)),
                None => {
                    let e = MeshError::Protocol(format!("payload ended before chunk {number}"));
                    return Err(chunk_failed(e));
                }
            };
            self.upload_chunk(&message_id, number, total, data.clone())
                .await
                .map_err(chunk_failed)?;
            chunks.recycle(data);
        }
        Ok(message_id)
    }

    async fn upload_chunk(
        &self,
        message_id: &str,
        number: usize,
        total: usize,
        data: Bytes,
    ) -> Result<(), MeshError> {
        let url = self.url(&["outbox", message_id, &number.to_string()])?;
        let compress = self.inner.cfg.compress;
        self.with_retry("send_chunk", |attempt| {
            let (url, data) = (url.clone(), data.clone());
            async move {
                let mut rb = self
                    .request(Method::POST, url)
                    .header("mex-chunk-range", format!("{number}:{total}"))
                    .header(CONTENT_TYPE, "application/octet-stream");
                if compress {
                    rb = rb.header(CONTENT_ENCODING, "gzip");
                }
                match self.execute("send_chunk", rb.body(data)).await {
                    // 423 = no longer uploading: an earlier attempt of the last chunk got through
                    // although we saw no answer.
                    Err(MeshError::Status { status: 423, .. })
                        if attempt > 0 && number == total =>
                    {
                        Ok(())
                    }
                    other => other.map(drop),
                }
            }
        })
        .await?;
        debug!(mailbox = %self.mailbox_id(), message_id, chunk = number, total, "MESH chunk uploaded.");
        Ok(())
    }
}

/// Reads the id from `{"message_id"}` (v2) or `{"messageID"}` (v1).
fn parse_send_response(body: &[u8]) -> Result<String, MeshError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| MeshError::SendUnconfirmed(format!("response is not json: {e}")))?;
    ["message_id", "messageID"]
        .iter()
        .find_map(|key| value.get(key).and_then(serde_json::Value::as_str))
        .filter(|id| !id.trim().is_empty())
        .map(str::to_owned)
        .ok_or_else(|| MeshError::SendUnconfirmed("response has no message id".to_owned()))
}

fn validate(msg: &SendHeaders<'_>) -> Result<(), MeshError> {
    if msg.to.trim().is_empty() {
        return Err(MeshError::InvalidMessage("to is empty".to_owned()));
    }
    if msg.workflow_id.trim().is_empty() {
        return Err(MeshError::InvalidMessage("workflow_id is empty".to_owned()));
    }
    let values = [
        Some(msg.to),
        Some(msg.workflow_id),
        msg.subject,
        msg.local_id,
        msg.file_name,
    ];
    for ((name, max), value) in LIMITS.iter().zip(values) {
        let Some(value) = value else { continue };
        if value.chars().count() > *max {
            return Err(MeshError::InvalidMessage(format!(
                "{name} is longer than {max} characters"
            )));
        }
        // MESH refuses control characters, tab included (code 06); HTTP forbids CR/LF anyway.
        if value.chars().any(char::is_control) {
            return Err(MeshError::InvalidMessage(format!(
                "{name} contains a control character"
            )));
        }
    }
    if msg.content_type.chars().any(char::is_control) || msg.content_type.len() > 100 {
        return Err(MeshError::InvalidMessage(
            "content_type is not a valid header value".to_owned(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg() -> OutboundMessage {
        OutboundMessage {
            to: "X26ABC2".into(),
            workflow_id: "TEST_WORKFLOW".into(),
            subject: Some("Mr John Smith".into()),
            local_id: None,
            file_name: None,
            content_type: "text/plain".into(),
            body: Bytes::from_static(b"x"),
        }
    }

    #[test]
    fn send_response_shapes() {
        assert_eq!(
            parse_send_response(br#"{"message_id":"ABC"}"#).unwrap(),
            "ABC"
        );
        assert_eq!(
            parse_send_response(br#"{"messageID":"DEF"}"#).unwrap(),
            "DEF"
        );
        for bad in [&b"null"[..], b"", b"{}", br#"{"message_id":""}"#] {
            let err = parse_send_response(bad).unwrap_err();
            assert!(matches!(err, MeshError::SendUnconfirmed(_)) && err.outcome_unknown());
        }
    }

    #[test]
    fn validation_never_echoes_values() {
        assert!(validate(&msg().headers()).is_ok());
        let mut m = msg();
        m.subject = Some("Mr John\tSmith".into());
        let err = validate(&m.headers()).unwrap_err().to_string();
        assert!(err.contains("subject") && !err.contains("Smith"), "{err}");
        let mut m = msg();
        m.subject = Some("S".repeat(501));
        assert!(
            validate(&m.headers())
                .unwrap_err()
                .to_string()
                .contains("500")
        );
        let mut m = msg();
        m.to = "  ".into();
        assert!(matches!(
            validate(&m.headers()),
            Err(MeshError::InvalidMessage(_))
        ));
        let mut m = msg();
        m.workflow_id = String::new();
        assert!(matches!(
            validate(&m.headers()),
            Err(MeshError::InvalidMessage(_))
        ));
        let mut m = msg();
        m.local_id = Some("a\nb".into());
        assert!(matches!(
            validate(&m.headers()),
            Err(MeshError::InvalidMessage(_))
        ));
    }
}
