//! The HL7v2 corpus (`tests/corpus/hl7v2`): good files decode to events the GP Connect mapper
//! accepts (Send Document data is checked for shape), broken files fail with a clear reason that
//! quotes no patient data.
#![cfg(feature = "hl7v2")]
#![allow(clippy::unwrap_used, clippy::panic)]

mod support;

use gateway_adapter_filedrop::{Hl7v2Decoder, Hl7v2Options};
use serde_json::{Value, json};
use support::{Items, PATIENT_VALUES, corpus, decode_with, event, files, map};

fn decode(rel: &str) -> Items {
    let path = corpus(rel);
    let bytes = std::fs::read(&path).unwrap();
    let name = path.file_name().unwrap().to_str().unwrap().to_owned();
    decode_with(&Hl7v2Decoder::default(), &name, &bytes)
}

/// Expected per good file: (message count, first line of each message).
fn good_lines(name: &str) -> &'static [usize] {
    match name {
        "batch-fhs-bhs-bom.hl7" => &[3, 13],
        "two-messages-no-batch.txt" => &[1, 12],
        _ => &[1],
    }
}

#[test]
fn every_good_file_decodes_and_maps() {
    let good = files("hl7v2/good");
    assert!(good.len() >= 9, "corpus missing");
    for path in good {
        let name = path.file_name().unwrap().to_str().unwrap();
        let items = decode(&format!("hl7v2/good/{name}"));
        let lines: Vec<usize> = items
            .iter()
            .map(|i| match i {
                Ok(item) => item.line.unwrap(),
                Err(e) => panic!("{name}: {e:?}"),
            })
            .collect();
        assert_eq!(lines, good_lines(name), "{name}");
        for item in items.iter().map(|i| i.as_ref().unwrap()) {
            let ev = event(item);
            assert_eq!(ev.specversion, "1.0");
            assert_eq!(
                item.raw.derived_id.as_deref(),
                Some(ev.id.as_str()),
                "{name}"
            );
            assert_eq!(ev.source, "urn:nhs:ods:FA001", "{name}");
            assert!(ev.time.is_some(), "{name}");
            match ev.event_type.as_str() {
                "uk.nhs.pharmacy.consultation.completed.v1" => {
                    let out = map(&ev).unwrap_or_else(|e| panic!("{name}: {e}"));
                    assert_eq!(out.workflow_id, "GPCONNECT_UPDATE_RECORD");
                    assert!(!out.body.is_empty());
                }
                "uk.nhs.consultation.document.created.v1" => check_document(name, &ev.data),
                other => panic!("{name}: unexpected type {other}"),
            }
        }
    }
}

/// Send Document `data` per contract §8 (its mapper is written elsewhere).
fn check_document(name: &str, data: &Value) {
    let obj = data.as_object().unwrap();
    for key in [
        "patient",
        "sender",
        "title",
        "documentType",
        "encounterDate",
        "pdfBase64",
    ] {
        assert!(obj.contains_key(key), "{name}: {key} missing");
    }
    assert_eq!(
        data["sender"],
        json!({"odsCode": "FA001", "name": "High Street Pharmacy"})
    );
    assert_eq!(data["patient"]["nhsNumber"], "9000000009");
    assert_eq!(data["title"], "Pharmacy First consultation summary");
    assert_eq!(
        data["documentType"],
        json!({"code": "371531000", "display": "Report of clinical encounter"})
    );
    assert_eq!(data["encounterDate"], "2026-11-20");
    assert_eq!(data["author"]["gphcNumber"], "2012345");
    let pdf = data["pdfBase64"].as_str().unwrap();
    assert!(pdf.starts_with("JVBERi0"), "{name}");
    assert!(!data.to_string().contains("null"));
}

#[test]
fn rds_o13_maps_every_documented_field() {
    let items = decode("hl7v2/good/rds-o13-v251-cr.hl7");
    let ev = event(items[0].as_ref().unwrap());
    assert_eq!(ev.time.as_deref(), Some("2026-11-20T10:15:00Z"));
    assert_eq!(
        ev.data,
        json!({
            "service": "pharmacy-first",
            "patient": {"nhsNumber": "9000000009", "family": "Smith", "given": ["John", "Edward"],
                        "birthDate": "1970-01-01", "gender": "male",
                        "address": ["1 High Street", "Leeds", "West Yorkshire"],
                        "postcode": "LS1 1AA"},
            "pharmacy": {"odsCode": "FA001", "name": "High Street Pharmacy"},
            "practitioner": {"family": "Patel", "given": ["Asha"], "gphcNumber": "2012345"},
            "encounter": {"start": "2026-11-20T09:40:00Z", "end": "2026-11-20T10:05:00Z"},
            "presentingComplaint": {"code": "68566005",
                                    "display": "Urinary tract infectious disease"},
            "clinicalNotes": {"clinicalSummary": "Uncomplicated lower urinary tract infection: \
                dysuria & frequency for two days, no fever.\nNo loin pain."},
            "medicationsSupplied": [{
                "code": "24549911000001107", "display": "Nitrofurantoin 50mg capsules",
                "quantity": {"value": 12.0, "unit": "capsule"},
                "dosageText": "One capsule four times a day for 3 days",
                "patientInstruction": "Take with food",
                "supplyType": "patient-group-direction"
            }]
        })
    );
}

