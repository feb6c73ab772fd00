//! Malformed consultation inputs and the field each error must name.

use serde_json::{Value, json};

/// `(pointer into data, new value or None to remove, field the error must name)`.
pub(super) fn bad_inputs() -> Vec<(&'static str, Option<Value>, &'static str)> {
    vec![
        (
            "/patient/nhsNumber",
            None,
            "data.patient.nhsNumber is required",
        ),
        (
            "/patient/nhsNumber",
            Some(json!("9000000008")),
            "data.patient.nhsNumber",
        ),
        (
            "/patient/nhsNumber",
            Some(json!(9000000009u64)),
            "data.patient.nhsNumber must be a string",
        ),
        (
            "/patient/birthDate",
            Some(json!("01/01/1970")),
            "data.patient.birthDate",
        ),
        (
            "/patient/birthDate",
            Some(json!("2999-01-01")),
            "data.patient.birthDate is in the future",
        ),
        (
            "/patient/gender",
            Some(json!("m")),
            "data.patient.gender must be one of",
        ),
        (
            "/patient/postcode",
            Some(Value::Null),
            "data.patient.postcode must be absent rather than null",
        ),
        (
            "/patient/family",
            Some(json!("  ")),
            "data.patient.family must not be empty",
        ),
        (
            "/service",
            Some(json!("dentistry")),
            "data.service must be one of",
        ),
        ("/pharmacy", None, "data.pharmacy is required"),
        (
            "/pharmacy/odsCode",
            Some(json!("FA 001")),
            "data.pharmacy.odsCode",
        ),
        (
            "/clinicalNotes/clinicalSummary",
            Some(json!("")),
            "data.clinicalNotes.clinicalSummary",
        ),
        (
            "/clinicalNotes/history",
            Some(json!("a\u{7}b")),
            "data.clinicalNotes.history",
        ),
        (
            "/encounter/start",
            Some(json!("20 Nov 2026")),
            "data.encounter.start",
        ),
        (
            "/encounter/end",
            Some(json!("2026-11-19T09:00:00Z")),
            "data.encounter.end is before",
        ),
        (
            "/presentingComplaint/code",
            Some(json!("68566006")),
            "data.presentingComplaint.code",
        ),
        (
            "/observations/0/type",
            Some(json!("spo2")),
            "data.observations[0].type must be one of",
        ),
        (
            "/observations/0/value",
            Some(json!(-1)),
            "data.observations[0].value",
        ),
        ("/observations/1/value", None, "data.observations[1].value"),
        (
            "/observations/0/effective",
            Some(json!("yesterday")),
            "data.observations[0].effective",
        ),
        (
            "/medicationsSupplied/0/code",
            Some(json!("24549911000001108")),
            "data.medicationsSupplied[0].code",
        ),
        (
            "/medicationsSupplied/0/quantity/unit",
            Some(json!("bucket")),
            "data.medicationsSupplied[0].quantity.unit",
        ),
        (
            "/medicationsSupplied/0/quantity/value",
            Some(json!(0)),
            "data.medicationsSupplied[0].quantity.value",
        ),
        (
            "/medicationsSupplied/0/supplyType",
            Some(json!("gift")),
            "data.medicationsSupplied[0].supplyType",
        ),
        (
            "/medicationsSupplied/0/daysSupply",
            Some(json!(1.5)),
            "data.medicationsSupplied[0].daysSupply",
        ),
        (
            "/medicationsSupplied/0/dosageText",
            None,
            "data.medicationsSupplied[0].dosageText is required",
        ),
        (
            "/practitioner/role",
            Some(json!("R9999")),
            "data.practitioner.role",
        ),
        (
            "/clinicalNotes/clinicalSummary",
            None,
            "data.clinicalNotes.clinicalSummary is required",
        ),
        (
            "/patient/family",
            Some(json!("S".repeat(80))),
            "data.patient.family is too long for the MESH routing address",
        ),
        ("/version", Some(json!(2)), "data.replaces is required"),
        (
            "/version",
            Some(json!(-1)),
            "data.version must be a whole number",
        ),
        (
            "/replaces",
            Some(json!({"eventId": "6f1c1f0e-2d1a-4c56-9a58-1b1d1c2b9e01"})),
            "data.replaces.eventId must name an earlier event",
        ),
        (
            "/replaces",
            Some(json!({"documentIdentifier": "previous"})),
            "data.replaces.documentIdentifier must be a UUID",
        ),
        (
            "/replaces",
            Some(json!({})),
            "data.replaces must give exactly one of eventId and documentIdentifier",
        ),
    ]
}
