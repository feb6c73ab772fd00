use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::DateTime;
use gateway_core::{MailboxDirectory, SeededIds};
use gateway_proto::fhir::order;
use serde_json::{Value, json};

use super::*;
use crate::validate::{Severity, check_message};

struct Directory;

impl MailboxDirectory for Directory {
    fn mailbox_for_ods(&self, ods_code: &str) -> Option<String> {
        (ods_code == "FA001").then(|| "PHARM001".to_owned())
    }
}

fn event(case: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(case)
        .join("event.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn map_with(plugin: &SendDocumentPlugin, event: Value) -> Result<Outbound, MapError> {
    let event: CloudEvent = serde_json::from_value(event).unwrap();
    let ids = SeededIds::new(&event.id);
    let cx = MapContext {
        now: DateTime::parse_from_rfc3339("2026-11-20T10:16:00+00:00").unwrap(),
        ids: &ids,
        mailboxes: &Directory,
    };
    plugin.map(&event, &cx)
}

fn map(event: Value) -> Result<Outbound, MapError> {
    map_with(&SendDocumentPlugin::default(), event)
}

fn set(event: &mut Value, pointer: &str, value: Option<Value>) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = event["data"]
        .pointer_mut(parent)
        .unwrap()
        .as_object_mut()
        .unwrap();
    match value {
        Some(v) => parent.insert(key.to_owned(), v),
        None => parent.remove(key),
    };
}

#[test]
fn built_tree_is_in_stu3_order_for_every_option() {
    for case in [
        "send-document",
        "send-document-legacy",
        "send-document-json",
    ] {
        let mut e = event(case);
        set(&mut e, "/pdfPath", None);
        set(
            &mut e,
            "/pdfBase64",
            Some(json!(STANDARD.encode(b"%PDF-1.4\n%%EOF\n"))),
        );
        let d: DocumentCreated = serde_json::from_value(e["data"].clone()).unwrap();
        let ids = SeededIds::new("order");
        let cx = MapContext {
            now: DateTime::parse_from_rfc3339("2026-11-20T10:16:00+01:00").unwrap(),
            ids: &ids,
            mailboxes: &Directory,
        };
        let built = build::build(&d, b"%PDF-1.4\n", &cx, "PHARM001");
        let problems = order::check(&built.bundle);
        assert!(problems.is_empty(), "{case}: {problems:#?}");
        let written = gateway_proto::fhir::xml::to_xml(&built.bundle);
        assert_eq!(
            crate::xmltree::from_tree(&built.bundle),
            crate::xmldom::parse(written.as_bytes()),
            "{case}: the validator's view of the tree is the reader's view of the XML"
        );
    }
}

#[test]
fn workflow_subject_and_format_follow_the_options() {
    let out = map(event("send-document")).unwrap();
    assert_eq!(out.route, "send-document");
    assert_eq!(out.workflow_id, "GPCONNECT_SEND_DOCUMENT");
    assert!(out.mex_subject.contains(", ODS code: FA001, version 1"));
    assert_eq!(out.content_type, "application/fhir+xml");
    let legacy = SendDocumentPlugin::new(SendDocumentOptions::default().with_legacy_workflow(true));
    let out = map_with(&legacy, event("send-document")).unwrap();
    assert_eq!(out.workflow_id, "GPFED_CONSULT_REPORT");
    assert!(
        out.mex_subject
            .ends_with("NHS Number 9000000009, seen at High Street Pharmacy, ODS Code FA001")
    );
    let json =
        SendDocumentPlugin::new(SendDocumentOptions::default().with_format(OutputFormat::Json));
    let out = map_with(&json, event("send-document")).unwrap();
    assert_eq!(out.content_type, "application/fhir+json");
    assert!(out.file_name.ends_with(".json"));
    let body: Value = serde_json::from_slice(&out.body).unwrap();
    assert!(body["entry"][0]["resource"]["focus"].is_array());
}

