//! What every mapped message type shares: MSH (type, sender, control id, time), PID (patient),
//! PV1 (practitioner, encounter times), NTE (notes) and coded values.

use chrono::FixedOffset;
use gateway_proto::consultation::{
    AddressInput, Coded, EncounterTimes, Gender, Patient, Pharmacy, Practitioner,
};

use super::error::{Hl7Error, quote_code};
use super::fields::{Field, Rep};
use super::parse::Message;
use super::time::{self, LocalTimeZone};

/// The NHS number OID, accepted in CX-4.2 as an alternative to `NHS` in CX-4.1.
const NHS_NUMBER_OID: &str = "2.16.840.1.113883.2.1.4.1";

/// MSH facts every event needs.
#[derive(Debug)]
pub(crate) struct Header {
    /// MSH-9.1 and MSH-9.2, e.g. `("RDS", "O13")`.
    pub(crate) message_type: (String, String),
    /// MSH-4.1: the sender's ODS code.
    pub(crate) ods: String,
    /// MSH-4.2: the sender's name, if given.
    name: Option<String>,
    /// MSH-10.
    pub(crate) control_id: String,
    /// MSH-7 as RFC 3339 UTC, when it has a time.
    pub(crate) time: Option<String>,
    /// MSH-7's offset: the default for the message's other timestamps.
    pub(crate) offset: Option<FixedOffset>,
    /// The drop folder's zone for timestamps with no offset at all.
    pub(crate) zone: LocalTimeZone,
}

impl Header {
    /// The sender as pharmacy / organisation (MSH-4).
    ///
    /// # Errors
    /// [`Hl7Error::Missing`] when MSH-4.2 (name) is empty: GP systems show it to users.
    pub(crate) fn sender(&self, msg: &Message) -> Result<Pharmacy, Hl7Error> {
        let name = self.name.clone().ok_or_else(|| {
            msg.field(&msg.msh, 4)
                .first()
                .comp(2)
                .missing("sending organisation name, shown in the GP record")
        })?;
        Ok(Pharmacy {
            ods_code: self.ods.clone(),
            name,
        })
    }

    /// A timestamp field as RFC 3339 (or a date); `None` when empty.
    ///
    /// # Errors
    /// [`Hl7Error::Invalid`] when it is not an HL7 timestamp.
    pub(crate) fn ts(&self, f: Field<'_>, what: &'static str) -> Result<Option<String>, Hl7Error> {
        Ok(parse_ts(f, what)?.map(|ts| time::to_rfc3339(&ts, self.offset, self.zone)))
    }
}

/// Reads MSH-4, MSH-7, MSH-9 and MSH-10.
///
/// # Errors
/// [`Hl7Error`] naming the first MSH field that is missing or unusable.
pub(crate) fn header(msg: &Message, zone: LocalTimeZone) -> Result<Header, Hl7Error> {
    let msh = &msg.msh;
    let t = msg.field(msh, 9).first();
    let (kind, trigger) = (t.comp(1), t.comp(2));
    let kind_v = kind.value()?.ok_or_else(|| kind.missing("message type"))?;
    let trigger_v = trigger.value()?.unwrap_or_default();
    let hd = msg.field(msh, 4).first();
    let ods = hd
        .comp(1)
        .value()?
        .ok_or_else(|| hd.comp(1).missing("sending organisation ODS code"))?;
    if !(3..=10).contains(&ods.len()) || !ods.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(hd.comp(1).invalid(
            "sending organisation ODS code",
            "must be an ODS code of 3 to 10 letters or digits",
        ));
    }
    let control = msg.field(msh, 10);
    let control_id = control
        .first()
        .text()?
        .ok_or_else(|| control.missing("message control id, the basis of the event id"))?;
    let sent = parse_ts(msg.field(msh, 7), "message date/time")?;
    let offset = sent.and_then(|ts| ts.offset);
    Ok(Header {
        message_type: (kind_v.to_ascii_uppercase(), trigger_v.to_ascii_uppercase()),
        ods: ods.to_ascii_uppercase(),
        name: hd.comp(2).value()?,
        control_id,
        time: sent
            .filter(|ts| ts.time.is_some())
            .map(|ts| time::to_rfc3339(&ts, None, zone)),
        offset,
        zone,
    })
}

/// `"RDS^O13"` for quoting in reasons.
pub(crate) fn type_label(h: &Header) -> String {
    quote_code(&format!("{}^{}", h.message_type.0, h.message_type.1))
}

fn parse_ts(f: Field<'_>, what: &'static str) -> Result<Option<time::Ts>, Hl7Error> {
    let c = f.first().comp(1);
    match c.value()? {
        None => Ok(None),
        Some(v) => time::parse(&v).map(Some).ok_or_else(|| {
            f.invalid(
                what,
                "is not an HL7 date/time (YYYYMMDD[HHMM[SS]][+/-ZZZZ])",
            )
        }),
    }
}