#[test]
fn v24_lf_message_uses_alternate_dmd_coding_msh7_offset_and_escapes() {
    let items = decode("hl7v2/good/rds-o13-v24-lf.hl7");
    let ev = event(items[0].as_ref().unwrap());
    let d = &ev.data;
    assert_eq!(d["pharmacy"]["name"], "Smith & Sons Pharmacy");
    assert_eq!(d["patient"]["nhsNumber"], "9434765919");
    assert_eq!(d["patient"]["gender"], "female");
    assert_eq!(d["patient"]["address"][0], "Flat 2^3 Mill Lane");
    // PV1-44 has no offset: MSH-7's +0100 applies.
    assert_eq!(d["encounter"], json!({"start": "2026-06-15T13:10:00Z"}));
    assert_eq!(ev.time.as_deref(), Some("2026-06-15T13:30:00Z"));
    let med = &d["medicationsSupplied"][0];
    assert_eq!(med["code"], "17346711000001106");
    assert_eq!(med["display"], "Rigevidon tablets");
    assert_eq!(med["quantity"], json!({"value": 63.0, "unit": "tablet"}));
    assert_eq!(med["dosageText"], "One tablet daily");
    assert_eq!(
        med["patientInstruction"],
        "Start on the first day of your period"
    );
    assert!(d.get("presentingComplaint").is_none());
}

#[test]
fn oru_r01_gives_a_sitting_reading_and_pulse() {
    let items = decode("hl7v2/good/oru-r01-bp-crlf.hl7");
    let ev = event(items[0].as_ref().unwrap());
    assert_eq!(ev.data["service"], "blood-pressure-check");
    assert_eq!(
        ev.data["observations"],
        json!([
            {"type": "pulse", "value": 72.0, "effective": "2026-11-20T09:45:00Z"},
            {"type": "blood-pressure", "position": "sitting", "systolic": 138.0,
             "diastolic": 86.0, "effective": "2026-11-20T09:50:00Z"}
        ])
    );
    assert_eq!(
        ev.data["clinicalNotes"]["clinicalSummary"],
        "Patient rested 5 minutes before the reading.\nRaised blood pressure reading; patient \
         advised to book an ABPM."
    );
}

#[test]
fn charsets_and_custom_delimiters_give_the_same_data() {
    let latin = decode("hl7v2/good/rds-o13-latin1.hl7");
    let ev = event(latin[0].as_ref().unwrap());
    assert_eq!(ev.data["patient"]["given"], json!(["Zoë", "Anaïs"]));
    let plain = event(
        decode("hl7v2/good/rds-o13-v251-cr.hl7")[0]
            .as_ref()
            .unwrap(),
    );
    let custom = event(
        decode("hl7v2/good/rds-o13-custom-delimiters.hl7")[0]
            .as_ref()
            .unwrap(),
    );
    assert_eq!(plain.data, custom.data);
}

#[test]
fn line_endings_do_not_change_the_events() {
    let bytes = std::fs::read(corpus("hl7v2/good/oru-r01-bp-crlf.hl7")).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let decoder = Hl7v2Decoder::default();
    let bodies: Vec<Vec<u8>> = ["\r\n", "\n", "\r"]
        .iter()
        .map(|sep| {
            let t = text.replace("\r\n", sep);
            let items = decode_with(&decoder, "a.hl7", t.as_bytes());
            items[0].as_ref().unwrap().raw.body.clone()
        })
        .collect();
    assert_eq!(bodies[0], bodies[1]);
    assert_eq!(bodies[1], bodies[2]);
}

#[test]
fn derived_ids_are_stable_across_files_and_distinct_across_messages() {
    let a = decode("hl7v2/good/rds-o13-v251-cr.hl7");
    let bytes = std::fs::read(corpus("hl7v2/good/rds-o13-v251-cr.hl7")).unwrap();
    let again = decode_with(&Hl7v2Decoder::default(), "other-name.hl7", &bytes);
    let id = |items: &Items| items[0].as_ref().unwrap().raw.derived_id.clone().unwrap();
    assert_eq!(id(&a), id(&again));
    // UUIDv5(URL namespace, "hl7v2:FA001:RDS00001"), as documented.
    let expected = uuid_v5("hl7v2:FA001:RDS00001");
    assert_eq!(id(&a), expected);
    let batch = decode("hl7v2/good/batch-fhs-bhs-bom.hl7");
    assert_ne!(
        id(&batch),
        batch[1].as_ref().unwrap().raw.derived_id.clone().unwrap()
    );
}

