//! GP Connect mapping for the gateway. This crate owns:
//!
//! - the **Update Record (ITK3)** mapping: a `uk.nhs.pharmacy.consultation.completed.v1` event
//!   becomes an ITK3 message (event ITK014M) whose document bundle carries the consultation as
//!   CareConnect-GPC resources, plus the MESH metadata to send it ([`struct@UpdateRecordPlugin`]);
//! - the **Send Document** mapping: a `uk.nhs.consultation.document.created.v1` event becomes
//!   an ITK3 message (event ITK007C) carrying the PDF ([`SendDocumentPlugin`]), on the current
//!   or the legacy MESH workflow;
//! - replacements of earlier messages (`data.replaces`, `data.version`) for both;
//! - input validation that names every bad field without quoting patient data;
//! - FHIR XML (the wire format) or FHIR JSON output ([`OutputFormat`]);
//! - ITK3 responses (ITK008M): building them ([`response::build_response`]) and reading the
//!   ones GP systems return ([`response::parse_response`]);
//! - reading any ITK3 header ([`header::read_header`]) and the sender checklist run on every
//!   built message and by `gpc-gateway validate` ([`validate::validate_message`]);
//! - with feature `testing`, helpers for plugin tests (module `testing`).
//!
//! Everything here is pure except one thing: a Send Document route with a document root reads
//! `pdfPath` files under it. The clock and ids come from [`gateway_core::MapContext`].

mod checks;
mod clinical;
mod codes;
mod document;
mod envelope;
pub mod header;
mod input;
pub mod mesh;
mod options;
mod plugin;
mod replacement;
pub mod response;
mod response_codes;
mod rules;
pub mod send_document;
#[cfg(feature = "testing")]
pub mod testing;
pub mod validate;
mod xmldom;
mod xmltree;

pub use checks::{concept_id_valid, nhs_number_valid, sctid_valid};
pub use header::{HeaderInfo, read_header};
pub use options::OutputFormat;
pub use plugin::{MESSAGE_DEFINITION, ROUTE, UpdateRecordOptions, UpdateRecordPlugin, plugin};
pub use replacement::document_identifier_for_event;
pub use response::{
    ItkResponse, ResponseError, ResponseKind, ResponseSpec, build_response, code_info,
    parse_response,
};
pub use send_document::{SendDocumentOptions, SendDocumentPlugin};
pub use validate::{
    Finding, Severity, ValidateOptions, check_message, validate_message, validate_message_with,
};
pub use xmldom::XmlError;

use chrono::{DateTime, FixedOffset, SecondsFormat};

/// FHIR `instant`: seconds and zone always present (`Z` for UTC).
pub(crate) fn fhir_instant(t: DateTime<FixedOffset>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}
