//! HL7v2 and CSV drop folders end to end: files are taken by extension, every good message or
//! row reaches the pipeline, and the sidecar names each bad one by line and index.
#![cfg(all(feature = "hl7v2", feature = "csv"))]
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::sync::Arc;
use std::time::Duration;

use common::{FakeIngest, names};
use gateway_adapter_filedrop::{
    CsvDecoder, CsvOptions, DropFormat, FileDropConfig, FileDropInput, decoder_for,
};
use serde_json::Value;

fn folder(
    format: DropFormat,
    name: &str,
) -> (tempfile::TempDir, std::path::PathBuf, FileDropConfig) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(name);
    fs::create_dir(&dir).unwrap();
    let mut cfg = FileDropConfig::new(dir.clone(), format);
    cfg.settle_time = Duration::ZERO;
    (tmp, dir, cfg)
}

fn corpus(rel: &str) -> Vec<u8> {
    fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/corpus")
            .join(rel),
    )
    .unwrap()
}

#[tokio::test]
async fn hl7v2_folder_sends_good_messages_and_reports_bad_ones() {
    let (_tmp, dir, cfg) = folder(DropFormat::Hl7v2, "hl7v2");
    fs::write(
        dir.join("mixed.hl7"),
        corpus("hl7v2/broken/one-good-one-bad.hl7"),
    )
    .unwrap();
    fs::write(
        dir.join("export.TXT"),
        corpus("hl7v2/good/oru-r01-bp-crlf.hl7"),
    )
    .unwrap();
    fs::write(dir.join("notes.csv"), b"not for this folder").unwrap();
    let ingest = FakeIngest::default();
    let input = FileDropInput::new(cfg);

    assert_eq!(input.process_once(&ingest).await.unwrap(), 2);

    assert_eq!(names(&dir.join("done")), ["export.TXT"]);
    assert_eq!(
        names(&dir.join("error")),
        ["mixed.hl7", "mixed.hl7.error.json"]
    );
    assert!(dir.join("notes.csv").exists());
    let sidecar: Value =
        serde_json::from_slice(&fs::read(dir.join("error/mixed.hl7.error.json")).unwrap()).unwrap();
    let errors = sidecar["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["line"], 11);
    assert_eq!(errors[0]["index"], 1);
    assert_eq!(errors[0]["stage"], "input");
    assert!(
        errors[0]["reason"]
            .as_str()
            .unwrap()
            .contains("OBX-5 (line 16)")
    );
    {
        let events = ingest.events.lock().unwrap();
        assert_eq!(events.len(), 2);
        assert!(events.iter().all(|e| e.derived_id.is_some()));
    }

    // Dropping the same content again yields the same ids: the pipeline sees duplicates.
    fs::write(
        dir.join("again.hl7"),
        corpus("hl7v2/good/oru-r01-bp-crlf.hl7"),
    )
    .unwrap();
    let input = FileDropInput::new(FileDropConfig {
        settle_time: Duration::ZERO,
        ..FileDropConfig::new(dir.clone(), DropFormat::Hl7v2)
    });
    input.process_once(&ingest).await.unwrap();
    let events = ingest.events.lock().unwrap();
    // Both files were taken in one pass in either order, so look the id up among the first two.
    let first_two: Vec<_> = events[..2].iter().map(|e| e.derived_id.clone()).collect();
    assert!(first_two.contains(&events[2].derived_id));
}

#[tokio::test]
async fn csv_folder_with_its_own_options() {
    let (_tmp, dir, cfg) = folder(DropFormat::Csv, "csv");
    let csv = "pharmacy.odsCode,service,observations.0.systolic\nFA001,pharmacy-first,120\nFA001,pharmacy-first,high\n";
    fs::write(dir.join("rows.csv"), csv).unwrap();
    let options = CsvOptions {
        defaults: [("consent".to_owned(), "true".to_owned())].into(),
        ..CsvOptions::default()
    };
    let decoder = Arc::new(CsvDecoder::new(options));
    let ingest = FakeIngest::default();

    let input = FileDropInput::with_decoder(cfg, decoder);
    assert_eq!(input.process_once(&ingest).await.unwrap(), 1);

    let sidecar: Value =
        serde_json::from_slice(&fs::read(dir.join("error/rows.csv.error.json")).unwrap()).unwrap();
    assert_eq!(sidecar["errors"][0]["line"], 3);
    assert_eq!(sidecar["errors"][0]["index"], 1);
    let events = ingest.events.lock().unwrap();
    assert_eq!(events.len(), 1);
    let body: Value = serde_json::from_slice(&events[0].body).unwrap();
    assert_eq!(body["data"]["consent"], true);
    assert_eq!(events[0].origin, "file:csv/rows.csv#0");
    // The default decoder exists too, for folders without options.
    let _ = decoder_for(&DropFormat::Csv);
}
