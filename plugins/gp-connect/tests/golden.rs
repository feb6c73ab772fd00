//! Golden tests: every `tests/fixtures/<case>/event.json` maps to `expected.xml` or
//! `expected.json` (and the MESH headers in `expected-headers.txt`) byte for byte, and the
//! message passes both the gateway's own checker (no finding at all) and the independent
//! fhir-validate checker with zero errors, cross-checking `Mex-To` and the workflow.
//! The plugin follows the event type; `options.json` (optional) sets the route options:
//! `format` (`xml` / `json`), `legacyWorkflow`, `documentRoot` (relative to the case folder).
//! Regenerate with `UPDATE_GOLDEN=1`.

// The helpers below are test code too; clippy's in-test allowances only cover `#[test]` fns.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};

use chrono::DateTime;
use gateway_core::{MailboxDirectory, MapContext, MappingPlugin, Outbound, SeededIds};
use gateway_plugin_gp_connect::{
    OutputFormat, SendDocumentOptions, SendDocumentPlugin, Severity, UpdateRecordOptions,
    UpdateRecordPlugin, ValidateOptions,
};
use gateway_proto::CloudEvent;
use serde::Deserialize;

struct Directory;

impl MailboxDirectory for Directory {
    fn mailbox_for_ods(&self, ods_code: &str) -> Option<String> {
        (ods_code == "FA001").then(|| "PHARM001".to_owned())
    }
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CaseOptions {
    #[serde(default)]
    format: OutputFormat,
    #[serde(default)]
    legacy_workflow: bool,
    document_root: Option<String>,
}

fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("event.json").exists())
        .collect();
    dirs.sort();
    dirs
}

fn options(dir: &Path) -> CaseOptions {
    std::fs::read(dir.join("options.json"))
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap_or_default()
}

fn plugin(dir: &Path, event_type: &str) -> Box<dyn MappingPlugin> {
    let o = options(dir);
    match event_type {
        gateway_proto::document::EVENT_TYPE => {
            let mut opts = SendDocumentOptions::default()
                .with_format(o.format)
                .with_legacy_workflow(o.legacy_workflow);
            if let Some(root) = o.document_root {
                opts = opts.with_document_root(dir.join(root));
            }
            Box::new(SendDocumentPlugin::new(opts))
        }
        _ => Box::new(UpdateRecordPlugin::new(UpdateRecordOptions::with_format(
            o.format,
        ))),
    }
}

fn map(dir: &Path) -> Outbound {
    let event_file = dir.join("event.json");
    let event = CloudEvent::parse(&std::fs::read(&event_file).unwrap()).unwrap();
    let ids = SeededIds::new(&event.id);
    let cx = MapContext {
        now: DateTime::parse_from_rfc3339("2026-11-20T10:16:00+00:00").unwrap(),
        ids: &ids,
        mailboxes: &Directory,
    };
    plugin(dir, &event.event_type)
        .map(&event, &cx)
        .unwrap_or_else(|e| panic!("{}: {e:?}", event_file.display()))
}

fn headers(out: &Outbound) -> String {
    format!(
        "Mex-From: {}\nMex-To: {}\nMex-WorkflowID: {}\nMex-Subject: {}\nMex-LocalID: {}\n\
         Mex-FileName: {}\nContent-Type: {}\nitk_message_id: {}\nitk_bundle_id: {}\n\
         document_id: {}\nsender_reference: {}\n",
        out.mailbox,
        out.mex_to,
        out.workflow_id,
        out.mex_subject,
        out.local_id,
        out.file_name,
        out.content_type,
        out.itk_message_id,
        out.itk_bundle_id,
        out.document_id,
        out.sender_reference
    )
}

fn compare(path: &Path, actual: &str) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path)
        .unwrap_or_else(|_| panic!("{} missing: run with UPDATE_GOLDEN=1", path.display()));
    assert!(
        expected == actual,
        "{} differs: run with UPDATE_GOLDEN=1 and review the diff",
        path.display()
    );
}

