//! Shape check of the event `data` before typed deserialisation. serde's own errors name neither
//! the path nor avoid quoting values (`invalid type: integer `9000000009``), so the JSON is first
//! walked against this table, which reports every missing, null, empty or mistyped field by its
//! path. Unknown fields are ignored so that producers may add fields ahead of the gateway.

use gateway_proto::consultation::ConsultationCompleted;
use serde::de::DeserializeOwned;
use serde_json::Value;

#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Str,
    Bool,
    Num,
    UInt,
    StrArr,
    /// Address: lines or one string.
    Lines,
    /// Number or string (observation value).
    NumOrStr,
    Enum(&'static [&'static str]),
    Obj(&'static [Field]),
    ObjArr(&'static [Field]),
}

#[derive(Clone, Copy)]
pub(crate) struct Field {
    name: &'static str,
    kind: Kind,
    required: bool,
}

pub(crate) const fn req(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        required: true,
    }
}

pub(crate) const fn opt(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        required: false,
    }
}

/// Services the contract defines.
pub(crate) const SERVICES: &[&str] = &[
    "pharmacy-first",
    "blood-pressure-check",
    "contraception",
    "urgent-supply",
];

pub(crate) const PATIENT: &[Field] = &[
    req("nhsNumber", Kind::Str),
    req("family", Kind::Str),
    opt("given", Kind::StrArr),
    req("birthDate", Kind::Str),
    req(
        "gender",
        Kind::Enum(&["male", "female", "other", "unknown"]),
    ),
    opt("address", Kind::Lines),
    opt("postcode", Kind::Str),
];
const PHARMACY: &[Field] = &[req("odsCode", Kind::Str), req("name", Kind::Str)];
pub(crate) const PRACTITIONER: &[Field] = &[
    req("family", Kind::Str),
    opt("given", Kind::StrArr),
    opt("gphcNumber", Kind::Str),
    opt("sdsUserId", Kind::Str),
    opt("role", Kind::Str),
];
const ENCOUNTER: &[Field] = &[req("start", Kind::Str), opt("end", Kind::Str)];
pub(crate) const CODED: &[Field] = &[req("code", Kind::Str), req("display", Kind::Str)];
const NOTES: &[Field] = &[
    req("clinicalSummary", Kind::Str),
    opt("history", Kind::Str),
    opt("informationAndAdviceGiven", Kind::Str),
    opt("planAndRequestedActions", Kind::Str),
    opt("redFlags", Kind::Str),
    opt("signpostDetails", Kind::Str),
];
const OBSERVATION: &[Field] = &[
    req(
        "type",
        Kind::Enum(&[
            "blood-pressure",
            "pulse",
            "height",
            "weight",
            "bmi",
            "temperature",
            "pregnancy-status",
        ]),
    ),
    opt(
        "position",
        Kind::Enum(&[
            "sitting",
            "standing",
            "lying",
            "unspecified",
            "baseline",
            "ambulatory-average",
            "self-measured",
        ]),
    ),
    opt("systolic", Kind::Num),
    opt("diastolic", Kind::Num),
    opt("value", Kind::NumOrStr),
    opt("effective", Kind::Str),
];
const QUANTITY: &[Field] = &[req("value", Kind::Num), req("unit", Kind::Str)];
const MEDICATION: &[Field] = &[
    req("code", Kind::Str),
    req("display", Kind::Str),
    req("quantity", Kind::Obj(QUANTITY)),
    req("dosageText", Kind::Str),
    req("patientInstruction", Kind::Str),
    req("supplyType", Kind::Str),
    opt("daysSupply", Kind::UInt),
    opt("declined", Kind::Bool),
];
const DATA: &[Field] = &[
    req("service", Kind::Enum(SERVICES)),
    opt("consent", Kind::Bool),
    req("patient", Kind::Obj(PATIENT)),
    req("pharmacy", Kind::Obj(PHARMACY)),
    req("practitioner", Kind::Obj(PRACTITIONER)),
    req("encounter", Kind::Obj(ENCOUNTER)),
    opt("presentingComplaint", Kind::Obj(CODED)),
    req("clinicalNotes", Kind::Obj(NOTES)),
    opt("observations", Kind::ObjArr(OBSERVATION)),
    opt("medicationsSupplied", Kind::ObjArr(MEDICATION)),
    opt("version", Kind::UInt),
    opt("replaces", Kind::Obj(REPLACES)),
];
/// `data.replaces` (also used by the Send Document input table).
pub(crate) const REPLACES: &[Field] = &[
    opt("eventId", Kind::Str),
    opt("documentIdentifier", Kind::Str),
];

