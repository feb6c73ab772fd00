//! The Update Record document bundle (spec §4.1/§4.2): Composition first, then the Encounter,
//! the pharmacy, the pharmacist and their role, the Patient and the clinical resources. Every
//! builder writes children in STU3 order (checked by `fhir::order` in the golden tests).

use gateway_core::IdSource;
use gateway_proto::consultation::{ConsultationCompleted, Patient};
use gateway_proto::fhir::Node;
use gateway_proto::fhir::datatypes::{
    concept, concept_text, extension_node, identifier, meta, period, snomed, urn_ref,
};

use crate::codes::{self, ServiceInfo, heading::Heading};
use crate::envelope::{PROFILE_DOCUMENT_BUNDLE, UUID_SYSTEM, entry};
use crate::replacement::{self, Versioning};

pub(crate) const GPC: &str = "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-";
pub(crate) const PROFILE_COMPOSITION: &str =
    "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Composition-1";
pub(crate) const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";
const NHS_VERIFICATION_EXT: &str = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-NHSNumberVerificationStatus-1";
const NHS_VERIFICATION_SYSTEM: &str =
    "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1";
pub(crate) const GPHC_SYSTEM: &str = "https://fhir.hl7.org.uk/Id/gphc-number";
pub(crate) const SDS_USER_SYSTEM: &str = "https://fhir.nhs.uk/Id/sds-user-id";
const PARTICIPANT_TYPE_SYSTEM: &str =
    "https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-ParticipantType-1";
const JOB_ROLE_SYSTEM: &str = "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-SDSJobRoleName-1";
const HEADINGS_SYSTEM: &str = "https://fhir.nhs.uk/CodeSystem/RecordStandardHeadings";

/// Resource ids of one document, drawn in a fixed order so that output is reproducible.
pub(crate) struct DocIds {
    pub(crate) composition: String,
    pub(crate) encounter: String,
    pub(crate) organization: String,
    pub(crate) practitioner: String,
    pub(crate) role: String,
    pub(crate) patient: String,
    pub(crate) condition: Option<String>,
    pub(crate) observations: Vec<String>,
    pub(crate) dispenses: Vec<String>,
    pub(crate) impressions: Vec<String>,
}

impl DocIds {
    pub(crate) fn draw(ids: &dyn IdSource, c: &ConsultationCompleted, headings: usize) -> Self {
        let next = || ids.next_uuid().to_string();
        Self {
            composition: next(),
            encounter: next(),
            organization: next(),
            practitioner: next(),
            role: next(),
            patient: next(),
            condition: c.presenting_complaint.as_ref().map(|_| next()),
            observations: c.observations.iter().map(|_| next()).collect(),
            dispenses: c.medications_supplied.iter().map(|_| next()).collect(),
            impressions: (0..headings).map(|_| next()).collect(),
        }
    }
}

/// What every builder needs: the event, the ids, the service and the normalised times.
pub(crate) struct Doc<'a> {
    pub(crate) c: &'a ConsultationCompleted,
    pub(crate) ids: DocIds,
    pub(crate) service: ServiceInfo,
    /// `meta.lastUpdated`, `Composition.date`, `Observation.issued` (message build time).
    pub(crate) now: String,
    /// Encounter start (FHIR dateTime).
    pub(crate) start: String,
    /// Encounter end (FHIR dateTime).
    pub(crate) end: Option<String>,
    /// Document version and the document it replaces.
    pub(crate) versioning: Versioning,
}

impl Doc<'_> {
    /// When the consultation concluded: its end, else its start.
    pub(crate) fn concluded(&self) -> &str {
        self.end.as_deref().unwrap_or(&self.start)
    }

    /// `meta` with lastUpdated and the CareConnect-GPC profile `name`, plus heading tags.
    pub(crate) fn meta(&self, profile: &str, tag: Option<Heading>) -> Node {
        let tags = tag.map(|(code, display)| {
            gateway_proto::fhir::datatypes::coding(HEADINGS_SYSTEM, code, Some(display))
        });
        meta(
            Some(&self.now),
            &format!("{GPC}{profile}-1"),
            tags.into_iter().collect(),
        )
    }

    /// Composition title: "<pharmacy name> - <service display>".
    pub(crate) fn title(&self) -> String {
        format!("{} - {}", self.c.pharmacy.name.trim(), self.service.display)
    }
}

/// The document bundle: Composition first, the `(id, resource)` list after it.
pub(crate) fn document_bundle(
    bundle_id: &str,
    d: &Doc<'_>,
    resources: Vec<(String, Node)>,
) -> Node {
    let composition = composition(d, resources.iter().map(|(id, _)| id.as_str()));
    Node::resource("Bundle", bundle_id)
        .child("meta", meta(Some(&d.now), PROFILE_DOCUMENT_BUNDLE, vec![]))
        .child("identifier", identifier(UUID_SYSTEM, bundle_id))
        .str("type", "document")
        .item("entry", entry(&d.ids.composition, composition))
        .items("entry", resources.into_iter().map(|(id, r)| entry(&id, r)))
}

