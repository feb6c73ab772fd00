//! STU3 primitive formats, the required value-set bindings of the elements ITK3 messages use and
//! the minimum cardinalities of the base resources (what `fhir.resources` enforces for
//! `validate.py`).

/// Why a lexical value is not valid for its primitive type, `None` when it is.
pub(super) fn format_problem(ty: &str, v: &str) -> Option<&'static str> {
    let ok = match ty {
        "boolean" => matches!(v, "true" | "false"),
        "integer" => is_integer(v),
        "positiveInt" => is_integer(v) && !v.starts_with('-') && v != "0",
        "unsignedInt" => is_integer(v) && !v.starts_with('-'),
        "decimal" => is_decimal(v),
        "instant" => date_time(v, true),
        "dateTime" => date_time(v, false),
        "date" => date(v).is_some_and(str::is_empty),
        "id" => {
            (1..=64).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        }
        "code" => !v.is_empty() && v.trim() == v && !v.contains("  ") && !v.contains(['\n', '\t']),
        // Surrounding whitespace is trimmed by FHIR XML readers; inside a URI it is an error.
        "uri" => !v.trim().chars().any(char::is_whitespace),
        _ => true,
    };
    (!ok).then_some(match ty {
        "boolean" => "boolean must be true or false",
        "integer" | "positiveInt" | "unsignedInt" => "not a valid integer",
        "decimal" => "not a valid decimal",
        "instant" => "not a valid instant (YYYY-MM-DDThh:mm:ss with a zone)",
        "dateTime" => "not a valid dateTime",
        "date" => "not a valid date (YYYY, YYYY-MM or YYYY-MM-DD)",
        "id" => "not a valid id (1-64 letters, digits, '-' or '.')",
        "code" => "not a valid code (no surrounding or repeated whitespace)",
        _ => "not a valid uri (no whitespace)",
    })
}

fn is_integer(v: &str) -> bool {
    let digits = v.strip_prefix('-').unwrap_or(v);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
}

fn is_decimal(v: &str) -> bool {
    let (mantissa, exponent) = match v.find(['e', 'E']) {
        Some(i) => (&v[..i], Some(&v[i + 1..])),
        None => (v, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    is_integer(int)
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
        && exponent_ok
}

fn digits(s: &str, n: usize) -> Option<u32> {
    let part = s.get(..n)?;
    part.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| part.parse().ok())?
}

/// Parses `YYYY[-MM[-DD]]`, returning the rest of the string.
fn date(v: &str) -> Option<&str> {
    let year = digits(v, 4)?;
    if year == 0 {
        return None;
    }
    let Some(rest) = v[4..].strip_prefix('-') else {
        return Some(&v[4..]);
    };
    let month = digits(rest, 2)?;
    if !(1..=12).contains(&month) {
        return None;
    }
    let Some(rest) = rest[2..].strip_prefix('-') else {
        return Some(&rest[2..]);
    };
    let day = digits(rest, 2)?;
    (1..=31).contains(&day).then(|| &rest[2..])
}

/// `dateTime` (partial dates allowed; a time needs seconds and a zone) or, when `instant`, a
/// full instant.
fn date_time(v: &str, instant: bool) -> bool {
    let Some(rest) = date(v) else { return false };
    let full_date = v.len() - rest.len() == 10;
    let Some(time) = rest.strip_prefix('T') else {
        return rest.is_empty() && !instant;
    };
    if !full_date {
        return false;
    }
    let (Some(h), Some(m), Some(s)) = (digits(time, 2), time.get(3..), time.get(6..)) else {
        return false;
    };
    let (Some(m), Some(sec)) = (digits(m, 2), digits(s, 2)) else {
        return false;
    };
    if h > 23 || m > 59 || sec > 60 || time.get(2..3) != Some(":") || time.get(5..6) != Some(":") {
        return false;
    }
    let mut zone = &time[8..];
    if let Some(frac) = zone.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        zone = &frac[n..];
    }
    match zone.as_bytes() {
        b"Z" => true,
        [b'+' | b'-', ..] => {
            let z = &zone[1..];
            let (hours, colon) = (digits(z, 2), z.get(2..3));
            let minutes = z.get(3..).and_then(|m| digits(m, 2));
            match (hours, colon, minutes) {
                (Some(h), Some(":"), Some(m)) if z.len() == 5 => {
                    h < 14 && m < 60 || h == 14 && m == 0
                }
                _ => false,
            }
        }
        _ => false,
    }
}

