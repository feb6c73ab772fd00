//! `ORU^R01` (observation result) → a completed consultation with observations, for the Blood
//! Pressure Check Service.
//!
//! OBR-4 carries the service as its SNOMED CT code (spec itk3-gpconnect §4.3). Each OBX is
//! classified by its OBX-3 SNOMED CT code: the systolic and diastolic components of the §4.3
//! triplets (their codes give the position), the triplet headers (no value of their own), and
//! pulse, height, weight, BMI and temperature. Within an OBR group the n-th systolic pairs with
//! the n-th diastolic, and both must use the same position's codes. OBX with result status D,
//! W or X (deleted, wrong, cannot obtain) are skipped; text OBX (value type TX, FT, ST) with other
//! codes join the NTE text as the clinical summary; any other code fails the message rather than
//! being dropped silently.

use gateway_proto::consultation::{
    BpPosition, ConsultationCompleted, ObservationInput, ObservationKind, ObservationValue, Service,
};

use super::error::Hl7Error;
use super::fields::Field;
use super::parse::{Message, Segment};
use super::rds::notes;
use super::segments::{self, Header};

const TYPE: &str = "ORU^R01";

/// What an OBX-3 code means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Code {
    Systolic(BpPosition),
    Diastolic(BpPosition),
    BpHeader,
    Vital(ObservationKind),
}

fn classify(code: &str) -> Option<Code> {
    use BpPosition as P;
    Some(match code {
        "72313002" | "271649006" => Code::Systolic(P::Unspecified),
        "1091811000000102" | "271650006" => Code::Diastolic(P::Unspecified),
        "407556006" => Code::Systolic(P::Lying),
        "407557002" => Code::Diastolic(P::Lying),
        "400974009" => Code::Systolic(P::Standing),
        "400975005" => Code::Diastolic(P::Standing),
        "407554009" => Code::Systolic(P::Sitting),
        "407555005" => Code::Diastolic(P::Sitting),
        "716579001" => Code::Systolic(P::Baseline),
        "716632005" => Code::Diastolic(P::Baseline),
        "2181381000000109" => Code::Systolic(P::AmbulatoryAverage),
        "2181391000000106" => Code::Diastolic(P::AmbulatoryAverage),
        "1162737008" => Code::Systolic(P::SelfMeasured),
        "1162735000" => Code::Diastolic(P::SelfMeasured),
        "163020007" | "163033001" | "163034007" | "163035008" | "928021000000108"
        | "2181371000000107" | "335661000000109" | "75367002" => Code::BpHeader,
        "78564009" | "364075005" => Code::Vital(ObservationKind::Pulse),
        "50373000" | "248333004" => Code::Vital(ObservationKind::Height),
        "27113001" => Code::Vital(ObservationKind::Weight),
        "60621009" => Code::Vital(ObservationKind::Bmi),
        "703421000" => Code::Vital(ObservationKind::Temperature),
        _ => return None,
    })
}

/// The service of an OBR-4 SNOMED CT code (§4.3).
fn service(code: &str) -> Option<Service> {
    Some(match code {
        "1577041000000109" => Service::PharmacyFirst,
        "1659111000000107" => Service::BloodPressureCheck,
        "1659121000000101" => Service::Contraception,
        "1577321000000100" => Service::UrgentSupply,
        _ => return None,
    })
}

/// One blood-pressure component waiting for its partner.
struct Part {
    position: BpPosition,
    value: f64,
    effective: Option<String>,
    line: usize,
}

#[derive(Default)]
struct Group {
    systolic: Vec<Part>,
    diastolic: Vec<Part>,
    obr_line: usize,
    effective: Option<String>,
}

