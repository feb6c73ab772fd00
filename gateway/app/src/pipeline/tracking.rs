//! MESH tracking: for messages sent a while ago whose infrastructure acknowledgement has not yet
//! arrived, asks MESH whether the practice has downloaded them and emits `gpc.message.delivered`
//! once per message. MESH asks senders not to poll tracking often, so only overdue messages are
//! tracked, and on a long interval.

use std::collections::HashSet;
use std::time::Duration;

use chrono::Utc;
use gateway_adapter_mesh::MeshClient;
use gateway_core::telemetry as tm;
use gateway_core::{MailboxDirectory, MessageState};
use gateway_proto::output::{DELIVERED, DeliveredData};
use gateway_store::{InboxRecord, MessageRef, SearchQuery, Transition};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, Span};

use super::{Shared, events, now_ms};
use crate::telemetry::{mesh_error_type, spans};

/// Tracking settings.
#[derive(Debug, Clone, Copy)]
pub struct TrackingSettings {
    /// Track messages sent at least this long ago without an infrastructure ack.
    pub after: Duration,
    /// How often to look.
    pub interval: Duration,
}

/// Runs until `shutdown`.
pub async fn run(shared: Shared, settings: TrackingSettings, shutdown: CancellationToken) {
    // Messages already reported delivered by this process (the store dedupes across restarts).
    let mut done: HashSet<String> = HashSet::new();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(settings.interval) => {}
        }
        match track_once(&shared, settings.after, &mut done).await {
            Ok(n) if n > 0 => tracing::info!(count = n, "MESH tracking: messages delivered."),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "MESH tracking sweep failed."),
        }
    }
}

/// One sweep. Returns how many messages were newly found delivered.
///
/// # Errors
/// Store failure (MESH failures for single messages are logged and skipped).
pub async fn track_once(
    shared: &Shared,
    after: Duration,
    done: &mut HashSet<String>,
) -> Result<usize, String> {
    let until = now_ms() - i64::try_from(after.as_millis()).unwrap_or(i64::MAX);
    let query = SearchQuery {
        state: Some(MessageState::Sent.as_str().into()),
        until_ms: Some(until),
        limit: 500,
        ..SearchQuery::default()
    };
    let candidates = shared
        .store
        .search(query)
        .await
        .map_err(|e| e.to_string())?;
    let mut delivered = 0;
    for m in candidates {
        let Some(mesh_id) = m.mesh_message_id.clone() else {
            continue;
        };
        if done.contains(&m.id) {
            continue;
        }
        // The sending mailbox is the one the directory gives for the sender's ODS code.
        let Some(mailbox) = shared.directory.mailbox_for_ods(&m.ods_code) else {
            continue;
        };
        let Some(client) = shared.clients.get(&mailbox) else {
            continue;
        };
        let Ok(Some(msg)) = shared.store.find_by_mesh_id(&mesh_id).await else {
            continue;
        };
        let span = spans::track(&mailbox, &m.id, &mesh_id);
        spans::continue_trace(&span, Some(&msg.traceparent));
        let found = track_one(shared, client, &mailbox, &msg, &mesh_id)
            .instrument(span)
            .await?;
        if found {
            done.insert(m.id);
            delivered += 1;
        }
    }
    if delivered > 0 {
        shared.wake_outbox.notify_one();
    }
    Ok(delivered)
}

/// Asks MESH about one message (inside its span); records `delivered` once. Returns whether the
/// message was found delivered.
///
/// # Errors
/// Store failure.
async fn track_one(
    shared: &Shared,
    client: &MeshClient,
    mailbox: &str,
    msg: &MessageRef,
    mesh_id: &str,
) -> Result<bool, String> {
    let span = Span::current();
    let info = match client.track(mesh_id).await {
        Ok(i) => i,
        Err(error) => {
            let error_type = mesh_error_type(&error);
            spans::fail(&span, &error_type);
            shared
                .telemetry
                .metrics()
                .error(tm::STAGE_MESH_TRACK, &error_type);
            tracing::debug!(mesh_message_id = %mesh_id, %error, "Tracking lookup failed.");
            return Ok(false);
        }
    };
    let status = info.status.to_lowercase();
    span.record(tm::GATEWAY_OUTCOME, status.as_str());
    if !info.is_delivered() {
        return Ok(false);
    }
    let data = DeliveredData {
        correlation_id: msg.id.clone(),
        mesh_message_id: mesh_id.to_string(),
        status: status.clone(),
    };
    let event = events::build(
        &shared.source,
        DELIVERED,
        &msg.id,
        "",
        Some(&msg.traceparent),
        Utc::now(),
        &data,
    );
    let record = InboxRecord {
        mailbox: mailbox.to_string(),
        // Recorded like an inbox item so the event is emitted once, whoever tracks it.
        mesh_message_id: format!("tracking:{mesh_id}"),
        kind: "tracking".into(),
        message_id: Some(msg.id.clone()),
        body: Vec::new(),
        summary: format!("MESH tracking status {status}"),
        transition: Some(Transition {
            message_id: msg.id.clone(),
            expect: vec![
                MessageState::Sent,
                MessageState::Infack,
                MessageState::Busack,
            ],
            to: None,
            infack_code: None,
            busack_code: None,
            failure: None,
            events: vec![event],
            note: format!("MESH tracking: {status}"),
            now_ms: now_ms(),
        }),
        now_ms: now_ms(),
    };
    shared.store.record_inbox(record).await.map_err(|e| {
        spans::fail(&span, "store");
        e.to_string()
    })?;
    Ok(true)
}