fn uuid_v5(name: &str) -> String {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, name.as_bytes()).to_string()
}

/// Broken files: (file, [(line, reason fragment)]) per item; `None` = the item decodes.
/// Per item of a broken file: `None` when it decodes, else its line and a reason fragment.
type Expected = Vec<Option<(usize, &'static str)>>;

fn broken_expectations() -> Vec<(&'static str, Expected)> {
    vec![
        (
            "truncated.hl7",
            vec![Some((1, "PID-3 (line 2) (patient identifiers) has no"))],
        ),
        (
            "wrong-delimiters.hl7",
            vec![Some((
                1,
                "line 2: segment PID is not followed by the field separator declared in MSH-1",
            ))],
        ),
        ("wrong-encoding-characters.hl7", vec![Some((1, "MSH-2"))]),
        ("missing-msh.hl7", vec![Some((1, "no MSH segment"))]),
        ("binary-garbage.hl7", vec![Some((1, "no MSH segment"))]),
        (
            "charset-iso-ir87.hl7",
            vec![Some((1, "MSH-18 declares the character set \"ISO IR87\""))],
        ),
        (
            "charset-undeclared-latin1.hl7",
            vec![Some((1, "line 2 is not valid UTF-8"))],
        ),
        (
            "unsupported-adt-a01.hl7",
            vec![Some((1, "message type \"ADT^A01\" is not supported"))],
        ),
        (
            "no-nhs-number.hl7",
            vec![Some((1, "PID-3 (line 2) (patient identifiers) has no"))],
        ),
        (
            "multibyte-escape.hl7",
            vec![Some((1, "PID-5.1 (line 2) uses a \\M..\\"))],
        ),
        (
            "one-good-one-bad.hl7",
            vec![
                None,
                Some((11, "OBX-5 (line 16) (observation value) is not a number")),
            ],
        ),
        (
            "oru-bp-wrong-unit.hl7",
            vec![Some((1, "OBX-6 (line 7) (unit) must be mm[Hg]"))],
        ),
        (
            "mdm-not-a-pdf.hl7",
            vec![Some((1, "OBX-5.5 (line 6) (PDF data) is not a PDF"))],
        ),
    ]
}

#[test]
fn every_broken_file_fails_with_a_clear_reason_and_no_patient_data() {
    let expectations = broken_expectations();
    assert_eq!(
        expectations.len(),
        files("hl7v2/broken").len(),
        "corpus and table differ"
    );
    for (name, expected) in expectations {
        let items = decode(&format!("hl7v2/broken/{name}"));
        assert_eq!(items.len(), expected.len(), "{name}: {items:?}");
        for (item, want) in items.iter().zip(&expected) {
            match (item, want) {
                (Ok(_), None) => {}
                (Err(e), Some((line, fragment))) => {
                    assert_eq!(e.line, Some(*line), "{name}: {}", e.reason);
                    assert!(e.reason.contains(fragment), "{name}: {}", e.reason);
                    for value in PATIENT_VALUES {
                        assert!(
                            !e.reason.contains(value),
                            "{name} leaks {value}: {}",
                            e.reason
                        );
                    }
                }
                (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
            }
        }
    }
}

/// A 50 MB MDM^T02 (a 37 MB PDF): over the default limit it fails alone and fast; with the limit
/// raised it decodes.
#[test]
fn fifty_megabyte_message() {
    let pdf = {
        let mut raw = b"%PDF-1.4\n".to_vec();
        raw.resize(37 * 1024 * 1024, b'x');
        base64_encode(&raw)
    };
    let text = std::fs::read_to_string(corpus("hl7v2/good/mdm-t02-pdf.hl7")).unwrap();
    let start = text.find("^AP^PDF^Base64^").unwrap() + "^AP^PDF^Base64^".len();
    let end = start + text[start..].find('|').unwrap();
    let big = format!("{}{}{}", &text[..start], pdf, &text[end..]);
    assert!(big.len() > 50_000_000, "{}", big.len());
    let started = std::time::Instant::now();
    let items = decode_with(&Hl7v2Decoder::default(), "big.hl7", big.as_bytes());
    let err = items[0].as_ref().unwrap_err();
    assert!(err.reason.contains("max_message_bytes"), "{}", err.reason);
    let options = Hl7v2Options {
        max_message_bytes: 64 * 1024 * 1024,
        ..Hl7v2Options::default()
    };
    let items = decode_with(&Hl7v2Decoder::new(options), "big.hl7", big.as_bytes());
    let ev = event(items[0].as_ref().unwrap());
    assert_eq!(ev.data["pdfBase64"].as_str().unwrap().len(), pdf.len());
    eprintln!("50 MB message decoded twice in {:?}", started.elapsed());
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
