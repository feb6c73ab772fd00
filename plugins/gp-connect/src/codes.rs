//! Terminology the Update Record mapping emits (spec itk3-gpconnect §4.3), kept in one place so
//! that a code change is one edit. Every SNOMED CT id here passes the Verhoeff check (tested).

use gateway_proto::consultation::{BpPosition, ObservationKind, Service};

/// Service SNOMED CT code and display (Composition.type, Encounter.reason).
pub(crate) struct ServiceInfo {
    /// SNOMED CT concept id.
    pub(crate) code: &'static str,
    /// Display (the Update Record code list's wording).
    pub(crate) display: &'static str,
    /// The consultation is shared only when the patient agreed.
    pub(crate) needs_consent: bool,
    /// The service is about blood pressure, so a reading is expected.
    pub(crate) needs_blood_pressure: bool,
}

/// The row for a service.
pub(crate) fn service(s: Service) -> ServiceInfo {
    let (code, display) = match s {
        Service::PharmacyFirst => (
            "1577041000000109",
            "Community Pharmacist Consultation Service for minor illness",
        ),
        Service::BloodPressureCheck => (
            "1659111000000107",
            "Community Pharmacy Blood Pressure Check Service",
        ),
        Service::Contraception => (
            "1659121000000101",
            "Community Pharmacy Contraception Service",
        ),
        Service::UrgentSupply => (
            "1577321000000100",
            "Community Pharmacist Consultation Service for urgent supply of prescription items",
        ),
    };
    ServiceInfo {
        code,
        display,
        needs_consent: s == Service::Contraception,
        needs_blood_pressure: s == Service::BloodPressureCheck,
    }
}

/// Encounter.type of every pharmacy consultation.
pub(crate) const ENCOUNTER_TYPE: (&str, &str) = ("307778003", "Seen in primary care establishment");

/// A SNOMED CT code with display.
pub(crate) type Code = (&'static str, &'static str);

/// Blood-pressure triplet `(header, systolic, diastolic)` for a position (§4.3 table).
pub(crate) fn bp_triplet(p: BpPosition) -> (Code, Code, Code) {
    match p {
        BpPosition::Unspecified => (
            ("163020007", "On examination - blood pressure reading"),
            ("271649006", "Systolic blood pressure"),
            ("271650006", "Diastolic blood pressure"),
        ),
        BpPosition::Sitting => (
            ("163035008", "Sitting blood pressure reading"),
            ("407554009", "Sitting systolic blood pressure"),
            ("407555005", "Sitting diastolic blood pressure"),
        ),
        BpPosition::Standing => (
            ("163034007", "Standing blood pressure reading"),
            ("400974009", "Standing systolic blood pressure"),
            ("400975005", "Standing diastolic blood pressure"),
        ),
        BpPosition::Lying => (
            ("163033001", "Lying blood pressure reading"),
            ("407556006", "Lying systolic blood pressure"),
            ("407557002", "Lying diastolic blood pressure"),
        ),
        BpPosition::Baseline => (
            ("928021000000108", "Baseline blood pressure"),
            ("716579001", "Baseline systolic blood pressure"),
            ("716632005", "Baseline diastolic blood pressure"),
        ),
        BpPosition::AmbulatoryAverage => (
            ("2181371000000107", "Average ambulatory blood pressure"),
            (
                "2181381000000109",
                "Average ambulatory systolic blood pressure",
            ),
            (
                "2181391000000106",
                "Average ambulatory diastolic blood pressure",
            ),
        ),
        BpPosition::SelfMeasured => (
            ("335661000000109", "Self measured blood pressure reading"),
            ("1162737008", "Self measured systolic blood pressure"),
            ("1162735000", "Self measured diastolic blood pressure"),
        ),
    }
}

/// UCUM unit `(code, human unit)` for blood pressure.
pub(crate) const MM_HG: (&str, &str) = ("mm[Hg]", "mm[Hg]");

/// Vital sign `(SNOMED code, UCUM code, unit text)` of a numeric observation kind.
pub(crate) fn vital_sign(kind: ObservationKind) -> Option<(Code, &'static str, &'static str)> {
    Some(match kind {
        ObservationKind::Pulse => (
            ("78564009", "Heart rate measured at systemic artery"),
            "{beats}/min",
            "beats/minute",
        ),
        ObservationKind::Height => (("50373000", "Body height measure"), "cm", "cm"),
        ObservationKind::Weight => (("27113001", "Body weight"), "kg", "kg"),
        ObservationKind::Bmi => (("60621009", "Body mass index"), "kg/m2", "kg/m2"),
        ObservationKind::Temperature => (("703421000", "Temperature"), "Cel", "degree Celsius"),
        ObservationKind::BloodPressure | ObservationKind::PregnancyStatus => return None,
    })
}

