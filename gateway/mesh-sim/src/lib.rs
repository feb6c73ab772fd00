//! In-process MESH API simulator.
//!
//! Owns an in-memory implementation of the NHS MESH HTTP API subset the gateway uses (spec
//! `mesh.md`): NHSMESH token checking exactly like mesh-sandbox's full mode, handshake, send
//! (single and chunked, gzip transport encoding), inbox listing with cursor paging and workflow
//! filters, download, acknowledge, tracking, REPORT messages and GPPROVIDER registered-practice
//! routing with asynchronous EPL-15x reports, plus the sandbox's test-only admin endpoints.
//! Response shapes follow `Accept` (v2 with `application/vnd.mesh.v2+json`, v1 otherwise).
//!
//! Used by `gpc-gateway demo` (embedded default), `gpc-gateway mesh-sim --listen ADDR` and load
//! tests, so state is a set of in-memory maps behind a briefly held mutex: sends are O(1) and
//! inbox pages are cursor range scans.
//!
//! Where it deliberately follows real MESH rather than the sandbox: message ids have the real
//! `yyyyMMddHHmmssffffff_XXXXXX` form, GPPROVIDER addresses are routed (failures arrive as
//! REPORTs, the send still answers 202), and acknowledged messages are no longer downloadable
//! (410). Like the sandbox it has no replay protection or clock window on tokens.

mod auth;
mod config;
mod errors;
mod headers;
mod message;
mod routes;
mod routing;
mod sim;
mod state;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::serve::ListenerExt;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use config::{SimConfig, SimMailbox};
pub use errors::SimError;

/// The simulator's HTTP API as an axum router (mount it anywhere or serve it yourself).
pub fn router(cfg: SimConfig) -> axum::Router {
    routes::build(Arc::new(sim::Sim::new(cfg)))
}

/// A simulator serving on a local socket; dropping it stops the server too.
#[derive(Debug)]
pub struct RunningSim {
    /// Base URL, e.g. `http://127.0.0.1:8700` (append `/messageexchange/...`).
    pub url: String,
    addr: SocketAddr,
    cancel: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl RunningSim {
    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting connections and waits for in-flight requests to finish.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        if let Some(task) = self.task.take() {
            // A panicked server task has nothing left to drain.
            let _ = task.await;
        }
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Binds `listen` (port 0 picks a free port) and serves the simulator in a background task.
///
/// # Errors
///
/// [`SimError::Bind`] when the address cannot be bound, [`SimError::LocalAddr`] when the bound
/// address cannot be read.
pub async fn start(cfg: SimConfig, listen: SocketAddr) -> Result<RunningSim, SimError> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| SimError::Bind {
            addr: listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(SimError::LocalAddr)?;
    let host = if addr.ip().is_unspecified() {
        Ipv4Addr::LOCALHOST.into()
    } else {
        addr.ip()
    };
    let url = format!("http://{}", SocketAddr::new(host, addr.port()));
    let cancel = CancellationToken::new();
    let app = router(cfg);
    // Small request/response pairs: Nagle's algorithm would only add latency.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let serve = axum::serve(listener, app).with_graceful_shutdown(cancel.clone().cancelled_owned());
    let task = tokio::spawn(async move {
        if let Err(error) = serve.await {
            tracing::warn!(error = %error, "MESH simulator stopped with an error.");
        }
    });
    tracing::info!(address = %addr, "MESH simulator listening.");
    Ok(RunningSim {
        url,
        addr,
        cancel,
        task: Some(task),
    })
}
