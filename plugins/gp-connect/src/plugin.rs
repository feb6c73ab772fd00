//! The Update Record route: consultation event → ITK3 message (ITK014M) + MESH metadata.

use gateway_core::telemetry as tm;
use gateway_core::{MapContext, MapError, MappingPlugin, Outbound};
use gateway_proto::CloudEvent;
use gateway_proto::consultation::{ConsultationCompleted, EVENT_TYPE};
use gateway_proto::fhir::Node;

use crate::clinical;
use crate::codes;
use crate::document::{self, Doc, DocIds};
use crate::envelope::{self, Envelope, RecipientType, entry};
use crate::options::OutputFormat;
use crate::replacement::{self, MessageIds};
use crate::rules::{self, fhir_datetime};
use crate::validate::ValidateOptions;
use crate::{input, mesh};

/// Route id of this plugin.
pub const ROUTE: &str = "update-record";
/// MessageDefinition placeholder of Update Record (spec §0 #4).
pub const MESSAGE_DEFINITION: &str = "https://fhir.nhs.uk/MessageDefinition";

/// Options of an Update Record route.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpdateRecordOptions {
    /// Serialisation of the message (default FHIR XML, the wire format).
    pub format: OutputFormat,
}

impl UpdateRecordOptions {
    /// Options with the given output format.
    pub fn with_format(format: OutputFormat) -> Self {
        Self { format }
    }
}

/// Maps completed pharmacy consultations to GP Connect Update Record (ITK3) messages.
///
/// `UpdateRecordPlugin` used as a value is the XML plugin (kept for source compatibility);
/// [`UpdateRecordPlugin::new`] takes [`UpdateRecordOptions`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpdateRecordPlugin {
    format: OutputFormat,
}

/// The Update Record plugin with default options (FHIR XML).
#[allow(non_upper_case_globals)]
pub const UpdateRecordPlugin: UpdateRecordPlugin = UpdateRecordPlugin {
    format: OutputFormat::Xml,
};

/// The Update Record plugin, ready to register.
pub fn plugin() -> UpdateRecordPlugin {
    UpdateRecordPlugin
}

/// A built message and the ids the gateway tracks it by.
pub(crate) struct Built {
    pub(crate) bundle: Node,
    pub(crate) message_id: String,
    pub(crate) bundle_identifier: String,
    pub(crate) document_id: String,
    pub(crate) sender_reference: String,
    /// Composition.title, also the payload title of `Mex-Subject`.
    pub(crate) title: String,
    /// Document version (`Mex-Subject`).
    pub(crate) version: u32,
}

impl UpdateRecordPlugin {
    /// A plugin with these options.
    pub fn new(opts: UpdateRecordOptions) -> Self {
        Self {
            format: opts.format,
        }
    }

    /// The output format.
    pub fn format(&self) -> OutputFormat {
        self.format
    }

    /// Maps a consultation already read from an event with id `event_id`: runs the input
    /// rules, builds the message, runs the sender checklist on it. Third-party plugins that
    /// translate their own events into a [`ConsultationCompleted`] call this.
    ///
    /// # Errors
    /// `invalid-event` naming each bad field, `no-sender-mailbox`, or `validation-failed`
    /// listing what the sender checklist found in the built message.
    pub fn map_consultation(
        &self,
        event_id: &str,
        c: &ConsultationCompleted,
        cx: &MapContext<'_>,
    ) -> Result<Outbound, MapError> {
        let mut problems = rules::check(c, cx.now);
        replacement::check(c.version, c.replaces.as_ref(), event_id, &mut problems);
        if !problems.is_empty() {
            return Err(MapError::many("invalid-event", problems));
        }
        let ods = c.pharmacy.ods_code.trim();
        // ODS codes identify organisations, not patients, so naming it is safe and actionable.
        let mailbox = cx.mailboxes.mailbox_for_ods(ods).ok_or_else(|| {
            MapError::new(
                "no-sender-mailbox",
                format!("no MESH mailbox is configured to send for ODS code {ods} (data.pharmacy.odsCode)"),
            )
        })?;
        let built = build(c, cx, &mailbox)?;
        let body = self.format.serialise(&built.bundle);
        let p = &c.patient;
        let mex_to = mesh::mex_to(&p.nhs_number, &p.birth_date, &p.family);
        let checks = ValidateOptions {
            mex_to: Some(&mex_to),
            workflow_id: Some(mesh::WORKFLOW_ID),
        };
        let problems = tracing::info_span!("validate", { tm::GATEWAY_STAGE } = tm::STAGE_VALIDATE)
            .in_scope(|| self.format.validate(&built.bundle, &body, &checks));
        if !problems.is_empty() {
            return Err(MapError::many("validation-failed", problems));
        }
        let patient_name = p
            .given
            .iter()
            .map(|g| g.trim())
            .chain([p.family.trim()])
            .collect::<Vec<_>>();
        Ok(Outbound {
            route: ROUTE.to_owned(),
            mailbox,
            workflow_id: mesh::WORKFLOW_ID.to_owned(),
            mex_to,
            mex_subject: mesh::mex_subject(
                &built.title,
                &patient_name.join(" "),
                p.nhs_number.trim(),
                c.pharmacy.name.trim(),
                ods,
                built.version,
            ),
            local_id: ods.to_owned(),
            file_name: mesh::file_name_for(ROUTE, &built.message_id, self.format.extension()),
            content_type: self.format.content_type().to_owned(),
            body,
            itk_message_id: built.message_id,
            itk_bundle_id: built.bundle_identifier,
            document_id: built.document_id,
            sender_reference: built.sender_reference,
            nhs_number: p.nhs_number.trim().to_owned(),
        })
    }
}