/// Pregnancy status code for the event's value.
pub(crate) fn pregnancy(value: &str) -> Option<Code> {
    match value {
        "pregnant" => Some(("77386006", "Patient currently pregnant")),
        "not-pregnant" => Some(("60001007", "Not pregnant")),
        _ => None,
    }
}

/// Accepted pregnancy status values (for error messages).
pub(crate) const PREGNANCY_VALUES: &str = "pregnant, not-pregnant";

/// dm+d unit of measure (SNOMED CT) for a supplied quantity's unit.
pub(crate) fn dose_unit(unit: &str) -> Option<Code> {
    Some(match unit.to_ascii_lowercase().as_str() {
        "capsule" | "capsules" => ("428641000", "Capsule"),
        "tablet" | "tablets" => ("428673006", "Tablet"),
        "ml" => ("258773002", "ml"),
        "gram" | "grams" | "g" => ("258682000", "gram"),
        "dose" | "doses" => ("3317411000001100", "dose"),
        _ => return None,
    })
}

/// Accepted quantity units (for error messages).
pub(crate) const DOSE_UNITS: &str = "capsule, tablet, ml, gram, dose";

/// CareConnect-MedicationSupplyType-1 display for a code.
pub(crate) fn supply_type(code: &str) -> Option<&'static str> {
    Some(match code {
        "over-the-counter" => "Over the counter",
        "emergency-supply" => "Emergency supply",
        "patient-group-direction" => "Patient group direction",
        "minor-ailments-scheme" => "Minor ailments scheme",
        "prescription-dispensing" => "Prescription dispensing",
        "private-prescription-dispensing" => "Private prescription dispensing",
        "self-declared" => "Self declared",
        _ => return None,
    })
}

/// SDS job role display for a role code (default R1290 Pharmacist).
pub(crate) fn job_role(code: &str) -> Option<&'static str> {
    match code {
        "R1290" => Some("Pharmacist"),
        "R1300" => Some("Pharmacist Manager"),
        _ => None,
    }
}

/// RecordStandardHeadings codes used by the mapping.
pub(crate) mod heading {
    /// A heading `(code, display)`.
    pub(crate) type Heading = (&'static str, &'static str);
    pub(crate) const CLINICAL_SUMMARY: Heading = ("clinical-summary", "Clinical summary");
    pub(crate) const HISTORY: Heading = ("history", "History");
    pub(crate) const ADVICE: Heading = (
        "information-and-advice-given",
        "Information and advice given",
    );
    pub(crate) const PLAN: Heading = ("plan-and-requested-actions", "Plan and requested actions");
    pub(crate) const RED_FLAGS: Heading = ("red-flags", "Red flags");
    pub(crate) const SIGNPOST: Heading = ("signpost-details", "Signpost details");
    pub(crate) const PRESENTING: Heading = (
        "presenting-complaints-or-issues",
        "Presenting complaints or issues",
    );
    pub(crate) const PREGNANCY: Heading = ("pregnancy-status", "Pregnancy status");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::concept_id_valid;

    #[test]
    fn every_code_is_a_valid_concept_id() {
        let mut codes: Vec<&str> = vec![ENCOUNTER_TYPE.0];
        for s in Service::ALL {
            codes.push(service(s).code);
        }
        for p in [
            BpPosition::Unspecified,
            BpPosition::Sitting,
            BpPosition::Standing,
            BpPosition::Lying,
            BpPosition::Baseline,
            BpPosition::AmbulatoryAverage,
            BpPosition::SelfMeasured,
        ] {
            let (h, s, d) = bp_triplet(p);
            codes.extend([h.0, s.0, d.0]);
        }
        for k in [
            ObservationKind::Pulse,
            ObservationKind::Height,
            ObservationKind::Weight,
            ObservationKind::Bmi,
            ObservationKind::Temperature,
        ] {
            codes.push(vital_sign(k).unwrap().0.0);
        }
        for v in ["pregnant", "not-pregnant"] {
            codes.push(pregnancy(v).unwrap().0);
        }
        for u in ["capsule", "tablet", "ml", "gram", "dose"] {
            codes.push(dose_unit(u).unwrap().0);
        }
        for c in codes {
            assert!(concept_id_valid(c), "{c}");
        }
    }
}
