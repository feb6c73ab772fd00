//! Admin HTTP server: `/healthz` (the process answers), `/readyz` (the store answers, the bus can
//! take events, every MESH mailbox's last poll or handshake succeeded; one line per check) and
//! `/metrics` (Prometheus text from the same instruments OTLP exports).

use std::fmt::Write as _;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::Utc;
use tokio_util::sync::CancellationToken;

use crate::pipeline::Shared;
use crate::telemetry::refresh_store_gauges;

/// Content type of the Prometheus text format.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Serves until `shutdown`.
///
/// # Errors
/// The address cannot be bound.
pub async fn serve(
    shared: Shared,
    listen: SocketAddr,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    tracing::info!(%listen, "Admin server listening.");
    axum::serve(listener, router(shared))
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}

/// The admin routes (also for tests on an ephemeral port).
pub fn router(shared: Shared) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .with_state(shared)
}

async fn ready(State(shared): State<Shared>) -> (StatusCode, String) {
    let mut ok = true;
    let mut out = String::new();
    match shared.store.state_counts().await {
        Ok(_) => out.push_str("store: ok\n"),
        Err(e) => {
            ok = false;
            let _ = writeln!(out, "store: {e}");
        }
    }
    match shared.health.bus().await {
        Ok(()) => out.push_str("bus: ok\n"),
        Err(e) => {
            ok = false;
            let _ = writeln!(out, "bus: {e}");
        }
    }
    let now = Utc::now().timestamp_millis();
    for (mailbox, status) in shared.health.mailboxes() {
        let ago = |t: i64| (now - t).max(0) / 1000;
        let line = match (status.ready(), status.last_ok_ms, &status.last_error) {
            (true, Some(t), _) => format!("ok (last call {}s ago)", ago(t)),
            (false, _, Some((t, call, e))) => format!("{call} failed {}s ago: {e}", ago(*t)),
            _ => "not polled yet".to_string(),
        };
        ok &= status.ready();
        let _ = writeln!(out, "mesh {mailbox}: {line}");
    }
    let code = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, out)
}

async fn metrics(State(shared): State<Shared>) -> impl IntoResponse {
    // Store gauges are read now so a scrape never shows a stale backlog.
    if let Err(error) = refresh_store_gauges(&shared).await {
        tracing::warn!(%error, "Cannot read the store gauges for /metrics.");
    }
    match shared.telemetry.render_prometheus() {
        Ok(text) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, PROMETHEUS_TEXT)],
            text,
        ),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, PROMETHEUS_TEXT)],
            format!("# metrics unavailable: {e}\n"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use gateway_store::SqliteStore;

    use super::*;
    use crate::pipeline::Directory;
    use crate::registry::Registry;

    fn shared(dir: &std::path::Path) -> Shared {
        let store = Arc::new(SqliteStore::open(&dir.join("g.db"), false).unwrap());
        Shared::new(
            store,
            Registry::builtin(),
            Directory::default(),
            HashMap::new(),
            "t",
        )
    }

    async fn get(shared: &Shared, path: &str) -> (StatusCode, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = router(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        tokio::io::AsyncWriteExt::write_all(&mut stream, req.as_bytes())
            .await
            .unwrap();
        let mut resp = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut stream, &mut resp)
            .await
            .unwrap();
        let code: u16 = resp[9..12].parse().unwrap();
        let body = resp
            .split("\r\n\r\n")
            .nth(1)
            .unwrap_or_default()
            .to_string();
        (StatusCode::from_u16(code).unwrap(), body)
    }

    #[tokio::test]
    async fn readyz_reports_each_check_and_metrics_shows_the_store_gauges() {
        let dir = tempfile::tempdir().unwrap();
        let s = shared(dir.path());
        let (code, body) = get(&s, "/readyz").await;
        assert_eq!(code, StatusCode::OK, "{body}");
        assert!(
            body.contains("store: ok") && body.contains("bus: ok"),
            "{body}"
        );
        s.health.bus_result(Some("bus unavailable: down".into()));
        let (code, body) = get(&s, "/readyz").await;
        assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        let (code, body) = get(&s, "/metrics").await;
        assert_eq!(code, StatusCode::OK);
        assert!(
            body.contains("gateway_store_messages{gateway_state=\"sent\"} 0"),
            "{body}"
        );
        assert!(
            body.contains("gateway_acks_awaiting{gateway_ack_kind=\"business\"} 0"),
            "{body}"
        );
    }
}
