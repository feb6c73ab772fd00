//! A large-message round trip through the streaming APIs, shared by `tests/sandbox_bigfile.rs`
//! and `examples/mesh-bigfile.rs`: write a payload file (hashing it as it is written), send it
//! with [`MeshClient::send_file`], download it with [`MeshClient::download_to`], hash the
//! download and acknowledge it. Nothing here holds more than one buffer of the payload.

use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use gateway_adapter_mesh::{InboxMessageMeta, MeshClient, OutboundFile};
use gateway_testkit::mesh_conformance::ConformanceTarget;
use sha2::{Digest, Sha256};

/// Buffer for writing and hashing files.
const BUF: usize = 1024 * 1024;

/// What one round trip did.
#[derive(Debug)]
pub(crate) struct RoundTrip {
    /// MESH message id.
    pub(crate) message_id: String,
    /// SHA-256 (hex) of the payload sent.
    pub(crate) sent_sha256: String,
    /// SHA-256 (hex) of the file downloaded.
    pub(crate) got_sha256: String,
    /// Headers, size and chunk count of the download.
    pub(crate) meta: InboxMessageMeta,
    /// Time spent in `send_file`.
    pub(crate) send_time: Duration,
    /// Time spent in `download_to`.
    pub(crate) download_time: Duration,
}

/// Sends `size` bytes from sender to recipient of `target` in chunks of `chunk_size`
/// (gzipped per chunk when `compress`), downloads them into `dir` and acknowledges. Both files
/// are removed afterwards.
pub(crate) async fn round_trip(
    target: &ConformanceTarget,
    dir: &Path,
    size: u64,
    chunk_size: usize,
    compress: bool,
) -> Result<RoundTrip, String> {
    let mut cfg = target.config(&target.sender);
    cfg.chunk_size = chunk_size;
    cfg.compress = compress;
    cfg.request_timeout = Duration::from_secs(300);
    let sender = MeshClient::new(cfg).map_err(|e| format!("sender: {e}"))?;
    let mut cfg = target.config(&target.recipient);
    cfg.request_timeout = Duration::from_secs(300);
    let recipient = MeshClient::new(cfg).map_err(|e| format!("recipient: {e}"))?;

    let run = uuid::Uuid::new_v4().simple().to_string();
    let source = dir.join(format!("{run}.out"));
    let dest = dir.join(format!("{run}.in"));
    let sent_sha256 = write_payload(&source, size).map_err(|e| format!("payload: {e}"))?;
    let msg = OutboundFile {
        to: target.recipient.0.clone(),
        workflow_id: "TEST_WORKFLOW".to_owned(),
        subject: Some(format!("bigfile {run}")),
        local_id: Some(run.clone()),
        file_name: Some(format!("{run}.bin")),
        content_type: "application/octet-stream".to_owned(),
        path: source.clone(),
    };
    let started = Instant::now();
    let sent = sender.send_file(&msg).await;
    let send_time = started.elapsed();
    let _ = std::fs::remove_file(&source);
    let message_id = sent.map_err(|e| format!("send_file: {e}"))?;

    let started = Instant::now();
    let downloaded = recipient.download_to(&message_id, &dest).await;
    let download_time = started.elapsed();
    let acked = recipient.acknowledge(&message_id).await;
    let meta = downloaded.map_err(|e| format!("download_to {message_id}: {e}"))?;
    acked.map_err(|e| format!("acknowledge {message_id}: {e}"))?;
    let got_sha256 = sha256_file(&dest).map_err(|e| format!("hashing the download: {e}"));
    let _ = std::fs::remove_file(&dest);
    Ok(RoundTrip {
        message_id,
        sent_sha256,
        got_sha256: got_sha256?,
        meta,
        send_time,
        download_time,
    })
}

/// Writes `size` bytes of half noise, half text (so gzip has work to do but cannot make it
/// trivial) and returns their SHA-256.
pub(crate) fn write_payload(path: &Path, size: u64) -> std::io::Result<String> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut hash = Sha256::new();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut buf = vec![0u8; BUF];
    let mut left = size;
    while left > 0 {
        let n = usize::try_from(left.min(BUF as u64)).unwrap_or(BUF);
        for (i, byte) in buf[..n].iter_mut().enumerate() {
            *byte = if (i / 512) % 2 == 0 {
                // xorshift64: cheap noise
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()[0]
            } else {
                b"MESH big file payload line\n"[i % 27]
            };
        }
        file.write_all(&buf[..n])?;
        hash.update(&buf[..n]);
        left -= n as u64;
    }
    file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(hex::encode(hash.finalize()))
}

/// SHA-256 (hex) of a file, read in buffers.
pub(crate) fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; BUF];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(hex::encode(hash.finalize()));
        }
        hash.update(&buf[..n]);
    }
}
