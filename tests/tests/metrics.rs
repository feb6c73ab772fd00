//! `/metrics` on real parts: every metric the gateway declares is exposed and moves when
//! messages flow (including a dead letter, a refused MESH mailbox and an acknowledgement backlog);
//! `/readyz` names the failing mailbox; the Grafana dashboard and the alert rules only query
//! exported metrics; no patient data appears in metrics or logs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use gateway_core::telemetry as tm;
use gateway_it::bus::TestBus;
use gateway_it::gateway::{GatewayProcess, config_with};
use gateway_it::otlp::prometheus::{
    check_alerts, check_dashboard, metric_names, parse, series, total,
};
use gateway_it::otlp::{admin_get, assert_no_patient_data, free_port, with_telemetry};
use gateway_it::practice::Practice;
use gateway_it::{Patient, consultation_event, eventually, reset_mailboxes};
use gateway_proto::CloudEvent;
use tokio::sync::Mutex;

static SERIAL: Mutex<()> = Mutex::const_new(());
const WAIT: Duration = Duration::from_secs(60);

/// Every metric: OpenTelemetry name, Prometheus name, and how it must move in this test.
const METRICS: &[(&str, &str, Moves)] = &[
    (
        tm::METRIC_CONSUMED,
        "messaging_client_consumed_messages_total",
        Moves::Grows,
    ),
    (
        tm::METRIC_SENT,
        "messaging_client_sent_messages_total",
        Moves::Grows,
    ),
    (
        tm::METRIC_OPERATION_DURATION,
        "messaging_client_operation_duration_seconds",
        Moves::Grows,
    ),
    (
        tm::METRIC_PROCESS_DURATION,
        "messaging_process_duration_seconds",
        Moves::Grows,
    ),
    (
        tm::METRIC_HTTP_DURATION,
        "http_client_request_duration_seconds",
        Moves::Grows,
    ),
    (
        tm::METRIC_SETTLED,
        "gateway_messages_settled_total",
        Moves::Grows,
    ),
    (tm::METRIC_ERRORS, "gateway_errors_total", Moves::Grows),
    (
        tm::METRIC_RETRIES,
        "gateway_mesh_send_retries_total",
        Moves::Grows,
    ),
    (
        tm::METRIC_DEAD_LETTERED,
        "gateway_inputs_dead_lettered_total",
        Moves::Grows,
    ),
    (
        tm::METRIC_ACKS_AWAITING,
        "gateway_acks_awaiting",
        Moves::PositiveMidway,
    ),
    (
        tm::METRIC_ACKS_OLDEST_AGE,
        "gateway_acks_oldest_age_seconds",
        Moves::PositiveMidway,
    ),
    (
        tm::METRIC_STORE_MESSAGES,
        "gateway_store_messages",
        Moves::Grows,
    ),
    (
        tm::METRIC_PUBLISH_LAG,
        "gateway_bus_publish_lag_seconds",
        Moves::Grows,
    ),
    (
        tm::METRIC_OUTBOX_OLDEST_AGE,
        "gateway_outbox_oldest_age_seconds",
        Moves::Present,
    ),
    (
        tm::METRIC_MAILBOX_UP,
        "gateway_mesh_mailbox_up",
        Moves::UpAndDown,
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Moves {
    /// Counter or histogram: the final total exceeds the first scrape's.
    Grows,
    /// Gauge: above zero while a message waits.
    PositiveMidway,
    /// Gauge: exposed (0 unless the bus is down).
    Present,
    /// Gauge: 1 for the working mailbox, 0 for the refused one.
    UpAndDown,
}

async fn scrape(port: u16) -> (String, BTreeMap<String, f64>) {
    let (status, text) = admin_get(port, "/metrics").await;
    assert_eq!(status, 200, "{text}");
    let samples = parse(&text);
    (text, samples)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_metric_is_exposed_and_moves() {
    let _serial = SERIAL.lock().await;
    reset_mailboxes(&["PHARM001", "GPPRAC01", "GPPRAC02", "X26ABC1"]).await;
    let bus = TestBus::new().await;
    let dir = tempfile::tempdir().unwrap();
    let admin = free_port();
    let refused =
        "[mesh.mailboxes.X26ABC1]\npassword = \"not-the-password\"\nods_codes = [\"FA002\"]\n";
    let cfg = with_telemetry(&config_with(dir.path(), &bus, "", refused), admin, None);
    let gw = GatewayProcess::start(dir.path(), &cfg);
    eventually("the admin server", WAIT, || async move {
        reqwest::get(format!("http://127.0.0.1:{admin}/healthz"))
            .await
            .ok()
            .filter(|r| r.status().is_success())
    })
    .await;
    let (_, baseline) = scrape(admin).await;

    // A bad input (dead letter), a message for the refused mailbox (403, retries), and a good
    // message that waits for its acknowledgement while no practice answers.
    bus.publish(b"{ not json").await;
    assert!(bus.next_dead_letter(WAIT).await.is_some());
    let mut other: serde_json::Value =
        serde_json::from_slice(&consultation_event("metrics-refused-1", Patient::Smith)).unwrap();
    other["data"]["pharmacy"]["odsCode"] = "FA002".into();
    other["id"] = uuid::Uuid::new_v4().to_string().into();
    bus.publish(&serde_json::to_vec(&other).unwrap()).await;
    let id = uuid::Uuid::new_v4().to_string();
    bus.publish(&consultation_event(&id, Patient::Smith)).await;
    let has = |e: &[CloudEvent], t: &str| {
        e.iter()
            .any(|x| x.subject.as_deref() == Some(id.as_str()) && x.event_type == t)
    };
    bus.events_until(WAIT, |e| has(e, "gpc.message.sent")).await;
    let (_, midway) = eventually("a backlog and a retry", WAIT, || async move {
        let (text, s) = scrape(admin).await;
        let waiting = series(&s, "gateway_acks_oldest_age_seconds", "infrastructure");
        let retried = total(&s, "gateway_mesh_send_retries_total").unwrap_or(0.0);
        (waiting.is_some_and(|age| *age >= 1.0) && retried > 0.0).then_some((text, s))
    })
    .await;
    let (code, ready) = admin_get(admin, "/readyz").await;
    assert_eq!(
        code, 503,
        "the refused mailbox makes the gateway unready:\n{ready}"
    );
    assert!(ready.contains("mesh X26ABC1: poll failed"), "{ready}");
    assert!(ready.contains("mesh PHARM001: ok"), "{ready}");
    assert!(
        ready.contains("store: ok") && ready.contains("bus: ok"),
        "{ready}"
    );

    let _practice = Practice::start("GPPRAC01", "A99901", "20013");
    bus.events_until(WAIT, |e| has(e, "gpc.message.busack"))
        .await;
    let (text, last) = eventually("the completed message in /metrics", WAIT, || async move {
        let (text, s) = scrape(admin).await;
        series(&s, "gateway_messages_settled_total", "completed")
            .is_some()
            .then_some((text, s))
    })
    .await;
    gw.stop();

    let declared: BTreeSet<&str> = tm::ALL_METRICS.iter().copied().collect();
    let tested: BTreeSet<&str> = METRICS.iter().map(|(otel, _, _)| *otel).collect();
    assert_eq!(declared, tested, "this test covers every declared metric");
    for (otel, prom, moves) in METRICS {
        let now = total(&last, prom).unwrap_or_else(|| panic!("{otel} ({prom}) missing:\n{text}"));
        match moves {
            Moves::Grows => {
                let before = total(&baseline, prom).unwrap_or(0.0);
                assert!(now > before, "{prom} did not grow ({before} → {now})");
            }
            Moves::PositiveMidway => {
                let mid = total(&midway, prom).unwrap_or(0.0);
                assert!(mid > 0.0, "{prom} stayed 0 while a message waited");
            }
            Moves::Present => {}
            Moves::UpAndDown => {
                assert_eq!(series(&last, prom, "\"PHARM001\""), Some(&1.0), "{prom}");
                assert_eq!(series(&last, prom, "\"X26ABC1\""), Some(&0.0), "{prom}");
            }
        }
    }
    assert!(series(&last, "gateway_errors_total", "mesh-send").is_some());
    assert!(
        series(
            &last,
            "http_client_request_duration_seconds_count",
            "\"403\""
        )
        .is_some()
    );

    let exported: BTreeSet<String> = METRICS.iter().map(|(_, p, _)| p.to_string()).collect();
    check_dashboard(&exported);
    check_alerts(&exported);
    check_readme(&exported);

    let log = std::fs::read_to_string(dir.path().join("gateway.log")).unwrap();
    assert_no_patient_data("/metrics", &text);
    assert_no_patient_data("the gateway log", &log);
    bus.cleanup().await;
}

/// Every Prometheus metric name the README mentions (in backticks) is one this test saw move.
fn check_readme(exported: &BTreeSet<String>) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let readme = std::fs::read_to_string(path).unwrap();
    let named = readme.split('`').skip(1).step_by(2).filter(|t| {
        ["gateway_", "messaging_", "http_client_"]
            .iter()
            .any(|p| t.starts_with(p))
            && t.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    });
    for name in named {
        let base = ["_bucket", "_count", "_sum"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .unwrap_or(name);
        assert!(
            exported.contains(base),
            "the README names {name}, which is not exported"
        );
    }
}

#[test]
fn promql_metric_names_are_found_and_labels_skipped() {
    let e = r#"sum by (gateway_stage) (rate(gateway_messages_settled_total{gateway_outcome="failed"}[30m])) / on() group_left() clamp_min(sum(rate(messaging_client_consumed_messages_total[30m])), 1e-9) > 0.05"#;
    let names: Vec<String> = metric_names(e).into_iter().collect();
    assert_eq!(
        names,
        [
            "gateway_messages_settled_total",
            "messaging_client_consumed_messages_total"
        ]
    );
    let h = "histogram_quantile(0.95, sum by (le, gateway_stage) (rate(messaging_process_duration_seconds_bucket[5m])))";
    assert_eq!(
        metric_names(h).into_iter().collect::<Vec<_>>(),
        ["messaging_process_duration_seconds_bucket"]
    );
}
