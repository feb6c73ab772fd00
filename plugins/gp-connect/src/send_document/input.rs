//! `data` of `uk.nhs.consultation.document.created.v1`: shape table and rules. Problems name
//! the field, never the value.

use chrono::{DateTime, FixedOffset};
use gateway_proto::document::DocumentCreated;
use serde_json::Value;

use crate::checks::concept_id_valid;
use crate::input::{CODED, Field, Kind, PATIENT, PRACTITIONER, REPLACES, opt, parse_with, req};
use crate::rules::{self, fhir_datetime};

const SENDER: &[Field] = &[req("odsCode", Kind::Str), req("name", Kind::Str)];
const DATA: &[Field] = &[
    req("patient", Kind::Obj(PATIENT)),
    req("sender", Kind::Obj(SENDER)),
    opt("author", Kind::Obj(PRACTITIONER)),
    req("title", Kind::Str),
    req("documentType", Kind::Obj(CODED)),
    req("encounterDate", Kind::Str),
    opt("careSetting", Kind::Obj(CODED)),
    opt("pdfBase64", Kind::Str),
    opt("pdfPath", Kind::Str),
    opt("version", Kind::UInt),
    opt("replaces", Kind::Obj(REPLACES)),
];
/// Longest title accepted (it is also the start of `Mex-Subject`).
const MAX_TITLE_CHARS: usize = 200;

/// Checks the shape of `data` and deserialises it.
///
/// # Errors
/// One problem per bad field, each naming its path.
pub(super) fn parse(data: &Value) -> Result<DocumentCreated, Vec<String>> {
    parse_with(data, DATA, "document")
}

/// Every rule violation of `d`, evaluated at `now`; `has_root` says whether the route resolves
/// `pdfPath` at all.
pub(super) fn check(
    d: &DocumentCreated,
    now: DateTime<FixedOffset>,
    has_root: bool,
) -> Vec<String> {
    let mut p = Vec::new();
    rules::check_patient(&d.patient, now, &mut p);
    rules::check_ods(&d.sender.ods_code, "data.sender.odsCode", &mut p);
    if d.sender.name.chars().any(char::is_control) {
        p.push("data.sender.name must not contain control characters".into());
    }
    if let Some(author) = &d.author {
        rules::check_practitioner_text(author, "data.author", &mut p);
    }
    if d.title.chars().any(char::is_control) {
        p.push("data.title must not contain control characters".into());
    }
    if d.title.trim().chars().count() > MAX_TITLE_CHARS {
        p.push(format!(
            "data.title must be at most {MAX_TITLE_CHARS} characters"
        ));
    }
    if !concept_id_valid(d.document_type.code.trim()) {
        p.push(
            "data.documentType.code is not a valid SNOMED CT concept id (record composition \
             type refset 1127551000000109)"
                .into(),
        );
    }
    if d.care_setting
        .as_ref()
        .is_some_and(|c| !concept_id_valid(c.code.trim()))
    {
        p.push("data.careSetting.code is not a valid SNOMED CT concept id".into());
    }
    for (path, coded) in [
        ("data.documentType.display", Some(&d.document_type)),
        ("data.careSetting.display", d.care_setting.as_ref()),
    ] {
        if coded.is_some_and(|c| c.display.chars().any(char::is_control)) {
            p.push(format!("{path} must not contain control characters"));
        }
    }
    match fhir_datetime(d.encounter_date.trim()).and_then(|s| rules::instant(&s)) {
        None => {
            p.push("data.encounterDate must be a YYYY-MM-DD date (or an RFC 3339 date-time)".into())
        }
        Some(t) if t > now => p.push("data.encounterDate is in the future".into()),
        Some(_) => {}
    }
    match (&d.pdf_base64, &d.pdf_path) {
        (Some(_), Some(_)) => {
            p.push("data.pdfBase64 and data.pdfPath are exclusive: give exactly one".into());
        }
        (None, None) => p.push("data.pdfBase64 or data.pdfPath is required".into()),
        (None, Some(_)) if !has_root => p.push(
            "data.pdfPath is not accepted on this route (no document root is configured); send \
             data.pdfBase64"
                .into(),
        ),
        _ => {}
    }
    p
}
