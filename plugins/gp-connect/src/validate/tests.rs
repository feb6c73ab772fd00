use std::collections::BTreeSet;

use super::*;

fn fixture(rel: &str) -> Vec<u8> {
    let dir = gateway_testkit::fhir_validate::shared_dir().join("fixtures/itk3");
    std::fs::read(dir.join(rel)).unwrap()
}

fn error_rules(bytes: &[u8]) -> BTreeSet<&'static str> {
    check_message(bytes, &ValidateOptions::default())
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.rule)
        .collect()
}

/// The verdicts `tools/fhir-validate/README.md` documents for the official fixtures.
#[test]
fn official_fixtures_get_the_documented_verdicts() {
    let expectations: [(&str, &[&str]); 14] = [
        (
            "update-record/pharmacy-first-service--example-1.xml",
            &["NHSNO-CHECKSUM"],
        ),
        (
            "update-record/pharmacy-first-service--example-2.xml",
            &["NHSNO-CHECKSUM"],
        ),
        (
            "update-record/blood-pressure-check-service--example-1.xml",
            &["NHSNO-CHECKSUM", "SNOMED-SCTID", "UR-BP-TRIPLET"],
        ),
        (
            "update-record/blood-pressure-check-service--example-2.xml",
            &["NHSNO-CHECKSUM"],
        ),
        (
            "update-record/contraception-service--example-1.xml",
            &["NHSNO-CHECKSUM"],
        ),
        (
            "update-record/contraception-service--example-2.xml",
            &["NHSNO-CHECKSUM"],
        ),
        (
            "send-document/send-document--generic-example.xml",
            &["NHSNO-CHECKSUM", "SD-COMP-CUSTODIAN"],
        ),
        (
            "send-document/legacy-v1/consultation_report.xml",
            &["NHSNO-CHECKSUM", "XML-ORDER"],
        ),
        ("acks/ITK008M_ITK_Response.xml", &[]),
        ("derived/inf-ack-20013-success.xml", &[]),
        ("derived/bus-ack-30001-patient-known.xml", &[]),
        ("derived/inf-ack-20009-payload-validation-failure.xml", &[]),
        (
            "derived/inf-ack-20010-unrecognised-payload-recipient-organisation.xml",
            &[],
        ),
        ("derived/bus-ack-30002-patient-not-known.xml", &[]),
    ];
    for (rel, expected) in expectations {
        let got = error_rules(&fixture(rel));
        let expected: BTreeSet<&str> = expected.iter().copied().collect();
        let all = check_message(&fixture(rel), &ValidateOptions::default());
        assert_eq!(got, expected, "{rel}: {all:#?}");
    }
}

#[test]
fn mesh_cross_checks() {
    let pf1 = fixture("update-record/pharmacy-first-service--example-1.xml");
    let opts = |mex_to, workflow_id| ValidateOptions {
        mex_to: Some(mex_to),
        workflow_id: Some(workflow_id),
    };
    let ok = check_message(
        &pf1,
        &opts(
            "GPPROVIDER_4857773456_19770808_PACKET",
            "GPCONNECT_UPDATE_RECORD",
        ),
    );
    assert!(!ok.iter().any(|f| f.rule.starts_with("MESH")), "{ok:#?}");
    let legacy_dob = check_message(
        &pf1,
        &opts(
            "GPPROVIDER_4857773456_08081977_PACKET",
            "GPCONNECT_UPDATE_RECORD",
        ),
    );
    assert!(
        legacy_dob
            .iter()
            .any(|f| f.rule == "MESH-TO-DOB" && f.severity == Severity::Warning)
    );
    assert!(!legacy_dob.iter().any(|f| f.rule == "MESH-TO"));
    let wrong = validate_message_with(
        &pf1,
        &opts(
            "GPPROVIDER_4857773456_09011955_Mowers",
            "GPFED_CONSULT_REPORT",
        ),
    );
    assert!(
        wrong
            .iter()
            .any(|p| p.contains("surname") && p.contains("data.patient.family"))
    );
    assert!(wrong.iter().any(|p| p.contains("date of birth")));
    assert!(wrong.iter().any(|p| p.contains("[MESH-WORKFLOW]")));
    let garbled = validate_message_with(&pf1, &opts("PHARM001", "GPCONNECT_UPDATE_RECORD"));
    assert!(garbled.iter().any(|p| p.contains("[MESH-TO]")));
}

#[test]
fn findings_name_paths_not_values() {
    let xml = String::from_utf8(fixture(
        "update-record/pharmacy-first-service--example-1.xml",
    ))
    .unwrap();
    let bad = xml.replace(
        "<code value=\"276433004\" />",
        "<code value=\"276433005\" />",
    );
    let problems = validate_message(bad.as_bytes());
    assert!(
        problems.iter().any(|p| p.ends_with("[SNOMED-SCTID]")),
        "{problems:#?}"
    );
    for p in &problems {
        assert!(!p.contains("276433005") && !p.contains("4857773456"), "{p}");
    }
    assert_eq!(validate_message(b"<Bundle").len(), 1);
    assert_eq!(
        validate_message(b"hello")[0],
        "$: input is neither FHIR XML nor FHIR JSON [FMT-PARSE]"
    );
    let wrong_ns = xml.replacen("http://hl7.org/fhir", "urn:x", 1);
    assert!(validate_message(wrong_ns.as_bytes())[0].ends_with("[FMT-ROOT]"));
}

#[test]
fn json_rules() {
    let base = r#"{"resourceType": "Bundle", "type": "message", "entry": []}"#;
    let rules = error_rules(base.as_bytes());
    assert!(
        rules.contains("JSON-EMPTY") && rules.contains("ITK-MH"),
        "{rules:?}"
    );
    let dup = r#"{"resourceType": "Bundle", "type": "message", "type": "message"}"#;
    assert!(error_rules(dup.as_bytes()).contains("JSON-DUPKEY"));
    let null = r#"{"resourceType": "Bundle", "type": null}"#;
    assert!(error_rules(null.as_bytes()).contains("JSON-NULL"));
    let root = r#"{"resourceType": "Parameters"}"#;
    assert!(error_rules(root.as_bytes()).contains("FMT-ROOT"));
    let unknown = r#"{"resourceType": "Bundle", "type": "message", "foo": 1}"#;
    assert!(error_rules(unknown.as_bytes()).contains("FHIR-STRUCT"));
    assert!(error_rules(b"{").contains("FMT-PARSE"));
}
