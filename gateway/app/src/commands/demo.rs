//! `gpc-gateway demo`: the embedded default. An in-process MESH simulator and GP-practice
//! responders stand in for NHS MESH and the GP systems; the shipped example inputs go through the
//! real pipeline (file drop → mapping → store → MESH send → inbox correlation → events). Each event
//! is printed as a JSON line as it is published, then a summary table; exit 0 only when every
//! example reached its expected final state.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use gateway_adapter_filedrop::{CsvDecoder, DecodeContext, Decoder, Hl7v2Decoder, JsonDecoder};
use gateway_core::{BusEvent, Secret};
use gateway_mesh_sim::SimConfig;
use gateway_proto::CloudEvent;
use tokio_util::sync::CancellationToken;

use crate::config::{DropConfig, GatewayConfig, MailboxConfig};
use crate::embedded_bus::{JsonlSink, JsonlTarget};
use crate::responder::spawn_practices;
use crate::runtime::{self, StartOptions};

/// A shipped example file and the final event type each of its messages must reach.
struct Example {
    folder: &'static str,
    file: &'static str,
    body: &'static [u8],
    expect: &'static str,
}

const BUSACK: &str = "gpc.message.busack";
const FAILED: &str = "gpc.message.failed";

const EXAMPLES: &[Example] = &[
    Example {
        folder: "json",
        file: "pharmacy-first.json",
        body: include_bytes!("../../../../examples/events/pharmacy-first.json"),
        expect: BUSACK,
    },
    Example {
        folder: "json",
        file: "invalid-nhs-number.json",
        body: include_bytes!("../../../../examples/events/invalid-nhs-number.json"),
        expect: FAILED,
    },
    Example {
        folder: "json",
        file: "document-created.json",
        body: include_bytes!("../../../../examples/events/document-created.json"),
        expect: BUSACK,
    },
    Example {
        folder: "hl7v2",
        file: "dispense-rds-o13.hl7",
        body: include_bytes!("../../../../examples/hl7v2/dispense-rds-o13.hl7"),
        expect: BUSACK,
    },
    Example {
        folder: "hl7v2",
        file: "blood-pressure-oru-r01.hl7",
        body: include_bytes!("../../../../examples/hl7v2/blood-pressure-oru-r01.hl7"),
        expect: BUSACK,
    },
    Example {
        folder: "csv",
        file: "consultations.csv",
        body: include_bytes!("../../../../examples/csv/consultations.csv"),
        expect: BUSACK,
    },
];

/// The event ids the gateway will derive for an example (the same decoders the inputs use).
fn example_ids(ex: &Example) -> Vec<String> {
    let decoder: Box<dyn Decoder> = match ex.folder {
        "hl7v2" => Box::new(Hl7v2Decoder::new(Default::default())),
        "csv" => Box::new(CsvDecoder::new(Default::default())),
        _ => Box::new(JsonDecoder),
    };
    let origin = format!("file:{}/{}", ex.folder, ex.file);
    let cx = DecodeContext {
        file_name: ex.file,
        origin: &origin,
    };
    decoder
        .decode(ex.body, &cx)
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|item| {
            item.raw
                .derived_id
                .clone()
                .or_else(|| CloudEvent::parse(&item.raw.body).ok().map(|e| e.id))
        })
        .collect()
}

