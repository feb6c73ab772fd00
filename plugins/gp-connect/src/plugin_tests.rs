use std::path::Path;

use chrono::DateTime;
use gateway_core::{MailboxDirectory, SeededIds};
use gateway_proto::fhir::{json, order};
use serde_json::{Value, json};

use super::*;

#[path = "plugin_bad_inputs.rs"]
mod bad;
use crate::options::OutputFormat;
use bad::bad_inputs;

struct Directory;

impl MailboxDirectory for Directory {
    fn mailbox_for_ods(&self, ods_code: &str) -> Option<String> {
        (ods_code == "FA001").then(|| "PHARM001".to_owned())
    }
}

fn fixture_event(case: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(case)
        .join("event.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn map_value(event: Value) -> Result<Outbound, MapError> {
    let event: CloudEvent = serde_json::from_value(event).unwrap();
    let ids = SeededIds::new(&event.id);
    let cx = MapContext {
        now: DateTime::parse_from_rfc3339("2026-11-20T10:16:00+00:00").unwrap(),
        ids: &ids,
        mailboxes: &Directory,
    };
    plugin().map(&event, &cx)
}

#[test]
fn every_emitted_resource_is_in_stu3_element_order() {
    for case in [
        "pharmacy-first",
        "blood-pressure-check",
        "contraception",
        "urgent-supply",
        "minimal",
    ] {
        let event = fixture_event(case);
        let c: ConsultationCompleted = serde_json::from_value(event["data"].clone()).unwrap();
        let ids = SeededIds::new("order");
        let cx = MapContext {
            now: DateTime::parse_from_rfc3339("2026-11-20T10:16:00+01:00").unwrap(),
            ids: &ids,
            mailboxes: &Directory,
        };
        let built = build(&c, &cx, "PHARM001").unwrap();
        let problems = order::check(&built.bundle);
        assert!(problems.is_empty(), "{case}: {problems:#?}");
        // The validator checks this tree instead of reading the XML back: they must agree.
        let written = gateway_proto::fhir::xml::to_xml(&built.bundle);
        assert_eq!(
            crate::xmltree::from_tree(&built.bundle),
            crate::xmldom::parse(written.as_bytes()),
            "{case}"
        );
        // The JSON rendering of the same tree is a FHIR Bundle with arrays where STU3 repeats.
        let j = json::to_json_value(&built.bundle);
        assert_eq!(j["resourceType"], "Bundle");
        assert_eq!(j["entry"][0]["resource"]["resourceType"], "MessageHeader");
        assert!(j["entry"][0]["resource"]["focus"].is_array());
        assert_eq!(
            j["entry"][2]["resource"]["entry"][0]["resource"]["resourceType"],
            "Composition"
        );
    }
}

#[test]
fn maps_metadata_from_the_event() {
    let out = map_value(fixture_event("pharmacy-first")).unwrap();
    assert_eq!(out.route, "update-record");
    assert_eq!(out.local_id, "FA001");
    assert_eq!(out.content_type, "application/fhir+xml");
    assert_eq!(out.nhs_number, "9000000009");
    assert!(out.file_name.ends_with(".xml") && out.file_name.contains(&out.itk_message_id));
    assert!(out.sender_reference.starts_with("urn:uuid:"));
    assert!(!out.mex_subject.chars().any(char::is_control));
}

fn mutate(event: &mut Value, pointer: &str, value: Option<Value>) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = event["data"].pointer_mut(parent).unwrap();
    match (parent, value) {
        (Value::Object(m), Some(v)) => {
            m.insert(key.to_owned(), v);
        }
        (Value::Object(m), None) => {
            m.remove(key);
        }
        (Value::Array(a), Some(v)) => a[key.parse::<usize>().unwrap()] = v,
        _ => panic!("bad pointer {pointer}"),
    }
}

#[test]
fn each_bad_input_fails_naming_the_field_without_quoting_values() {
    for (pointer, value, expected) in bad_inputs() {
        let mut event = fixture_event("pharmacy-first");
        mutate(&mut event, pointer, value);
        let err = map_value(event).expect_err(pointer);
        assert_eq!(err.code, "invalid-event", "{pointer}");
        assert!(
            err.problems.iter().any(|p| p.contains(expected)),
            "{pointer}: {:?}",
            err.problems
        );
        for secret in [
            "9000000008",
            "9000000009",
            "Smith",
            "1970",
            "01/01/1970",
            "bucket",
        ] {
            assert!(
                !err.reason().contains(secret),
                "{pointer} leaks a value: {}",
                err.reason()
            );
        }
    }
}

