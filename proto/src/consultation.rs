//! Typed `data` of `uk.nhs.pharmacy.consultation.completed.v1` (contract §3 and §8): camelCase
//! names, optional fields absent (never `null`) when serialised.
//!
//! These types describe the shape only. Clinical and identifier rules (NHS number check digit,
//! SNOMED CT identifiers, dates, blood-pressure plausibility, consent) are enforced by the GP
//! Connect mapping plugin, which reports every problem by field name.

use serde::{Deserialize, Serialize};

use crate::replacement::Replacement;

/// CloudEvent `type` of a completed pharmacy consultation.
pub const EVENT_TYPE: &str = "uk.nhs.pharmacy.consultation.completed.v1";

/// The consultation event's `data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsultationCompleted {
    /// Service the consultation belongs to.
    pub service: Service,
    /// Patient agreed to share the record with the GP; required `true` for contraception.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<bool>,
    /// The patient.
    pub patient: Patient,
    /// The pharmacy (sender).
    pub pharmacy: Pharmacy,
    /// The pharmacist who saw the patient.
    pub practitioner: Practitioner,
    /// When the consultation happened.
    pub encounter: EncounterTimes,
    /// Presenting complaint (SNOMED CT, Health issues refset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presenting_complaint: Option<Coded>,
    /// PRSB free-text headings.
    pub clinical_notes: ClinicalNotes,
    /// Measurements and findings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub observations: Vec<ObservationInput>,
    /// Medicines supplied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub medications_supplied: Vec<MedicationSupplied>,
    /// Document version, 1 for a first message, 2, 3, … for replacements (default 1, or 2
    /// when `replaces` is given): `Composition.meta.versionId` and the `Mex-Subject` version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// The earlier message this one corrects (see [`crate::replacement`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<Replacement>,
}

/// Update Record services (spec itk3-gpconnect §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Service {
    /// Pharmacy First (minor illness incl. common conditions).
    PharmacyFirst,
    /// Blood Pressure Check Service.
    BloodPressureCheck,
    /// Contraception Service.
    Contraception,
    /// Urgent supply of prescription items.
    UrgentSupply,
}

impl Service {
    /// Every service, in contract order.
    pub const ALL: [Service; 4] = [
        Self::PharmacyFirst,
        Self::BloodPressureCheck,
        Self::Contraception,
        Self::UrgentSupply,
    ];

    /// The contract's string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PharmacyFirst => "pharmacy-first",
            Self::BloodPressureCheck => "blood-pressure-check",
            Self::Contraception => "contraception",
            Self::UrgentSupply => "urgent-supply",
        }
    }
}

/// Administrative gender (FHIR `AdministrativeGender`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Gender {
    /// male
    Male,
    /// female
    Female,
    /// other
    Other,
    /// unknown
    Unknown,
}

impl Gender {
    /// FHIR code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Male => "male",
            Self::Female => "female",
            Self::Other => "other",
            Self::Unknown => "unknown",
        }
    }
}

/// The patient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Patient {
    /// 10-digit NHS number.
    pub nhs_number: String,
    /// Surname.
    pub family: String,
    /// Given names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub given: Vec<String>,
    /// Date of birth, `YYYY-MM-DD`.
    pub birth_date: String,
    /// Administrative gender.
    pub gender: Gender,
    /// Address lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<AddressInput>,
    /// Postcode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
}

/// An address as lines, or as one line of text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AddressInput {
    /// Address lines.
    Lines(Vec<String>),
    /// One line.
    Text(String),
}

impl AddressInput {
    /// The address as lines.
    pub fn lines(&self) -> Vec<&str> {
        match self {
            Self::Lines(l) => l.iter().map(String::as_str).collect(),
            Self::Text(t) => vec![t.as_str()],
        }
    }
}

/// The pharmacy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pharmacy {
    /// ODS organisation code.
    pub ods_code: String,
    /// Name shown to GP users.
    pub name: String,
}

/// The practitioner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Practitioner {
    /// Surname.
    pub family: String,
    /// Given names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub given: Vec<String>,
    /// GPhC registration number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gphc_number: Option<String>,
    /// SDS user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sds_user_id: Option<String>,
    /// SDS job role code (default `R1290` Pharmacist).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// Consultation start and end (RFC 3339 date-times, or dates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncounterTimes {
    /// Start.
    pub start: String,
    /// End.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

