//! The Send Document message tree (spec §5.1–5.5): the ITK3 envelope (event ITK007C) around a
//! document bundle of Composition, Patient, Organization, optional Practitioner and the PDF as
//! a Binary. Children are written in STU3 order (checked by `fhir::order` in the tests).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use gateway_core::MapContext;
use gateway_core::telemetry as tm;
use gateway_proto::document::DocumentCreated;
use gateway_proto::fhir::datatypes::{extension_node, identifier, meta, period, snomed, urn_ref};
use gateway_proto::fhir::{Node, xml};

use super::MESSAGE_DEFINITION;
use crate::document::{
    GPHC_SYSTEM, PROFILE_COMPOSITION, SDS_USER_SYSTEM, official_name, patient_resource,
};
use crate::envelope::{
    self, Envelope, ODS_SYSTEM, PROFILE_DOCUMENT_BUNDLE, RecipientType, UUID_SYSTEM, entry,
};
use crate::replacement::{self, MessageIds, Versioning};
use crate::rules::fhir_datetime;

const HL7_UK: &str = "https://fhir.hl7.org.uk/STU3/StructureDefinition/";
const PROFILE_BINARY: &str = "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Attachment-Binary-1";
/// NHS number verification status of CareConnect-Patient-1 (spec §5.5, §12 #18).
const VERIFICATION: (&str, &str) = (
    "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NHSNumberVerificationStatus-1",
    "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1",
);
const CARE_SETTING: &str =
    "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-CareSettingType-1";

/// A built message and the ids the gateway tracks it by.
pub(super) struct Built {
    pub(super) bundle: Node,
    pub(super) message_id: String,
    pub(super) bundle_identifier: String,
    pub(super) document_id: String,
    pub(super) sender_reference: String,
    pub(super) version: u32,
}

struct Ids {
    composition: String,
    patient: String,
    organization: String,
    practitioner: Option<String>,
    binary: String,
}

/// Builds the message. Ids are drawn in a fixed order: the four envelope ids, then
/// Composition, Patient, Organization, Practitioner (when there is an author), Binary.
pub(super) fn build(d: &DocumentCreated, pdf: &[u8], cx: &MapContext<'_>, mailbox: &str) -> Built {
    let m = MessageIds::draw(cx.ids);
    let next = || cx.ids.next_uuid().to_string();
    let ids = Ids {
        composition: next(),
        patient: next(),
        organization: next(),
        practitioner: d.author.as_ref().map(|_| next()),
        binary: next(),
    };
    let now = crate::fhir_instant(cx.now);
    let versioning = replacement::resolve(d.version, d.replaces.as_ref());
    let profile = |name: &str| meta(Some(&now), &format!("{HL7_UK}{name}"), vec![]);
    let mut resources = vec![
        (
            ids.patient.clone(),
            patient_resource(
                &ids.patient,
                &d.patient,
                profile("CareConnect-Patient-1"),
                VERIFICATION,
            ),
        ),
        (
            ids.organization.clone(),
            Node::resource("Organization", &ids.organization)
                .child("meta", profile("CareConnect-Organization-1"))
                .item(
                    "identifier",
                    identifier(ODS_SYSTEM, d.sender.ods_code.trim()),
                )
                .str("name", d.sender.name.trim()),
        ),
    ];
    if let (Some(id), Some(a)) = (&ids.practitioner, &d.author) {
        let mut idents = vec![identifier(UUID_SYSTEM, id)];
        idents.extend(
            a.sds_user_id
                .as_deref()
                .map(|s| identifier(SDS_USER_SYSTEM, s.trim())),
        );
        idents.extend(
            a.gphc_number
                .as_deref()
                .map(|g| identifier(GPHC_SYSTEM, g.trim())),
        );
        resources.push((
            id.clone(),
            Node::resource("Practitioner", id)
                .child("meta", profile("CareConnect-Practitioner-1"))
                .items("identifier", idents)
                .item("name", official_name(&a.family, &a.given)),
        ));
    }
    resources.push((
        ids.binary.clone(),
        Node::resource("Binary", &ids.binary)
            .child("meta", meta(Some(&now), PROFILE_BINARY, vec![]))
            .str("contentType", "application/pdf")
            .str("content", STANDARD.encode(pdf)),
    ));
    let comp = composition(d, &ids, &now, &versioning);
    let document = Node::resource("Bundle", &m.document)
        .child("meta", meta(Some(&now), PROFILE_DOCUMENT_BUNDLE, vec![]))
        .child("identifier", identifier(UUID_SYSTEM, &m.document))
        .str("type", "document")
        .item("entry", entry(&ids.composition, comp))
        .items("entry", resources.into_iter().map(|(id, r)| entry(&id, r)));
    let sender_reference = format!("urn:uuid:{}", ids.composition);
    let env = Envelope {
        bundle_id: &m.bundle,
        bundle_identifier: &m.bundle,
        header_id: &m.header,
        header_org_id: &m.header_org,
        event_code: "ITK007C",
        event_display: "ITK GP Connect Send Document",
        acks_requested: true,
        recipient_type: RecipientType::ForAction,
        message_definition: MESSAGE_DEFINITION,
        sender_reference: &sender_reference,
        sender_ods: d.sender.ods_code.trim(),
        timestamp: &now,
        source_endpoint: mailbox,
        response: None,
        focus: Some(&m.document),
    };
    let bundle = tracing::info_span!("wrap", { tm::GATEWAY_STAGE } = tm::STAGE_WRAP)
        .in_scope(|| envelope::message_bundle(&env, vec![entry(&m.document, document)]));
    Built {
        bundle,
        message_id: m.header,
        bundle_identifier: m.bundle,
        document_id: m.document,
        sender_reference,
        version: versioning.version,
    }
}