/// `(pointer into data, new value or None to remove, text the error must contain)`.
fn bad_inputs() -> Vec<(&'static str, Option<Value>, &'static str)> {
    let not_pdf = STANDARD.encode(b"GIF89a not a pdf");
    vec![
        (
            "/pdfBase64",
            Some(json!(not_pdf)),
            "data.pdfBase64 is not a PDF",
        ),
        (
            "/pdfBase64",
            Some(json!("%%%")),
            "data.pdfBase64 is not valid base64",
        ),
        (
            "/pdfBase64",
            None,
            "data.pdfBase64 or data.pdfPath is required",
        ),
        (
            "/pdfPath",
            Some(json!("a.pdf")),
            "data.pdfBase64 and data.pdfPath are exclusive",
        ),
        ("/title", None, "data.title is required"),
        (
            "/title",
            Some(json!("a\u{7}b")),
            "data.title must not contain control characters",
        ),
        (
            "/documentType/code",
            Some(json!("371531001")),
            "data.documentType.code",
        ),
        (
            "/careSetting/code",
            Some(json!("789718009")),
            "data.careSetting.code",
        ),
        (
            "/encounterDate",
            Some(json!("20/11/2026")),
            "data.encounterDate",
        ),
        (
            "/encounterDate",
            Some(json!("2999-01-01")),
            "data.encounterDate is in the future",
        ),
        (
            "/patient/nhsNumber",
            Some(json!("9000000008")),
            "data.patient.nhsNumber",
        ),
        (
            "/patient/birthDate",
            None,
            "data.patient.birthDate is required",
        ),
        (
            "/patient/family",
            Some(json!("S".repeat(80))),
            "data.patient.family is too long",
        ),
        (
            "/sender/odsCode",
            Some(json!("FA 001")),
            "data.sender.odsCode",
        ),
        (
            "/author/family",
            Some(json!(7)),
            "data.author.family must be a string",
        ),
        ("/version", Some(json!(0)), "data.version"),
        (
            "/replaces",
            Some(json!({"documentIdentifier": "x"})),
            "data.replaces.documentIdentifier",
        ),
        ("/version", Some(json!(3)), "data.replaces is required"),
    ]
}

#[test]
fn each_bad_input_fails_naming_the_field_without_quoting_values() {
    for (pointer, value, expected) in bad_inputs() {
        let mut e = event("send-document");
        set(&mut e, pointer, value);
        let err = map(e).expect_err(pointer);
        assert_eq!(err.code, "invalid-event", "{pointer}");
        assert!(
            err.problems.iter().any(|p| p.contains(expected)),
            "{pointer}: {:?}",
            err.problems
        );
        for secret in ["9000000009", "9000000008", "Smith", "1970-01-01", "GIF89a"] {
            assert!(
                !err.reason().contains(secret),
                "{pointer} leaks: {}",
                err.reason()
            );
        }
    }
}

#[test]
fn pdf_paths_stay_inside_the_document_root() {
    let root =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/send-document-legacy/docs");
    let plugin = SendDocumentPlugin::new(SendDocumentOptions::default().with_document_root(&root));
    let mut e = event("send-document-legacy");
    assert!(map_with(&plugin, e.clone()).is_ok());
    for (path, expected) in [
        ("../event.json", "relative path inside the document root"),
        ("/etc/hostname", "relative path inside the document root"),
        ("2026/missing.pdf", "does not name a readable file"),
    ] {
        set(&mut e, "/pdfPath", Some(json!(path)));
        let err = map_with(&plugin, e.clone()).unwrap_err();
        assert!(err.reason().contains(expected), "{path}: {}", err.reason());
        assert!(!err.reason().contains(path), "{path} quoted");
    }
    // Without a configured root, pdfPath is refused outright.
    let err = map(event("send-document-legacy")).unwrap_err();
    assert!(err.reason().contains("no document root is configured"));
}

#[test]
fn size_limits() {
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(6 * 1024 * 1024, b' ');
    let mut e = event("send-document");
    set(&mut e, "/pdfBase64", Some(json!(STANDARD.encode(&big))));
    // Above the advised 5 MB: still sent (receivers may answer 20015) …
    let out = map(e.clone()).unwrap();
    let findings = check_message(&out.body, &ValidateOptions::default());
    assert!(
        findings
            .iter()
            .any(|f| f.rule == "SD-BINARY-SIZE" && f.severity == Severity::Warning)
    );
    // … above the route's hard limit: refused, naming the field.
    let small =
        SendDocumentPlugin::new(SendDocumentOptions::default().with_max_pdf_bytes(1024 * 1024));
    let err = map_with(&small, e).unwrap_err();
    assert!(
        err.reason()
            .starts_with("data.pdfBase64: the PDF is larger than this route's limit")
    );
}

#[test]
fn envelope_and_directory_errors() {
    let mut e = event("send-document");
    e["type"] = json!("uk.nhs.pharmacy.consultation.completed.v1");
    assert_eq!(map(e).unwrap_err().code, "unknown-type");
    let mut e = event("send-document");
    set(&mut e, "/sender/odsCode", Some(json!("ZZ999")));
    let err = map(e).unwrap_err();
    assert_eq!(err.code, "no-sender-mailbox");
    assert!(err.reason().contains("data.sender.odsCode"));
    let mut e = event("send-document");
    e["data"] = json!([]);
    assert_eq!(
        map(e).unwrap_err().problems,
        vec!["data must be a JSON object".to_owned()]
    );
}

#[test]
fn surname_not_matching_the_routing_address_is_refused_by_the_checker() {
    let out = map(event("send-document")).unwrap();
    let wrong = ValidateOptions {
        mex_to: Some("GPPROVIDER_9000000009_19700101_Jones"),
        workflow_id: Some(&out.workflow_id),
    };
    let problems = crate::validate::validate_message_with(&out.body, &wrong);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("data.patient.family"));
    assert!(!problems[0].contains("Jones") && !problems[0].contains("Smith"));
}