impl MappingPlugin for UpdateRecordPlugin {
    fn id(&self) -> &'static str {
        ROUTE
    }

    fn event_types(&self) -> &'static [&'static str] {
        &[EVENT_TYPE]
    }

    fn map(&self, event: &CloudEvent, cx: &MapContext<'_>) -> Result<Outbound, MapError> {
        crate::options::check_event_type(event, EVENT_TYPE, ROUTE)?;
        let c = input::parse(&event.data).map_err(|p| MapError::many("invalid-event", p))?;
        self.map_consultation(&event.id, &c, cx)
    }
}

/// Builds the message tree. Ids are drawn in a fixed order: message bundle, MessageHeader,
/// header Organization, document bundle, then the document's resources.
pub(crate) fn build(
    c: &ConsultationCompleted,
    cx: &MapContext<'_>,
    mailbox: &str,
) -> Result<Built, MapError> {
    let internal = || {
        MapError::new(
            "invalid-event",
            "event could not be mapped (internal rule gap)",
        )
    };
    let ids = MessageIds::draw(cx.ids);
    let headings = clinical::headings(&c.clinical_notes);
    let d = Doc {
        c,
        ids: DocIds::draw(cx.ids, c, headings.len()),
        service: codes::service(c.service),
        now: crate::fhir_instant(cx.now),
        start: fhir_datetime(&c.encounter.start).ok_or_else(internal)?,
        end: c
            .encounter
            .end
            .as_deref()
            .map(|e| fhir_datetime(e).ok_or_else(internal))
            .transpose()?,
        versioning: replacement::resolve(c.version, c.replaces.as_ref()),
    };
    let mut resources = vec![
        (d.ids.encounter.clone(), document::encounter(&d)),
        (d.ids.organization.clone(), document::organization(&d)),
        (d.ids.practitioner.clone(), document::practitioner(&d)),
        (d.ids.role.clone(), document::practitioner_role(&d)),
        (d.ids.patient.clone(), document::patient(&d)),
    ];
    if let Some(id) = &d.ids.condition {
        resources.push((
            id.clone(),
            clinical::condition(&d, id).ok_or_else(internal)?,
        ));
    }
    for (id, o) in d.ids.observations.iter().zip(&c.observations) {
        resources.push((
            id.clone(),
            clinical::observation(&d, id, o).ok_or_else(internal)?,
        ));
    }
    for (id, m) in d.ids.dispenses.iter().zip(&c.medications_supplied) {
        resources.push((
            id.clone(),
            clinical::dispense(&d, id, m).ok_or_else(internal)?,
        ));
    }
    for (id, (h, text)) in d.ids.impressions.iter().zip(&headings) {
        resources.push((id.clone(), clinical::impression(&d, id, *h, text)));
    }
    let document = document::document_bundle(&ids.document, &d, resources);
    let sender_reference = format!("urn:uuid:{}", d.ids.encounter);
    let env = Envelope {
        bundle_id: &ids.bundle,
        bundle_identifier: &ids.bundle,
        header_id: &ids.header,
        header_org_id: &ids.header_org,
        event_code: "ITK014M",
        event_display: "ITK Update Record",
        acks_requested: true,
        recipient_type: RecipientType::ForAction,
        message_definition: MESSAGE_DEFINITION,
        sender_reference: &sender_reference,
        sender_ods: c.pharmacy.ods_code.trim(),
        timestamp: &d.now,
        source_endpoint: mailbox,
        response: None,
        focus: Some(&ids.document),
    };
    let bundle = tracing::info_span!("wrap", { tm::GATEWAY_STAGE } = tm::STAGE_WRAP)
        .in_scope(|| envelope::message_bundle(&env, vec![entry(&ids.document, document)]));
    Ok(Built {
        bundle,
        message_id: ids.header,
        bundle_identifier: ids.bundle,
        document_id: ids.document,
        sender_reference,
        title: d.title(),
        version: d.versioning.version,
    })
}

#[cfg(test)]
#[path = "plugin_tests.rs"]
mod tests;