/// Codes of the required bindings on `(type, element)`.
pub(super) fn binding(ty: &str, name: &str) -> Option<&'static [&'static str]> {
    Some(match (ty, name) {
        ("Bundle", "type") => &[
            "document",
            "message",
            "transaction",
            "transaction-response",
            "batch",
            "batch-response",
            "history",
            "searchset",
            "collection",
        ],
        ("Composition", "status") => &["preliminary", "final", "amended", "entered-in-error"],
        ("Composition", "confidentiality") => &["U", "L", "M", "N", "R", "V"],
        ("Composition.relatesTo", "code") => &["replaces", "transforms", "signs", "appends"],
        ("Composition.section", "mode") => &["working", "snapshot", "changes"],
        ("Composition.attester", "mode") => &["personal", "professional", "legal", "official"],
        ("Encounter", "status") => &[
            "planned",
            "arrived",
            "triaged",
            "in-progress",
            "onleave",
            "finished",
            "cancelled",
            "entered-in-error",
            "unknown",
        ],
        ("Patient" | "Practitioner", "gender") => &["male", "female", "other", "unknown"],
        ("Observation", "status") => &[
            "registered",
            "preliminary",
            "final",
            "amended",
            "corrected",
            "cancelled",
            "entered-in-error",
            "unknown",
        ],
        ("MedicationDispense", "status") => &[
            "preparation",
            "in-progress",
            "on-hold",
            "completed",
            "entered-in-error",
            "stopped",
        ],
        ("ClinicalImpression", "status") => &["draft", "completed", "entered-in-error"],
        ("Condition", "clinicalStatus") => {
            &["active", "recurrence", "inactive", "remission", "resolved"]
        }
        ("Condition", "verificationStatus") => &[
            "provisional",
            "differential",
            "confirmed",
            "refuted",
            "entered-in-error",
            "unknown",
        ],
        ("HumanName", "use") => &[
            "usual",
            "official",
            "temp",
            "nickname",
            "anonymous",
            "old",
            "maiden",
        ],
        ("Identifier", "use") => &["usual", "official", "temp", "secondary"],
        ("Address", "use") => &["home", "work", "temp", "old"],
        ("Address", "type") => &["postal", "physical", "both"],
        ("ContactPoint", "system") => &["phone", "fax", "email", "pager", "url", "sms", "other"],
        ("ContactPoint", "use") => &["home", "work", "temp", "old", "mobile"],
        ("Narrative", "status") => &["generated", "extensions", "additional", "empty"],
        ("MessageHeader.response", "code") => &["ok", "transient-error", "fatal-error"],
        ("OperationOutcome.issue", "severity") => &["fatal", "error", "warning", "information"],
        ("OperationOutcome.issue", "code") => &[
            "invalid",
            "structure",
            "required",
            "value",
            "invariant",
            "security",
            "login",
            "unknown",
            "expired",
            "forbidden",
            "suppressed",
            "processing",
            "not-supported",
            "duplicate",
            "not-found",
            "too-long",
            "code-invalid",
            "extension",
            "too-costly",
            "business-rule",
            "conflict",
            "incomplete",
            "transient",
            "lock-error",
            "no-store",
            "exception",
            "timeout",
            "throttled",
            "informational",
        ],
        ("Quantity", "comparator") => &["<", "<=", ">=", ">"],
        _ => return None,
    })
}

/// Elements the base STU3 definitions require (min 1) on a type; choices by their stem.
pub(super) fn required(ty: &str) -> &'static [&'static str] {
    match ty {
        "Bundle" => &["type"],
        "Bundle.link" => &["relation", "url"],
        "Binary" => &["contentType", "content"],
        "MessageHeader" => &["event", "timestamp", "source"],
        "MessageHeader.source" => &["endpoint"],
        "MessageHeader.response" => &["identifier", "code"],
        "Composition" => &["status", "type", "subject", "date", "author", "title"],
        "Composition.relatesTo" => &["code", "target"],
        "Composition.attester" => &["mode"],
        "Encounter" => &["status"],
        "Observation" => &["status", "code"],
        "Observation.component" => &["code"],
        "MedicationDispense" => &["medication"],
        "ClinicalImpression" => &["status", "subject"],
        "Condition" => &["subject"],
        "OperationOutcome" => &["issue"],
        "OperationOutcome.issue" => &["severity", "code"],
        "Narrative" => &["status", "div"],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitive_formats() {
        for ok in [
            "2023-08-08T09:19:16Z",
            "2023-08-08T09:12:14.2711908+01:00",
            "2026-11-20T10:16:00-14:00",
        ] {
            assert_eq!(format_problem("instant", ok), None, "{ok}");
        }
        for bad in [
            "2023-08-08T09:19:16",
            "2023-08-08",
            "2023-13-08T09:19:16Z",
            "2023-08-08T24:00:00Z",
            "2023-08-08T09:19Z",
            "2023-08-08T09:19:16+15:00",
        ] {
            assert!(format_problem("instant", bad).is_some(), "{bad}");
        }
        for ok in ["2023", "2023-08", "2023-08-08", "2023-08-08T09:19:16+01:00"] {
            assert_eq!(format_problem("dateTime", ok), None, "{ok}");
        }
        for bad in ["08/08/2023", "2023-8-8", "2023-08-08T09:19", "0000", ""] {
            assert!(format_problem("dateTime", bad).is_some(), "{bad}");
        }
        assert!(format_problem("date", "2023-08-08T00:00:00Z").is_some());
        assert_eq!(format_problem("date", "1970-01-01"), None);
        assert!(format_problem("boolean", "yes").is_some());
        for ok in ["0", "-1.5", "80.50", "1e3", "1.5E-2"] {
            assert_eq!(format_problem("decimal", ok), None, "{ok}");
        }
        for bad in ["01", "1.", ".5", "1,5", "abc"] {
            assert!(format_problem("decimal", bad).is_some(), "{bad}");
        }
        assert!(format_problem("positiveInt", "0").is_some());
        assert!(format_problem("id", "a b").is_some());
        assert!(format_problem("code", " final").is_some());
        assert!(format_problem("uri", "a b").is_some());
        assert_eq!(
            binding("Bundle", "type").map(|b| b.contains(&"message")),
            Some(true)
        );
        assert!(required("Composition").contains(&"custodian").eq(&false));
    }
}
