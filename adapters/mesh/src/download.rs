//! Downloading: `GET .../inbox/{id}`, then `GET .../inbox/{id}/{k}` for k = 2..n after a 206,
//! streaming each response body through a per-chunk gunzip into memory or into a file.

use std::io::{SeekFrom, Write};
use std::path::{Path, PathBuf};

use flate2::write::MultiGzDecoder;
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, HeaderMap};
use reqwest::{Method, StatusCode};
use tokio::io::{AsyncSeekExt, AsyncWriteExt, BufWriter};
use tracing::debug;

use crate::{
    InboxHeaders, InboxMessage, InboxMessageMeta, MeshClient, MeshError, MessageType, chunk,
};

/// Upper bound on chunks of one download (100 GB at 100 MB per chunk, the real ceiling).
const MAX_CHUNKS: usize = 1_000;
/// Write buffer of a download file: few blocking-pool hops, little memory.
const FILE_BUFFER: usize = 256 * 1024;

impl MeshClient {
    /// Downloads a message into memory, fetching chunks 2..n after a 206 and gunzipping each
    /// `Content-Encoding: gzip` piece. Reports come back the same way; branch on
    /// [`InboxMessage::message_type`]. For large messages prefer [`MeshClient::download_to`].
    ///
    /// # Errors
    ///
    /// [`MeshError::Status`] 404 (code `20`) for unknown ids, 410 for messages no longer
    /// available; [`MeshError::Protocol`] for a 206 without a usable chunk range.
    pub async fn download(&self, message_id: &str) -> Result<InboxMessage, MeshError> {
        let mut sink = Sink::memory();
        let meta = self.download_into(message_id, &mut sink).await?;
        Ok(meta.with_body(sink.into_memory()))
    }

    /// Downloads a message into the file `dest` (created or truncated), writing each piece as it
    /// arrives, so memory stays small whatever the message size; the file is synced to disk
    /// before this returns. On error the partial file is removed.
    ///
    /// # Errors
    ///
    /// As [`MeshClient::download`]; [`MeshError::File`] when `dest` cannot be written.
    pub async fn download_to(
        &self,
        message_id: &str,
        dest: &Path,
    ) -> Result<InboxMessageMeta, MeshError> {
        let file = tokio::fs::File::create(dest)
            .await
            .map_err(|e| write_error(dest, e))?;
        let mut sink = Sink::file(file, dest);
        let result = match self.download_into(message_id, &mut sink).await {
            Ok(meta) => sink.finish().await.map(|()| meta),
            Err(e) => Err(e),
        };
        if result.is_err() {
            // Best effort: a half-written message must not pass for a whole one.
            let _ = tokio::fs::remove_file(dest).await;
        }
        result
    }

    async fn download_into(
        &self,
        message_id: &str,
        sink: &mut Sink,
    ) -> Result<InboxMessageMeta, MeshError> {
        let (status, headers) = self.fetch_chunk(message_id, 1, sink).await?;
        let mut chunks = 1;
        if status == StatusCode::PARTIAL_CONTENT {
            let total = header(&headers, "mex-chunk-range")
                .and_then(|r| chunk::parse_range(&r))
                .map(|(_, n)| n)
                .or_else(|| header(&headers, "mex-total-chunks").and_then(|n| n.parse().ok()))
                .filter(|n| (2..=MAX_CHUNKS).contains(n))
                .ok_or_else(|| {
                    MeshError::Protocol("206 download without a valid mex-chunk-range".to_owned())
                })?;
            for number in 2..=total {
                self.fetch_chunk(message_id, number, sink).await?;
            }
            chunks = total;
            debug!(mailbox = %self.mailbox_id(), message_id, chunks, "MESH chunks joined.");
        }
        Ok(meta_from_headers(
            &headers,
            message_id,
            sink.written,
            chunks,
        ))
    }

    /// Streams chunk `number` into `sink`, retrying (after cutting the sink back to where the
    /// chunk started) on retryable failures, including a connection lost mid-body.
    async fn fetch_chunk(
        &self,
        message_id: &str,
        number: usize,
        sink: &mut Sink,
    ) -> Result<(StatusCode, HeaderMap), MeshError> {
        let number_text = number.to_string();
        let url = if number == 1 {
            self.url(&["inbox", message_id])?
        } else {
            self.url(&["inbox", message_id, &number_text])?
        };
        let start = sink.written;
        let mut attempt = 0;
        loop {
            // Asking for gzip saves bandwidth; every piece is decoded on its own.
            let rb = self
                .request(Method::GET, url.clone())
                .header(ACCEPT_ENCODING, "gzip");
            let result = match self.execute("download", rb).await {
                Ok(response) => self.stream_body(response, sink).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(done) => return Ok(done),
                Err(error) => match self.retry_delay("download", attempt, &error) {
                    Some(delay) => {
                        tokio::time::sleep(delay).await;
                        sink.truncate(start).await?;
                        attempt += 1;
                    }
                    None => return Err(error),
                },
            }
        }
    }

