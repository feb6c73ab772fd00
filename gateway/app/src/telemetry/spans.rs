//! Spans of the pipeline stages and the glue between `traceparent` strings and spans.
//!
//! One trace per message: the input's `traceparent` is the parent of the `receive` span; the
//! `traceparent` stored with the message is that span's, so the MESH send, each acknowledgement
//! (days later), the timeout sweep and every bus publish are its children. Batch and poll spans
//! (an AMQP batch, a MESH inbox poll) are traces of their own, linked to from each message span.

use gateway_core::telemetry as tm;
use gateway_proto::traceparent::TraceParent;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use tracing::field::Empty;
use tracing::{Span, info_span};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The OpenTelemetry context of a remote parent.
pub fn remote_context(tp: &TraceParent) -> opentelemetry::Context {
    opentelemetry::Context::new().with_remote_span_context(span_context_of(tp))
}

/// The span context a `traceparent` names.
pub fn span_context_of(tp: &TraceParent) -> SpanContext {
    SpanContext::new(
        TraceId::from_bytes(tp.trace_id),
        SpanId::from_bytes(tp.span_id),
        TraceFlags::new(tp.flags),
        true,
        TraceState::default(),
    )
}

/// Makes `span` a child of `traceparent` (when it parses). Call before the span is entered.
pub fn continue_trace(span: &Span, traceparent: Option<&str>) {
    if let Some(tp) = traceparent.and_then(TraceParent::parse) {
        // Fails only without the OpenTelemetry layer (nothing to continue then).
        let _ = span.set_parent(remote_context(&tp));
    }
}

/// Links `span` to `other` (a batch or poll span). Call before the span is entered.
pub fn link(span: &Span, other: &SpanContext) {
    span.add_link(other.clone());
}

/// The span context of `span` (invalid without the OpenTelemetry layer).
pub fn context_of(span: &Span) -> SpanContext {
    span.context().span().span_context().clone()
}

/// `span` as a `traceparent`, when it has a valid OpenTelemetry context.
pub fn traceparent_of(span: &Span) -> Option<TraceParent> {
    let sc = context_of(span);
    sc.is_valid().then(|| TraceParent {
        trace_id: sc.trace_id().to_bytes(),
        span_id: sc.span_id().to_bytes(),
        flags: sc.trace_flags().to_u8(),
    })
}

/// Marks `span` failed with a machine-readable error class.
pub fn fail(span: &Span, error_type: &str) {
    span.record(tm::ERROR_TYPE, error_type);
    span.record("otel.status_code", "error");
}

/// One input event, from receipt to durable in the store (a root until [`continue_trace`]).
pub fn receive(system: &str, destination: &str) -> Span {
    info_span!(
        parent: None,
        "receive",
        otel.name = %format_args!("receive {destination}"),
        otel.kind = "consumer",
        otel.status_code = Empty,
        { tm::MESSAGING_SYSTEM } = system,
        { tm::MESSAGING_DESTINATION } = destination,
        { tm::MESSAGING_OPERATION_TYPE } = "receive",
        { tm::MESSAGING_MESSAGE_ID } = Empty,
        { tm::GATEWAY_STAGE } = tm::STAGE_INGEST,
        { tm::GATEWAY_ROUTE } = Empty,
        { tm::GATEWAY_OUTCOME } = Empty,
        { tm::ERROR_TYPE } = Empty,
    )
}

/// Mapping one event with the route's plugin (parse, map, ITK3 wrap, sender checks).
pub fn map(route: &str) -> Span {
    info_span!(
        "map",
        otel.name = %format_args!("map {route}"),
        otel.status_code = Empty,
        { tm::GATEWAY_STAGE } = tm::STAGE_MAP,
        { tm::GATEWAY_ROUTE } = route,
        { tm::ERROR_TYPE } = Empty,
    )
}

/// What a MESH send span describes.
#[derive(Debug, Clone, Copy)]
pub struct SendInfo<'a> {
    /// Sending mailbox.
    pub mailbox: &'a str,
    /// `Mex-WorkflowID`.
    pub workflow: &'a str,
    /// Input event id.
    pub correlation_id: &'a str,
    /// ITK3 MessageHeader.id.
    pub itk_message_id: &'a str,
    /// 1 for the first attempt.
    pub attempt: i64,
}

/// One attempt to send a stored message to MESH.
pub fn mesh_send(s: SendInfo<'_>) -> Span {
    info_span!(
        parent: None,
        "mesh.send",
        otel.name = %format_args!("send {}", s.workflow),
        otel.kind = "producer",
        otel.status_code = Empty,
        { tm::MESSAGING_SYSTEM } = tm::SYSTEM_MESH,
        { tm::MESSAGING_DESTINATION } = s.workflow,
        { tm::MESSAGING_OPERATION_TYPE } = "send",
        { tm::MESSAGING_MESSAGE_ID } = Empty,
        { tm::GATEWAY_STAGE } = tm::STAGE_MESH_SEND,
        { tm::GATEWAY_MAILBOX } = s.mailbox,
        { tm::GATEWAY_WORKFLOW } = s.workflow,
        { tm::GATEWAY_CORRELATION_ID } = s.correlation_id,
        { tm::GATEWAY_ITK_MESSAGE_ID } = s.itk_message_id,
        { tm::GATEWAY_ATTEMPT } = s.attempt,
        { tm::GATEWAY_OUTCOME } = Empty,
        { tm::ERROR_TYPE } = Empty,
    )
}

