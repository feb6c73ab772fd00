//! GP Connect Update Record (ITK014M) payload rules (spec §4, §9 #10–#17).

use super::header::Header;
use super::patient;
use super::{Report, codings, has_coding};
use crate::validate::bundle::{self, of_type};
use crate::xmldom::XmlNode;

const SNOMED: &str = "http://snomed.info/sct";
const DMD: &str = "https://dmd.nhs.uk";
const UCUM: &str = "http://unitsofmeasure.org";
const HEADINGS: &str = "https://fhir.nhs.uk/CodeSystem/RecordStandardHeadings";
const MESSAGE_DEFINITION: &str = "https://fhir.nhs.uk/MessageDefinition";
const OBS_CATEGORY_STU3: &str = "http://hl7.org/fhir/observation-category";
const OBS_CATEGORY_R4: &str = "http://terminology.hl7.org/CodeSystem/observation-category";

const SERVICE_CODES: [&str; 4] = [
    "1659111000000107",
    "1659121000000101",
    "1577041000000109",
    "1577321000000100",
];
/// Blood-pressure triplets: header → (systolic codes, diastolic codes).
const BP_TRIPLETS: [(&str, &[&str], &[&str]); 7] = [
    (
        "163020007",
        &["72313002", "271649006"],
        &["1091811000000102", "271650006"],
    ),
    ("163033001", &["407556006"], &["407557002"]),
    ("163034007", &["400974009"], &["400975005"]),
    ("163035008", &["407554009"], &["407555005"]),
    ("928021000000108", &["716579001"], &["716632005"]),
    (
        "2181371000000107",
        &["2181381000000109"],
        &["2181391000000106"],
    ),
    ("335661000000109", &["1162737008"], &["1162735000"]),
];
const BP_GENERIC_HEADER: &str = "75367002";

pub(super) fn check(root: &XmlNode, h: &Header<'_>, mex_to: Option<&str>, r: &mut Report) {
    let mh = &h.path;
    for key in ["BusAckRequested", "InfAckRequested"] {
        if h.flag(key).is_some_and(|v| !v) {
            r.error(
                "UR-ACKS",
                format!("{mh}.{key}"),
                "must be true for Update Record",
            );
        }
    }
    if h.key("LocalExtension")
        .is_some_and(|v| v.value.as_deref() != Some("None"))
    {
        r.warn(
            "UR-LOCALEXT",
            format!("{mh}.LocalExtension"),
            "Update Record sends 'None'",
        );
    }
    if h.key("MessageDefinition")
        .and_then(|v| v.value_at(&["reference"]))
        .is_some_and(|md| md != MESSAGE_DEFINITION)
    {
        r.warn(
            "UR-MSGDEF",
            format!("{mh}.MessageDefinition"),
            "expected the base value",
        );
    }
    if h.node.child("receiver").is_some() {
        r.warn(
            "UR-RECEIVER",
            format!("{mh}.receiver"),
            "MESH routes to the practice",
        );
    }
    let Some((doc, dpath)) = super::send_document::focus_document(root, h, "UR-FOCUS", r) else {
        return;
    };
    bundle::check_bundle(doc, &dpath, r);
    super::ur_resources::check(doc, &dpath, r);
    composition(doc, &dpath, r);
    for (pi, p) in of_type(doc, "Patient") {
        let rules = patient::Rules {
            nhsno: "UR-PATIENT-NHSNO",
            name: "UR-PATIENT-NAME",
            dob: "UR-PATIENT-DOB",
        };
        patient::check(
            p,
            &format!("{dpath}.entry[{pi}].resource(Patient)"),
            &rules,
            mex_to,
            r,
        );
    }
    for (oi, o) in of_type(doc, "Observation") {
        observation(o, &format!("{dpath}.entry[{oi}].resource(Observation)"), r);
    }
    for (mi, m) in of_type(doc, "MedicationDispense") {
        let mpath = format!("{dpath}.entry[{mi}].resource(MedicationDispense)");
        if m.child("medicationReference").is_some() {
            r.warn(
                "UR-MED-DMD",
                &mpath,
                "use medicationCodeableConcept with a dm+d code",
            );
        } else if !codings(m.child("medicationCodeableConcept"))
            .any(|c| matches!(c.value_at(&["system"]), Some(DMD | SNOMED)))
        {
            r.warn(
                "UR-MED-DMD",
                &mpath,
                "a dm+d coding (https://dmd.nhs.uk) is expected",
            );
        }
        if m.children_named("dosageInstruction")
            .any(|d| d.child("text").is_none())
        {
            r.warn(
                "UR-MED-DOSAGE",
                &mpath,
                "free-text dosage must accompany structured dosage",
            );
        }
    }
    for (ii, ci) in of_type(doc, "ClinicalImpression") {
        let tagged = ci.child("meta").is_some_and(|m| {
            m.children_named("tag")
                .any(|t| t.value_at(&["system"]) == Some(HEADINGS))
        });
        if !tagged {
            r.warn(
                "UR-CI-TAG",
                format!("{dpath}.entry[{ii}].resource(ClinicalImpression).meta.tag"),
                "tag the PRSB heading (RecordStandardHeadings)",
            );
        }
    }
    for (i, (_, res)) in doc.entries().enumerate() {
        for reference in res.map(bundle::references).unwrap_or_default() {
            if !["urn:uuid:", "#", "http"]
                .iter()
                .any(|p| reference.starts_with(p))
            {
                r.warn(
                    "UR-REF-URN",
                    format!("{dpath}.entry[{i}]"),
                    "use urn:uuid references",
                );
            }
        }
    }
}

