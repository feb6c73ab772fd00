//! Typed `data` of `uk.nhs.consultation.document.created.v1` (contract §3 and §8): a document
//! (a PDF) for the patient's GP, sent as GP Connect Send Document. camelCase names; optional
//! fields absent (never `null`).
//!
//! The shape only: identifier rules, the PDF checks and the document-root rule for `pdfPath`
//! are enforced by the GP Connect plugin, which reports every problem by field name.

use serde::{Deserialize, Serialize};

use crate::consultation::{Coded, Patient, Practitioner};
use crate::replacement::Replacement;

/// CloudEvent `type` of a document for the GP.
pub const EVENT_TYPE: &str = "uk.nhs.consultation.document.created.v1";

/// The document event's `data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentCreated {
    /// The patient (as in the consultation event).
    pub patient: Patient,
    /// The sending organisation (custodian of the document).
    pub sender: Sender,
    /// Who wrote the document (shaped like the consultation's `practitioner`; `role` unused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<Practitioner>,
    /// Document title (`Composition.title`, shown in GP workflow lists).
    pub title: String,
    /// Document type: SNOMED CT from the record composition type refset 1127551000000109.
    pub document_type: Coded,
    /// Date of the encounter the document reports (`YYYY-MM-DD`, or an RFC 3339 date-time).
    pub encounter_date: String,
    /// Care setting (SNOMED CT "services" concept, e.g. 789718008 Cardiology service), sent as
    /// the careSettingType extension when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub care_setting: Option<Coded>,
    /// The PDF, base64 (standard alphabet). Exactly one of `pdfBase64` / `pdfPath`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdf_base64: Option<String>,
    /// The PDF as a path relative to the route's configured document root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdf_path: Option<String>,
    /// Document version (default 1, or 2 when `replaces` is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// The earlier document this one corrects (see [`crate::replacement`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<Replacement>,
}

/// The sending organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sender {
    /// ODS organisation code.
    pub ods_code: String,
    /// Name shown to GP users.
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_shape_round_trips_without_nulls() {
        let data = serde_json::json!({
            "patient": {"nhsNumber": "9000000009", "family": "Smith", "given": ["John"],
                        "birthDate": "1970-01-01", "gender": "male"},
            "sender": {"odsCode": "FA001", "name": "High Street Pharmacy"},
            "title": "Consultation report",
            "documentType": {"code": "371531000", "display": "Report of clinical encounter"},
            "encounterDate": "2026-11-20",
            "pdfBase64": "JVBERi0xLjQK"
        });
        let d: DocumentCreated = serde_json::from_value(data).unwrap();
        assert_eq!(d.sender.ods_code, "FA001");
        assert!(d.author.is_none() && d.pdf_path.is_none());
        let back = serde_json::to_string(&d).unwrap();
        assert!(!back.contains("null"));
    }
}
