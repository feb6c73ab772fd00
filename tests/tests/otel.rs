//! Traces on real parts: one consultation through RabbitMQ, the gateway binary, NHS England's
//! mesh-sandbox and a GP practice, exported over OTLP (HTTP/protobuf; gRPC in a second test) to a
//! receiver built on the official OpenTelemetry protobuf definitions. The whole life of the
//! message is one trace continuing the input's `traceparent`, with a span per stage (`map` with
//! `wrap` and `validate` children), semantic-convention attributes, links to the batch and poll
//! spans, and no patient data anywhere.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::Duration;

use gateway_it::bus::{TestBus, summary};
use gateway_it::gateway::{GatewayProcess, config_with};
use gateway_it::otlp::{
    OtlpReceiver, Span, admin_get, assert_no_patient_data, free_port, over_grpc, with_telemetry,
};
use gateway_it::practice::Practice;
use gateway_it::{Patient, TRACE_ID, consultation_event, reset_mailboxes};
use gateway_proto::CloudEvent;
use gateway_proto::traceparent::TraceParent;
use tokio::sync::Mutex;

static SERIAL: Mutex<()> = Mutex::const_new(());
const WAIT: Duration = Duration::from_secs(60);
/// The input's own span id (the producer's span) in [`consultation_event`]'s `traceparent`.
const INPUT_SPAN: &str = "00f067aa0ba902b7";
const CONSUMER: i32 = 5;
const PRODUCER: i32 = 4;
const CLIENT: i32 = 3;

fn mine<'a>(events: &'a [CloudEvent], id: &str) -> Vec<&'a CloudEvent> {
    events
        .iter()
        .filter(|e| e.subject.as_deref() == Some(id))
        .collect()
}

fn one<'a>(spans: &'a [Span], what: &str, f: impl Fn(&Span) -> bool) -> &'a Span {
    let found: Vec<&Span> = spans.iter().filter(|s| f(s)).collect();
    assert_eq!(found.len(), 1, "exactly one {what} span: {found:#?}");
    found[0]
}

fn stage(stage: &str) -> impl Fn(&Span) -> bool + '_ {
    move |s: &Span| s.attr("gateway.stage") == Some(stage)
}

