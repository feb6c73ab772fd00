//! The sender: claims due messages from the store and posts them to MESH with bounded
//! concurrency over one pooled connection per mailbox. Results are recorded in batches (one group
//! commit for many sends). A message whose send failed temporarily waits in the store with its
//! next attempt time, so it never blocks the others (no head-of-line blocking).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use gateway_adapter_mesh::{MeshError, OutboundMessage};
use gateway_core::telemetry as tm;
use gateway_proto::output::{FAILED, FailedData, FailureStage, SENT, SentData, mask_mex_to};
use gateway_store::{Failure, PendingSend, SendResult};
use tokio::sync::{Semaphore, mpsc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, Span};

use super::{Shared, events, now_ms};
use crate::config::RetryConfig;
use crate::telemetry::mesh_error_type;
use crate::telemetry::spans::{self, SendInfo};

/// How long a claim on a message lasts before another sender may take it (a stuck request).
const CLAIM_LEASE_MS: i64 = 10 * 60 * 1000;
/// How often the store is checked for due retries when nothing wakes the sender.
const IDLE_POLL: Duration = Duration::from_millis(250);

/// Sender settings.
#[derive(Debug, Clone)]
pub struct SenderSettings {
    /// Most sends in flight.
    pub max_in_flight: usize,
    /// Backoff policy.
    pub retry: RetryConfig,
}

/// Runs until `shutdown`; in-flight sends are finished and recorded before it returns.
pub async fn run(shared: Shared, settings: SenderSettings, shutdown: CancellationToken) {
    let permits = Arc::new(Semaphore::new(settings.max_in_flight));
    let (results_tx, results_rx) = mpsc::channel::<SendResult>(settings.max_in_flight * 2);
    let recorder = tokio::spawn(record_results(shared.clone(), results_rx));
    loop {
        let free = permits.available_permits();
        let claimed = if free == 0 {
            Vec::new()
        } else {
            match shared.store.claim_due(free, now_ms(), CLAIM_LEASE_MS).await {
                Ok(c) => c,
                Err(error) => {
                    tracing::error!(%error, "Cannot read due messages from the store.");
                    Vec::new()
                }
            }
        };
        let full_batch = !claimed.is_empty() && claimed.len() == free;
        for msg in claimed {
            let Ok(permit) = permits.clone().acquire_owned().await else {
                break;
            };
            let shared = shared.clone();
            let tx = results_tx.clone();
            let retry = settings.retry.clone();
            tokio::spawn(async move {
                let result = send_one(&shared, msg, &retry).await;
                let _ = tx.send(result).await;
                drop(permit);
            });
        }
        if full_batch {
            // More may be due: wait only for a free slot.
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = permits.acquire() => {}
            }
            continue;
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = shared.wake_sender.notified() => {}
            _ = tokio::time::sleep(IDLE_POLL) => {}
        }
    }
    // Drain: wait for every in-flight send, then let the recorder finish.
    let _ = permits.acquire_many(settings.max_in_flight as u32).await;
    drop(results_tx);
    let _ = recorder.await;
}

