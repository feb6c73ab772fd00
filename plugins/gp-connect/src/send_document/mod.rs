//! The Send Document route (GP Connect Send Document 2.x, event ITK007C): a
//! `uk.nhs.consultation.document.created.v1` event → ITK3 message carrying the PDF + MESH
//! metadata (spec §5).
//!
//! - Workflow `GPCONNECT_SEND_DOCUMENT`, or the legacy `GPFED_CONSULT_REPORT` for receivers
//!   still on GP Connect Messaging 1.x ([`SendDocumentOptions::legacy_workflow`]; the legacy
//!   route also uses the 1.x `Mex-Subject` format). Acknowledgements come back on the matching
//!   `_ACK` workflow.
//! - The PDF comes inline (`pdfBase64`) or from a file under the route's document root
//!   (`pdfPath`); a path that leaves the root is refused.
//! - It must be a PDF (`%PDF-`). Receivers may refuse messages above 5 MB with ITK 20015
//!   (spec §5.4): such PDFs are still sent, with a warning log (size only); above the route's
//!   hard limit ([`DEFAULT_MAX_PDF_BYTES`], 100 MiB by default — MESH's per-request size, which
//!   the base64 message already exceeds, so it travels chunked) the event is refused.

mod build;
mod input;
mod pdf;

use std::path::PathBuf;

use gateway_core::telemetry as tm;
use gateway_core::{MapContext, MapError, MappingPlugin, Outbound};
use gateway_proto::CloudEvent;
use gateway_proto::document::{DocumentCreated, EVENT_TYPE};

use crate::mesh;
use crate::options::OutputFormat;
use crate::replacement;
use crate::validate::ValidateOptions;

/// Route id of this plugin.
pub const ROUTE: &str = "send-document";
/// MessageDefinition of Send Document (spec §5.2).
pub const MESSAGE_DEFINITION: &str =
    "https://fhir.nhs.uk/STU3/MessageDefinition/ITK-GPConnectSendDocument-MessageDefinition-1";
/// Default hard limit on the PDF size: 100 MiB.
pub const DEFAULT_MAX_PDF_BYTES: u64 = 100 * 1024 * 1024;
/// Receivers may answer ITK 20015 (Message too large) above this size (spec §5.4).
pub const ADVISED_MAX_PDF_BYTES: u64 = 5 * 1024 * 1024;

/// Options of a Send Document route.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SendDocumentOptions {
    /// Folder that `data.pdfPath` is resolved in (default none: `pdfPath` is refused and
    /// events must carry `pdfBase64`).
    pub document_root: Option<PathBuf>,
    /// Send on the legacy `GPFED_CONSULT_REPORT` workflow instead of
    /// `GPCONNECT_SEND_DOCUMENT` (default false).
    pub legacy_workflow: bool,
    /// Serialisation of the message (default FHIR XML).
    pub format: OutputFormat,
    /// Largest PDF accepted, in bytes (default [`DEFAULT_MAX_PDF_BYTES`]).
    pub max_pdf_bytes: u64,
}

impl Default for SendDocumentOptions {
    fn default() -> Self {
        Self {
            document_root: None,
            legacy_workflow: false,
            format: OutputFormat::Xml,
            max_pdf_bytes: DEFAULT_MAX_PDF_BYTES,
        }
    }
}

impl SendDocumentOptions {
    /// Sets the document root for `pdfPath`.
    pub fn with_document_root(mut self, root: impl Into<PathBuf>) -> Self {
        self.document_root = Some(root.into());
        self
    }

    /// Selects the legacy `GPFED_CONSULT_REPORT` workflow.
    pub fn with_legacy_workflow(mut self, legacy: bool) -> Self {
        self.legacy_workflow = legacy;
        self
    }

    /// Sets the output format.
    pub fn with_format(mut self, format: OutputFormat) -> Self {
        self.format = format;
        self
    }

    /// Sets the hard PDF size limit.
    pub fn with_max_pdf_bytes(mut self, max: u64) -> Self {
        self.max_pdf_bytes = max;
        self
    }
}

/// Maps documents for the GP to GP Connect Send Document (ITK007C) messages.
#[derive(Debug, Clone, Default)]
pub struct SendDocumentPlugin {
    opts: SendDocumentOptions,
}

impl SendDocumentPlugin {
    /// A plugin with these options.
    pub fn new(opts: SendDocumentOptions) -> Self {
        Self { opts }
    }

    /// The options.
    pub fn options(&self) -> &SendDocumentOptions {
        &self.opts
    }

