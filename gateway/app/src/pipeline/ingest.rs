//! The ingest stage: every input adapter calls [`Ingestor::ingest`] with a batch. Events are parsed,
//! mapped and validated off the async threads, then stored in one group-committed transaction
//! together with the `failed` events of the invalid ones. Only then does the call return, so the
//! adapter settles inputs whose outcome is durable.

use async_trait::async_trait;
use chrono::Utc;
use gateway_core::telemetry as tm;
use gateway_core::{Ingest, IngestError, IngestOutcome, MapContext, MapError, RawEvent, SeededIds};
use gateway_proto::CloudEvent;
use gateway_proto::cloudevent::EnvelopeError;
use gateway_proto::output::{FAILED, FailedData, FailureStage};
use gateway_proto::traceparent::TraceParent;
use gateway_store::{IngestItem, InsertResult, NewMessage, NewReject};
use opentelemetry::trace::SpanContext;
use tokio::time::Instant;
use tracing::Span;
use uuid::Uuid;

use super::{Shared, events, now_ms};
use crate::telemetry::{Metrics, spans};

/// Route label of events no plugin took.
const NO_ROUTE: &str = "none";

/// The pipeline's [`Ingest`] implementation.
#[derive(Clone)]
pub struct Ingestor {
    shared: Shared,
}

impl Ingestor {
    /// An ingestor over the shared pipeline context.
    pub fn new(shared: Shared) -> Self {
        Self { shared }
    }
}

/// One prepared event: what to store, what to tell the adapter, and its span.
struct Prepared {
    item: IngestItem,
    outcome: IngestOutcome,
    traced: Traced,
}

/// The `receive` span of one event and its metric labels.
struct Traced {
    span: Span,
    system: String,
    destination: String,
    route: &'static str,
}

impl Traced {
    /// Records the durable outcome on the span (ending it now) and in the metrics.
    fn finish(self, metrics: &Metrics, outcome: &IngestOutcome, seconds: f64) {
        let label = match outcome {
            IngestOutcome::Accepted { .. } => "accepted",
            IngestOutcome::Duplicate { .. } => "duplicate",
            IngestOutcome::Rejected { stage, code, .. } => {
                metrics.dead_lettered(&self.system, stage.as_str(), code);
                metrics.settled("failed", stage.as_str());
                spans::fail(&self.span, code);
                "rejected"
            }
        };
        metrics.consumed(&self.system, &self.destination, self.route, label);
        metrics.process(tm::STAGE_INGEST, self.route, seconds);
        self.span.record(tm::GATEWAY_OUTCOME, label);
        // Entering once more moves the span's end to now: it covers the store commit.
        self.span
            .in_scope(|| tracing::debug!(outcome = label, "Input event outcome stored."));
    }
}

#[async_trait]
impl Ingest for Ingestor {
    async fn ingest(&self, batch: Vec<RawEvent>) -> Result<Vec<IngestOutcome>, IngestError> {
        let started = Instant::now();
        // The adapter's batch span; every event's own span links to it.
        let batch_span = spans::context_of(&Span::current());
        // Mapping builds and validates XML for every event: CPU work that must not stall the
        // async workers, split over the cores so one batch does not wait on one thread.
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 8);
        let chunk = batch.len().div_ceil(workers).max(1);
        let mut tasks = Vec::new();
        let mut batch = batch;
        while !batch.is_empty() {
            let rest = batch.split_off(chunk.min(batch.len()));
            let part = std::mem::replace(&mut batch, rest);
            let shared = self.shared.clone();
            let batch_span = batch_span.clone();
            tasks.push(tokio::task::spawn_blocking(move || {
                part.iter()
                    .map(|raw| prepare(&shared, raw, &batch_span))
                    .collect::<Vec<_>>()
            }));
        }
        let mut prepared = Vec::new();
        for t in tasks {
            let part = t
                .await
                .map_err(|e| IngestError(format!("mapping task failed: {e}")))?;
            prepared.extend(part);
        }
        let mut items = Vec::with_capacity(prepared.len());
        let mut pending = Vec::with_capacity(prepared.len());
        for p in prepared {
            items.push(p.item);
            pending.push((p.outcome, p.traced));
        }
        let metrics = self.shared.telemetry.metrics();
        let results = match self.shared.store.ingest(items).await {
            Ok(r) => r,
            Err(e) => {
                metrics.error(tm::STAGE_STORE, "store");
                for (_, t) in &pending {
                    spans::fail(&t.span, "store");
                }
                return Err(IngestError(e.to_string()));
            }
        };
        let seconds = started.elapsed().as_secs_f64();
        let mut any_new = false;
        let outcomes = pending
            .into_iter()
            .zip(results)
            .map(|((outcome, traced), result)| {
                let outcome = match (outcome, result) {
                    (IngestOutcome::Accepted { correlation_id }, InsertResult::Duplicate) => {
                        tracing::info!(correlation_id, "Duplicate event ignored.");
                        IngestOutcome::Duplicate { correlation_id }
                    }
                    (o, r) => {
                        any_new |= r == InsertResult::Inserted;
                        o
                    }
                };
                traced.finish(metrics, &outcome, seconds);
                outcome
            })
            .collect();
        if any_new {
            self.shared.wake_sender.notify_one();
        }
        self.shared.wake_outbox.notify_one();
        Ok(outcomes)
    }
}

/// `(messaging.system, destination)` of an input origin (`amqp:<queue>`, `file:<folder>/<name>`):
/// the queue or the folder's label, never the file name.
fn origin_labels(origin: &str) -> (String, String) {
    match origin.split_once(':') {
        Some(("amqp", queue)) => (tm::SYSTEM_RABBITMQ.into(), queue.into()),
        Some(("file", path)) => {
            let label = path.split_once('/').map_or(path, |(label, _)| label);
            (tm::SYSTEM_FILE_DROP.into(), label.into())
        }
        Some((kind, _)) => (kind.into(), kind.into()),
        None => ("unknown".into(), "unknown".into()),
    }
}

