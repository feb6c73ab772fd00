//! Builds output CloudEvents (contract §5). Event ids are derived from the message id, the event
//! type and a discriminator, so a re-built event has the same id and consumers can de-duplicate.

use chrono::{DateTime, Utc};
use gateway_proto::CloudEvent;
use gateway_proto::traceparent::TraceParent;
use gateway_store::NewEvent;
use serde::Serialize;
use uuid::Uuid;

use crate::telemetry::spans;

const EVENT_NS: Uuid = Uuid::from_u128(0x0d6f_3a51_8c2e_4b7a_a1f0_93c4_5e6d_7b80);

/// Builds one output event for a message.
pub(crate) fn build<T: Serialize>(
    source: &str,
    event_type: &str,
    correlation_id: &str,
    discriminator: &str,
    traceparent: Option<&str>,
    now: DateTime<Utc>,
    data: &T,
) -> NewEvent {
    let id = Uuid::new_v5(
        &EVENT_NS,
        format!("{correlation_id}\u{1f}{event_type}\u{1f}{discriminator}").as_bytes(),
    );
    // The event continues the message's trace. Its parent is the span that decided to emit it
    // (receive, MESH send, acknowledgement, timeout) when that span is in the message's trace, so
    // a consumer's spans hang under it; otherwise a span id derived from the event id.
    let tp = traceparent.and_then(TraceParent::parse).map(|p| {
        let current = spans::traceparent_of(&tracing::Span::current());
        match current.filter(|c| c.trace_id == p.trace_id) {
            Some(c) => c.to_string(),
            None => {
                let b = id.as_bytes();
                let mut span = [0u8; 8];
                span.copy_from_slice(&b[8..16]);
                p.child(span).to_string()
            }
        }
    });
    let ev = CloudEvent {
        specversion: "1.0".into(),
        id: id.to_string(),
        source: source.into(),
        event_type: event_type.into(),
        time: Some(now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        datacontenttype: Some("application/json".into()),
        subject: Some(correlation_id.into()),
        traceparent: tp.clone(),
        data: serde_json::to_value(data).unwrap_or(serde_json::Value::Null),
    };
    NewEvent {
        event_type: event_type.into(),
        body: serde_json::to_vec(&ev).unwrap_or_default(),
        traceparent: tp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continues_the_trace_and_sets_subject() {
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let data = serde_json::json!({"correlationId": "ev-1"});
        let e = build(
            "urn:x",
            "gpc.message.sent",
            "ev-1",
            "",
            Some(tp),
            Utc::now(),
            &data,
        );
        let ce: CloudEvent = serde_json::from_slice(&e.body).unwrap();
        assert_eq!(ce.subject.as_deref(), Some("ev-1"));
        let out = TraceParent::parse(ce.traceparent.as_deref().unwrap()).unwrap();
        assert_eq!(out.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_ne!(out.span_id_hex(), "00f067aa0ba902b7");
        let again = build(
            "urn:x",
            "gpc.message.sent",
            "ev-1",
            "",
            Some(tp),
            Utc::now(),
            &data,
        );
        let ce2: CloudEvent = serde_json::from_slice(&again.body).unwrap();
        assert_eq!(ce.id, ce2.id, "same event, same id");
    }

    #[test]
    fn the_deciding_span_becomes_the_events_parent_when_in_the_same_trace() {
        use opentelemetry::trace::TracerProvider as _;
        use tracing_subscriber::layer::SubscriberExt;

        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("t")));
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let data = serde_json::json!({});
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("stage");
            spans::continue_trace(&span, Some(tp));
            let own = spans::traceparent_of(&span).unwrap();
            let e = span.in_scope(|| build("urn:x", "t", "ev-1", "", Some(tp), Utc::now(), &data));
            assert_eq!(e.traceparent, Some(own.to_string()));

            // A span of another trace (an inbox poll) is not taken as the parent.
            let other = tracing::info_span!("poll");
            let e = other.in_scope(|| build("urn:x", "t", "ev-1", "", Some(tp), Utc::now(), &data));
            let out = TraceParent::parse(e.traceparent.as_deref().unwrap()).unwrap();
            assert_eq!(out.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
            assert_ne!(Some(out), spans::traceparent_of(&other));
        });
    }
}