/// A SNOMED CT code with its display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Coded {
    /// Concept id.
    pub code: String,
    /// Display text.
    pub display: String,
}

/// PRSB headings as free text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClinicalNotes {
    /// Clinical summary (mandatory in the PRSB community pharmacy standard).
    pub clinical_summary: String,
    /// History.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<String>,
    /// Information and advice given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub information_and_advice_given: Option<String>,
    /// Plan and requested actions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_and_requested_actions: Option<String>,
    /// Red flags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub red_flags: Option<String>,
    /// Signpost details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signpost_details: Option<String>,
}

/// Kind of observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObservationKind {
    /// Blood pressure (`position`, `systolic`, `diastolic`).
    BloodPressure,
    /// Pulse rate, beats per minute.
    Pulse,
    /// Height, cm.
    Height,
    /// Weight, kg.
    Weight,
    /// Body mass index, kg/m2.
    Bmi,
    /// Body temperature, °C.
    Temperature,
    /// Pregnancy status (`pregnant` / `not-pregnant`).
    PregnancyStatus,
}

/// Blood-pressure position, selecting the SNOMED CT code triplet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BpPosition {
    /// Sitting.
    Sitting,
    /// Standing.
    Standing,
    /// Lying.
    Lying,
    /// Not stated.
    Unspecified,
    /// Baseline.
    Baseline,
    /// Average ambulatory (ABPM).
    AmbulatoryAverage,
    /// Self-measured.
    SelfMeasured,
}

/// A number or a code as an observation value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ObservationValue {
    /// Numeric measurement.
    Number(f64),
    /// Coded value (`pregnant`, `not-pregnant`).
    Code(String),
}

/// One observation. Flat rather than tagged so that every field can be reported by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObservationInput {
    /// Kind.
    #[serde(rename = "type")]
    pub kind: ObservationKind,
    /// Blood pressure only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<BpPosition>,
    /// Blood pressure only, `mm[Hg]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub systolic: Option<f64>,
    /// Blood pressure only, `mm[Hg]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diastolic: Option<f64>,
    /// Every other kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<ObservationValue>,
    /// When measured (default: the encounter start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective: Option<String>,
}

/// A medicine supplied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MedicationSupplied {
    /// dm+d AMP code.
    pub code: String,
    /// dm+d name.
    pub display: String,
    /// Amount supplied.
    pub quantity: SupplyQuantity,
    /// Dosage text.
    pub dosage_text: String,
    /// Patient instruction.
    pub patient_instruction: String,
    /// CareConnect-MedicationSupplyType-1 code.
    pub supply_type: String,
    /// Days of treatment supplied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_supply: Option<u32>,
    /// The supply was offered but declined (urgent supply): recorded as a `stopped` dispense.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub declined: bool,
}

/// Quantity supplied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupplyQuantity {
    /// Amount.
    pub value: f64,
    /// Unit of the dose form (`capsule`, `tablet`, …).
    pub unit: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_example_round_trips_without_nulls() {
        let data = serde_json::json!({
            "service": "pharmacy-first", "consent": true,
            "patient": {"nhsNumber": "9000000009", "family": "Smith", "given": ["John"],
                        "birthDate": "1970-01-01", "gender": "male", "postcode": "LS1 1AA"},
            "pharmacy": {"odsCode": "FA001", "name": "High Street Pharmacy"},
            "practitioner": {"family": "Patel", "given": ["Asha"], "gphcNumber": "2012345"},
            "encounter": {"start": "2026-11-20T09:40:00Z"},
            "clinicalNotes": {"clinicalSummary": "x"},
            "observations": [{"type": "blood-pressure", "position": "sitting",
                              "systolic": 128, "diastolic": 82},
                             {"type": "pregnancy-status", "value": "not-pregnant"}],
            "medicationsSupplied": [{"code": "1", "display": "d",
                "quantity": {"value": 28, "unit": "capsule"}, "dosageText": "t",
                "patientInstruction": "p", "supplyType": "patient-group-direction"}]
        });
        let c: ConsultationCompleted = serde_json::from_value(data.clone()).unwrap();
        assert_eq!(c.service, Service::PharmacyFirst);
        assert_eq!(
            c.observations[1].value,
            Some(ObservationValue::Code("not-pregnant".into()))
        );
        let back = serde_json::to_string(&c).unwrap();
        assert!(!back.contains("null"));
        assert_eq!(Service::ALL.map(Service::as_str)[3], "urgent-supply");
    }
}
