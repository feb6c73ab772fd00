//! `MDM^T02` (original document notification and content) with an embedded PDF →
//! `uk.nhs.consultation.document.created.v1`, the Send Document input (contract §3, §8).
//!
//! The PDF is the one OBX whose OBX-5 is an ED value `^AP^PDF^Base64^<data>` (also
//! `^application^pdf^Base64^<data>`; case does not matter); its OBX-3 is the document type.
//! TXA-16 is the title; the author is TXA-9 (originator), else TXA-5, else PV1-7; the encounter
//! date is the date of PV1-44, else TXA-4 (activity date), else TXA-6 (origination date).

use base64::Engine;
use gateway_proto::consultation::{Coded, Patient, Pharmacy, Practitioner};
use serde::Serialize;

use super::error::Hl7Error;
use super::fields::Field;
use super::parse::Message;
use super::segments::{self, Header};
use super::time;

/// CloudEvent `type` of a clinical document to send to the GP.
pub(crate) const EVENT_TYPE: &str = "uk.nhs.consultation.document.created.v1";

const TYPE: &str = "MDM^T02";

/// The Send Document `data` (contract §8).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DocumentCreated {
    /// The patient.
    pub(crate) patient: Patient,
    /// The sending organisation.
    pub(crate) sender: Pharmacy,
    /// Who wrote the document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) author: Option<Practitioner>,
    /// Document title.
    pub(crate) title: String,
    /// SNOMED CT record composition type.
    pub(crate) document_type: Coded,
    /// Date of the encounter, `YYYY-MM-DD`.
    pub(crate) encounter_date: String,
    /// The PDF, base64 without line breaks.
    pub(crate) pdf_base64: String,
}

/// Builds the event `data` of one `MDM^T02`.
///
/// # Errors
/// [`Hl7Error`] naming the first segment or field that is missing or unusable.
pub(crate) fn build(msg: &Message, h: &Header) -> Result<DocumentCreated, Hl7Error> {
    // In segment order, so that a truncated message reports its first gap.
    let sender = h.sender(msg)?;
    let patient = segments::patient(msg, TYPE)?;
    let Some(txa) = msg.segments_named("TXA").next() else {
        return Err(Hl7Error::NoSegment {
            message: TYPE,
            segment: "TXA",
            what: "the document title and author",
        });
    };
    let mut pdf: Option<(String, Field<'_>)> = None;
    for obx in msg.segments_named("OBX") {
        let value = msg.field(obx, 5);
        if let Some(data) = ed_pdf(msg, obx, value)? {
            if pdf.is_some() {
                return Err(value.invalid(
                    "document",
                    "is a second PDF in the message; send one document per message",
                ));
            }
            pdf = Some((data, msg.field(obx, 3)));
        }
    }
    let Some((pdf_base64, type_f)) = pdf else {
        return Err(Hl7Error::NoSegment {
            message: TYPE,
            segment: "OBX with an ED PDF in OBX-5",
            what: "the document (^AP^PDF^Base64^<data>)",
        });
    };
    let document_type = segments::snomed(type_f, "document type")?
        .ok_or_else(|| type_f.missing("document type"))?;
    let title_f = msg.field(txa, 16);
    let title = title_f
        .text()?
        .ok_or_else(|| title_f.missing("document title"))?;
    let mut author = segments::practitioner(msg.field(txa, 9))?;
    if author.is_none() {
        author = segments::practitioner(msg.field(txa, 5))?;
    }
    if let (None, Some(f)) = (&author, msg.first("PV1", 7)) {
        author = segments::practitioner(f)?;
    }
    Ok(DocumentCreated {
        patient,
        sender,
        author,
        title,
        document_type,
        encounter_date: encounter_date(msg, txa)?,
        pdf_base64,
    })
}

/// The base64 of the PDF in `value` when it is an ED PDF; `None` when it is no ED at all.
fn ed_pdf(
    msg: &Message,
    obx: &super::parse::Segment,
    value: Field<'_>,
) -> Result<Option<String>, Hl7Error> {
    let value_type = msg.field(obx, 2).first().comp(1).value()?;
    let rep = value.first();
    let kind = rep.comp(2).value()?.map(|s| s.to_ascii_lowercase());
    let subtype = rep.comp(3).value()?.map(|s| s.to_ascii_lowercase());
    let encoding = rep.comp(4).value()?.map(|s| s.to_ascii_lowercase());
    let is_pdf =
        matches!(kind.as_deref(), Some("ap" | "application")) && subtype.as_deref() == Some("pdf");
    if !is_pdf {
        return match value_type.as_deref() {
            Some("ED") => Err(value.invalid(
                "document",
                "is not a PDF (expected ^AP^PDF^Base64^<data> or ^application^pdf^Base64^<data>)",
            )),
            _ => Ok(None),
        };
    }
    if encoding.as_deref() != Some("base64") {
        return Err(value.invalid("document", "must be Base64 encoded (ED-4 Base64)"));
    }
    let data_c = rep.comp(5);
    let data: String = data_c
        .value()?
        .ok_or_else(|| data_c.missing("PDF data"))?
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&data)
        .map_err(|_| data_c.invalid("PDF data", "is not valid Base64"))?;
    if !bytes.starts_with(b"%PDF-") {
        return Err(data_c.invalid("PDF data", "is not a PDF (it does not start with %PDF-)"));
    }
    Ok(Some(data))
}

fn encounter_date(msg: &Message, txa: &super::parse::Segment) -> Result<String, Hl7Error> {
    let candidates = [
        msg.first("PV1", 44),
        Some(msg.field(txa, 4)),
        Some(msg.field(txa, 6)),
    ];
    for f in candidates.into_iter().flatten() {
        if let Some(v) = f.first().comp(1).value()? {
            // The local date as sent: converting to UTC could move a late visit a day.
            let ts = time::parse(&v)
                .ok_or_else(|| f.invalid("encounter date", "is not an HL7 date (YYYYMMDD)"))?;
            return Ok(ts.date.format("%Y-%m-%d").to_string());
        }
    }
    Err(Hl7Error::Missing {
        field: "PV1-44, TXA-4 and TXA-6".into(),
        what: "encounter date",
    })
}