fn composition(doc: &XmlNode, dpath: &str, r: &mut Report) {
    let Some((ci, comp)) = of_type(doc, "Composition").next() else {
        return;
    };
    let cpath = format!("{dpath}.entry[{ci}].resource(Composition)");
    let tcodes: Vec<&str> = codings(comp.child("type"))
        .filter(|c| c.value_at(&["system"]) == Some(SNOMED))
        .filter_map(|c| c.value_at(&["code"]))
        .collect();
    if tcodes.is_empty() {
        r.error(
            "UR-COMP-TYPE",
            format!("{cpath}.type"),
            "must carry a SNOMED CT service code",
        );
    } else if !tcodes.iter().any(|c| SERVICE_CODES.contains(c)) {
        r.warn(
            "UR-COMP-TYPE",
            format!("{cpath}.type"),
            "not an Update Record service code",
        );
    }
    let target = |name: &str| {
        comp.value_at(&[name, "reference"])
            .and_then(|reference| bundle::resolve(doc, reference))
    };
    if target("subject").is_none_or(|t| t.name != "Patient") {
        r.error(
            "UR-COMP-SUBJECT",
            format!("{cpath}.subject"),
            "must reference the Patient",
        );
    }
    let encounter = target("encounter").filter(|t| t.name == "Encounter");
    if encounter.is_none() {
        r.error(
            "UR-COMP-ENCOUNTER",
            format!("{cpath}.encounter"),
            "must reference the Encounter",
        );
    }
    if comp.child("author").is_none() {
        r.error(
            "UR-COMP-AUTHOR",
            format!("{cpath}.author"),
            "author is required",
        );
    }
    let mut targets = Vec::new();
    for (si, section) in comp.children_named("section").enumerate() {
        if section.child("text").is_some() {
            r.error(
                "UR-COMP-SECTION",
                format!("{cpath}.section[{si}].text"),
                "HTML section text is not allowed in Update Record",
            );
        }
        for e in section.children_named("entry") {
            if let Some(t) = e
                .value_at(&["reference"])
                .and_then(|x| bundle::resolve(doc, x))
            {
                targets.push(t.name.as_ref());
            }
        }
    }
    for needed in ["Encounter", "ClinicalImpression"] {
        if !targets.contains(&needed) {
            r.error(
                "UR-COMP-SECTION",
                format!("{cpath}.section"),
                format!("section.entry must reference the {needed}"),
            );
        }
    }
    if let Some(enc) = encounter {
        let repeats = enc.children_named("reason").any(|reason| {
            tcodes
                .iter()
                .any(|c| has_coding(Some(reason), SNOMED, Some(c)))
        });
        if !tcodes.is_empty() && !repeats {
            r.warn(
                "UR-ENC-REASON",
                &cpath,
                "Encounter.reason should repeat the service code",
            );
        }
    }
}

fn observation(o: &XmlNode, opath: &str, r: &mut Report) {
    for c in o
        .children_named("category")
        .flat_map(|cat| cat.children_named("coding"))
    {
        if c.value_at(&["system"]) == Some(OBS_CATEGORY_R4) {
            r.warn(
                "UR-OBS-CATEGORY",
                format!("{opath}.category"),
                "use the STU3 code system URI",
            );
        } else if c.value_at(&["system"]) != Some(OBS_CATEGORY_STU3) {
            r.warn(
                "UR-OBS-CATEGORY",
                format!("{opath}.category"),
                "expected observation-category",
            );
        }
        if !matches!(
            c.value_at(&["code"]),
            Some("vital-signs" | "social-history")
        ) {
            r.warn(
                "UR-OBS-CATEGORY",
                format!("{opath}.category"),
                "expected vital-signs or social-history",
            );
        }
    }
    let snomed_codes = |cc: Option<&XmlNode>| -> Vec<String> {
        codings(cc)
            .filter(|c| c.value_at(&["system"]) == Some(SNOMED))
            .filter_map(|c| c.value_at(&["code"]).map(str::to_owned))
            .collect()
    };
    let header = snomed_codes(o.child("code"));
    let components: Vec<&XmlNode> = o.children_named("component").collect();
    let flat: Vec<String> = components
        .iter()
        .flat_map(|c| snomed_codes(c.child("code")))
        .collect();
    let listed = BP_TRIPLETS
        .iter()
        .find(|(h, _, _)| header.iter().any(|c| c == h));
    let component_codes = BP_TRIPLETS
        .iter()
        .flat_map(|(_, s, d)| s.iter().chain(d.iter()))
        .chain(&["314449000", "314462001"]);
    let looks_bp = listed.is_some()
        || header.iter().any(|c| c == BP_GENERIC_HEADER)
        || component_codes
            .into_iter()
            .any(|c| flat.iter().any(|f| f == c));
    if components.is_empty() || !looks_bp {
        return;
    }
    match listed {
        Some((_, sys, dia)) => {
            let has = |set: &[&str]| flat.iter().any(|f| set.contains(&f.as_str()));
            if !(has(sys) && has(dia)) {
                r.error(
                    "UR-BP-TRIPLET",
                    format!("{opath}.component"),
                    "systolic and diastolic codes must belong to the header's triplet",
                );
            }
        }
        None => r.warn(
            "UR-BP-TRIPLET-UNLISTED",
            format!("{opath}.code"),
            "not an Update Record triplet",
        ),
    }
    for (k, c) in components.iter().enumerate() {
        if let Some(q) = c.child("valueQuantity")
            && (q.value_at(&["system"]) != Some(UCUM) || q.value_at(&["code"]) != Some("mm[Hg]"))
        {
            r.error(
                "UR-BP-UNITS",
                format!("{opath}.component[{k}].valueQuantity"),
                "blood pressure must use UCUM mm[Hg]",
            );
        }
    }
}
