//! End to end on real parts: RabbitMQ, NHS England's mesh-sandbox, the `gpc-gateway` binary, and
//! a GP practice validating with the independent fhir-validate tool. The tests share the sandbox's
//! PHARM001 / GPPRAC01 / GPPRAC02 mailboxes, so they run one at a time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::Duration;

use gateway_it::bus::{TestBus, summary};
use gateway_it::gateway::{GatewayProcess, config};
use gateway_it::practice::Practice;
use gateway_it::{Patient, TRACE_ID, consultation_event, reset_mailboxes};
use gateway_proto::CloudEvent;
use tokio::sync::Mutex;

static SERIAL: Mutex<()> = Mutex::const_new(());
const WAIT: Duration = Duration::from_secs(60);

fn of<'a>(events: &'a [CloudEvent], subject: &str) -> Vec<&'a CloudEvent> {
    events
        .iter()
        .filter(|e| e.subject.as_deref() == Some(subject))
        .collect()
}

fn has(events: &[CloudEvent], subject: &str, t: &str) -> bool {
    of(events, subject).iter().any(|e| e.event_type == t)
}

#[tokio::test(flavor = "multi_thread")]
async fn consultation_reaches_busack_once_even_when_published_twice() {
    let _serial = SERIAL.lock().await;
    reset_mailboxes(&["PHARM001", "GPPRAC01", "GPPRAC02"]).await;
    let bus = TestBus::new().await;
    let dir = tempfile::tempdir().unwrap();
    let gw = GatewayProcess::start(dir.path(), &config(dir.path(), &bus));
    let practice = Practice::start("GPPRAC01", "A99901", "20013");

    let id = uuid::Uuid::new_v4().to_string();
    let event = consultation_event(&id, Patient::Smith);
    bus.publish(&event).await;
    bus.publish(&event).await;

    let events = bus
        .events_until(WAIT, |e| has(e, &id, "gpc.message.busack"))
        .await;
    let mine: Vec<&str> = of(&events, &id)
        .iter()
        .map(|e| e.event_type.as_str())
        .collect();
    assert_eq!(
        mine,
        [
            "gpc.message.sent",
            "gpc.message.infack",
            "gpc.message.busack"
        ],
        "{:?}",
        summary(&events)
    );
    for e in of(&events, &id) {
        let tp = e
            .traceparent
            .as_deref()
            .expect("every event carries the trace");
        assert!(tp.contains(TRACE_ID), "trace continued: {tp}");
    }
    let sent = of(&events, &id)[0].data.clone();
    assert_eq!(sent["mexTo"], "GPPROVIDER_******0009_********_S****");
    let infack = of(&events, &id)[1].data.clone();
    assert_eq!(
        (infack["positive"].as_bool(), infack["code"].as_str()),
        (Some(true), Some("20013"))
    );

    // The duplicate publish must not have produced a second MESH message.
    let itk_id = sent["itkMessageId"].as_str().unwrap().to_string();
    assert!(
        bus.next_event(Duration::from_secs(3)).await.is_none(),
        "no further events"
    );
    assert_eq!(
        practice.count_of(&itk_id),
        1,
        "exactly one MESH message reached the practice"
    );
    for (_, output, valid) in practice.all() {
        assert!(
            valid,
            "fhir-validate found errors in what we sent:\n{output}"
        );
    }
    gw.stop();
    bus.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn negative_infrastructure_ack_fails_the_message_with_its_code() {
    let _serial = SERIAL.lock().await;
    reset_mailboxes(&["PHARM001", "GPPRAC01", "GPPRAC02"]).await;
    let bus = TestBus::new().await;
    let dir = tempfile::tempdir().unwrap();
    let gw = GatewayProcess::start(dir.path(), &config(dir.path(), &bus));
    let _practice = Practice::start("GPPRAC02", "A99902", "20009");

    let id = uuid::Uuid::new_v4().to_string();
    bus.publish(&consultation_event(&id, Patient::Jones)).await;
    let events = bus
        .events_until(WAIT, |e| has(e, &id, "gpc.message.failed"))
        .await;
    let failed = of(&events, &id)
        .into_iter()
        .find(|e| e.event_type == "gpc.message.failed")
        .unwrap();
    assert_eq!(failed.data["stage"], "infack");
    assert_eq!(failed.data["code"], "20009");
    assert_eq!(failed.data["retryable"], false);
    assert!(has(&events, &id, "gpc.message.infack"));
    assert!(!has(&events, &id, "gpc.message.busack"));
    gw.stop();
    bus.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_inputs_are_dead_lettered_with_reasons_and_good_ones_still_flow() {
    let _serial = SERIAL.lock().await;
    reset_mailboxes(&["PHARM001", "GPPRAC01", "GPPRAC02"]).await;
    let bus = TestBus::new().await;
    let dir = tempfile::tempdir().unwrap();
    let gw = GatewayProcess::start(dir.path(), &config(dir.path(), &bus));

    let good_id = uuid::Uuid::new_v4().to_string();
    let mut unknown: serde_json::Value =
        serde_json::from_slice(&consultation_event("unknown-type-1", Patient::Smith)).unwrap();
    unknown["type"] = "uk.nhs.something.else.v1".into();
    let mut missing: serde_json::Value =
        serde_json::from_slice(&consultation_event("missing-field-1", Patient::Smith)).unwrap();
    missing["data"]["clinicalNotes"]
        .as_object_mut()
        .unwrap()
        .remove("clinicalSummary");
    let mut bad_nhs: serde_json::Value =
        serde_json::from_slice(&consultation_event("bad-nhs-1", Patient::Smith)).unwrap();
    bad_nhs["data"]["patient"]["nhsNumber"] = "9000000001".into();
    let cases: Vec<(Vec<u8>, &str, &str)> = vec![
        (b"{ this is not json".to_vec(), "input", "not a CloudEvents"),
        (
            serde_json::to_vec(&unknown).unwrap(),
            "input",
            "not supported",
        ),
        (
            serde_json::to_vec(&missing).unwrap(),
            "mapping",
            "clinicalSummary",
        ),
        (
            serde_json::to_vec(&bad_nhs).unwrap(),
            "mapping",
            "nhsNumber",
        ),
    ];
    for (body, _, _) in &cases {
        bus.publish(body).await;
    }
    bus.publish(&consultation_event(&good_id, Patient::Smith))
        .await;

    for (body, stage, words) in &cases {
        let dl = bus.next_dead_letter(WAIT).await.expect("dead letter");
        assert_eq!(&dl.body, body, "body kept unchanged, in order");
        assert_eq!(dl.stage, *stage);
        assert!(
            dl.reason.contains(words),
            "reason {:?} should mention {words:?}",
            dl.reason
        );
        assert!(
            !dl.reason.contains("9000000001"),
            "no patient data in reasons"
        );
    }
    let events = bus
        .events_until(WAIT, |e| {
            e.iter()
                .filter(|x| x.event_type == "gpc.message.failed")
                .count()
                >= 4
                && has(e, &good_id, "gpc.message.sent")
        })
        .await;
    let stages: Vec<String> = events
        .iter()
        .filter(|e| e.event_type == "gpc.message.failed")
        .map(|e| e.data["stage"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(stages, ["input", "input", "mapping", "mapping"]);
    gw.stop();
    bus.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_after_send_recovers_and_correlates_without_a_second_message() {
    let _serial = SERIAL.lock().await;
    reset_mailboxes(&["PHARM001", "GPPRAC01", "GPPRAC02"]).await;
    let bus = TestBus::new().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &bus);
    let gw = GatewayProcess::start(dir.path(), &cfg);

    let id = uuid::Uuid::new_v4().to_string();
    bus.publish(&consultation_event(&id, Patient::Smith)).await;
    let events = bus
        .events_until(WAIT, |e| has(e, &id, "gpc.message.sent"))
        .await;
    let itk_id = of(&events, &id)[0].data["itkMessageId"]
        .as_str()
        .unwrap()
        .to_string();
    gw.kill9();

    // The practice answers while the gateway is down; the acks wait in PHARM001's inbox.
    let practice = Practice::start("GPPRAC01", "A99901", "20013");
    gateway_it::eventually("practice received the message", WAIT, || async {
        (practice.count_of(&itk_id) >= 1).then_some(())
    })
    .await;
    let gw = GatewayProcess::start(dir.path(), &cfg);
    let events = bus
        .events_until(WAIT, |e| has(e, &id, "gpc.message.busack"))
        .await;
    let mine: Vec<&str> = of(&events, &id)
        .iter()
        .map(|e| e.event_type.as_str())
        .collect();
    assert_eq!(mine, ["gpc.message.infack", "gpc.message.busack"]);
    assert!(
        bus.next_event(Duration::from_secs(3)).await.is_none(),
        "no second send after restart"
    );
    assert_eq!(practice.count_of(&itk_id), 1, "one MESH message only");
    gw.stop();
    bus.cleanup().await;
}
