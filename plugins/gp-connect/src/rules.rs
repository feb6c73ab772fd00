//! Clinical and identifier rules on a well-shaped event. Each problem names the field and the
//! rule, never the value (values are patient data).

use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat};
use gateway_proto::consultation::{
    ConsultationCompleted, ObservationInput, ObservationKind, ObservationValue, Patient,
    Practitioner,
};

use crate::checks::{concept_id_valid, nhs_number_valid};
use crate::codes;

/// A FHIR `dateTime` from an RFC 3339 date-time (normalised, `Z` for UTC) or a `YYYY-MM-DD` date.
pub(crate) fn fhir_datetime(s: &str) -> Option<String> {
    if s.len() == 10 {
        return NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .map(|_| s.to_owned());
    }
    // chrono also accepts a space or lower-case `t` as separator; FHIR does not.
    if s.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// NHS number, birth date and single-line names of `data.patient`.
pub(crate) fn check_patient(pt: &Patient, now: DateTime<FixedOffset>, p: &mut Vec<String>) {
    if !nhs_number_valid(&pt.nhs_number) {
        p.push("data.patient.nhsNumber is not a valid NHS number (10 digits, modulus 11)".into());
    }
    match NaiveDate::parse_from_str(&pt.birth_date, "%Y-%m-%d") {
        Ok(d) if pt.birth_date.len() == 10 => {
            if d > now.date_naive() {
                p.push("data.patient.birthDate is in the future".into());
            }
        }
        _ => p.push("data.patient.birthDate must be a date in the form YYYY-MM-DD".into()),
    }
    let single_line = [
        ("data.patient.nhsNumber", Some(&pt.nhs_number)),
        ("data.patient.family", Some(&pt.family)),
        ("data.patient.postcode", pt.postcode.as_ref()),
    ];
    for (path, value) in single_line {
        if value.is_some_and(|v| v.chars().any(char::is_control)) {
            p.push(format!("{path} must not contain control characters"));
        }
    }
    if pt.given.iter().any(|g| g.chars().any(char::is_control)) {
        p.push("data.patient.given must not contain control characters".into());
    }
    // The routing address carries the surname; MESH takes at most 100 characters in Mex-To,
    // and a cut surname would no longer match the Patient (spec mesh §3.1, §10.1).
    let mex_to = crate::mesh::mex_to(&pt.nhs_number, &pt.birth_date, &pt.family);
    if mex_to.chars().count() > crate::mesh::MAX_MEX_TO_CHARS {
        p.push(format!(
            "data.patient.family is too long for the MESH routing address (Mex-To holds at \
             most {} characters)",
            crate::mesh::MAX_MEX_TO_CHARS
        ));
    }
}

/// An ODS code: 3 to 10 letters or digits.
pub(crate) fn check_ods(ods: &str, path: &str, p: &mut Vec<String>) {
    if !(3..=10).contains(&ods.len()) || !ods.bytes().all(|b| b.is_ascii_alphanumeric()) {
        p.push(format!("{path} must be 3 to 10 letters or digits"));
    }
}

/// Single-line fields of a practitioner / author at `path`.
pub(crate) fn check_practitioner_text(pr: &Practitioner, path: &str, p: &mut Vec<String>) {
    let fields = [
        ("family", Some(&pr.family)),
        ("gphcNumber", pr.gphc_number.as_ref()),
        ("sdsUserId", pr.sds_user_id.as_ref()),
    ];
    for (name, value) in fields {
        if value.is_some_and(|v| v.chars().any(char::is_control)) {
            p.push(format!("{path}.{name} must not contain control characters"));
        }
    }
    if pr.given.iter().any(|g| g.chars().any(char::is_control)) {
        p.push(format!("{path}.given must not contain control characters"));
    }
}

/// Start of the instant or date, for ordering checks.
pub(crate) fn instant(s: &str) -> Option<DateTime<FixedOffset>> {
    if s.len() == 10 {
        let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
        return Some(d.and_hms_opt(0, 0, 0)?.and_utc().fixed_offset());
    }
    DateTime::parse_from_rfc3339(s).ok()
}

/// Every rule violation of `c`, evaluated at `now`.
pub(crate) fn check(c: &ConsultationCompleted, now: DateTime<FixedOffset>) -> Vec<String> {
    let mut p = Vec::new();
    let service = codes::service(c.service);
    if service.needs_consent && c.consent != Some(true) {
        p.push(format!(
            "data.consent must be true for {}: the patient must agree to share the consultation",
            c.service.as_str()
        ));
    }
    check_patient(&c.patient, now, &mut p);
    check_ods(&c.pharmacy.ods_code, "data.pharmacy.odsCode", &mut p);
    if c.practitioner
        .role
        .as_deref()
        .is_some_and(|r| codes::job_role(r).is_none())
    {
        p.push("data.practitioner.role must be an SDS job role code (R1290, R1300)".into());
    }
    check_encounter(c, &mut p);
    if c.presenting_complaint
        .as_ref()
        .is_some_and(|pc| !concept_id_valid(&pc.code))
    {
        p.push("data.presentingComplaint.code is not a valid SNOMED CT concept id".into());
    }
    for (i, o) in c.observations.iter().enumerate() {
        check_observation(o, &format!("data.observations[{i}]"), &mut p);
    }
    if service.needs_blood_pressure
        && !c
            .observations
            .iter()
            .any(|o| o.kind == ObservationKind::BloodPressure)
    {
        p.push(format!(
            "data.observations must contain a blood-pressure reading for {}",
            c.service.as_str()
        ));
    }
    for (i, m) in c.medications_supplied.iter().enumerate() {
        let path = format!("data.medicationsSupplied[{i}]");
        if !concept_id_valid(&m.code) {
            p.push(format!(
                "{path}.code is not a valid dm+d / SNOMED CT concept id"
            ));
        }
        if m.quantity.value <= 0.0 || !m.quantity.value.is_finite() {
            p.push(format!("{path}.quantity.value must be greater than zero"));
        }
        if codes::dose_unit(&m.quantity.unit).is_none() {
            p.push(format!(
                "{path}.quantity.unit must be one of: {}",
                codes::DOSE_UNITS
            ));
        }
        if codes::supply_type(&m.supply_type).is_none() {
            p.push(format!(
                "{path}.supplyType must be a CareConnect-MedicationSupplyType-1 code \
                 (e.g. patient-group-direction, prescription-dispensing, emergency-supply)"
            ));
        }
        if m.days_supply == Some(0) {
            p.push(format!("{path}.daysSupply must be at least 1"));
        }
    }
    check_text(c, &mut p);
    p
}

fn check_encounter(c: &ConsultationCompleted, p: &mut Vec<String>) {
    let start = fhir_datetime(&c.encounter.start).and_then(|s| instant(&s));
    if start.is_none() {
        p.push("data.encounter.start must be an RFC 3339 date-time or a YYYY-MM-DD date".into());
    }
    if let Some(end) = &c.encounter.end {
        match fhir_datetime(end).and_then(|s| instant(&s)) {
            None => p.push(
                "data.encounter.end must be an RFC 3339 date-time or a YYYY-MM-DD date".into(),
            ),
            Some(e) if start.is_some_and(|s| e < s) => {
                p.push("data.encounter.end is before data.encounter.start".into());
            }
            Some(_) => {}
        }
    }
}

fn check_observation(o: &ObservationInput, path: &str, p: &mut Vec<String>) {
    if o.effective
        .as_deref()
        .is_some_and(|e| fhir_datetime(e).is_none())
    {
        p.push(format!(
            "{path}.effective must be an RFC 3339 date-time or a YYYY-MM-DD date"
        ));
    }
    match o.kind {
        ObservationKind::BloodPressure => match (o.systolic, o.diastolic) {
            (Some(s), Some(d)) => {
                if ![s, d].iter().all(|v| (0.0..400.0).contains(v) && *v > 0.0) {
                    p.push(format!(
                        "{path}: systolic and diastolic must be between 0 and 400 mm[Hg]"
                    ));
                } else if s <= d {
                    p.push(format!(
                        "{path}.systolic must be greater than {path}.diastolic"
                    ));
                }
            }
            (s, d) => {
                for (name, v) in [("systolic", s), ("diastolic", d)] {
                    if v.is_none() {
                        p.push(format!(
                            "{path}.{name} is required for a blood-pressure reading"
                        ));
                    }
                }
            }
        },
        ObservationKind::PregnancyStatus => match &o.value {
            Some(ObservationValue::Code(v)) if codes::pregnancy(v).is_some() => {}
            _ => p.push(format!(
                "{path}.value must be one of: {}",
                codes::PREGNANCY_VALUES
            )),
        },
        _ => match &o.value {
            Some(ObservationValue::Number(v)) if *v > 0.0 && v.is_finite() => {}
            _ => p.push(format!("{path}.value must be a number greater than zero")),
        },
    }
}

/// Control characters would be dropped from XML or break MESH headers; tabs and line breaks
/// are fine in clinical free text but not in names and codes.
fn check_text(c: &ConsultationCompleted, p: &mut Vec<String>) {
    if c.pharmacy.name.chars().any(char::is_control) {
        p.push("data.pharmacy.name must not contain control characters".into());
    }
    check_practitioner_text(&c.practitioner, "data.practitioner", p);
    let notes = &c.clinical_notes;
    let free_text = [
        (
            "data.clinicalNotes.clinicalSummary",
            Some(&notes.clinical_summary),
        ),
        ("data.clinicalNotes.history", notes.history.as_ref()),
        (
            "data.clinicalNotes.informationAndAdviceGiven",
            notes.information_and_advice_given.as_ref(),
        ),
        (
            "data.clinicalNotes.planAndRequestedActions",
            notes.plan_and_requested_actions.as_ref(),
        ),
        ("data.clinicalNotes.redFlags", notes.red_flags.as_ref()),
        (
            "data.clinicalNotes.signpostDetails",
            notes.signpost_details.as_ref(),
        ),
    ];
    for (path, value) in free_text {
        let bad = |ch: char| ch.is_control() && !matches!(ch, '\n' | '\r' | '\t');
        if value.is_some_and(|v| v.chars().any(bad)) {
            p.push(format!(
                "{path} must not contain control characters other than line breaks"
            ));
        }
    }
}
