//! One inbox poller per sending mailbox: lists, downloads, correlates ITK3 responses (by
//! `response.identifier` = our MessageHeader.id) and MESH reports (by `Mex-LinkedMsgID` = our MESH
//! message id), records the outcome durably, and only then acknowledges the item at MESH. A crash
//! between the two re-downloads the item; the store recognises it and nothing is applied twice.

use std::time::Duration;

use futures::StreamExt;
use gateway_adapter_mesh::{InboxMessage, MeshClient, MessageType};
use gateway_core::MessageState;
use gateway_core::telemetry as tm;
use gateway_plugin_gp_connect::response::{ItkResponse, ResponseKind, parse_response};
use gateway_store::{InboxRecord, InboxResult, MessageRef};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, Span};

use super::{Shared, correlate, now_ms};
use crate::telemetry::{mesh_error_type, spans};

/// Downloads processed at once per mailbox.
const DOWNLOAD_CONCURRENCY: usize = 8;

/// Polls `client`'s inbox every `interval` until `shutdown`.
pub async fn run(
    shared: Shared,
    client: MeshClient,
    interval: Duration,
    shutdown: CancellationToken,
) {
    let mailbox = client.mailbox_id().to_string();
    loop {
        let drained = match poll_once(&shared, &client).await {
            Ok(n) => n,
            Err(error) => {
                tracing::warn!(mailbox = %mailbox, %error, "Inbox poll failed; will retry.");
                0
            }
        };
        // A busy inbox is drained at once (MESH allows polling again while a backlog remains).
        let wait = if drained > 0 {
            Duration::from_millis(10)
        } else {
            interval
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// One poll, in its own `receive` span: every listed item processed. Returns how many were
/// processed. Records the result in the mailbox's health and the poll metrics.
///
/// # Errors
/// The MESH list call failed.
pub async fn poll_once(
    shared: &Shared,
    client: &MeshClient,
) -> Result<usize, gateway_adapter_mesh::MeshError> {
    let mailbox = client.mailbox_id();
    let span = spans::mesh_poll(mailbox);
    let started = Instant::now();
    let result = poll_items(shared, client).instrument(span.clone()).await;
    let seconds = started.elapsed().as_secs_f64();
    let metrics = shared.telemetry.metrics();
    match &result {
        Ok(n) => {
            span.record(tm::MESSAGING_BATCH_COUNT, *n);
            shared.health.mailbox_ok(mailbox);
            metrics.mesh_poll(mailbox, None, seconds);
        }
        Err(error) => {
            let error_type = mesh_error_type(error);
            spans::fail(&span, &error_type);
            shared
                .health
                .mailbox_failed(mailbox, "poll", error.to_string());
            metrics.mesh_poll(mailbox, Some(&error_type), seconds);
        }
    }
    result
}

async fn poll_items(
    shared: &Shared,
    client: &MeshClient,
) -> Result<usize, gateway_adapter_mesh::MeshError> {
    let ids = client.list_inbox(None).await?;
    let n = ids.len();
    // Downloads overlap, but items are recorded in the order MESH listed them (oldest first), so
    // an infrastructure ack is applied before the business ack that followed it.
    let mut downloads = futures::stream::iter(ids)
        .map(|id| async move {
            let msg = client.download(&id).await;
            (id, msg)
        })
        .buffered(DOWNLOAD_CONCURRENCY);
    while let Some((id, msg)) = downloads.next().await {
        let result = match msg {
            Ok(msg) => record_and_acknowledge(shared, client, &msg).await,
            Err(e) => {
                let error_type = mesh_error_type(&e);
                shared
                    .telemetry
                    .metrics()
                    .error(tm::STAGE_MESH_POLL, &error_type);
                Err(e.to_string())
            }
        };
        if let Err(error) = result {
            tracing::warn!(mailbox = %client.mailbox_id(), mesh_message_id = %id, %error,
                "Inbox item not processed; it stays in the inbox for the next poll.");
        }
    }
    if n > 0 {
        shared.wake_outbox.notify_one();
    }
    Ok(n)
}

/// An inbox item, read and matched with the message it is about.
enum Classified {
    Report {
        code: String,
        description: String,
        linked: Option<String>,
        found: Option<MessageRef>,
    },
    Response {
        response: ItkResponse,
        found: Option<MessageRef>,
    },
    Unreadable(String),
}

impl Classified {
    fn found(&self) -> Option<&MessageRef> {
        match self {
            Self::Report { found, .. } | Self::Response { found, .. } => found.as_ref(),
            Self::Unreadable(_) => None,
        }
    }
}

/// Records one item in its own span (a child of the message's trace, linked to the poll), then
/// acknowledges it at MESH.
async fn record_and_acknowledge(
    shared: &Shared,
    client: &MeshClient,
    msg: &InboxMessage,
) -> Result<(), String> {
    let poll = spans::context_of(&Span::current());
    let classified = classify(shared, msg).await?;
    let span = spans::correlate(client.mailbox_id(), &msg.message_id);
    spans::continue_trace(&span, classified.found().map(|m| m.traceparent.as_str()));
    spans::link(&span, &poll);
    let started = Instant::now();
    let result = apply(shared, client, msg, classified)
        .instrument(span.clone())
        .await;
    let metrics = shared.telemetry.metrics();
    metrics.process(
        tm::STAGE_CORRELATE,
        msg.workflow_id.as_deref().unwrap_or("none"),
        started.elapsed().as_secs_f64(),
    );
    if let Err((error_type, _)) = &result {
        spans::fail(&span, error_type);
        metrics.error(tm::STAGE_CORRELATE, error_type);
    }
    result.map_err(|(_, e)| e)
}

/// Inside the item's span: builds the record (its events continue the trace), stores it, then
/// acknowledges the item at MESH.
async fn apply(
    shared: &Shared,
    client: &MeshClient,
    msg: &InboxMessage,
    classified: Classified,
) -> Result<(), (&'static str, String)> {
    let id = msg.message_id.as_str();
    let span = Span::current();
    let record = build_record(shared, client.mailbox_id(), msg, classified, &span);
    let kind = record.kind.clone();
    let to = record.transition.as_ref().and_then(|t| t.to);
    let failure = record
        .transition
        .as_ref()
        .and_then(|t| t.failure.as_ref())
        .map(|f| f.0.as_str());
    let result = shared
        .store
        .record_inbox(record)
        .await
        .map_err(|e| ("store", e.to_string()))?;
    tracing::debug!(mailbox = %client.mailbox_id(), mesh_message_id = %id, kind = %kind,
        applied = ?result, "Inbox item recorded.");
    let applied = result == InboxResult::Applied;
    span.record(
        tm::GATEWAY_OUTCOME,
        if applied { "applied" } else { "recorded" },
    );
    if applied {
        let metrics = shared.telemetry.metrics();
        match (to, failure) {
            (Some(MessageState::Busack), _) => metrics.settled("completed", "busack"),
            (Some(MessageState::Failed), Some(stage)) => metrics.settled("failed", stage),
            _ => {}
        }
    }
    client
        .acknowledge(id)
        .await
        .map_err(|e| ("mesh-acknowledge", e.to_string()))
}

/// Reads the item and finds the message it is about (store lookups only).
async fn classify(shared: &Shared, msg: &InboxMessage) -> Result<Classified, String> {
    if msg.message_type == MessageType::Report {
        let linked = msg.linked_message_id.clone();
        let found = match &linked {
            Some(l) => shared
                .store
                .find_by_mesh_id(l)
                .await
                .map_err(|e| e.to_string())?,
            None => None,
        };
        return Ok(Classified::Report {
            code: msg.status_code.clone().unwrap_or_default(),
            description: msg.status_description.clone().unwrap_or_default(),
            linked,
            found,
        });
    }
    match parse_response(&msg.body) {
        Ok(response) => {
            let found = shared
                .store
                .find_by_itk_id(&response.responds_to)
                .await
                .map_err(|e| e.to_string())?;
            Ok(Classified::Response { response, found })
        }
        Err(error) => Ok(Classified::Unreadable(error.to_string())),
    }
}

/// The inbox record and, for a matched item, the transition and events it causes.
fn build_record(
    shared: &Shared,
    mailbox: &str,
    msg: &InboxMessage,
    classified: Classified,
    span: &Span,
) -> InboxRecord {
    let now = now_ms();
    let mut record = InboxRecord {
        mailbox: mailbox.to_string(),
        mesh_message_id: msg.message_id.clone(),
        kind: "unmatched".into(),
        message_id: None,
        body: msg.body.clone(),
        summary: String::new(),
        transition: None,
        now_ms: now,
    };
    if let Some(m) = classified.found() {
        span.record(tm::GATEWAY_CORRELATION_ID, m.id.as_str());
        span.record(tm::GATEWAY_WORKFLOW, m.workflow_id.as_str());
        if let Some(mesh_id) = &m.mesh_message_id {
            span.record(tm::GATEWAY_MESH_MESSAGE_ID, mesh_id.as_str());
        }
    }
    match classified {
        Classified::Report {
            code,
            description,
            linked,
            found,
        } => {
            record.kind = "report".into();
            record.summary = format!("MESH report {code}: {description}");
            span.record(tm::GATEWAY_ITK_CODE, code.as_str());
            match (linked, found) {
                (None, _) => tracing::warn!(mesh_message_id = %msg.message_id, code,
                    "MESH report without a linked message id."),
                (Some(linked), None) => tracing::warn!(linked_message_id = %linked, code,
                    "MESH report for a message this gateway did not send."),
                (Some(_), Some(m)) => {
                    record.message_id = Some(m.id.clone());
                    record.transition = Some(correlate::report(
                        &shared.source,
                        &m,
                        &code,
                        &description,
                        now,
                    ));
                }
            }
        }
        Classified::Response { response, found } => {
            record.kind = "itk-response".into();
            record.summary = format!("ITK3 response {} {}", response.code, response.display);
            let kind = match response.kind {
                ResponseKind::Infrastructure => tm::ACK_INFRASTRUCTURE,
                _ => tm::ACK_BUSINESS,
            };
            span.record(tm::GATEWAY_ACK_KIND, kind);
            span.record(tm::GATEWAY_ACK_POSITIVE, response.positive);
            span.record(tm::GATEWAY_ITK_CODE, response.code.as_str());
            match found {
                Some(m) => {
                    record.message_id = Some(m.id.clone());
                    record.transition =
                        Some(correlate::response(&shared.source, &m, &response, now));
                }
                None => tracing::warn!(
                    mesh_message_id = %msg.message_id, code = %response.code,
                    "ITK3 response for an unknown message; kept for an operator."
                ),
            }
        }
        Classified::Unreadable(error) => {
            // Unreadable responses are kept, never dropped: an operator must see them.
            record.summary = format!("unreadable inbox item: {error}");
            tracing::warn!(mesh_message_id = %msg.message_id, %error,
                "Inbox item is not a readable ITK3 response; kept for an operator.");
        }
    }
    span.record(tm::GATEWAY_INBOX_KIND, record.kind.as_str());
    record
}
