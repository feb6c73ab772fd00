//! The example plugin's own tests: its messages pass both checkers (the gateway's sender
//! checklist and fhir-validate) through the gp-connect `testing` helpers, and bad input fails
//! naming the supplier's fields.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;

use gateway_plugin_example::{MinorAilmentPlugin, ROUTE};
use gateway_plugin_gp_connect::testing::{assert_valid_message, map_event};
use gateway_plugin_gp_connect::{OutputFormat, UpdateRecordOptions};
use gateway_proto::CloudEvent;
use serde_json::{Value, json};

const NOW: &str = "2026-11-20T10:16:00Z";

fn event() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/minor-ailment.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn cloud_event(v: Value) -> CloudEvent {
    CloudEvent::parse(&serde_json::to_vec(&v).unwrap()).unwrap()
}

#[test]
fn maps_to_a_valid_update_record_message_in_both_formats() {
    for format in [OutputFormat::Xml, OutputFormat::Json] {
        let plugin = MinorAilmentPlugin::new(UpdateRecordOptions::with_format(format));
        let out = map_event(&plugin, &cloud_event(event()), NOW).unwrap();
        assert_eq!(out.route, ROUTE);
        assert_eq!(out.workflow_id, "GPCONNECT_UPDATE_RECORD");
        assert_eq!(out.mex_to, "GPPROVIDER_9000000009_19700101_Smith");
        assert_valid_message(&out.body, &out.mex_to, &out.workflow_id);
    }
}

#[test]
fn bad_input_names_the_supplier_field() {
    let cases = [
        ("/sex", json!("male"), "data.sex must be one of"),
        ("/surname", json!(""), "data.surname is required"),
        (
            "/supplied/0/quantity",
            json!("twelve"),
            "data.supplied[0].quantity is required",
        ),
        (
            "/condition/snomed",
            json!("68566006"),
            "data.presentingComplaint.code",
        ),
        ("/nhsNumber", json!("9000000008"), "data.patient.nhsNumber"),
    ];
    let plugin = MinorAilmentPlugin::default();
    for (pointer, value, expected) in cases {
        let mut v = event();
        *v["data"].pointer_mut(pointer).unwrap() = value;
        let err = map_event(&plugin, &cloud_event(v), NOW).unwrap_err();
        assert_eq!(err.code, "invalid-event");
        assert!(
            err.reason().contains(expected),
            "{pointer}: {}",
            err.reason()
        );
        assert!(
            !err.reason().contains("9000000008"),
            "{pointer} leaks a value"
        );
    }
}
