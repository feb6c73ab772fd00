//! The CSV corpus (`tests/corpus/csv`): rows decode to consultation events the GP Connect
//! mapper accepts; a bad row among 10,000 good ones fails alone.
#![cfg(feature = "csv")]
#![allow(clippy::unwrap_used, clippy::panic)]

mod support;

use std::collections::{BTreeMap, HashSet};

use gateway_adapter_filedrop::{CsvDecoder, CsvOptions};
use serde_json::json;
use support::{PATIENT_VALUES, corpus, decode_with, event, map};

fn read(name: &str) -> Vec<u8> {
    std::fs::read(corpus(&format!("csv/{name}"))).unwrap()
}

#[test]
fn default_columns_decode_and_map() {
    let items = decode_with(
        &CsvDecoder::default(),
        "consultations.csv",
        &read("consultations.csv"),
    );
    assert_eq!(items.len(), 3);
    let lines: Vec<_> = items.iter().map(|i| i.as_ref().unwrap().line).collect();
    // Row 1 has a two-line quoted summary.
    assert_eq!(lines, [Some(2), Some(4), Some(5)]);
    for item in &items {
        let ev = event(item.as_ref().unwrap());
        assert_eq!(ev.source, "urn:nhs:ods:FA001");
        let out = map(&ev).unwrap_or_else(|e| panic!("{}: {e}", ev.id));
        assert_eq!(out.workflow_id, "GPCONNECT_UPDATE_RECORD");
    }
    let first = event(items[0].as_ref().unwrap());
    assert_eq!(first.data["medicationsSupplied"][0]["daysSupply"], 3);
    assert_eq!(
        first.data["medicationsSupplied"][0]["quantity"],
        json!({"value": 12, "unit": "capsule"})
    );
    assert_eq!(
        first.data["observations"],
        json!([{"type": "pulse", "value": 72}])
    );
    assert_eq!(
        first.data["clinicalNotes"]["informationAndAdviceGiven"],
        "Drink fluids; \"return if worse\""
    );
    let bp = event(items[1].as_ref().unwrap());
    assert_eq!(bp.data["consent"], true);
    assert_eq!(bp.data["observations"][0]["systolic"], 142);
    assert_eq!(
        event(items[2].as_ref().unwrap()).id,
        "csv-contraception-0001"
    );
}

#[test]
fn configured_column_map_per_folder() {
    let map_cols: BTreeMap<String, String> = [
        ("Patient NHS No", "patient.nhsNumber"),
        ("Surname", "patient.family"),
        ("Forename", "patient.given"),
        ("DOB", "patient.birthDate"),
        ("Sex", "patient.gender"),
        ("Pharmacist Surname", "practitioner.family"),
        ("Pharmacist Forename", "practitioner.given"),
        ("GPhC No", "practitioner.gphcNumber"),
        ("Consultation Start", "encounter.start"),
        ("Summary", "clinicalNotes.clinicalSummary"),
        ("Systolic", "observations.0.systolic"),
        ("Diastolic", "observations.0.diastolic"),
        ("Position", "observations.0.position"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    let options = CsvOptions {
        column_map: map_cols,
        defaults: [
            ("service", "blood-pressure-check"),
            ("consent", "true"),
            ("pharmacy.odsCode", "FA001"),
            ("pharmacy.name", "High Street Pharmacy"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect(),
        delimiter: ';',
        ..CsvOptions::default()
    };
    assert!(options.problems().is_empty());
    let items = decode_with(
        &CsvDecoder::new(options),
        "m.csv",
        &read("mapped-columns.csv"),
    );
    let ev = event(items[0].as_ref().unwrap());
    assert_eq!(
        ev.data["observations"],
        json!([{"type": "blood-pressure", "position": "standing", "systolic": 124, "diastolic": 79}])
    );
    assert_eq!(ev.time.as_deref(), Some("2026-11-20T09:40:00Z"));
    map(&ev).unwrap();
}

/// The acceptance case: one bad row among 10,000 good ones gives 10,000 events and one error.
#[test]
fn one_bad_row_among_ten_thousand() {
    let text = String::from_utf8(read("consultations.csv")).unwrap();
    let mut lines = text.split("\r\n");
    let header = lines.next().unwrap();
    let bp_row = text
        .split("\r\n")
        .find(|l| l.contains("blood-pressure-check"))
        .unwrap();
    let mut file = format!("{header}\n");
    for i in 0..10_001 {
        if i == 5_000 {
            file.push_str(&bp_row.replacen(",142,", ",one hundred and forty two,", 1));
        } else {
            // Vary the summary so every row has its own content and therefore its own id.
            file.push_str(&bp_row.replacen("ABPM offered.", &format!("ABPM offered ({i})."), 1));
        }
        file.push('\n');
    }
    let started = std::time::Instant::now();
    let items = decode_with(&CsvDecoder::default(), "big.csv", file.as_bytes());
    eprintln!("10,001 rows decoded in {:?}", started.elapsed());
    assert_eq!(items.len(), 10_001);
    let errors: Vec<_> = items.iter().filter_map(|i| i.as_ref().err()).collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, Some(5_002));
    assert_eq!(
        errors[0].reason,
        "column \"observations.0.systolic\" (observations.0.systolic) must be a number"
    );
    let ids: HashSet<_> = items
        .iter()
        .filter_map(|i| i.as_ref().ok())
        .map(|i| i.raw.derived_id.clone().unwrap())
        .collect();
    assert_eq!(ids.len(), 10_000);
    let ok = items.iter().filter(|i| i.is_ok()).count();
    assert_eq!(ok, 10_000);
    // The index is the row number, so the sidecar can point at the row.
    assert!(items[5_000].is_err());
    for value in PATIENT_VALUES {
        assert!(!errors[0].reason.contains(value));
    }
}