#[test]
fn service_specific_rules() {
    let mut event = fixture_event("contraception");
    mutate(&mut event, "/consent", None);
    let err = map_value(event).unwrap_err();
    assert!(
        err.problems
            .iter()
            .any(|p| p.starts_with("data.consent must be true"))
    );
    let mut event = fixture_event("contraception");
    mutate(&mut event, "/consent", Some(json!(false)));
    assert!(
        map_value(event)
            .unwrap_err()
            .reason()
            .contains("data.consent")
    );

    let mut event = fixture_event("blood-pressure-check");
    mutate(&mut event, "/observations/0/systolic", Some(json!(80)));
    let err = map_value(event).unwrap_err();
    assert!(
        err.problems
            .iter()
            .any(|p| p.contains("data.observations[0].systolic must be greater"))
    );
    let mut event = fixture_event("blood-pressure-check");
    mutate(&mut event, "/observations/1/diastolic", None);
    assert!(
        map_value(event)
            .unwrap_err()
            .reason()
            .contains("data.observations[1].diastolic is required")
    );
    let mut event = fixture_event("blood-pressure-check");
    mutate(
        &mut event,
        "/observations",
        Some(json!([{"type": "pulse", "value": 60}])),
    );
    assert!(
        map_value(event)
            .unwrap_err()
            .reason()
            .contains("must contain a blood-pressure reading")
    );

    let mut event = fixture_event("contraception");
    mutate(&mut event, "/observations/2/value", Some(json!("maybe")));
    assert!(
        map_value(event)
            .unwrap_err()
            .reason()
            .contains("data.observations[2].value must be one of")
    );
}

#[test]
fn envelope_errors() {
    let mut event = fixture_event("minimal");
    event["type"] = json!("uk.nhs.other.v1");
    assert_eq!(map_value(event).unwrap_err().code, "unknown-type");
    let mut event = fixture_event("minimal");
    event["data"] = json!("text");
    let err = map_value(event).unwrap_err();
    assert_eq!(err.problems, vec!["data must be a JSON object".to_owned()]);
    let mut event = fixture_event("minimal");
    mutate(&mut event, "/pharmacy/odsCode", Some(json!("ZZ999")));
    let err = map_value(event).unwrap_err();
    assert_eq!(err.code, "no-sender-mailbox");
    assert!(err.reason().contains("ZZ999"));
}

#[test]
fn several_problems_are_reported_together() {
    let mut event = fixture_event("minimal");
    mutate(&mut event, "/patient/nhsNumber", None);
    mutate(&mut event, "/patient/birthDate", None);
    mutate(&mut event, "/encounter", None);
    let err = map_value(event).unwrap_err();
    assert_eq!(err.problems.len(), 3, "{:?}", err.problems);
}

#[test]
fn json_output_option() {
    let json_plugin = UpdateRecordPlugin::new(UpdateRecordOptions::with_format(OutputFormat::Json));
    assert_eq!(json_plugin.format(), OutputFormat::Json);
    let event: CloudEvent = serde_json::from_value(fixture_event("minimal")).unwrap();
    let ids = SeededIds::new(&event.id);
    let cx = MapContext {
        now: DateTime::parse_from_rfc3339("2026-11-20T10:16:00+00:00").unwrap(),
        ids: &ids,
        mailboxes: &Directory,
    };
    let out = json_plugin.map(&event, &cx).unwrap();
    assert_eq!(out.content_type, "application/fhir+json");
    assert!(out.file_name.ends_with(".json"));
    let header = crate::read_header(&out.body).unwrap();
    assert_eq!(header.message_id, out.itk_message_id);
    // The unit-struct value stays the XML plugin.
    assert_eq!(UpdateRecordPlugin.format(), OutputFormat::Xml);
    assert_eq!(plugin(), UpdateRecordPlugin::default());
}

#[test]
fn json_rendering_also_passes_the_independent_validator() {
    let event = fixture_event("contraception");
    let c: ConsultationCompleted = serde_json::from_value(event["data"].clone()).unwrap();
    let ids = SeededIds::new("json");
    let cx = MapContext {
        now: DateTime::parse_from_rfc3339("2026-11-20T10:16:00+01:00").unwrap(),
        ids: &ids,
        mailboxes: &Directory,
    };
    let built = build(&c, &cx, "PHARM001").unwrap();
    let body = json::to_json(&built.bundle);
    let report = gateway_testkit::fhir_validate::validate_bytes(
        body.as_bytes(),
        Some("GPPROVIDER_9000000009_19700101_Smith"),
        Some("GPCONNECT_UPDATE_RECORD"),
    )
    .unwrap();
    assert!(
        report.valid && report.output.contains(" 0 error(s)"),
        "{}",
        report.output
    );
}

#[test]
fn a_declined_urgent_supply_is_a_stopped_dispense_and_still_valid() {
    let mut event = fixture_event("urgent-supply");
    event["data"]["medicationsSupplied"][0]["declined"] = json!(true);
    let out = map_value(event).unwrap();
    let xml = String::from_utf8(out.body).unwrap();
    assert!(xml.contains("<status value=\"stopped\"/>"), "{xml}");
    let accepted = map_value(fixture_event("urgent-supply")).unwrap();
    assert!(
        String::from_utf8(accepted.body)
            .unwrap()
            .contains("<status value=\"completed\"/>")
    );
}