async fn record_results(shared: Shared, mut rx: mpsc::Receiver<SendResult>) {
    let mut batch = Vec::new();
    while rx.recv_many(&mut batch, 512).await > 0 {
        let results = std::mem::take(&mut batch);
        // The MESH ids are only in memory until this commits: keep trying rather than lose them.
        while let Err(error) = shared.store.record_send_results(results.clone()).await {
            tracing::error!(%error, "Cannot record send results; retrying.");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        shared.wake_outbox.notify_one();
    }
}

/// One attempt, in its own span: a child of the message's stored trace context.
async fn send_one(shared: &Shared, msg: PendingSend, retry: &RetryConfig) -> SendResult {
    let span = spans::mesh_send(SendInfo {
        mailbox: &msg.mailbox,
        workflow: &msg.workflow_id,
        correlation_id: &msg.id,
        itk_message_id: &msg.itk_message_id,
        attempt: msg.attempts.saturating_add(1),
    });
    spans::continue_trace(&span, Some(&msg.traceparent));
    send_attempt(shared, msg, retry).instrument(span).await
}

async fn send_attempt(shared: &Shared, mut msg: PendingSend, retry: &RetryConfig) -> SendResult {
    let span = Span::current();
    let started = Instant::now();
    let metrics = shared.telemetry.metrics();
    let record = |outcome: &'static str, error_type: Option<&str>| {
        span.record(tm::GATEWAY_OUTCOME, outcome);
        if let Some(e) = error_type {
            spans::fail(&span, e);
        }
        let seconds = started.elapsed().as_secs_f64();
        metrics.mesh_send(&msg.mailbox, &msg.workflow_id, outcome, error_type, seconds);
    };
    let Some(client) = shared.clients.get(&msg.mailbox) else {
        record("failed", Some("no-mailbox"));
        metrics.settled("failed", FailureStage::MeshSend.as_str());
        let reason = format!("no MESH client is configured for mailbox {}", msg.mailbox);
        return failed(shared, &msg, "no-mailbox", reason);
    };
    let out = OutboundMessage {
        to: msg.mex_to.clone(),
        workflow_id: msg.workflow_id.clone(),
        subject: Some(msg.mex_subject.clone()),
        local_id: Some(msg.local_id.clone()),
        file_name: Some(msg.file_name.clone()),
        content_type: msg.content_type.clone(),
        // The stored bytes move into the request: no copy of the ~30 KB message per send.
        body: bytes::Bytes::from(std::mem::take(&mut msg.body)),
    };
    match client.send(&out).await {
        Ok(mesh_id) => {
            span.record(tm::MESSAGING_MESSAGE_ID, mesh_id.as_str());
            record("sent", None);
            tracing::debug!(
                correlation_id = %msg.id, mailbox = %msg.mailbox, mesh_message_id = %mesh_id,
                workflow = %msg.workflow_id, "Message sent to MESH."
            );
            let data = SentData {
                correlation_id: msg.id.clone(),
                mesh_message_id: mesh_id.clone(),
                workflow_id: msg.workflow_id.clone(),
                itk_message_id: msg.itk_message_id.clone(),
                mex_to: mask_mex_to(&msg.mex_to),
            };
            let event = events::build(
                &shared.source,
                SENT,
                &msg.id,
                "",
                Some(&msg.traceparent),
                Utc::now(),
                &data,
            );
            SendResult::Sent {
                id: msg.id,
                mesh_message_id: mesh_id,
                event,
                now_ms: now_ms(),
            }
        }
        Err(e) if is_temporary(&e) => {
            record("retry", Some(&mesh_error_type(&e)));
            let delay = backoff(retry, msg.attempts);
            tracing::warn!(
                correlation_id = %msg.id, mailbox = %msg.mailbox, attempts = msg.attempts + 1,
                retry_in_ms = delay, error = %e, "MESH send failed; will retry."
            );
            SendResult::Retry {
                id: msg.id,
                next_attempt_ms: now_ms() + i64::try_from(delay).unwrap_or(i64::MAX / 2),
                error: e.to_string(),
                now_ms: now_ms(),
            }
        }
        Err(e) => {
            record("failed", Some(&mesh_error_type(&e)));
            metrics.settled("failed", FailureStage::MeshSend.as_str());
            let code = e
                .mesh_code()
                .map(str::to_string)
                .unwrap_or_else(|| "mesh-rejected".into());
            let reason = format!("MESH refused the message: {e}");
            tracing::error!(correlation_id = %msg.id, mailbox = %msg.mailbox, code, "MESH send failed for good.");
            failed(shared, &msg, &code, reason)
        }
    }
}

/// Temporary: connection problems, timeouts (outcome unknown: the identical bytes are resent and
/// the receiver's duplicate detection answers 20007), 429 and 5xx, and authentication failures
/// and TLS set-up failures (a mailbox with a wrong password or expired certificate must wait for
/// an operator, not fail every message it holds).
fn is_temporary(e: &MeshError) -> bool {
    e.is_retryable()
        || e.outcome_unknown()
        || matches!(e, MeshError::Auth { .. } | MeshError::TlsSession { .. })
}

fn failed(shared: &Shared, msg: &PendingSend, code: &str, reason: String) -> SendResult {
    let data = FailedData {
        correlation_id: msg.id.clone(),
        stage: FailureStage::MeshSend,
        code: code.to_string(),
        reason: reason.clone(),
        retryable: false,
    };
    let event = events::build(
        &shared.source,
        FAILED,
        &msg.id,
        "mesh-send",
        Some(&msg.traceparent),
        Utc::now(),
        &data,
    );
    SendResult::Failed {
        id: msg.id.clone(),
        failure: Failure {
            stage: FailureStage::MeshSend,
            code: code.to_string(),
            reason,
            event,
        },
        now_ms: now_ms(),
    }
}

/// Capped exponential backoff with full jitter in the upper half (avoids retry storms).
fn backoff(retry: &RetryConfig, attempts: i64) -> u64 {
    let exp = u32::try_from(attempts.clamp(0, 20)).unwrap_or(20);
    let base = retry
        .initial_ms
        .saturating_mul(1u64 << exp)
        .min(retry.max_ms);
    let jitter: f64 = rand::random::<f64>() * 0.5 + 0.5;
    (base as f64 * jitter) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let r = RetryConfig {
            initial_ms: 1000,
            max_ms: 60_000,
        };
        assert!((500..=1000).contains(&backoff(&r, 0)));
        assert!((2000..=4000).contains(&backoff(&r, 2)));
        assert!(backoff(&r, 30) <= 60_000);
    }
}