/// One poll of a mailbox's inbox (a trace of its own).
pub fn mesh_poll(mailbox: &str) -> Span {
    info_span!(
        parent: None,
        "mesh.poll",
        otel.name = %format_args!("receive {mailbox}"),
        otel.kind = "consumer",
        otel.status_code = Empty,
        { tm::MESSAGING_SYSTEM } = tm::SYSTEM_MESH,
        { tm::MESSAGING_DESTINATION } = mailbox,
        { tm::MESSAGING_OPERATION_TYPE } = "receive",
        { tm::MESSAGING_BATCH_COUNT } = Empty,
        { tm::GATEWAY_STAGE } = tm::STAGE_MESH_POLL,
        { tm::GATEWAY_MAILBOX } = mailbox,
        { tm::ERROR_TYPE } = Empty,
    )
}

/// Correlating one inbox item (ITK3 response or MESH report) with the message it is about.
pub fn correlate(mailbox: &str, inbox_message_id: &str) -> Span {
    info_span!(
        parent: None,
        "correlate",
        otel.name = %format_args!("process {mailbox}"),
        otel.kind = "consumer",
        otel.status_code = Empty,
        { tm::MESSAGING_SYSTEM } = tm::SYSTEM_MESH,
        { tm::MESSAGING_DESTINATION } = mailbox,
        { tm::MESSAGING_OPERATION_TYPE } = "process",
        { tm::MESSAGING_MESSAGE_ID } = inbox_message_id,
        { tm::GATEWAY_STAGE } = tm::STAGE_CORRELATE,
        { tm::GATEWAY_MAILBOX } = mailbox,
        { tm::GATEWAY_INBOX_KIND } = Empty,
        { tm::GATEWAY_ACK_KIND } = Empty,
        { tm::GATEWAY_ACK_POSITIVE } = Empty,
        { tm::GATEWAY_ITK_CODE } = Empty,
        { tm::GATEWAY_CORRELATION_ID } = Empty,
        { tm::GATEWAY_MESH_MESSAGE_ID } = Empty,
        { tm::GATEWAY_WORKFLOW } = Empty,
        { tm::GATEWAY_OUTCOME } = Empty,
        { tm::ERROR_TYPE } = Empty,
    )
}

/// Failing one message whose acknowledgement is overdue.
pub fn timeout(correlation_id: &str, workflow: &str) -> Span {
    info_span!(
        parent: None,
        "timeout",
        otel.name = %format_args!("timeout {workflow}"),
        otel.status_code = Empty,
        { tm::GATEWAY_STAGE } = tm::STAGE_TIMEOUT,
        { tm::GATEWAY_CORRELATION_ID } = correlation_id,
        { tm::GATEWAY_WORKFLOW } = workflow,
        { tm::ERROR_TYPE } = Empty,
    )
}

/// Asking MESH tracking about one sent message.
pub fn track(mailbox: &str, correlation_id: &str, mesh_message_id: &str) -> Span {
    info_span!(
        parent: None,
        "mesh.track",
        otel.name = %format_args!("track {mailbox}"),
        otel.kind = "client",
        otel.status_code = Empty,
        { tm::MESSAGING_SYSTEM } = tm::SYSTEM_MESH,
        { tm::GATEWAY_STAGE } = tm::STAGE_MESH_TRACK,
        { tm::GATEWAY_MAILBOX } = mailbox,
        { tm::GATEWAY_CORRELATION_ID } = correlation_id,
        { tm::GATEWAY_MESH_MESSAGE_ID } = mesh_message_id,
        { tm::GATEWAY_OUTCOME } = Empty,
        { tm::ERROR_TYPE } = Empty,
    )
}

/// One output event confirmed by the bus: a producer span from `start` to `end`, child of the span
/// that created the event (its `traceparent`). Built directly on the tracer because the span is
/// recorded only once the publish succeeded (an outage would otherwise flood the trace with
/// retried publishes).
pub(crate) fn record_publish(
    tracer: &opentelemetry_sdk::trace::SdkTracer,
    parent: &TraceParent,
    bus: &super::BusTarget,
    event: &PublishedEvent<'_>,
    start: std::time::SystemTime,
    end: std::time::SystemTime,
) {
    use opentelemetry::KeyValue;
    use opentelemetry::trace::{Span as _, SpanKind, Tracer as _};
    let builder = tracer
        .span_builder(format!("send {}", bus.destination))
        .with_kind(SpanKind::Producer)
        .with_start_time(start)
        .with_attributes([
            KeyValue::new(tm::MESSAGING_SYSTEM, bus.system),
            KeyValue::new(tm::MESSAGING_DESTINATION, bus.destination.clone()),
            KeyValue::new(tm::MESSAGING_OPERATION_TYPE, "send"),
            KeyValue::new(tm::MESSAGING_MESSAGE_ID, event.event_id.to_string()),
            KeyValue::new(tm::GATEWAY_STAGE, tm::STAGE_PUBLISH),
            KeyValue::new(tm::GATEWAY_EVENT_TYPE, event.event_type.to_string()),
            KeyValue::new(tm::GATEWAY_CORRELATION_ID, event.correlation_id.to_string()),
        ]);
    let mut span = tracer.build_with_context(builder, &remote_context(parent));
    span.end_with_timestamp(end);
}

/// What a publish span says about the event.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PublishedEvent<'a> {
    /// CloudEvent id.
    pub(crate) event_id: &'a str,
    /// CloudEvent type.
    pub(crate) event_type: &'a str,
    /// Input event id.
    pub(crate) correlation_id: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparents_round_trip_through_span_contexts() {
        let tp =
            TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
        let sc = span_context_of(&tp);
        assert_eq!(
            sc.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(sc.span_id().to_string(), "00f067aa0ba902b7");
        assert!(sc.is_sampled() && sc.is_remote());
        // Without the OpenTelemetry layer a span has no context: callers fall back.
        assert!(traceparent_of(&receive("rabbitmq", "q")).is_none());
    }
}