/// Runs the demo; returns whether every example reached its expected state.
///
/// # Errors
/// A component could not start.
pub async fn execute(data_dir: Option<PathBuf>, timeout: Duration) -> anyhow::Result<bool> {
    let data_dir = data_dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("gpc-gateway-demo-{}", uuid::Uuid::new_v4()))
    });
    let sim_cfg = SimConfig::demo();
    let key = sim_cfg.shared_key.clone();
    let sim = gateway_mesh_sim::start(sim_cfg.clone(), ([127, 0, 0, 1], 0).into())
        .await
        .context("MESH simulator")?;

    let mut cfg = GatewayConfig {
        data_dir: data_dir.clone(),
        ..GatewayConfig::default()
    };
    cfg.mesh.url = Some(sim.url.clone());
    cfg.mesh.shared_key = Secret::new(key.clone());
    cfg.mesh.poll_interval_secs = 0.2;
    cfg.mesh.mailboxes.insert(
        "PHARM001".into(),
        MailboxConfig {
            password: Secret::new("pharm001-pass"),
            ods_codes: vec!["FA001".into()],
            ..Default::default()
        },
    );
    for (folder, format) in [("json", "json"), ("hl7v2", "hl7v2"), ("csv", "csv")] {
        cfg.inputs.drops.push(DropConfig {
            dir: format!("drop/{folder}").into(),
            format: format.into(),
            settle_secs: 0.2,
            hl7v2: None,
            csv: None,
        });
    }
    cfg.admin.enabled = false;

    let finals: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let notify = Arc::new(tokio::sync::Notify::new());
    let (f, n) = (finals.clone(), notify.clone());
    let observer = Arc::new(move |e: &BusEvent| {
        let Ok(ce) = serde_json::from_slice::<CloudEvent>(&e.body) else {
            return;
        };
        if let (Some(subject), true) = (ce.subject, is_final(&ce.event_type))
            && let Ok(mut m) = f.lock()
        {
            m.insert(subject, ce.event_type);
            n.notify_one();
        }
    });
    let sink = Arc::new(JsonlSink::new(JsonlTarget::Stdout).with_observer(observer));
    let gw = runtime::start(&cfg, StartOptions { sink: Some(sink) }).await?;

    let stop = CancellationToken::new();
    spawn_practices(&sim_cfg, &sim.url, Duration::from_millis(100), &stop)?;

    let mut expected = Vec::new();
    for ex in EXAMPLES {
        let drop_dir = data_dir.join("drop").join(ex.folder);
        std::fs::create_dir_all(&drop_dir)?;
        for (i, id) in example_ids(ex).into_iter().enumerate() {
            expected.push((format!("{}/{}#{i}", ex.folder, ex.file), id, ex.expect));
        }
        // Written under a temporary name and renamed, as a well-behaved producer does.
        let tmp = drop_dir.join(format!("{}.tmp", ex.file));
        std::fs::write(&tmp, ex.body)?;
        std::fs::rename(&tmp, drop_dir.join(ex.file))?;
    }

    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let done = finals
            .lock()
            .map(|m| expected.iter().all(|(_, id, _)| m.contains_key(id)))
            .unwrap_or(false);
        if done || tokio::time::Instant::now() >= deadline {
            break;
        }
        tokio::select! {
            _ = notify.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
    stop.cancel();
    gw.shutdown().await;
    sim.shutdown().await;

    let finals = finals.lock().map(|m| m.clone()).unwrap_or_default();
    let mut all_ok = true;
    println!();
    println!(
        "{:<36} {:<38} {:<9} {:<9} OK",
        "EXAMPLE", "EVENT ID", "EXPECTED", "REACHED"
    );
    for (file, id, expect) in &expected {
        let got = finals.get(id).map(String::as_str).unwrap_or("(nothing)");
        let ok = got == *expect;
        all_ok &= ok;
        println!(
            "{file:<36} {id:<38} {:<9} {:<9} {}",
            short(expect),
            short(got),
            if ok { "yes" } else { "NO" }
        );
    }
    println!(
        "\n{} of {} example messages reached their expected final state (store: {})",
        expected
            .iter()
            .filter(|(_, id, e)| finals.get(id).map(String::as_str) == Some(*e))
            .count(),
        expected.len(),
        data_dir.display()
    );
    Ok(all_ok)
}

fn is_final(t: &str) -> bool {
    t == "gpc.message.busack" || t == "gpc.message.failed"
}

fn short(t: &str) -> &str {
    t.strip_prefix("gpc.message.").unwrap_or(t)
}
