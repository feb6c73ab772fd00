//! Update Record payload resources (spec §4.1, §4.2, §9 #10/#12): the resource set of
//! iteration 1 (forbidden types rejected), and the minimum content of the CareConnect-GPC
//! profiles.

use super::Report;
use super::patient::NHS_NUMBER_SYSTEM;
use crate::xmldom::XmlNode;

const GPC_VERIFICATION: &str = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-NHSNumberVerificationStatus-1";

/// `(type, min, max)` of the iteration 1 payload.
const ALLOWED: [(&str, usize, Option<usize>); 10] = [
    ("Composition", 1, Some(1)),
    ("Patient", 1, Some(1)),
    ("Encounter", 1, Some(1)),
    ("Organization", 1, None),
    ("Practitioner", 1, None),
    ("ClinicalImpression", 1, None),
    ("PractitionerRole", 0, None),
    ("MedicationDispense", 0, None),
    ("Observation", 0, None),
    ("Condition", 0, None),
];
const FORBIDDEN: [&str; 4] = ["Flag", "Procedure", "ReferralRequest", "Appointment"];
/// Minimum content of the CareConnect-GPC profiles: `(type, element path, constraint)`.
const PROFILE_MINIMUM: &[(&str, &[&str], &str)] = &[
    (
        "Patient",
        &["identifier", "value"],
        "identifier (NHS number) 1..*",
    ),
    ("Patient", &["name", "family"], "name.family 1..1"),
    (
        "Patient",
        &["birthDate"],
        "birthDate (needed for MESH routing)",
    ),
    (
        "Practitioner",
        &["name", "family"],
        "name 1..1 with family 1..1",
    ),
    ("Organization", &["identifier", "value"], "ODS identifier"),
    ("Organization", &["name"], "name 1..1"),
    ("Encounter", &["identifier", "value"], "identifier 1..*"),
    ("Encounter", &["type"], "type 1..1"),
    ("Encounter", &["subject", "reference"], "subject 1..1"),
    (
        "Encounter",
        &["participant", "individual", "reference"],
        "participant 1..*",
    ),
    ("Encounter", &["period", "start"], "period.start 1..1"),
    ("Observation", &["identifier", "value"], "identifier 1..*"),
    ("Observation", &["subject", "reference"], "subject 1..1"),
    ("Observation", &["issued"], "issued 1..1"),
    (
        "MedicationDispense",
        &["identifier", "value"],
        "identifier.value",
    ),
    (
        "MedicationDispense",
        &["subject", "reference"],
        "subject 1..1",
    ),
    (
        "MedicationDispense",
        &["performer", "actor", "reference"],
        "performer.actor 1..1",
    ),
    (
        "MedicationDispense",
        &["quantity", "value"],
        "quantity.value 1..1",
    ),
    (
        "MedicationDispense",
        &["quantity", "unit"],
        "quantity.unit 1..1",
    ),
    (
        "MedicationDispense",
        &["quantity", "system"],
        "quantity.system 1..1",
    ),
    (
        "MedicationDispense",
        &["quantity", "code"],
        "quantity.code 1..1",
    ),
    (
        "ClinicalImpression",
        &["subject", "reference"],
        "subject 1..1",
    ),
    ("ClinicalImpression", &["summary"], "summary 1..1"),
    ("Condition", &["code"], "code 1..1"),
    ("Condition", &["assertedDate"], "assertedDate 1..1"),
    ("Condition", &["asserter", "reference"], "asserter 1..1"),
];

/// True when some node along `path` (any repetition) exists with a value or children.
fn has_path(node: &XmlNode, path: &[&str]) -> bool {
    match path.split_first() {
        None => node.value.is_some() || !node.children.is_empty(),
        Some((first, rest)) => node.children_named(first).any(|c| has_path(c, rest)),
    }
}

/// The payload resource set (§4.1) and the GPC profile minimums (§4.2).
pub(super) fn check(doc: &XmlNode, dpath: &str, r: &mut Report) {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for (i, (_, res)) in doc.entries().enumerate() {
        let Some(res) = res else { continue };
        let rt = res.name.as_ref();
        match counts.iter_mut().find(|(t, _)| *t == rt) {
            Some((_, n)) => *n += 1,
            None => counts.push((rt, 1)),
        }
        let epath = format!("{dpath}.entry[{i}]");
        if FORBIDDEN.contains(&rt) {
            r.error(
                "UR-RESOURCES",
                &epath,
                format!("{rt} must not be sent (receivers answer 20009)"),
            );
        } else if rt == "AllergyIntolerance" {
            r.warn(
                "UR-RESOURCES",
                &epath,
                "a later iteration: check receiver support",
            );
        } else if !ALLOWED.iter().any(|(t, _, _)| *t == rt) {
            r.error(
                "UR-RESOURCES",
                &epath,
                format!("{rt} is not an Update Record payload resource"),
            );
        }
        for (ty, path, why) in PROFILE_MINIMUM.iter().copied() {
            if ty == rt && !has_path(res, path) {
                r.error(
                    profile_rule(rt),
                    format!("{dpath}.entry[{i}].resource({rt}).{}", path.join(".")),
                    format!("missing: {why}"),
                );
            }
        }
        if rt == "Patient" {
            for (k, ident) in res.children_named("identifier").enumerate() {
                let nhs = ident.value_at(&["system"]) == Some(NHS_NUMBER_SYSTEM);
                if nhs && ident.extension(GPC_VERIFICATION).is_none() {
                    r.error(
                        "UR-PROFILE-Patient",
                        format!("{dpath}.entry[{i}].resource(Patient).identifier[{k}]"),
                        "the NHS number needs the GPC NHSNumberVerificationStatus extension",
                    );
                }
            }
        }
    }
    for (ty, min, max) in ALLOWED {
        let n = counts.iter().find(|(t, _)| *t == ty).map_or(0, |(_, n)| *n);
        if n < min || max.is_some_and(|m| n > m) {
            r.error(
                "UR-RESOURCES",
                dpath,
                format!(
                    "{ty}: found {n}, expected {min}..{}",
                    max.map_or("*".to_owned(), |m| m.to_string())
                ),
            );
        }
    }
}

fn profile_rule(rt: &str) -> &'static str {
    match rt {
        "Patient" => "UR-PROFILE-Patient",
        "Practitioner" => "UR-PROFILE-Practitioner",
        "Organization" => "UR-PROFILE-Organization",
        "Encounter" => "UR-PROFILE-Encounter",
        "Observation" => "UR-PROFILE-Observation",
        "MedicationDispense" => "UR-PROFILE-MedicationDispense",
        "ClinicalImpression" => "UR-PROFILE-ClinicalImpression",
        _ => "UR-PROFILE-Condition",
    }
}
