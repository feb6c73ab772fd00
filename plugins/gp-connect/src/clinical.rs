//! Clinical resources of the Update Record document: ClinicalImpression per PRSB heading,
//! Condition for the presenting complaint, Observations and MedicationDispenses (spec §4.2).

use gateway_proto::consultation::{
    BpPosition, MedicationSupplied, ObservationInput, ObservationKind, ObservationValue,
};
use gateway_proto::fhir::Node;
use gateway_proto::fhir::datatypes::{
    SNOMED, UCUM, concept_text, identifier, quantity, snomed, urn_ref,
};

use crate::codes::{self, heading, heading::Heading};
use crate::document::Doc;
use crate::envelope::UUID_SYSTEM;
use crate::rules::fhir_datetime;

const OBSERVATION_CATEGORY: &str = "http://hl7.org/fhir/observation-category";
const DISPENSE_CATEGORY: &str = "http://hl7.org/fhir/medication-dispense-category";
const SUPPLY_TYPE_SYSTEM: &str =
    "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-MedicationSupplyType-1";
const DMD: &str = "https://dmd.nhs.uk";

/// The PRSB headings present in the notes, clinical summary first.
pub(crate) fn headings(d: &gateway_proto::consultation::ClinicalNotes) -> Vec<(Heading, &str)> {
    [
        (heading::CLINICAL_SUMMARY, Some(&d.clinical_summary)),
        (heading::HISTORY, d.history.as_ref()),
        (heading::ADVICE, d.information_and_advice_given.as_ref()),
        (heading::PLAN, d.plan_and_requested_actions.as_ref()),
        (heading::RED_FLAGS, d.red_flags.as_ref()),
        (heading::SIGNPOST, d.signpost_details.as_ref()),
    ]
    .into_iter()
    .filter_map(|(h, text)| {
        text.map(|t| t.trim())
            .filter(|t| !t.is_empty())
            .map(|t| (h, t))
    })
    .collect()
}

/// One ClinicalImpression (CareConnect-GPC-ClinicalImpression-1) for a heading.
pub(crate) fn impression(d: &Doc<'_>, id: &str, h: Heading, text: &str) -> Node {
    Node::resource("ClinicalImpression", id)
        .child("meta", d.meta("ClinicalImpression", Some(h)))
        .item("identifier", identifier(UUID_SYSTEM, id))
        .str("status", "completed")
        .child("subject", urn_ref(&d.ids.patient))
        .child("context", urn_ref(&d.ids.encounter))
        .str("date", d.concluded())
        .child("assessor", urn_ref(&d.ids.practitioner))
        .str("summary", text)
}

/// The presenting complaint (CareConnect-GPC-Condition-1), never a GP "problem".
pub(crate) fn condition(d: &Doc<'_>, id: &str) -> Option<Node> {
    let pc = d.c.presenting_complaint.as_ref()?;
    Some(
        Node::resource("Condition", id)
            .child("meta", d.meta("Condition", Some(heading::PRESENTING)))
            .item("identifier", identifier(UUID_SYSTEM, id))
            .str("clinicalStatus", "active")
            .child("code", snomed(pc.code.trim(), pc.display.trim()))
            .child("subject", urn_ref(&d.ids.patient))
            .child("context", urn_ref(&d.ids.encounter))
            .str("assertedDate", &d.start)
            .child("asserter", urn_ref(&d.ids.practitioner)),
    )
}

/// Decimal in FHIR lexical form (`128`, `80.5`).
fn decimal(v: f64) -> String {
    format!("{v}")
}

