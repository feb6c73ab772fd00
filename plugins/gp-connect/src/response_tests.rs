use chrono::DateTime;
use gateway_core::SeededIds;

use super::*;

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(
        gateway_testkit::fhir_validate::shared_dir()
            .join("fixtures/itk3")
            .join(rel),
    )
    .unwrap()
}

fn build(code: &str, diagnostics: Option<&str>) -> Vec<u8> {
    let ids = SeededIds::new("response-test");
    let spec = ResponseSpec {
        responds_to: "108805b4-32df-464d-a0a6-11c37afd74f2",
        sender_reference: "urn:uuid:1cd20c60-4407-4e7d-8572-82db1b125eaf",
        code,
        diagnostics,
        responder_ods: "A00001",
        responder_mailbox: "GP0001",
        now: DateTime::parse_from_rfc3339("2026-11-20T10:20:02+00:00").unwrap(),
        ids: &ids,
    };
    build_response(&spec).unwrap()
}

#[test]
fn code_table_covers_every_code_with_polarity() {
    let expected_count = 9 + 15 + 25;
    assert_eq!(RESPONSE_CODES.len(), expected_count);
    assert_eq!(code_info("20013"), Some((true, "Success")));
    assert_eq!(code_info("30004").map(|c| c.0), Some(true));
    assert_eq!(code_info("30002").map(|c| c.0), Some(false));
    assert_eq!(code_info("20015"), Some((false, "Message too large")));
    assert_eq!(code_info("30025").map(|c| c.0), Some(false));
    assert_eq!(code_info("10006"), None);
    assert_eq!(code_info("99999"), None);
    for n in (10001..=10010).chain(20001..=20015).chain(30001..=30025) {
        assert_eq!(code_info(&n.to_string()).is_some(), n != 10006, "{n}");
    }
}

#[test]
fn round_trip_of_the_four_common_responses() {
    for (code, positive, kind, diag) in [
        ("20013", true, ResponseKind::Infrastructure, None),
        ("30001", true, ResponseKind::Business, None),
        (
            "20009",
            false,
            ResponseKind::Infrastructure,
            Some("Composition.section is empty"),
        ),
        ("30002", false, ResponseKind::Business, None),
    ] {
        let xml = build(code, diag);
        let r = parse_response(&xml).unwrap();
        assert_eq!(r.responds_to, "108805b4-32df-464d-a0a6-11c37afd74f2");
        assert_eq!(
            r.sender_reference.as_deref(),
            Some("urn:uuid:1cd20c60-4407-4e7d-8572-82db1b125eaf")
        );
        assert_eq!(
            (r.code.as_str(), r.positive, r.kind),
            (code, positive, kind)
        );
        assert_eq!(r.display, code_info(code).unwrap().1);
        if positive {
            assert_eq!(r.diagnostics, None);
        } else {
            // Negative responses always explain themselves (falls back to the display).
            let expected = diag.unwrap_or(code_info(code).unwrap().1);
            assert_eq!(r.diagnostics.as_deref(), Some(expected));
        }
        assert!(crate::validate_message(&xml).is_empty());
        let h = crate::read_header(&xml).unwrap();
        assert_eq!(h.event_code, "ITK008M");
    }
}

#[test]
fn built_responses_pass_the_independent_validator() {
    for code in [
        "20013", "30001", "20009", "30002", "10009", "20015", "30004", "30017",
    ] {
        let xml = build(code, None);
        let report = gateway_testkit::fhir_validate::validate_bytes(
            &xml,
            None,
            Some("GPCONNECT_UPDATE_RECORD_ACK"),
        )
        .unwrap();
        assert!(report.valid, "{code}: {}", report.output);
        assert!(
            report.output.contains("0 error(s)"),
            "{code}: {}",
            report.output
        );
    }
}

#[test]
fn response_building_is_deterministic_and_rejects_bad_input() {
    assert_eq!(build("20013", None), build("20013", None));
    let ids = SeededIds::new("x");
    let mut spec = ResponseSpec {
        responds_to: "a",
        sender_reference: "",
        code: "12345",
        diagnostics: None,
        responder_ods: "A00001",
        responder_mailbox: "GP0001",
        now: DateTime::parse_from_rfc3339("2026-11-20T10:20:02Z").unwrap(),
        ids: &ids,
    };
    assert!(matches!(
        build_response(&spec),
        Err(ResponseError::UnknownCode(_))
    ));
    spec.code = "20013";
    spec.responder_mailbox = " ";
    assert!(matches!(
        build_response(&spec),
        Err(ResponseError::EmptyField("responder_mailbox"))
    ));
    spec.responder_mailbox = "GP0001";
    let r = parse_response(&build_response(&spec).unwrap()).unwrap();
    assert_eq!(r.sender_reference, None);
}

#[test]
fn parses_the_shared_fixtures() {
    let cases = [
        (
            "derived/inf-ack-20013-success.xml",
            "20013",
            true,
            ResponseKind::Infrastructure,
        ),
        (
            "derived/bus-ack-30001-patient-known.xml",
            "30001",
            true,
            ResponseKind::Business,
        ),
        (
            "derived/inf-ack-20009-payload-validation-failure.xml",
            "20009",
            false,
            ResponseKind::Infrastructure,
        ),
        (
            "derived/inf-ack-20010-unrecognised-payload-recipient-organisation.xml",
            "20010",
            false,
            ResponseKind::Infrastructure,
        ),
        (
            "derived/bus-ack-30002-patient-not-known.xml",
            "30002",
            false,
            ResponseKind::Business,
        ),
    ];
    for (file, code, positive, kind) in cases {
        let r = parse_response(&fixture(file)).unwrap();
        assert_eq!(
            r.responds_to, "108805b4-32df-464d-a0a6-11c37afd74f2",
            "{file}"
        );
        assert_eq!(
            r.sender_reference.as_deref(),
            Some("urn:uuid:1cd20c60-4407-4e7d-8572-82db1b125eaf")
        );
        assert_eq!(
            (r.code.as_str(), r.positive, r.kind),
            (code, positive, kind),
            "{file}"
        );
        assert_eq!(r.diagnostics.is_some(), !positive, "{file}");
    }
    let harness = parse_response(&fixture("acks/ITK008M_ITK_Response.xml")).unwrap();
    assert_eq!(harness.responds_to, "bd253806-64e7-4c90-9adf-4866cd68aa66");
    assert_eq!(harness.sender_reference, None);
    assert_eq!(harness.code, "30001");
    assert!(harness.positive);
    assert_eq!(harness.kind, ResponseKind::Business);
}

#[test]
fn parses_unreadable_and_unknown_codes_tolerantly() {
    let xml = String::from_utf8(build("10009", Some("could not parse")))
        .unwrap()
        .replace("108805b4-32df-464d-a0a6-11c37afd74f2", UNREADABLE);
    let r = parse_response(xml.as_bytes()).unwrap();
    assert_eq!(r.responds_to, UNREADABLE);
    assert!(!r.positive);
    assert_eq!(r.diagnostics.as_deref(), Some("could not parse"));
    let unknown = String::from_utf8(build("20013", None))
        .unwrap()
        .replace("20013", "29999");
    let r = parse_response(unknown.as_bytes()).unwrap();
    assert_eq!(
        (r.code.as_str(), r.positive, r.display.as_str()),
        ("29999", true, "Success")
    );
    assert!(matches!(
        parse_response(b"<Bundle/>"),
        Err(ResponseError::Missing("MessageHeader"))
    ));
    assert!(matches!(
        parse_response(b"not xml"),
        Err(ResponseError::Xml(_)) | Err(ResponseError::Missing(_))
    ));
}