/// Opens the event's `receive` span (continuing its `traceparent`), then parses and maps it
/// inside that span.
fn prepare(shared: &Shared, raw: &RawEvent, batch_span: &SpanContext) -> Prepared {
    let (system, destination) = origin_labels(&raw.origin);
    let span = spans::receive(&system, &destination);
    let parsed = CloudEvent::parse(&raw.body);
    if let Ok(event) = &parsed {
        let tp = event.traceparent.as_deref().or(raw.traceparent.as_deref());
        spans::continue_trace(&span, tp);
        span.record(tm::MESSAGING_MESSAGE_ID, event.id.as_str());
    }
    spans::link(&span, batch_span);
    let (item, outcome, route) = span.in_scope(|| map_event(shared, raw, parsed, &span));
    span.record(tm::GATEWAY_ROUTE, route);
    Prepared {
        item,
        outcome,
        traced: Traced {
            span,
            system,
            destination,
            route,
        },
    }
}

/// Parses and maps one event into what to store, what to tell the adapter and its route.
fn map_event(
    shared: &Shared,
    raw: &RawEvent,
    parsed: Result<CloudEvent, EnvelopeError>,
    span: &Span,
) -> (IngestItem, IngestOutcome, &'static str) {
    let now = Utc::now();
    let event = match parsed {
        Ok(e) => e,
        Err(e) => {
            let id = raw.derived_id.clone().unwrap_or_else(|| unreadable_id(raw));
            let reason = format!("{e}; fix the producer and publish the event again");
            let (item, outcome) = reject(
                shared,
                raw,
                id,
                FailureStage::Input,
                "invalid-envelope",
                reason,
                None,
            );
            return (item, outcome, NO_ROUTE);
        }
    };
    // The stored traceparent is the receive span's: everything later is its child.
    let input = event
        .traceparent
        .as_deref()
        .or(raw.traceparent.as_deref())
        .and_then(TraceParent::parse);
    let traceparent = spans::traceparent_of(span)
        .or(input)
        .unwrap_or_else(new_trace)
        .to_string();
    let Some(plugin) = shared.registry.for_type(&event.event_type) else {
        let reason = format!(
            "event type {:?} is not supported; supported types: {}",
            event.event_type,
            shared.registry.event_types().join(", ")
        );
        let (item, outcome) = reject(
            shared,
            raw,
            event.id,
            FailureStage::Input,
            "unknown-type",
            reason,
            Some(&traceparent),
        );
        return (item, outcome, NO_ROUTE);
    };
    let route = plugin.id();
    let ids = SeededIds::new(&event.id);
    let cx = MapContext {
        now: now.fixed_offset(),
        ids: &ids,
        mailboxes: shared.directory.as_ref(),
    };
    let map_span = spans::map(route);
    let started = Instant::now();
    let mapped = map_span.in_scope(|| plugin.map(&event, &cx));
    shared
        .telemetry
        .metrics()
        .process(tm::STAGE_MAP, route, started.elapsed().as_secs_f64());
    match mapped {
        Ok(outbound) => {
            let correlation_id = event.id.clone();
            let item = IngestItem::Message(Box::new(NewMessage {
                correlation_id: correlation_id.clone(),
                event_type: event.event_type,
                origin: raw.origin.clone(),
                traceparent,
                outbound,
                now_ms: now.timestamp_millis(),
            }));
            (item, IngestOutcome::Accepted { correlation_id }, route)
        }
        Err(MapError { code, problems, .. }) => {
            spans::fail(&map_span, &code);
            let reason = format!("the event cannot be mapped: {}", problems.join("; "));
            let (item, outcome) = reject(
                shared,
                raw,
                event.id,
                FailureStage::Mapping,
                &code,
                reason,
                Some(&traceparent),
            );
            (item, outcome, route)
        }
    }
}

fn reject(
    shared: &Shared,
    raw: &RawEvent,
    correlation_id: String,
    stage: FailureStage,
    code: &str,
    reason: String,
    traceparent: Option<&str>,
) -> (IngestItem, IngestOutcome) {
    tracing::warn!(
        correlation_id = %correlation_id, origin = %raw.origin, stage = stage.as_str(), code,
        "Input rejected."
    );
    let data = FailedData {
        correlation_id: correlation_id.clone(),
        stage,
        code: code.to_string(),
        reason: reason.clone(),
        retryable: false,
    };
    let event = events::build(
        &shared.source,
        FAILED,
        &correlation_id,
        &format!("{}:{}", stage.as_str(), raw.origin),
        traceparent,
        Utc::now(),
        &data,
    );
    let item = IngestItem::Reject(NewReject {
        correlation_id: correlation_id.clone(),
        origin: raw.origin.clone(),
        stage,
        code: code.to_string(),
        reason: reason.clone(),
        event,
        now_ms: now_ms(),
    });
    let outcome = IngestOutcome::Rejected {
        correlation_id: Some(correlation_id),
        stage,
        code: code.to_string(),
        reason,
    };
    (item, outcome)
}

/// A new trace for input that carries none.
fn new_trace() -> TraceParent {
    TraceParent::new_root(rand::random())
}

/// An id for input that has none we can read: stable for the same bytes from the same place.
fn unreadable_id(raw: &RawEvent) -> String {
    let mut seed = raw.origin.as_bytes().to_vec();
    seed.extend_from_slice(&raw.body);
    format!("unreadable-{}", Uuid::new_v5(&Uuid::NAMESPACE_OID, &seed))
}
