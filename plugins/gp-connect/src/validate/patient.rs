//! The Patient of a payload (spec §4.2, §5.5, §8): NHS number present and modulus-11 valid,
//! family name and birth date (MESH routes on them), and — when the MESH `Mex-To` is known —
//! that the routing address names this patient.

use super::Report;
use crate::checks::nhs_number_valid;
use crate::xmldom::XmlNode;

pub(super) const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";

/// Rule ids of one use case (`UR-PATIENT-*` or `SD-PATIENT-*`).
pub(super) struct Rules {
    pub(super) nhsno: &'static str,
    pub(super) name: &'static str,
    pub(super) dob: &'static str,
}

pub(super) fn check(p: &XmlNode, path: &str, rules: &Rules, mex_to: Option<&str>, r: &mut Report) {
    let nhs: Vec<&str> = p
        .children_named("identifier")
        .filter(|i| i.value_at(&["system"]) == Some(NHS_NUMBER_SYSTEM))
        .filter_map(|i| i.value_at(&["value"]))
        .collect();
    if nhs.is_empty() {
        r.error(
            rules.nhsno,
            format!("{path}.identifier"),
            "the patient must carry an NHS number (https://fhir.nhs.uk/Id/nhs-number)",
        );
    } else if !nhs.iter().all(|n| nhs_number_valid(n)) {
        r.error(
            "NHSNO-CHECKSUM",
            format!("{path}.identifier"),
            "the NHS number fails the modulus-11 check",
        );
    }
    let names: Vec<&XmlNode> = p.children_named("name").collect();
    let families: Vec<&str> = names
        .iter()
        .filter_map(|n| n.value_at(&["family"]))
        .collect();
    if families.is_empty() {
        r.error(
            rules.name,
            format!("{path}.name"),
            "the patient family name is required (used for MESH routing)",
        );
    } else if !names
        .iter()
        .any(|n| n.value_at(&["use"]) == Some("official"))
    {
        r.warn(
            rules.name,
            format!("{path}.name"),
            "one name with use 'official' is expected",
        );
    }
    let birth_date = p.value_at(&["birthDate"]);
    if birth_date.is_none() {
        r.error(
            rules.dob,
            format!("{path}.birthDate"),
            "birthDate is required (used for MESH routing)",
        );
    }
    if let Some(mex_to) = mex_to {
        check_mex_to(mex_to, &nhs, birth_date, &families, r);
    }
}

/// `Mex-To` = `GPPROVIDER_<NHS number>_<YYYYMMDD>_<surname>` naming this patient.
fn check_mex_to(
    mex_to: &str,
    nhs: &[&str],
    birth_date: Option<&str>,
    families: &[&str],
    r: &mut Report,
) {
    let parts = mex_to
        .strip_prefix("GPPROVIDER_")
        .and_then(|rest| rest.split_once('_'))
        .and_then(|(n, rest)| rest.split_once('_').map(|(d, s)| (n, d, s)));
    let Some((n, dob, surname)) = parts.filter(|(n, d, s)| {
        n.len() == 10
            && d.len() == 8
            && !s.is_empty()
            && n.bytes().chain(d.bytes()).all(|b| b.is_ascii_digit())
    }) else {
        r.error(
            "MESH-TO",
            "Mex-To",
            "expected GPPROVIDER_<NHS number>_<YYYYMMDD>_<surname>",
        );
        return;
    };
    let (yyyy, mm, dd) = (&dob[..4], &dob[4..6], &dob[6..]);
    let plausible = matches!(&yyyy[..2], "18" | "19" | "20")
        && ("01"..="12").contains(&mm)
        && ("01"..="31").contains(&dd);
    let iso = if plausible {
        format!("{yyyy}-{mm}-{dd}")
    } else {
        r.warn(
            "MESH-TO-DOB",
            "Mex-To",
            "the date of birth looks like DDMMYYYY; MESH guidance uses YYYYMMDD",
        );
        format!("{}-{}-{}", &dob[4..], &dob[2..4], &dob[..2])
    };
    if !nhs.is_empty() && !nhs.contains(&n) {
        r.error(
            "MESH-TO",
            "Mex-To",
            "the NHS number does not match the Patient (data.patient.nhsNumber)",
        );
    }
    if birth_date.is_some_and(|b| b.get(..10) != Some(iso.as_str())) {
        r.error(
            "MESH-TO",
            "Mex-To",
            "the date of birth does not match Patient.birthDate (data.patient.birthDate)",
        );
    }
    let surname = surname.to_lowercase();
    if !families.iter().any(|f| f.to_lowercase() == surname) {
        r.error(
            "MESH-TO",
            "Mex-To",
            "the surname does not match Patient.name.family (data.patient.family)",
        );
    }
}