/// The patient's name as shown in the narrative and `Mex-Subject`.
pub(super) fn patient_name(d: &DocumentCreated) -> String {
    let p = &d.patient;
    p.given
        .iter()
        .map(|g| g.trim())
        .chain([p.family.trim()])
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn composition(d: &DocumentCreated, ids: &Ids, now: &str, v: &Versioning) -> Node {
    // §5.3: "[document-title] for [patient-name], NHS Number: [nhs-number], seen at
    // [practice-name], [ods-code], Version: [version-number]".
    let summary = format!(
        "{} for {}, NHS Number: {}, seen at {}, {}, Version: {}",
        d.title.trim(),
        patient_name(d),
        d.patient.nhs_number.trim(),
        d.sender.name.trim(),
        d.sender.ods_code.trim(),
        v.version
    );
    let text = Node::new("Narrative").str("status", "generated").xhtml(
        "div",
        format!(
            "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>{}</p></div>",
            xml::escape_text(&summary)
        ),
    );
    let care_setting = d.care_setting.as_ref().map(|c| {
        extension_node(
            CARE_SETTING,
            "valueCodeableConcept",
            snomed(c.code.trim(), c.display.trim()),
        )
    });
    let author = ids.practitioner.as_deref().unwrap_or(&ids.organization);
    let encounter = fhir_datetime(d.encounter_date.trim())
        .map(|date| Node::new("Composition.event").child("period", period(&date, None)));
    let mut section = Node::new("Composition.section")
        .item("entry", urn_ref(&ids.binary))
        .item("entry", urn_ref(&ids.patient))
        .item("entry", urn_ref(&ids.organization));
    if let Some(p) = &ids.practitioner {
        section = section.item("entry", urn_ref(p));
    }
    Node::resource("Composition", &ids.composition)
        .child(
            "meta",
            replacement::composition_meta(v, now, PROFILE_COMPOSITION),
        )
        .child("text", text)
        .items("extension", care_setting)
        .child("identifier", identifier(UUID_SYSTEM, &ids.composition))
        .str("status", "final")
        .child(
            "type",
            snomed(d.document_type.code.trim(), d.document_type.display.trim()),
        )
        .child("subject", urn_ref(&ids.patient))
        .str("date", now)
        .item("author", urn_ref(author))
        .str("title", d.title.trim())
        .child("custodian", urn_ref(&ids.organization))
        .items("relatesTo", replacement::relates_to(v))
        .items("event", encounter)
        .item("section", section)
}
