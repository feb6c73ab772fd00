//! The MESH leg on the real mesh-sandbox: reports, mailbox isolation, tracking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::Duration;

use gateway_adapter_mesh::{MeshClient, MeshClientConfig};
use gateway_core::Secret;
use gateway_it::bus::TestBus;
use gateway_it::gateway::{GatewayProcess, config, config_with};
use gateway_it::practice::Practice;
use gateway_it::{Patient, consultation_event, reset_mailboxes, sandbox_url};
use gateway_proto::CloudEvent;
use tokio::sync::Mutex;

static SERIAL: Mutex<()> = Mutex::const_new(());
const WAIT: Duration = Duration::from_secs(60);

fn find<'a>(events: &'a [CloudEvent], subject: &str, t: &str) -> Option<&'a CloudEvent> {
    events
        .iter()
        .find(|e| e.subject.as_deref() == Some(subject) && e.event_type == t)
}

async fn inject_report(status: &str, code: &str, description: &str, linked: &str) {
    let body = serde_json::json!({
        "mailbox_id": "PHARM001", "status": status, "code": code, "description": description,
        "workflow_id": "GPCONNECT_UPDATE_RECORD", "linked_message_id": linked, "local_id": "FA001",
    });
    let resp = reqwest::Client::new()
        .post(format!("{}/messageexchange/admin/report", sandbox_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        resp.status().is_success(),
        "report injection: {}",
        resp.status()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn mesh_reports_become_failed_events_with_their_code() {
    let _serial = SERIAL.lock().await;
    reset_mailboxes(&["PHARM001", "GPPRAC01", "GPPRAC02"]).await;
    let bus = TestBus::new().await;
    let dir = tempfile::tempdir().unwrap();
    let gw = GatewayProcess::start(dir.path(), &config(dir.path(), &bus));
    let (routing, expired) = (
        uuid::Uuid::new_v4().to_string(),
        uuid::Uuid::new_v4().to_string(),
    );
    bus.publish(&consultation_event(&routing, Patient::Smith))
        .await;
    bus.publish(&consultation_event(&expired, Patient::Jones))
        .await;
    let sent = bus
        .events_until(WAIT, |e| {
            find(e, &routing, "gpc.message.sent").is_some()
                && find(e, &expired, "gpc.message.sent").is_some()
        })
        .await;
    let mesh_id = |id: &str| {
        find(&sent, id, "gpc.message.sent").unwrap().data["meshMessageId"]
            .as_str()
            .unwrap()
            .to_string()
    };
    inject_report(
        "error",
        "EPL-153",
        "NHS number not found",
        &mesh_id(&routing),
    )
    .await;
    inject_report("undeliverable", "14", "", &mesh_id(&expired)).await;

    let events = bus
        .events_until(WAIT, |e| {
            find(e, &routing, "gpc.message.failed").is_some()
                && find(e, &expired, "gpc.message.failed").is_some()
        })
        .await;
    let f = &find(&events, &routing, "gpc.message.failed").unwrap().data;
    assert_eq!(
        (f["stage"].as_str(), f["code"].as_str()),
        (Some("mesh-report"), Some("EPL-153"))
    );
    assert!(
        f["reason"]
            .as_str()
            .unwrap()
            .contains("could not find the NHS number"),
        "{f}"
    );
    let f = &find(&events, &expired, "gpc.message.failed").unwrap().data;
    assert_eq!(
        (f["stage"].as_str(), f["code"].as_str()),
        (Some("expired"), Some("14"))
    );

    // The operator resends the routing failure (the practice never had it) while the gateway
    // runs: a second MESH message goes out; an unknown id is refused with its reason.
    let resend = |ids: &[&str]| {
        std::process::Command::new(gateway_it::gateway::binary())
            .args(["messages", "resend", "--config"])
            .arg(dir.path().join("gateway.toml"))
            .args(ids)
            .output()
            .unwrap()
    };
    let out = resend(&[&routing, "no-such-event"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "one refused: {stdout}");
    assert!(
        stdout.contains(&format!("{routing}: queued to be sent again")),
        "{stdout}"
    );
    assert!(
        stdout.contains("no-such-event: refused: no such message"),
        "{stdout}"
    );
    let again = bus
        .events_until(WAIT, |e| find(e, &routing, "gpc.message.sent").is_some())
        .await;
    let second = find(&again, &routing, "gpc.message.sent").unwrap().data["meshMessageId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(second, mesh_id(&routing), "a new MESH message");
    let out = resend(&[&routing]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("only failed messages are resent"),
        "a message in flight is not resent"
    );
    gw.stop();
    bus.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mailbox_with_a_wrong_password_waits_while_the_others_flow() {
    let _serial = SERIAL.lock().await;
    reset_mailboxes(&["PHARM001", "GPPRAC01", "GPPRAC02", "X26ABC1"]).await;
    let bus = TestBus::new().await;
    let dir = tempfile::tempdir().unwrap();
    let broken =
        "[mesh.mailboxes.X26ABC1]\npassword = \"not-the-password\"\nods_codes = [\"FA002\"]\n";
    let gw = GatewayProcess::start(dir.path(), &config_with(dir.path(), &bus, "", broken));
    let _practice = Practice::start("GPPRAC01", "A99901", "20013");

    let good = uuid::Uuid::new_v4().to_string();
    let stuck = uuid::Uuid::new_v4().to_string();
    let mut other_org: serde_json::Value =
        serde_json::from_slice(&consultation_event(&stuck, Patient::Smith)).unwrap();
    other_org["data"]["pharmacy"]["odsCode"] = "FA002".into();
    bus.publish(&serde_json::to_vec(&other_org).unwrap()).await;
    bus.publish(&consultation_event(&good, Patient::Smith))
        .await;

    let events = bus
        .events_until(WAIT, |e| find(e, &good, "gpc.message.busack").is_some())
        .await;
    assert!(
        events
            .iter()
            .all(|e| e.subject.as_deref() != Some(stuck.as_str())),
        "the broken mailbox's message must wait, neither sent nor failed"
    );
    assert!(bus.next_event(Duration::from_secs(2)).await.is_none());
    let log = gw.log();
    assert!(
        log.contains("X26ABC1") && log.contains("403"),
        "an alert names the mailbox:\n{log}"
    );
    gw.stop();
    bus.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tracking_reports_delivery_when_the_practice_downloads_without_answering() {
    let _serial = SERIAL.lock().await;
    reset_mailboxes(&["PHARM001", "GPPRAC01", "GPPRAC02"]).await;
    let bus = TestBus::new().await;
    let dir = tempfile::tempdir().unwrap();
    let keys = "tracking_after_secs = 1\ntracking_interval_secs = 1\n";
    let gw = GatewayProcess::start(dir.path(), &config_with(dir.path(), &bus, keys, ""));
    let id = uuid::Uuid::new_v4().to_string();
    bus.publish(&consultation_event(&id, Patient::Smith)).await;
    let sent = bus
        .events_until(WAIT, |e| find(e, &id, "gpc.message.sent").is_some())
        .await;
    let mesh_id = find(&sent, &id, "gpc.message.sent").unwrap().data["meshMessageId"].clone();

    // The practice's system collects the message but has not answered yet.
    let practice = MeshClient::new(MeshClientConfig::new(
        sandbox_url(),
        "GPPRAC01",
        Secret::new("gpprac01-pass"),
        Secret::new("TestKey"),
    ))
    .unwrap();
    let listed = practice.list_inbox(None).await.unwrap();
    assert_eq!(listed, vec![mesh_id.as_str().unwrap().to_string()]);
    practice.acknowledge(&listed[0]).await.unwrap();

    let events = bus
        .events_until(WAIT, |e| find(e, &id, "gpc.message.delivered").is_some())
        .await;
    let d = &find(&events, &id, "gpc.message.delivered").unwrap().data;
    assert_eq!(d["status"], "acknowledged");
    assert_eq!(d["meshMessageId"], mesh_id);
    assert!(
        bus.next_event(Duration::from_secs(3)).await.is_none(),
        "delivered is reported once"
    );
    gw.stop();
    bus.cleanup().await;
}