#[tokio::test(flavor = "multi_thread")]
async fn one_consultation_is_one_trace_from_the_input_to_the_business_ack() {
    let _serial = SERIAL.lock().await;
    reset_mailboxes(&["PHARM001", "GPPRAC01", "GPPRAC02"]).await;
    let otlp = OtlpReceiver::start().await;
    let bus = TestBus::new().await;
    let dir = tempfile::tempdir().unwrap();
    let admin = free_port();
    let cfg = with_telemetry(
        &config_with(dir.path(), &bus, "", ""),
        admin,
        Some(&otlp.url),
    );
    let gw = GatewayProcess::start(dir.path(), &cfg);
    let _practice = Practice::start("GPPRAC01", "A99901", "20013");

    let id = uuid::Uuid::new_v4().to_string();
    bus.publish(&consultation_event(&id, Patient::Smith)).await;
    let events = bus
        .events_until(WAIT, |e| {
            mine(e, &id)
                .iter()
                .any(|x| x.event_type == "gpc.message.busack")
        })
        .await;
    let outputs: Vec<&CloudEvent> = mine(&events, &id);
    assert_eq!(outputs.len(), 3, "{:?}", summary(&events));
    let (_, metrics_text) = admin_get(admin, "/metrics").await;
    // SIGTERM: the gateway drains and flushes its spans and metrics before it exits.
    gw.stop();
    let log = std::fs::read_to_string(dir.path().join("gateway.log")).unwrap();

    let all = otlp.spans();
    let trace: Vec<Span> = all
        .iter()
        .filter(|s| s.trace_id == TRACE_ID)
        .cloned()
        .collect();

    // receive: the input's producer span is the parent; the AMQP batch span is linked.
    let receive = one(&trace, "receive", stage("ingest"));
    assert_eq!(receive.parent_span_id, INPUT_SPAN);
    assert_eq!(receive.kind, CONSUMER);
    assert_eq!(receive.name, format!("receive {}", bus.cfg.queue));
    assert_eq!(receive.attr("messaging.system"), Some("rabbitmq"));
    assert_eq!(
        receive.attr("messaging.destination.name"),
        Some(bus.cfg.queue.as_str())
    );
    assert_eq!(receive.attr("messaging.operation.type"), Some("receive"));
    assert_eq!(receive.attr("messaging.message.id"), Some(id.as_str()));
    assert_eq!(receive.attr("gateway.route"), Some("update-record"));
    assert_eq!(receive.attr("gateway.outcome"), Some("accepted"));
    let batch = all
        .iter()
        .find(|s| s.name == format!("process {}", bus.cfg.queue))
        .expect("the AMQP batch span");
    assert!(
        receive
            .links
            .contains(&(batch.trace_id.clone(), batch.span_id.clone())),
        "receive links to its batch: {receive:#?}"
    );

    // map: a child of receive.
    let map = one(&trace, "map", stage("map"));
    assert_eq!(map.parent_span_id, receive.span_id);
    assert_eq!(map.attr("gateway.route"), Some("update-record"));
    // wrap (ITK3 envelope) and validate (sender checklist): children of map.
    for st in ["wrap", "validate"] {
        let child = one(&trace, st, stage(st));
        assert_eq!(child.parent_span_id, map.span_id, "{st}");
        assert_eq!(child.name, st);
    }

    // MESH send: a child of receive (through the stored traceparent), one HTTP span per request.
    let sent = outputs[0];
    assert_eq!(sent.event_type, "gpc.message.sent");
    let mesh_id = sent.data["meshMessageId"].as_str().unwrap();
    let send = one(&trace, "MESH send", stage("mesh-send"));
    assert_eq!(send.parent_span_id, receive.span_id);
    assert_eq!(send.kind, PRODUCER);
    assert_eq!(send.name, "send GPCONNECT_UPDATE_RECORD");
    assert_eq!(send.attr("messaging.system"), Some("nhs_mesh"));
    assert_eq!(
        send.attr("messaging.destination.name"),
        Some("GPCONNECT_UPDATE_RECORD")
    );
    assert_eq!(send.attr("messaging.operation.type"), Some("send"));
    assert_eq!(send.attr("messaging.message.id"), Some(mesh_id));
    assert_eq!(send.attr("gateway.mesh.mailbox"), Some("PHARM001"));
    assert_eq!(
        send.attr("gateway.workflow"),
        Some("GPCONNECT_UPDATE_RECORD")
    );
    assert_eq!(send.attr("gateway.attempt"), Some("1"));
    assert_eq!(
        send.attr("gateway.itk.message_id"),
        sent.data["itkMessageId"].as_str()
    );
    let post = one(&trace, "POST send", |s| {
        s.parent_span_id == send.span_id && s.kind == CLIENT
    });
    assert_eq!(post.kind, CLIENT);
    assert_eq!(post.attr("http.request.method"), Some("POST"));
    assert_eq!(post.attr("http.response.status_code"), Some("202"));
    assert_eq!(post.attr("gateway.mesh.operation"), Some("send"));

    // Acknowledgements: children of receive, each linked to the inbox poll that found it.
    let acks: Vec<&Span> = trace.iter().filter(|s| stage("correlate")(s)).collect();
    assert_eq!(acks.len(), 2, "{acks:#?}");
    for (kind, code) in [("infrastructure", "20013"), ("business", "30001")] {
        let ack = one(&trace, kind, |s| {
            s.attr("gateway.stage") == Some("correlate") && s.attr("gateway.ack.kind") == Some(kind)
        });
        assert_eq!(ack.parent_span_id, receive.span_id);
        assert_eq!(ack.kind, CONSUMER);
        assert_eq!(ack.attr("gateway.itk.code"), Some(code));
        assert_eq!(ack.attr("gateway.ack.positive"), Some("true"));
        assert_eq!(ack.attr("gateway.mesh.message_id"), Some(mesh_id));
        assert_eq!(ack.attr("gateway.correlation_id"), Some(id.as_str()));
        assert_eq!(ack.attr("messaging.system"), Some("nhs_mesh"));
        assert_eq!(ack.attr("messaging.operation.type"), Some("process"));
        assert_eq!(ack.attr("messaging.destination.name"), Some("PHARM001"));
        let (lt, ls) = ack.links.first().expect("a link to the poll");
        let poll = all
            .iter()
            .find(|s| &s.trace_id == lt && &s.span_id == ls)
            .expect("the linked poll span was exported");
        assert_eq!(poll.attr("gateway.stage"), Some("mesh-poll"));
        assert_eq!(poll.name, "receive PHARM001");
    }

    // Bus publish: one producer span per output event, a child of the span that created the
    // event (its traceparent), which is itself exported: send → sent, acks → infack / busack.
    let creators = ["mesh-send", "correlate", "correlate"];
    for (event, creator) in outputs.iter().zip(creators) {
        let tp = TraceParent::parse(event.traceparent.as_deref().unwrap()).unwrap();
        assert_eq!(tp.trace_id_hex(), TRACE_ID);
        let publish = one(&trace, "publish", |s| {
            s.attr("gateway.stage") == Some("publish")
                && s.attr("messaging.message.id") == Some(event.id.as_str())
        });
        assert_eq!(publish.parent_span_id, tp.span_id_hex());
        assert_eq!(publish.kind, PRODUCER);
        assert_eq!(publish.attr("messaging.system"), Some("rabbitmq"));
        assert_eq!(
            publish.attr("messaging.destination.name"),
            Some(bus.cfg.exchange.as_str())
        );
        assert_eq!(
            publish.attr("gateway.event.type"),
            Some(event.event_type.as_str())
        );
        let parent = one(&trace, "event creator", |s| s.span_id == tp.span_id_hex());
        assert_eq!(
            parent.attr("gateway.stage"),
            Some(creator),
            "{}",
            event.event_type
        );
    }

    // Metrics went over OTLP too.
    let names = otlp.metric_names();
    for m in [
        "messaging.client.consumed.messages",
        "messaging.client.sent.messages",
        "messaging.client.operation.duration",
        "http.client.request.duration",
        "gateway.messages.settled",
        "gateway.bus.publish.lag",
    ] {
        assert!(
            names.iter().any(|n| n == m),
            "{m} exported over OTLP: {names:?}"
        );
    }

    // JSON logs carry the trace: the send log line names this trace and the send span.
    let sent_line = log
        .lines()
        .find(|l| l.contains("Message sent to MESH.") && l.contains(&id))
        .expect("the send is logged");
    let line: serde_json::Value = serde_json::from_str(sent_line).unwrap();
    assert_eq!(line["trace_id"], TRACE_ID, "{sent_line}");
    assert_eq!(line["span_id"], send.span_id.as_str(), "{sent_line}");
    for l in log.lines().filter(|l| !l.trim().is_empty()) {
        serde_json::from_str::<serde_json::Value>(l)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}"));
    }

    // No patient data in logs, spans or metrics.
    assert_no_patient_data("the gateway log", &log);
    assert_no_patient_data("the exported spans and metrics", &otlp.dump());
    assert_no_patient_data("/metrics", &metrics_text);
    bus.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_trace_is_exported_over_otlp_grpc_too() {
    let _serial = SERIAL.lock().await;
    reset_mailboxes(&["PHARM001", "GPPRAC01", "GPPRAC02"]).await;
    let otlp = OtlpReceiver::start().await;
    let bus = TestBus::new().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = over_grpc(&with_telemetry(
        &config_with(dir.path(), &bus, "", ""),
        free_port(),
        Some(&otlp.grpc_url),
    ));
    let gw = GatewayProcess::start(dir.path(), &cfg);

    let id = uuid::Uuid::new_v4().to_string();
    bus.publish(&consultation_event(&id, Patient::Smith)).await;
    let events = bus
        .events_until(WAIT, |e| {
            mine(e, &id)
                .iter()
                .any(|x| x.event_type == "gpc.message.sent")
        })
        .await;
    assert!(
        mine(&events, &id)
            .iter()
            .any(|x| x.event_type == "gpc.message.sent"),
        "{:?}",
        summary(&events)
    );
    // SIGTERM flushes the batch of spans and the metrics over gRPC.
    gw.stop();

    let trace: Vec<Span> = otlp
        .spans()
        .into_iter()
        .filter(|s| s.trace_id == TRACE_ID)
        .collect();
    let receive = one(&trace, "receive", stage("ingest"));
    assert_eq!(receive.parent_span_id, INPUT_SPAN);
    assert_eq!(receive.attr("messaging.message.id"), Some(id.as_str()));
    let map = one(&trace, "map", stage("map"));
    assert_eq!(map.parent_span_id, receive.span_id);
    for st in ["wrap", "validate"] {
        assert_eq!(one(&trace, st, stage(st)).parent_span_id, map.span_id);
    }
    let send = one(&trace, "MESH send", stage("mesh-send"));
    assert_eq!(send.parent_span_id, receive.span_id);
    let names = otlp.metric_names();
    assert!(
        names
            .iter()
            .any(|n| n == "messaging.client.consumed.messages"),
        "metrics exported over OTLP/gRPC: {names:?}"
    );
    assert_no_patient_data("the spans and metrics exported over gRPC", &otlp.dump());
    bus.cleanup().await;
}
