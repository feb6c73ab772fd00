//! `RDS^O13` (pharmacy/treatment dispense) → a completed consultation with the items supplied.
//!
//! Each ORC starts an order group; within it RXE (dosage in RXE-7), TQ1 (dosage text in TQ1-11
//! when RXE-7 is empty), each RXD (one item supplied) and NTE segments with comment type `PI`
//! (patient instruction when RXD-15 is empty) belong together. NTE segments with comment type
//! `RE` anywhere in the message form the clinical summary; other NTE types are not mapped.

use gateway_proto::consultation::{
    ClinicalNotes, Coded, ConsultationCompleted, MedicationSupplied, Service, SupplyQuantity,
};

use super::Hl7v2Options;
use super::error::Hl7Error;
use super::fields::Field;
use super::parse::{Message, Segment};
use super::segments::{self, Header};

const TYPE: &str = "RDS^O13";

#[derive(Default)]
struct Group<'a> {
    rxe: Option<&'a Segment>,
    tq1: Option<&'a Segment>,
    rxd: Vec<&'a Segment>,
    instructions: Vec<String>,
}

/// Builds the event `data` of one `RDS^O13`.
///
/// # Errors
/// [`Hl7Error`] naming the first segment or field that is missing or unusable.
pub(crate) fn build(
    msg: &Message,
    h: &Header,
    opts: &Hl7v2Options,
) -> Result<ConsultationCompleted, Hl7Error> {
    // In segment order, so that a truncated message reports its first gap.
    let pharmacy = h.sender(msg)?;
    let patient = segments::patient(msg, TYPE)?;
    let practitioner = segments::pv1_practitioner(msg, TYPE)?;
    let mut groups: Vec<Group<'_>> = vec![Group::default()];
    let mut summary = Vec::new();
    for seg in &msg.segments {
        let Some(g) = groups.last_mut() else {
            break;
        };
        match seg.name.as_str() {
            "ORC" => groups.push(Group::default()),
            "RXE" => g.rxe = g.rxe.or(Some(seg)),
            "TQ1" => g.tq1 = g.tq1.or(Some(seg)),
            "RXD" => g.rxd.push(seg),
            "NTE" => {
                let kind = msg.field(seg, 4).first().comp(1).value()?;
                let text = msg.field(seg, 3).text()?;
                match (
                    kind.as_deref().map(str::to_ascii_uppercase).as_deref(),
                    text,
                ) {
                    (Some("RE"), Some(t)) => summary.push(t),
                    (Some("PI"), Some(t)) => g.instructions.push(t),
                    _ => {}
                }
            }
            _ => {}
        }
    }
    let service = opts.default_service.clone();
    let supply_type = opts.supply_type_for(&service);
    let mut medications = Vec::new();
    let mut indication: Option<Coded> = None;
    let mut first_rxd: Option<&Segment> = None;
    for g in &groups {
        for rxd in &g.rxd {
            first_rxd = first_rxd.or(Some(rxd));
            medications.push(medication(msg, g, rxd, &supply_type)?);
            if indication.is_none() {
                indication = segments::snomed(msg.field(rxd, 21), "indication")?;
            }
        }
    }
    let Some(first_rxd) = first_rxd else {
        return Err(Hl7Error::NoSegment {
            message: TYPE,
            segment: "RXD",
            what: "the item dispensed",
        });
    };
    let clinical_summary = match summary.is_empty() {
        false => summary.join("\n"),
        true => {
            return Err(Hl7Error::NoSegment {
                message: TYPE,
                segment: "NTE with comment type RE",
                what: "the clinical summary, required in the GP record",
            });
        }
    };
    Ok(ConsultationCompleted {
        service: service_of(&service),
        consent: None,
        patient,
        pharmacy,
        practitioner,
        encounter: segments::encounter(msg, h, Some(msg.field(first_rxd, 3)))?,
        presenting_complaint: indication,
        clinical_notes: notes(clinical_summary),
        observations: Vec::new(),
        medications_supplied: medications,
        version: None,
        replaces: None,
    })
}

