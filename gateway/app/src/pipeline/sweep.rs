//! Fails messages whose acknowledgements are overdue (contract §5 `timeout`), so a person is told
//! when a GP system never answered.

use std::time::Duration;

use gateway_core::telemetry as tm;
use gateway_proto::output::FailureStage;
use tokio_util::sync::CancellationToken;

use super::{Shared, correlate, now_ms};
use crate::telemetry::{refresh_store_gauges, spans};

/// Deadlines.
#[derive(Debug, Clone, Copy)]
pub struct SweepSettings {
    /// Infrastructure ack deadline (ms after sending).
    pub infack_timeout_ms: i64,
    /// Business ack deadline (ms after the infrastructure ack).
    pub busack_timeout_ms: i64,
    /// Sweep interval.
    pub interval: Duration,
}

/// Runs until `shutdown`. Each round also refreshes the store gauges (acknowledgement backlog,
/// messages per state) for the OTLP export.
pub async fn run(shared: Shared, settings: SweepSettings, shutdown: CancellationToken) {
    loop {
        if let Err(error) = sweep_once(&shared, settings).await {
            shared.telemetry.metrics().error(tm::STAGE_TIMEOUT, "store");
            tracing::warn!(%error, "Acknowledgement timeout sweep failed.");
        }
        if let Err(error) = refresh_store_gauges(&shared).await {
            tracing::warn!(%error, "Cannot read the store gauges.");
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(settings.interval) => {}
        }
    }
}

/// One sweep. Returns how many messages timed out.
///
/// # Errors
/// Store failure.
pub async fn sweep_once(shared: &Shared, s: SweepSettings) -> Result<usize, String> {
    let now = now_ms();
    let overdue = shared
        .store
        .overdue(now - s.infack_timeout_ms, now - s.busack_timeout_ms, 1000)
        .await
        .map_err(|e| e.to_string())?;
    if overdue.is_empty() {
        return Ok(0);
    }
    // Each timeout is a span in its message's trace; its failed event continues from there.
    let mut timed_out = Vec::with_capacity(overdue.len());
    let transitions: Vec<_> = overdue
        .iter()
        .map(|m| {
            let span = spans::timeout(&m.id, &m.workflow_id);
            spans::continue_trace(&span, Some(&m.traceparent));
            let t = span.in_scope(|| correlate::timeout(&shared.source, m, now));
            spans::fail(&span, &t.note);
            timed_out.push(span);
            t
        })
        .collect();
    let applied = shared
        .store
        .apply(transitions)
        .await
        .map_err(|e| e.to_string())?;
    drop(timed_out);
    let n = applied.iter().filter(|a| **a).count();
    for _ in 0..n {
        shared
            .telemetry
            .metrics()
            .settled("failed", FailureStage::Timeout.as_str());
    }
    tracing::warn!(
        count = n,
        "Acknowledgements overdue: messages failed with stage timeout."
    );
    shared.wake_outbox.notify_one();
    Ok(n)
}