/// The patient from PID.
///
/// # Errors
/// [`Hl7Error`] naming the PID field that is missing or unusable.
pub(crate) fn patient(msg: &Message, message: &'static str) -> Result<Patient, Hl7Error> {
    let Some(pid) = msg.segments_named("PID").next() else {
        return Err(Hl7Error::NoSegment {
            message,
            segment: "PID",
            what: "the patient",
        });
    };
    // In field order, so that a truncated PID reports its first gap.
    let nhs_number = nhs_number(msg.field(pid, 3))?;
    let (family, given) = name(msg.field(pid, 5))?;
    let birth_date = birth_date(msg.field(pid, 7))?;
    let gender = gender(msg.field(pid, 8))?;
    let (address, postcode) = address(msg.field(pid, 11))?;
    Ok(Patient {
        nhs_number,
        family,
        given,
        birth_date,
        gender,
        address,
        postcode,
    })
}

fn nhs_number(f: Field<'_>) -> Result<String, Hl7Error> {
    for rep in f.reps() {
        let authority = rep.comp(4);
        let by_name = authority
            .sub(1)?
            .is_some_and(|a| a.eq_ignore_ascii_case("NHS"));
        let by_oid = authority.sub(2)?.is_some_and(|a| a == NHS_NUMBER_OID);
        if !(by_name || by_oid) {
            continue;
        }
        let id = rep.comp(1);
        let n: String = id
            .value()?
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if n.len() != 10 || !n.bytes().all(|b| b.is_ascii_digit()) {
            return Err(id.invalid("NHS number", "must be 10 digits"));
        }
        return Ok(n);
    }
    Err(f.invalid(
        "patient identifiers",
        "has no repetition whose assigning authority (CX-4) is NHS, so there is no NHS number",
    ))
}

/// Family and given names from the legal-name repetition (XPN-7 `L`), else the first.
fn name(f: Field<'_>) -> Result<(String, Vec<String>), Hl7Error> {
    let legal = f
        .reps()
        .find(|r| matches!(r.comp(7).value(), Ok(Some(t)) if t == "L"));
    let rep = legal.unwrap_or_else(|| f.first());
    let family = rep
        .comp(1)
        .value()?
        .ok_or_else(|| rep.comp(1).missing("patient family name"))?;
    Ok((family, given_names(rep, 2)?))
}

/// XPN/XCN given names: the component at `first` and the further given names after it.
fn given_names(rep: Rep<'_>, first: usize) -> Result<Vec<String>, Hl7Error> {
    let mut given = Vec::new();
    for n in [first, first + 1] {
        if let Some(v) = rep.comp(n).value()? {
            given.extend(v.split_whitespace().map(str::to_owned));
        }
    }
    Ok(given)
}

fn birth_date(f: Field<'_>) -> Result<String, Hl7Error> {
    let v = f
        .first()
        .comp(1)
        .value()?
        .ok_or_else(|| f.missing("birth date"))?;
    time::parse(&v)
        .map(|ts| ts.date.format("%Y-%m-%d").to_string())
        .ok_or_else(|| f.invalid("birth date", "is not a date (YYYYMMDD)"))
}

fn gender(f: Field<'_>) -> Result<Gender, Hl7Error> {
    let v = f.first().comp(1).value()?;
    Ok(match v.as_deref().map(str::to_ascii_uppercase).as_deref() {
        Some("M") => Gender::Male,
        Some("F") => Gender::Female,
        Some("O" | "A") => Gender::Other,
        Some("U" | "N") | None => Gender::Unknown,
        Some(_) => {
            return Err(f.invalid("administrative sex", "must be one of M, F, O, U (or A, N)"));
        }
    })
}

/// Address lines (XAD-1 to XAD-4) and postcode (XAD-5) of the home address (XAD-7 `H`), else
/// the first.
fn address(f: Field<'_>) -> Result<(Option<AddressInput>, Option<String>), Hl7Error> {
    let home = f
        .reps()
        .find(|r| matches!(r.comp(7).value(), Ok(Some(t)) if t == "H"));
    let rep = home.unwrap_or_else(|| f.first());
    let mut lines = Vec::new();
    for n in 1..=4 {
        if let Some(v) = rep.comp(n).value()? {
            lines.push(v);
        }
    }
    let postcode = rep.comp(5).value()?.map(|pc| pc.to_ascii_uppercase());
    Ok((
        (!lines.is_empty()).then_some(AddressInput::Lines(lines)),
        postcode,
    ))
}

