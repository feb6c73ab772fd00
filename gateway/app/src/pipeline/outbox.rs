//! The outbox publisher: sends stored output events to the bus in sequence order and marks them
//! published only after the bus confirmed them. If the bus is down, events wait in the store and
//! flow, in order, when it returns.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use gateway_core::{BusEvent, EventSink};
use gateway_proto::traceparent::TraceParent;
use serde::Deserialize;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::Shared;
use crate::telemetry::spans::{self, PublishedEvent};

const BATCH: usize = 512;

/// Runs until `shutdown`, then publishes what is left (best effort) and returns.
pub async fn run(shared: Shared, sink: Arc<dyn EventSink>, shutdown: CancellationToken) {
    shared.health.set_sink(sink.clone());
    let mut failures = 0u32;
    loop {
        let published = match publish_some(&shared, sink.as_ref()).await {
            Ok(n) => {
                failures = 0;
                n
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                if failures == 1 || failures.is_multiple_of(60) {
                    tracing::warn!(%error, failures, "Cannot publish output events; they wait in the store.");
                }
                0
            }
        };
        if published == BATCH {
            continue;
        }
        if shutdown.is_cancelled() {
            return;
        }
        let wait = if failures > 0 {
            Duration::from_millis(u64::from(failures.min(20)) * 250)
        } else {
            Duration::from_millis(200)
        };
        tokio::select! {
            _ = shutdown.cancelled() => {}
            _ = shared.wake_outbox.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// Publishes one batch. Returns how many were published.
///
/// # Errors
/// Store or sink failure (nothing of the batch is marked published).
pub async fn publish_some(shared: &Shared, sink: &dyn EventSink) -> Result<usize, String> {
    let events = shared
        .store
        .pending_events(BATCH)
        .await
        .map_err(|e| e.to_string())?;
    let metrics = shared.telemetry.metrics();
    if events.is_empty() {
        metrics.outbox_oldest_age(0.0);
        shared.health.bus_result(None);
        return Ok(0);
    }
    let heads: Vec<Head> = events.iter().map(Head::read).collect();
    // The oldest waiting event is the batch's first (outbox order).
    metrics.outbox_oldest_age(heads.first().map_or(0.0, Head::age));
    let bus = shared.telemetry.bus();
    let (start, started) = (SystemTime::now(), Instant::now());
    let published = sink.publish_batch(&events).await;
    let seconds = started.elapsed().as_secs_f64();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    if let Err(e) = published {
        metrics.publish_batch(bus.system, &bus.destination, &types, Some("bus"), seconds);
        shared.health.bus_result(Some(e.to_string()));
        return Err(e.to_string());
    }
    metrics.publish_batch(bus.system, &bus.destination, &types, None, seconds);
    shared.health.bus_result(None);
    let end = SystemTime::now();
    for (event, head) in events.iter().zip(&heads) {
        metrics.publish_lag(head.age());
        record_span(shared, event, head, start, end);
    }
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    let n = seqs.len();
    shared
        .store
        .mark_published(seqs)
        .await
        .map_err(|e| e.to_string())?;
    // A full batch means more wait; the next call (at once) reads their age.
    if n < BATCH {
        metrics.outbox_oldest_age(0.0);
    }
    Ok(n)
}

/// The fields of an output event the publish telemetry needs.
#[derive(Debug, Default, Deserialize)]
struct Head {
    #[serde(default)]
    id: String,
    #[serde(default)]
    time: Option<DateTime<Utc>>,
}

impl Head {
    fn read(event: &BusEvent) -> Self {
        serde_json::from_slice(&event.body).unwrap_or_default()
    }

    /// Seconds since the event was built (0 when unknown).
    fn age(&self) -> f64 {
        self.time
            .map_or(0.0, |t| (Utc::now() - t).num_milliseconds() as f64 / 1000.0)
    }
}

/// The event's `send` span, a child of the span that created it (exported only when tracing).
fn record_span(shared: &Shared, event: &BusEvent, head: &Head, start: SystemTime, end: SystemTime) {
    let (Some(tracer), Some(parent)) = (
        shared.telemetry.tracer(),
        event.traceparent.as_deref().and_then(TraceParent::parse),
    ) else {
        return;
    };
    let info = PublishedEvent {
        event_id: &head.id,
        event_type: &event.event_type,
        correlation_id: &event.correlation_id,
    };
    spans::record_publish(tracer, &parent, shared.telemetry.bus(), &info, start, end);
}