    async fn stream_body(
        &self,
        mut response: reqwest::Response,
        sink: &mut Sink,
    ) -> Result<(StatusCode, HeaderMap), MeshError> {
        let (status, headers) = (response.status(), response.headers().clone());
        let gzipped = header(&headers, CONTENT_ENCODING.as_str())
            .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
        let mut decoder = gzipped.then(|| MultiGzDecoder::new(Vec::new()));
        let mut fed = false;
        while let Some(piece) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error("download", e))?
        {
            match decoder.as_mut() {
                Some(decoder) => {
                    fed |= !piece.is_empty();
                    decoder.write_all(&piece).map_err(MeshError::Compression)?;
                    decoder.flush().map_err(MeshError::Compression)?;
                    sink.write(decoder.get_ref()).await?;
                    decoder.get_mut().clear();
                }
                None => sink.write(&piece).await?,
            }
        }
        if let Some(decoder) = decoder.filter(|_| fed) {
            // finish() checks the gzip trailer (CRC and length): a cut stream fails here.
            let tail = decoder.finish().map_err(MeshError::Compression)?;
            sink.write(&tail).await?;
        }
        Ok((status, headers))
    }
}

/// Where downloaded bytes go, and how many have gone there.
struct Sink {
    target: Target,
    written: u64,
}

enum Target {
    Memory(Vec<u8>),
    File {
        out: BufWriter<tokio::fs::File>,
        path: PathBuf,
    },
}

impl Sink {
    fn memory() -> Self {
        Self {
            target: Target::Memory(Vec::new()),
            written: 0,
        }
    }

    fn file(file: tokio::fs::File, path: &Path) -> Self {
        let out = BufWriter::with_capacity(FILE_BUFFER, file);
        let path = path.to_path_buf();
        Self {
            target: Target::File { out, path },
            written: 0,
        }
    }

    async fn write(&mut self, data: &[u8]) -> Result<(), MeshError> {
        match &mut self.target {
            Target::Memory(body) => body.extend_from_slice(data),
            Target::File { out, path } => {
                out.write_all(data)
                    .await
                    .map_err(|e| write_error(path, e))?;
            }
        }
        self.written += data.len() as u64;
        Ok(())
    }

    /// Drops everything after the first `len` bytes (a chunk is fetched again from its start).
    async fn truncate(&mut self, len: u64) -> Result<(), MeshError> {
        match &mut self.target {
            Target::Memory(body) => body.truncate(usize::try_from(len).unwrap_or(usize::MAX)),
            Target::File { out, path } => {
                let cut = async {
                    out.flush().await?;
                    out.get_mut().set_len(len).await?;
                    out.get_mut().seek(SeekFrom::Start(len)).await.map(drop)
                };
                cut.await.map_err(|e| write_error(path, e))?;
            }
        }
        self.written = len;
        Ok(())
    }

    /// Flushes and syncs a file target, so the caller may acknowledge the message afterwards.
    async fn finish(&mut self) -> Result<(), MeshError> {
        if let Target::File { out, path } = &mut self.target {
            let sync = async {
                out.flush().await?;
                out.get_mut().sync_all().await
            };
            sync.await.map_err(|e| write_error(path, e))?;
        }
        Ok(())
    }

    fn into_memory(self) -> Vec<u8> {
        match self.target {
            Target::Memory(body) => body,
            Target::File { .. } => Vec::new(),
        }
    }
}

fn write_error(path: &Path, source: std::io::Error) -> MeshError {
    MeshError::File {
        action: "writing mesh download file",
        path: path.to_path_buf(),
        source,
    }
}

/// A header value (names are case-insensitive in `HeaderMap`); empty values count as absent.
fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    let value = headers.get(name)?;
    // Subjects may arrive as latin-1 or UTF-8 bytes; keep what we can rather than fail.
    let text = String::from_utf8_lossy(value.as_bytes()).trim().to_owned();
    (!text.is_empty()).then_some(text)
}

pub(crate) fn meta_from_headers(
    headers: &HeaderMap,
    requested_id: &str,
    size: u64,
    chunks: usize,
) -> InboxMessageMeta {
    let message_type = match header(headers, "mex-messagetype") {
        Some(t) if t.eq_ignore_ascii_case("REPORT") => MessageType::Report,
        _ => MessageType::Data,
    };
    InboxMessageMeta {
        headers: InboxHeaders {
            message_id: header(headers, "mex-messageid").unwrap_or_else(|| requested_id.to_owned()),
            message_type,
            from: header(headers, "mex-from"),
            to: header(headers, "mex-to"),
            workflow_id: header(headers, "mex-workflowid"),
            local_id: header(headers, "mex-localid"),
            subject: header(headers, "mex-subject"),
            file_name: header(headers, "mex-filename"),
            linked_message_id: header(headers, "mex-linkedmsgid"),
            status_code: header(headers, "mex-statuscode"),
            status_event: header(headers, "mex-statusevent"),
            status_description: header(headers, "mex-statusdescription"),
            status_success: header(headers, "mex-statussuccess"),
            content_type: header(headers, "mex-content-type")
                .or_else(|| header(headers, CONTENT_TYPE.as_str())),
        },
        size,
        chunks,
    }
}

#[cfg(test)]
#[path = "download_tests.rs"]
mod tests;
