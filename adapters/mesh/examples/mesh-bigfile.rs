//! Measured proof that large MESH messages go through in bounded memory: sends a payload file
//! (default 30 MiB) in chunks (default 5 MiB) from X26ABC1 to X26ABC2 with
//! [`MeshClient::send_file`], uncompressed and gzipped per chunk, downloads each from the
//! recipient with [`MeshClient::download_to`], checks the SHA-256 of both files, and prints the
//! process's peak resident memory (`VmHWM`, per transfer and overall) against a budget of
//! 3 × chunk size + the peak before the first transfer.
//!
//! ```sh
//! cargo run --release -p gateway-adapter-mesh --example mesh-bigfile -- [URL] [SIZE_MIB] [CHUNK_MIB]
//! ```
//!
//! URL defaults to `$MESH_SANDBOX_URL`, else `http://127.0.0.1:8700` (password `password`, key
//! `TestKey`). Exit status 1 when a download differs or the peak exceeds the budget.
//!
//! [`MeshClient::send_file`]: gateway_adapter_mesh::MeshClient::send_file
//! [`MeshClient::download_to`]: gateway_adapter_mesh::MeshClient::download_to

#[path = "../tests/support/bigfile.rs"]
mod bigfile;

use std::process::ExitCode;

use gateway_testkit::mesh_conformance::ConformanceTarget;

const MIB: u64 = 1024 * 1024;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("mesh-bigfile: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run() -> Result<bool, String> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .or_else(|| std::env::var("MESH_SANDBOX_URL").ok())
        .unwrap_or_else(|| "http://127.0.0.1:8700".to_owned());
    let number = |arg: Option<String>, default: u64| match arg {
        Some(text) => text.parse::<u64>().map_err(|e| format!("{text}: {e}")),
        None => Ok(default),
    };
    let size = number(args.next(), 30)? * MIB;
    let chunk = number(args.next(), 5)? * MIB;
    let chunk_size = usize::try_from(chunk).map_err(|e| e.to_string())?;
    let target = ConformanceTarget::sandbox(url.as_str());
    let dir = std::env::temp_dir().join(format!("mesh-bigfile-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;

    let base = peak_rss()?;
    println!(
        "mesh-bigfile: {} MiB in {} MiB chunks to {url}; peak RSS before any transfer {:.1} MiB",
        size / MIB,
        chunk / MIB,
        base as f64 / MIB as f64
    );
    let mut ok = true;
    let mut peak = base;
    for compress in [false, true] {
        // Restart VmHWM at the current RSS, so each line shows that transfer's own peak.
        let start = reset_peak()?;
        let trip = bigfile::round_trip(&target, &dir, size, chunk_size, compress).await;
        let trip = match trip {
            Ok(trip) => trip,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        let same = trip.got_sha256 == trip.sent_sha256 && trip.meta.size == size;
        ok &= same;
        let phase_peak = peak_rss()?;
        peak = peak.max(phase_peak);
        println!(
            "  gzip={compress:<5} id={} chunks={} send={:.2}s download={:.2}s sha256={}… {}; \
             RSS {:.1} MiB at start, peak {:.1} MiB",
            trip.message_id,
            trip.meta.chunks,
            trip.send_time.as_secs_f64(),
            trip.download_time.as_secs_f64(),
            &trip.got_sha256[..16],
            if same { "identical" } else { "DIFFERS" },
            start as f64 / MIB as f64,
            phase_peak as f64 / MIB as f64
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    let budget = base + 3 * chunk;
    let within = peak <= budget;
    println!(
        "peak RSS (VmHWM) {:.1} MiB = base {:.1} MiB + {:.1} MiB ({:.2} × chunk); budget \
         3 × chunk + base = {:.1} MiB: {}",
        peak as f64 / MIB as f64,
        base as f64 / MIB as f64,
        peak.saturating_sub(base) as f64 / MIB as f64,
        peak.saturating_sub(base) as f64 / chunk as f64,
        budget as f64 / MIB as f64,
        if within { "within" } else { "EXCEEDED" }
    );
    Ok(ok && within)
}

/// `VmHWM` (peak resident set size) of this process in bytes, from `/proc/self/status`.
fn peak_rss() -> Result<u64, String> {
    status_field("VmHWM")
}

/// Resets `VmHWM` to the current RSS (Linux `clear_refs` 5) and returns the current RSS. When
/// the kernel refuses, the peak simply keeps counting from the start of the process.
fn reset_peak() -> Result<u64, String> {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    status_field("VmRSS")
}

/// A `kB` field of `/proc/self/status`, in bytes.
fn status_field(name: &str) -> Result<u64, String> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("/proc/self/status: {e}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kib| kib * 1024)
        .ok_or_else(|| format!("no {name} in /proc/self/status"))
}