#[test]
fn every_fixture_maps_to_its_golden_message() {
    let cases = fixtures();
    assert!(cases.len() >= 10, "fixtures missing");
    for dir in cases {
        let out = map(&dir);
        let ext = options(&dir).format.extension();
        let text = String::from_utf8(out.body.clone()).unwrap();
        compare(&dir.join(format!("expected.{ext}")), &text);
        compare(&dir.join("expected-headers.txt"), &headers(&out));
        // Deterministic: the same event maps to the same bytes.
        assert_eq!(map(&dir).body, out.body);
    }
}

#[test]
fn every_golden_message_passes_both_validators() {
    for dir in fixtures() {
        let out = map(&dir);
        assert_eq!(out.mex_to, "GPPROVIDER_9000000009_19700101_Smith");
        let checks = ValidateOptions {
            mex_to: Some(&out.mex_to),
            workflow_id: Some(&out.workflow_id),
        };
        let findings = gateway_plugin_gp_connect::check_message(&out.body, &checks);
        // Only advice that depends on optional input may remain: no careSetting given.
        let unexpected: Vec<_> = findings
            .iter()
            .filter(|f| f.severity == Severity::Error || f.rule != "SD-CARESETTING")
            .collect();
        assert!(unexpected.is_empty(), "{}: {unexpected:#?}", dir.display());
        let report = gateway_testkit::fhir_validate::validate_bytes(
            &out.body,
            Some(&out.mex_to),
            Some(&out.workflow_id),
        )
        .unwrap();
        assert!(
            report.valid && report.output.contains(" 0 error(s)"),
            "{}:\n{}",
            dir.display(),
            report.output
        );
        let header = gateway_plugin_gp_connect::read_header(&out.body).unwrap();
        assert_eq!(header.message_id, out.itk_message_id);
        let event = if out.route == "send-document" {
            "ITK007C"
        } else {
            "ITK014M"
        };
        assert_eq!(header.event_code, event);
        assert_eq!(
            header.sender_reference.as_deref(),
            Some(out.sender_reference.as_str())
        );
        assert_eq!(
            header.source_endpoint.as_deref(),
            Some(out.mailbox.as_str())
        );
        assert_eq!(
            header.bundle_identifier.as_deref(),
            Some(out.itk_bundle_id.as_str())
        );
    }
}

#[test]
fn replacements_name_the_document_they_replace() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for (replacement, original) in [
        ("replacement", "pharmacy-first"),
        ("send-document-json", "send-document"),
    ] {
        let new = map(&root.join(replacement));
        let old = map(&root.join(original));
        let body = String::from_utf8(new.body).unwrap();
        assert!(body.contains("replaces"), "{replacement}");
        assert!(body.contains(&old.document_id), "{replacement}");
        assert!(new.mex_subject.ends_with("ersion 2") || new.mex_subject.contains("version 2"));
        assert_ne!(new.document_id, old.document_id);
        let original_event: serde_json::Value =
            serde_json::from_slice(&std::fs::read(root.join(original).join("event.json")).unwrap())
                .unwrap();
        assert_eq!(
            gateway_plugin_gp_connect::document_identifier_for_event(
                original_event["id"].as_str().unwrap()
            ),
            old.document_id
        );
    }
}

#[test]
fn shipped_example_events_map_and_validate() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/events");
    let out = map_file(&examples.join("pharmacy-first.json"));
    assert_eq!(out.local_id, "FA001");
    assert_eq!(out.mailbox, "PHARM001");
    let doc = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../proto/schema/examples/document-created.json");
    for out in [out, map_file(&doc)] {
        let report = gateway_testkit::fhir_validate::validate_bytes(
            &out.body,
            Some(&out.mex_to),
            Some(&out.workflow_id),
        )
        .unwrap();
        assert!(report.valid, "{}", report.output);
    }
}

fn map_file(path: &Path) -> Outbound {
    let event = CloudEvent::parse(&std::fs::read(path).unwrap()).unwrap();
    let ids = SeededIds::new(&event.id);
    let cx = MapContext {
        now: DateTime::parse_from_rfc3339("2026-11-20T10:16:00+00:00").unwrap(),
        ids: &ids,
        mailboxes: &Directory,
    };
    let plugin: Box<dyn MappingPlugin> = match event.event_type.as_str() {
        gateway_proto::document::EVENT_TYPE => Box::new(SendDocumentPlugin::default()),
        _ => Box::new(gateway_plugin_gp_connect::plugin()),
    };
    plugin.map(&event, &cx).unwrap()
}
