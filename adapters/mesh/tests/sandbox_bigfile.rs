//! A 30 MB message in 5 MB chunks round-trips byte-identical through the streaming APIs
//! (`send_file` → `download_to`) against the real NHS mesh-sandbox (`MESH_SANDBOX_URL`, default
//! `http://127.0.0.1:8700`), gzipped per chunk and not, and the download really was chunked
//! (206 + `GET .../{2..6}`). Memory use is shown by `examples/mesh-bigfile.rs`, not here: a timed
//! or measured test would be flaky on a shared machine. Fails, never skips, without a sandbox.

mod support;

use gateway_testkit::mesh_conformance::ConformanceTarget;
use support::bigfile::round_trip;

const SIZE: u64 = 30 * 1024 * 1024;
const CHUNK: usize = 5 * 1024 * 1024;

/// One round trip and its checks; `Err` says what went wrong.
async fn check(compress: bool) -> Result<(), String> {
    let url = std::env::var("MESH_SANDBOX_URL").unwrap_or_else(|_| "http://127.0.0.1:8700".into());
    let target = ConformanceTarget::sandbox(url.as_str());
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let trip = round_trip(&target, dir.path(), SIZE, CHUNK, compress)
        .await
        .map_err(|e| {
            format!(
                "30 MB round trip (compress {compress}) against {url} failed: {e}; run \
                 scripts/test.sh (it starts the sandbox) or set MESH_SANDBOX_URL"
            )
        })?;
    eprintln!(
        "30 MB, compress {compress}: send {:.1}s, download {:.1}s",
        trip.send_time.as_secs_f64(),
        trip.download_time.as_secs_f64()
    );
    let checks = [
        ("sha256", trip.got_sha256 == trip.sent_sha256),
        ("size", trip.meta.size == SIZE),
        // 206 for the first GET, then chunks 2..=6 fetched one by one.
        ("chunks", trip.meta.chunks == 6),
        (
            "id",
            trip.meta.message_id.eq_ignore_ascii_case(&trip.message_id),
        ),
        ("from", trip.meta.from.as_deref() == Some("X26ABC1")),
    ];
    let wrong: Vec<_> = checks
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(n, _)| *n)
        .collect();
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!("round trip differs in {wrong:?}: {trip:?}"))
    }
}

#[tokio::test]
async fn thirty_megabytes_in_five_megabyte_chunks_uncompressed() {
    check(false).await.unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test]
async fn thirty_megabytes_in_five_megabyte_chunks_gzipped() {
    check(true).await.unwrap_or_else(|e| panic!("{e}"));
}