/// Builds the event `data` of one `ORU^R01`.
///
/// # Errors
/// [`Hl7Error`] naming the first segment or field that is missing or unusable.
pub(crate) fn build(msg: &Message, h: &Header) -> Result<ConsultationCompleted, Hl7Error> {
    // In segment order, so that a truncated message reports its first gap.
    let pharmacy = h.sender(msg)?;
    let patient = segments::patient(msg, TYPE)?;
    let practitioner = segments::pv1_practitioner(msg, TYPE)?;
    let Some(obr) = msg.segments_named("OBR").next() else {
        return Err(Hl7Error::NoSegment {
            message: TYPE,
            segment: "OBR",
            what: "the service (OBR-4) and the readings",
        });
    };
    let svc_f = msg.field(obr, 4);
    let svc_c = svc_f.first().comp(1);
    let code = svc_c
        .value()?
        .ok_or_else(|| svc_c.missing("service code"))?;
    let service = service(&code).ok_or_else(|| {
        svc_f.invalid(
            "service code",
            "is not a GP Connect pharmacy service code (SNOMED CT 1659111000000107 Blood \
             Pressure Check, 1577041000000109, 1659121000000101 or 1577321000000100)",
        )
    })?;
    let mut observations = Vec::new();
    let mut summary = Vec::new();
    let mut group: Option<Group> = None;
    for seg in &msg.segments {
        match seg.name.as_str() {
            "OBR" => {
                if let Some(g) = group.take() {
                    pair(g, &mut observations)?;
                }
                group = Some(Group {
                    obr_line: seg.line,
                    effective: h.ts(msg.field(seg, 7), "observation date/time")?,
                    ..Group::default()
                });
            }
            "OBX" => {
                let Some(g) = group.as_mut() else {
                    return Err(Hl7Error::Syntax {
                        line: seg.line,
                        problem: "OBX segment before any OBR segment".into(),
                    });
                };
                obx(msg, h, seg, g, &mut observations, &mut summary)?;
            }
            "NTE" => summary.extend(segments::note(msg, seg, |_| true)?),
            _ => {}
        }
    }
    if let Some(g) = group {
        pair(g, &mut observations)?;
    }
    if service == Service::BloodPressureCheck
        && !observations
            .iter()
            .any(|o: &ObservationInput| o.kind == ObservationKind::BloodPressure)
    {
        return Err(Hl7Error::NoSegment {
            message: TYPE,
            segment: "OBX pair with systolic and diastolic OBX-3 codes",
            what: "the blood pressure reading the service requires",
        });
    }
    if summary.is_empty() {
        return Err(Hl7Error::NoSegment {
            message: TYPE,
            segment: "NTE",
            what: "the clinical summary, required in the GP record",
        });
    }
    Ok(ConsultationCompleted {
        service,
        consent: None,
        patient,
        pharmacy,
        practitioner,
        encounter: segments::encounter(msg, h, Some(msg.field(obr, 7)))?,
        presenting_complaint: None,
        clinical_notes: notes(summary.join("\n")),
        observations,
        medications_supplied: Vec::new(),
        version: None,
        replaces: None,
    })
}

fn obx(
    msg: &Message,
    h: &Header,
    seg: &Segment,
    g: &mut Group,
    observations: &mut Vec<ObservationInput>,
    summary: &mut Vec<String>,
) -> Result<(), Hl7Error> {
    let status = msg.field(seg, 11).first().comp(1).value()?;
    if matches!(status.as_deref(), Some("D" | "W" | "X")) {
        return Ok(());
    }
    let code_f = msg.field(seg, 3);
    let code_c = code_f.first().comp(1);
    let code = code_c.value()?.unwrap_or_default();
    let value_type = msg.field(seg, 2).first().comp(1).value()?;
    let Some(kind) = classify(&code) else {
        if matches!(value_type.as_deref(), Some("TX" | "FT" | "ST")) {
            summary.extend(msg.field(seg, 5).text()?);
            return Ok(());
        }
        return Err(code_f.invalid(
            "observation code",
            "is not a supported SNOMED CT code (blood pressure components, pulse, height, \
             weight, BMI, temperature)",
        ));
    };
    if kind == Code::BpHeader {
        return Ok(());
    }
    let value_f = msg.field(seg, 5);
    let value = number(value_f)?;
    let effective = h.ts(msg.field(seg, 14), "observation date/time")?;
    let effective = effective.or_else(|| g.effective.clone());
    match kind {
        Code::Systolic(position) | Code::Diastolic(position) => {
            let unit_f = msg.field(seg, 6);
            let unit = unit_f.first().comp(1).value()?;
            match unit.as_deref() {
                Some("mm[Hg]" | "mmHg") => {}
                None => return Err(unit_f.missing("unit, must be mm[Hg]")),
                Some(_) => return Err(unit_f.invalid("unit", "must be mm[Hg]")),
            }
            let part = Part {
                position,
                value,
                effective,
                line: seg.line,
            };
            match kind {
                Code::Systolic(_) => g.systolic.push(part),
                _ => g.diastolic.push(part),
            }
        }
        Code::Vital(kind) => observations.push(ObservationInput {
            kind,
            position: None,
            systolic: None,
            diastolic: None,
            value: Some(ObservationValue::Number(value)),
            effective,
        }),
        Code::BpHeader => {}
    }
    Ok(())
}

fn number(f: Field<'_>) -> Result<f64, Hl7Error> {
    f.first()
        .comp(1)
        .value()?
        .ok_or_else(|| f.missing("observation value"))?
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| f.invalid("observation value", "is not a number"))
}

/// Pairs the n-th systolic with the n-th diastolic of one OBR group.
fn pair(g: Group, out: &mut Vec<ObservationInput>) -> Result<(), Hl7Error> {
    if g.systolic.len() != g.diastolic.len() {
        return Err(Hl7Error::Syntax {
            line: g.obr_line,
            problem: format!(
                "the OBR group has {} systolic and {} diastolic OBX readings; each blood \
                 pressure reading needs both",
                g.systolic.len(),
                g.diastolic.len()
            ),
        });
    }
    for (s, d) in g.systolic.into_iter().zip(g.diastolic) {
        if s.position != d.position {
            return Err(Hl7Error::Syntax {
                line: s.line,
                problem: format!(
                    "the systolic OBX and the diastolic OBX on line {} use codes of different \
                     positions (OBX-3 must come from the same code triplet)",
                    d.line
                ),
            });
        }
        out.push(ObservationInput {
            kind: ObservationKind::BloodPressure,
            position: Some(s.position),
            systolic: Some(s.value),
            diastolic: Some(d.value),
            value: None,
            effective: s.effective.or(d.effective),
        });
    }
    Ok(())
}