/// The service enum for a configured name (checked by [`Hl7v2Options::problems`]; an unknown
/// name falls back to Pharmacy First only if configuration was not validated).
pub(crate) fn service_of(name: &str) -> Service {
    Service::ALL
        .into_iter()
        .find(|s| s.as_str() == name)
        .unwrap_or(Service::PharmacyFirst)
}

/// Clinical notes holding only a summary.
pub(crate) fn notes(clinical_summary: String) -> ClinicalNotes {
    ClinicalNotes {
        clinical_summary,
        history: None,
        information_and_advice_given: None,
        plan_and_requested_actions: None,
        red_flags: None,
        signpost_details: None,
    }
}

fn medication(
    msg: &Message,
    g: &Group<'_>,
    rxd: &Segment,
    supply_type: &str,
) -> Result<MedicationSupplied, Hl7Error> {
    let item = msg.field(rxd, 2);
    let rep = item.first();
    let is_dmd = |n: usize| -> Result<bool, Hl7Error> {
        Ok(rep
            .comp(n)
            .value()?
            .is_some_and(|s| s.eq_ignore_ascii_case("DMD")))
    };
    let (code_c, text_c) = match (is_dmd(3)?, is_dmd(6)?) {
        (true, _) => (rep.comp(1), rep.comp(2)),
        (false, true) => (rep.comp(4), rep.comp(5)),
        (false, false) if item.is_empty() => return Err(item.missing("item dispensed")),
        (false, false) => {
            return Err(item.invalid(
                "item dispensed",
                "has no dm+d code (the coding system in CWE-3 or CWE-6 must be DMD)",
            ));
        }
    };
    let code = code_c.value()?.ok_or_else(|| code_c.missing("dm+d code"))?;
    let display = text_c.value()?.ok_or_else(|| text_c.missing("dm+d name"))?;
    let qty = msg.field(rxd, 4);
    let value = qty
        .first()
        .comp(1)
        .value()?
        .ok_or_else(|| qty.missing("quantity dispensed"))?
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| qty.invalid("quantity dispensed", "is not a number"))?;
    let unit_f = msg.field(rxd, 5);
    let unit =
        segments::cwe_text(unit_f.first())?.ok_or_else(|| unit_f.missing("dispense unit"))?;
    Ok(MedicationSupplied {
        code,
        display,
        quantity: SupplyQuantity { value, unit },
        dosage_text: dosage(msg, g, rxd)?,
        patient_instruction: instruction(msg, g, rxd)?,
        supply_type: supply_type.to_owned(),
        days_supply: None,
        declined: false,
    })
}

fn dosage(msg: &Message, g: &Group<'_>, rxd: &Segment) -> Result<String, Hl7Error> {
    if let Some(rxe) = g.rxe
        && let Some(t) = segments::cwe_text(msg.field(rxe, 7).first())?
    {
        return Ok(t);
    }
    if let Some(tq1) = g.tq1
        && let Some(t) = msg.field(tq1, 11).text()?
    {
        return Ok(t);
    }
    Err(Hl7Error::Missing {
        field: format!("RXE-7 and TQ1-11 for the RXD on line {}", rxd.line),
        what: "dosage text",
    })
}

fn instruction(msg: &Message, g: &Group<'_>, rxd: &Segment) -> Result<String, Hl7Error> {
    let f: Field<'_> = msg.field(rxd, 15);
    if let Some(t) = segments::cwe_text(f.first())? {
        return Ok(t);
    }
    match g.instructions.is_empty() {
        false => Ok(g.instructions.join("\n")),
        true => Err(Hl7Error::Missing {
            field: format!("{} and NTE with comment type PI", f.label()),
            what: "patient instruction",
        }),
    }
}