    /// The MESH workflow this route sends on.
    pub fn workflow_id(&self) -> &'static str {
        if self.opts.legacy_workflow {
            mesh::LEGACY_SEND_DOCUMENT_WORKFLOW_ID
        } else {
            mesh::SEND_DOCUMENT_WORKFLOW_ID
        }
    }

    /// Maps a document already read from an event with id `event_id`: input rules, the PDF,
    /// the message, then the sender checklist on it.
    ///
    /// # Errors
    /// `invalid-event` naming each bad field (including a PDF that is not a PDF, too large,
    /// or outside the document root), `no-sender-mailbox`, or `validation-failed`.
    pub fn map_document(
        &self,
        event_id: &str,
        d: &DocumentCreated,
        cx: &MapContext<'_>,
    ) -> Result<Outbound, MapError> {
        let root = self.opts.document_root.as_deref();
        let mut problems = input::check(d, cx.now, root.is_some());
        replacement::check(d.version, d.replaces.as_ref(), event_id, &mut problems);
        if !problems.is_empty() {
            return Err(MapError::many("invalid-event", problems));
        }
        let source = match (&d.pdf_base64, &d.pdf_path, root) {
            (Some(b64), _, _) => pdf::Source::Base64(b64),
            (None, Some(path), Some(root)) => pdf::Source::Path { path, root },
            // Excluded by `input::check`.
            _ => return Err(MapError::new("invalid-event", "data.pdfBase64 is required")),
        };
        let pdf = pdf::load(source, self.opts.max_pdf_bytes)
            .map_err(|p| MapError::new("invalid-event", p))?;
        if pdf.len() as u64 > ADVISED_MAX_PDF_BYTES {
            tracing::warn!(
                gateway.route = ROUTE,
                pdf.size_bytes = pdf.len(),
                "Send Document attachment exceeds 5 MB; receivers may answer 20015 (Message too large)."
            );
        }
        let ods = d.sender.ods_code.trim();
        let mailbox = cx.mailboxes.mailbox_for_ods(ods).ok_or_else(|| {
            MapError::new(
                "no-sender-mailbox",
                format!(
                    "no MESH mailbox is configured to send for ODS code {ods} (data.sender.odsCode)"
                ),
            )
        })?;
        let built = build::build(d, &pdf, cx, &mailbox);
        let body = self.opts.format.serialise(&built.bundle);
        let p = &d.patient;
        let mex_to = mesh::mex_to(&p.nhs_number, &p.birth_date, &p.family);
        let workflow = self.workflow_id();
        let checks = ValidateOptions {
            mex_to: Some(&mex_to),
            workflow_id: Some(workflow),
        };
        let problems = tracing::info_span!("validate", { tm::GATEWAY_STAGE } = tm::STAGE_VALIDATE)
            .in_scope(|| self.opts.format.validate(&built.bundle, &body, &checks));
        if !problems.is_empty() {
            return Err(MapError::many("validation-failed", problems));
        }
        let name = build::patient_name(d);
        let (title, nhs, sender) = (d.title.trim(), p.nhs_number.trim(), d.sender.name.trim());
        let mex_subject = if self.opts.legacy_workflow {
            mesh::legacy_mex_subject(title, &name, nhs, sender, ods)
        } else {
            mesh::mex_subject(title, &name, nhs, sender, ods, built.version)
        };
        Ok(Outbound {
            route: ROUTE.to_owned(),
            mailbox,
            workflow_id: workflow.to_owned(),
            mex_to,
            mex_subject,
            local_id: ods.to_owned(),
            file_name: mesh::file_name_for(ROUTE, &built.message_id, self.opts.format.extension()),
            content_type: self.opts.format.content_type().to_owned(),
            body,
            itk_message_id: built.message_id,
            itk_bundle_id: built.bundle_identifier,
            document_id: built.document_id,
            sender_reference: built.sender_reference,
            nhs_number: nhs.to_owned(),
        })
    }
}

impl MappingPlugin for SendDocumentPlugin {
    fn id(&self) -> &'static str {
        ROUTE
    }

    fn event_types(&self) -> &'static [&'static str] {
        &[EVENT_TYPE]
    }

    fn map(&self, event: &CloudEvent, cx: &MapContext<'_>) -> Result<Outbound, MapError> {
        crate::options::check_event_type(event, EVENT_TYPE, ROUTE)?;
        let d = input::parse(&event.data).map_err(|p| MapError::many("invalid-event", p))?;
        self.map_document(&event.id, &d, cx)
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