/// One Observation (CareConnect-GPC-Observation-1). Input was validated, so a missing value
/// cannot occur; `None` is returned rather than panicking if it ever does.
pub(crate) fn observation(d: &Doc<'_>, id: &str, o: &ObservationInput) -> Option<Node> {
    let effective = o
        .effective
        .as_deref()
        .and_then(fhir_datetime)
        .unwrap_or_else(|| d.start.clone());
    let social = o.kind == ObservationKind::PregnancyStatus;
    let (category, category_display) = if social {
        ("social-history", "Social History")
    } else {
        ("vital-signs", "Vital Signs")
    };
    let (code, value, components) = match o.kind {
        ObservationKind::BloodPressure => {
            let (header, sys, dia) =
                codes::bp_triplet(o.position.unwrap_or(BpPosition::Unspecified));
            let component = |c: codes::Code, v: f64| {
                Node::new("Observation.component")
                    .child("code", snomed(c.0, c.1))
                    .child(
                        "valueQuantity",
                        quantity(&decimal(v), codes::MM_HG.1, UCUM, codes::MM_HG.0),
                    )
            };
            (
                header,
                None,
                vec![component(sys, o.systolic?), component(dia, o.diastolic?)],
            )
        }
        ObservationKind::PregnancyStatus => match &o.value {
            Some(ObservationValue::Code(v)) => (codes::pregnancy(v)?, None, vec![]),
            _ => return None,
        },
        kind => {
            let (code, ucum, unit) = codes::vital_sign(kind)?;
            let Some(ObservationValue::Number(v)) = o.value else {
                return None;
            };
            (code, Some(quantity(&decimal(v), unit, UCUM, ucum)), vec![])
        }
    };
    Some(
        Node::resource("Observation", id)
            .child(
                "meta",
                d.meta("Observation", social.then_some(heading::PREGNANCY)),
            )
            .item("identifier", identifier(UUID_SYSTEM, id))
            .str("status", "final")
            .item(
                "category",
                concept_text(OBSERVATION_CATEGORY, category, category_display),
            )
            .child("code", snomed(code.0, code.1))
            .child("subject", urn_ref(&d.ids.patient))
            .child("context", urn_ref(&d.ids.encounter))
            .str("effectiveDateTime", effective)
            .str("issued", &d.now)
            .item("performer", urn_ref(&d.ids.practitioner))
            .opt_child("valueQuantity", value)
            .items("component", components),
    )
}

/// One MedicationDispense (CareConnect-GPC-MedicationDispense-1) with a dm+d AMP code.
pub(crate) fn dispense(d: &Doc<'_>, id: &str, m: &MedicationSupplied) -> Option<Node> {
    let unit = codes::dose_unit(&m.quantity.unit)?;
    let supply = codes::supply_type(&m.supply_type)?;
    let performer = Node::new("MedicationDispense.performer")
        .child("actor", urn_ref(&d.ids.practitioner))
        .child("onBehalfOf", urn_ref(&d.ids.organization));
    let days = m
        .days_supply
        .map(|n| quantity(&n.to_string(), "day", UCUM, "d"));
    let dosage = Node::new("Dosage")
        .str("text", m.dosage_text.trim())
        .str("patientInstruction", m.patient_instruction.trim());
    Some(
        Node::resource("MedicationDispense", id)
            .child("meta", d.meta("MedicationDispense", None))
            .item("identifier", identifier(UUID_SYSTEM, id))
            .str("status", if m.declined { "stopped" } else { "completed" })
            .child(
                "category",
                concept_text(DISPENSE_CATEGORY, "community", "Community"),
            )
            .child(
                "medicationCodeableConcept",
                concept_text(DMD, m.code.trim(), m.display.trim()),
            )
            .child("subject", urn_ref(&d.ids.patient))
            .child("context", urn_ref(&d.ids.encounter))
            .item("performer", performer)
            .child(
                "type",
                concept_text(SUPPLY_TYPE_SYSTEM, &m.supply_type, supply),
            )
            .child(
                "quantity",
                quantity(&decimal(m.quantity.value), unit.1, SNOMED, unit.0),
            )
            .opt_child("daysSupply", days)
            .str("whenHandedOver", d.concluded())
            .item("dosageInstruction", dosage),
    )
}
