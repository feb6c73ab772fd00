//! The public API the app, the mesh simulator, the file-drop decoders and the integration tests
//! use, exercised from outside the crate exactly as they call it: a compile-time guard that the
//! Send Document / replacement / JSON work kept it source-compatible.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use gateway_core::MappingPlugin;
use gateway_plugin_gp_connect::response::{ItkResponse, ResponseKind, code_info};
use gateway_plugin_gp_connect::{
    OutputFormat, SendDocumentOptions, SendDocumentPlugin, UpdateRecordOptions, UpdateRecordPlugin,
    header, mesh, plugin, validate,
};

#[test]
fn registry_style_registration_still_compiles() {
    // gateway/app/src/registry.rs registers the unit value; the new route takes options.
    let plugins: Vec<Arc<dyn MappingPlugin>> = vec![
        Arc::new(gateway_plugin_gp_connect::UpdateRecordPlugin),
        Arc::new(plugin()),
        Arc::new(UpdateRecordPlugin::new(UpdateRecordOptions::with_format(
            OutputFormat::Json,
        ))),
        Arc::new(SendDocumentPlugin::new(
            SendDocumentOptions::default()
                .with_legacy_workflow(true)
                .with_document_root("/srv/documents"),
        )),
    ];
    let routes: Vec<&str> = plugins.iter().map(|p| p.id()).collect();
    assert_eq!(
        routes,
        [
            "update-record",
            "update-record",
            "update-record",
            "send-document"
        ]
    );
    assert_eq!(
        plugins[3].event_types(),
        ["uk.nhs.consultation.document.created.v1"]
    );
}

#[test]
fn checker_readers_and_mesh_helpers_keep_their_signatures() {
    let problems: Vec<String> = validate::validate_message(b"<Bundle/>");
    assert!(!problems.is_empty());
    assert!(header::read_header(b"<x").is_err());
    let _: Option<(bool, &str)> = code_info("20013");
    let _ = |r: ItkResponse| matches!(r.kind, ResponseKind::Business);
    assert_eq!(mesh::WORKFLOW_ID, "GPCONNECT_UPDATE_RECORD");
    assert_eq!(mesh::CONTENT_TYPE, "application/fhir+xml");
    assert!(mesh::mex_to("9000000009", "1970-01-01", "Smith").ends_with("_Smith"));
    assert!(mesh::file_name("x").ends_with(".xml"));
}