fn composition<'a>(d: &Doc<'_>, section_ids: impl Iterator<Item = &'a str>) -> Node {
    let section = Node::new("Composition.section").items("entry", section_ids.map(urn_ref));
    Node::resource("Composition", &d.ids.composition)
        .child(
            "meta",
            replacement::composition_meta(&d.versioning, &d.now, PROFILE_COMPOSITION),
        )
        .child("identifier", identifier(UUID_SYSTEM, &d.ids.composition))
        .str("status", "final")
        .child("type", snomed(d.service.code, d.service.display))
        .child("subject", urn_ref(&d.ids.patient))
        .child("encounter", urn_ref(&d.ids.encounter))
        .str("date", &d.now)
        .item("author", urn_ref(&d.ids.practitioner))
        .str("title", d.title())
        .child("custodian", urn_ref(&d.ids.organization))
        .items("relatesTo", replacement::relates_to(&d.versioning))
        .item("section", section)
}

/// Encounter (CareConnect-GPC-Encounter-1); its urn:uuid is the SenderReference.
pub(crate) fn encounter(d: &Doc<'_>) -> Node {
    let participant = Node::new("Encounter.participant")
        .item(
            "type",
            concept(PARTICIPANT_TYPE_SYSTEM, "REC", None, Some("recorder")),
        )
        .child("individual", urn_ref(&d.ids.practitioner));
    Node::resource("Encounter", &d.ids.encounter)
        .child("meta", d.meta("Encounter", None))
        .item("identifier", identifier(UUID_SYSTEM, &d.ids.encounter))
        .str("status", "finished")
        .item(
            "type",
            snomed(codes::ENCOUNTER_TYPE.0, codes::ENCOUNTER_TYPE.1),
        )
        .child("subject", urn_ref(&d.ids.patient))
        .item("participant", participant)
        .child("period", period(&d.start, d.end.as_deref()))
        .item("reason", snomed(d.service.code, d.service.display))
        .child("serviceProvider", urn_ref(&d.ids.organization))
}

/// The pharmacy (CareConnect-GPC-Organization-1).
pub(crate) fn organization(d: &Doc<'_>) -> Node {
    Node::resource("Organization", &d.ids.organization)
        .child("meta", d.meta("Organization", None))
        .item(
            "identifier",
            identifier(crate::envelope::ODS_SYSTEM, d.c.pharmacy.ods_code.trim()),
        )
        .str("name", d.c.pharmacy.name.trim())
}

/// The pharmacist (CareConnect-GPC-Practitioner-1).
pub(crate) fn practitioner(d: &Doc<'_>) -> Node {
    let p = &d.c.practitioner;
    let mut ids = vec![identifier(UUID_SYSTEM, &d.ids.practitioner)];
    if let Some(gphc) = &p.gphc_number {
        ids.push(identifier(GPHC_SYSTEM, gphc.trim()));
    }
    if let Some(sds) = &p.sds_user_id {
        ids.push(identifier(SDS_USER_SYSTEM, sds.trim()));
    }
    Node::resource("Practitioner", &d.ids.practitioner)
        .child("meta", d.meta("Practitioner", None))
        .items("identifier", ids)
        .item("name", official_name(&p.family, &p.given))
}

/// The pharmacist's role at the pharmacy (CareConnect-GPC-PractitionerRole-1).
pub(crate) fn practitioner_role(d: &Doc<'_>) -> Node {
    let code = d.c.practitioner.role.as_deref().unwrap_or("R1290");
    let display = codes::job_role(code).unwrap_or("Pharmacist");
    Node::resource("PractitionerRole", &d.ids.role)
        .child("meta", d.meta("PractitionerRole", None))
        .item("identifier", identifier(UUID_SYSTEM, &d.ids.role))
        .child("practitioner", urn_ref(&d.ids.practitioner))
        .child("organization", urn_ref(&d.ids.organization))
        .item("code", concept_text(JOB_ROLE_SYSTEM, code, display))
}

/// The patient (CareConnect-GPC-Patient-1): NHS number with verification status 01.
pub(crate) fn patient(d: &Doc<'_>) -> Node {
    patient_resource(
        &d.ids.patient,
        &d.c.patient,
        d.meta("Patient", None),
        (NHS_VERIFICATION_EXT, NHS_VERIFICATION_SYSTEM),
    )
}

/// A Patient with its NHS number (verification status 01 "Number present and verified", with
/// the `(extension url, code system)` of the profile), official name, gender, birth date and
/// address.
pub(crate) fn patient_resource(
    id: &str,
    p: &Patient,
    meta: Node,
    (extension, system): (&str, &str),
) -> Node {
    let verification = extension_node(
        extension,
        "valueCodeableConcept",
        concept_text(system, "01", "Number present and verified"),
    );
    let nhs = Node::new("Identifier")
        .item("extension", verification)
        .str("system", NHS_NUMBER_SYSTEM)
        .str("value", p.nhs_number.trim());
    let lines: Vec<&str> = p
        .address
        .as_ref()
        .map(|a| {
            a.lines()
                .into_iter()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let postcode = p
        .postcode
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let address = (!lines.is_empty() || postcode.is_some()).then(|| {
        Node::new("Address")
            .str_items("line", lines)
            .opt_str("postalCode", postcode)
    });
    Node::resource("Patient", id)
        .child("meta", meta)
        .item("identifier", nhs)
        .item("name", official_name(&p.family, &p.given))
        .str("gender", p.gender.as_str())
        .str("birthDate", p.birth_date.trim())
        .items("address", address)
}

/// A `HumanName` with use `official`.
pub(crate) fn official_name(family: &str, given: &[String]) -> Node {
    Node::new("HumanName")
        .str("use", "official")
        .str("family", family.trim())
        .str_items(
            "given",
            given.iter().map(|g| g.trim()).filter(|g| !g.is_empty()),
        )
}