/// Checks the shape of `data` and deserialises it.
///
/// # Errors
/// One problem per bad field, each naming its path (`data.patient.nhsNumber …`).
pub(crate) fn parse(data: &Value) -> Result<ConsultationCompleted, Vec<String>> {
    parse_with(data, DATA, "consultation")
}

/// Checks `data` against a field table, then deserialises it.
///
/// # Errors
/// One problem per bad field, each naming its path.
pub(crate) fn parse_with<T: DeserializeOwned>(
    data: &Value,
    table: &[Field],
    what: &str,
) -> Result<T, Vec<String>> {
    let mut problems = Vec::new();
    check_object(data, "data", table, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    // The shape check covers every field serde reads, so this only fails on a table bug; the
    // serde message is not passed on because it may quote values.
    serde_json::from_value(data.clone())
        .map_err(|_| vec![format!("data does not match the {what} event schema")])
}

fn check_object(value: &Value, path: &str, fields: &[Field], problems: &mut Vec<String>) {
    let Some(map) = value.as_object() else {
        problems.push(format!("{path} must be a JSON object"));
        return;
    };
    for f in fields {
        let fpath = format!("{path}.{}", f.name);
        match map.get(f.name) {
            None if f.required => problems.push(format!("{fpath} is required")),
            None => {}
            Some(Value::Null) => problems.push(format!("{fpath} must be absent rather than null")),
            Some(v) => check_value(v, &fpath, f.kind, problems),
        }
    }
}

fn check_value(v: &Value, path: &str, kind: Kind, problems: &mut Vec<String>) {
    let ok = match kind {
        Kind::Str => return check_string(v, path, problems),
        Kind::Bool => v.is_boolean(),
        Kind::Num => v.is_number(),
        Kind::UInt => v.as_u64().is_some_and(|n| u32::try_from(n).is_ok()),
        Kind::NumOrStr => v.is_number() || v.as_str().is_some_and(|s| !s.trim().is_empty()),
        Kind::StrArr | Kind::Lines => {
            if kind_is_lines(kind) && v.is_string() {
                return check_string(v, path, problems);
            }
            match v.as_array() {
                Some(items) => {
                    for (i, item) in items.iter().enumerate() {
                        check_string(item, &format!("{path}[{i}]"), problems);
                    }
                    true
                }
                None => false,
            }
        }
        Kind::Enum(allowed) => {
            if !v.as_str().is_some_and(|s| allowed.contains(&s)) {
                problems.push(format!("{path} must be one of: {}", allowed.join(", ")));
            }
            return;
        }
        Kind::Obj(fields) => return check_object(v, path, fields, problems),
        Kind::ObjArr(fields) => match v.as_array() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    check_object(item, &format!("{path}[{i}]"), fields, problems);
                }
                true
            }
            None => false,
        },
    };
    if !ok {
        problems.push(format!("{path} must be {}", describe(kind)));
    }
}

fn kind_is_lines(kind: Kind) -> bool {
    matches!(kind, Kind::Lines)
}

fn check_string(v: &Value, path: &str, problems: &mut Vec<String>) {
    match v.as_str() {
        None => problems.push(format!("{path} must be a string")),
        Some(s) if s.trim().is_empty() => problems.push(format!("{path} must not be empty")),
        Some(_) => {}
    }
}

fn describe(kind: Kind) -> &'static str {
    match kind {
        Kind::Str => "a string",
        Kind::Bool => "true or false",
        Kind::Num => "a number",
        Kind::UInt => "a whole number",
        Kind::StrArr => "an array of strings",
        Kind::Lines => "a string or an array of strings",
        Kind::NumOrStr => "a number or a code",
        Kind::Enum(_) => "one of the listed codes",
        Kind::Obj(_) => "a JSON object",
        Kind::ObjArr(_) => "an array of JSON objects",
    }
}