/// A practitioner from an XCN field (PV1-7, TXA-9 …): the repetition whose assigning authority
/// (XCN-9) is `GPHC` if any, else the first with a family name. `None` when there is none.
///
/// # Errors
/// [`Hl7Error::Escape`] for an undecodable value.
pub(crate) fn practitioner(f: Field<'_>) -> Result<Option<Practitioner>, Hl7Error> {
    let authority = |r: &Rep<'_>| {
        r.comp(9)
            .value()
            .ok()
            .flatten()
            .map(|a| a.to_ascii_uppercase())
    };
    let chosen = f
        .reps()
        .find(|r| authority(r).as_deref() == Some("GPHC"))
        .or_else(|| f.reps().find(|r| matches!(r.comp(2).value(), Ok(Some(_)))));
    let Some(rep) = chosen else {
        return Ok(None);
    };
    let Some(family) = rep.comp(2).value()? else {
        return Ok(None);
    };
    let id = rep.comp(1).value()?;
    let auth = authority(&rep);
    Ok(Some(Practitioner {
        family,
        given: given_names(rep, 3)?,
        gphc_number: id.clone().filter(|_| auth.as_deref() == Some("GPHC")),
        sds_user_id: id.filter(|_| auth.as_deref() == Some("SDS")),
        role: None,
    }))
}

/// PV1-7 as the practitioner, required.
///
/// # Errors
/// [`Hl7Error`] when PV1 or its family name is missing.
pub(crate) fn pv1_practitioner(
    msg: &Message,
    message: &'static str,
) -> Result<Practitioner, Hl7Error> {
    let Some(f) = msg.first("PV1", 7) else {
        return Err(Hl7Error::NoSegment {
            message,
            segment: "PV1",
            what: "the practitioner and encounter times",
        });
    };
    practitioner(f)?.ok_or_else(|| f.missing("attending practitioner family name (XCN-2)"))
}

/// PV1-44 / PV1-45, with `fallback` for the start when PV1-44 is empty.
///
/// # Errors
/// [`Hl7Error`] when no start is given or a time is not a timestamp.
pub(crate) fn encounter(
    msg: &Message,
    h: &Header,
    fallback: Option<Field<'_>>,
) -> Result<EncounterTimes, Hl7Error> {
    let start_f = msg.first("PV1", 44);
    let mut start = match start_f {
        Some(f) => h.ts(f, "encounter start")?,
        None => None,
    };
    if let (None, Some(f)) = (&start, fallback) {
        start = h.ts(f, "encounter start")?;
    }
    let end = match msg.first("PV1", 45) {
        Some(f) => h.ts(f, "encounter end")?,
        None => None,
    };
    let start = start.ok_or_else(|| match start_f {
        Some(f) => f.missing("encounter start"),
        None => Hl7Error::Missing {
            field: "PV1-44".into(),
            what: "encounter start",
        },
    })?;
    Ok(EncounterTimes { start, end })
}

/// The text of one NTE if its comment type satisfies `wanted`.
///
/// # Errors
/// [`Hl7Error::Escape`] for an undecodable value.
pub(crate) fn note(
    msg: &Message,
    nte: &super::parse::Segment,
    wanted: impl Fn(Option<&str>) -> bool,
) -> Result<Option<String>, Hl7Error> {
    let kind = msg.field(nte, 4).first().comp(1).value()?;
    match wanted(kind.as_deref().map(str::trim)) {
        true => msg.field(nte, 3).text(),
        false => Ok(None),
    }
}

/// Text of a CWE: the text (CWE-2), else the original text (CWE-9), else the identifier.
///
/// # Errors
/// [`Hl7Error::Escape`] for an undecodable value.
pub(crate) fn cwe_text(rep: Rep<'_>) -> Result<Option<String>, Hl7Error> {
    for n in [2, 9, 1] {
        if let Some(v) = rep.comp(n).value()? {
            return Ok(Some(v));
        }
    }
    Ok(None)
}

/// A SNOMED CT coded value from a CWE (coding system `SCT`, `SNOMED`, `SNOMED CT` or empty).
/// `None` when the field is empty.
///
/// # Errors
/// [`Hl7Error::Invalid`] when it is coded in another system or lacks a code or text.
pub(crate) fn snomed(f: Field<'_>, what: &'static str) -> Result<Option<Coded>, Hl7Error> {
    if f.is_empty() {
        return Ok(None);
    }
    let rep = f.first();
    let system = rep.comp(3).value()?.map(|s| s.to_ascii_uppercase());
    let sct = matches!(
        system.as_deref(),
        None | Some("SCT" | "SNOMED" | "SNOMED CT" | "SNOMEDCT" | "HTTP://SNOMED.INFO/SCT")
    );
    if !sct {
        return Err(f.invalid(what, "must be coded in SNOMED CT (CWE-3 SCT)"));
    }
    let code = rep
        .comp(1)
        .value()?
        .ok_or_else(|| f.invalid(what, "has no SNOMED CT code (CWE-1)"))?;
    let display = match rep.comp(2).value()? {
        Some(d) => d,
        None => rep
            .comp(9)
            .value()?
            .ok_or_else(|| f.invalid(what, "has no display text (CWE-2)"))?,
    };
    Ok(Some(Coded { code, display }))
}
