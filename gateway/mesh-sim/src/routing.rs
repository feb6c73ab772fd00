//! Registered-practice routing (spec §10): `Mex-To: GPPROVIDER_<nhs>_<yyyymmdd>_<surname>` is
//! resolved through a patient registry standing in for the PDS trace. Failures never fail the send;
//! they come back to the sender as EPL-15x REPORT messages, as on real MESH.

use std::collections::HashMap;

use chrono::NaiveDate;

/// Prefix of a routing address (MESH upper-cases `Mex-To`).
pub(crate) const PREFIX: &str = "GPPROVIDER_";

/// Workflows MESH applies registered-practice routing to ([guidance] list plus the Send Document
/// acknowledgement); other workflows treat the address as a plain mailbox id.
const ROUTED_WORKFLOWS: [&str; 11] = [
    "TOC_FHIR_IP_DISCH",
    "TOC_FHIR_MH_DISCH",
    "TOC_FHIR_EC_DISCH",
    "TOC_FHIR_OP_ATTEN",
    "TOC_OUTP_ATT_DMS",
    "GPFED_CONSULT_REPORT",
    "GPFED_CONSULT_REPORT_ACK",
    "GPCONNECT_UPDATE_RECORD",
    "GPCONNECT_UPDATE_RECORD_ACK",
    "GPCONNECT_SEND_DOCUMENT",
    "GPCONNECT_SEND_DOCUMENT_ACK",
];

/// Why an address could not be routed: the REPORT's status code and description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RoutingFailure {
    pub(crate) code: &'static str,
    pub(crate) description: &'static str,
}

pub(crate) const NO_MAILBOX: RoutingFailure = RoutingFailure {
    code: "EPL-151",
    description: "No mailbox matched",
};
pub(crate) const INVALID_NHS_NUMBER: RoutingFailure = RoutingFailure {
    code: "EPL-152",
    description: "Invalid NHS Number",
};
pub(crate) const NHS_NUMBER_NOT_FOUND: RoutingFailure = RoutingFailure {
    code: "EPL-153",
    description: "NHS Number not found",
};
pub(crate) const DEMOGRAPHICS_MISMATCH: RoutingFailure = RoutingFailure {
    code: "EPL-154",
    description: "NHS Number supplied does not match the demographics",
};

/// NHS number → practice mailbox, plus the optional practice for unknown patients.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    patients: HashMap<String, String>,
    default_practice: Option<String>,
}

impl Registry {
    pub(crate) fn new(patients: &[(String, String)], default_practice: Option<&str>) -> Self {
        let patients = patients
            .iter()
            .map(|(nhs, mb)| {
                (
                    nhs.chars().filter(|c| !c.is_whitespace()).collect(),
                    mb.trim().to_uppercase(),
                )
            })
            .collect();
        let default_practice = default_practice.map(|mb| mb.trim().to_uppercase());
        Self {
            patients,
            default_practice,
        }
    }

    /// Resolves `to` (already upper case) for `workflow`: `None` when it is not a routing address
    /// for that workflow, else the practice mailbox or the failure to report.
    pub(crate) fn route(&self, to: &str, workflow: &str) -> Option<Result<&str, RoutingFailure>> {
        let rest = to.strip_prefix(PREFIX)?;
        if !ROUTED_WORKFLOWS.contains(&workflow) {
            return None;
        }
        let mut fields = rest.splitn(3, '_');
        let nhs = fields.next().unwrap_or_default();
        if !nhs_number_valid(nhs) {
            return Some(Err(INVALID_NHS_NUMBER));
        }
        let dob = fields.next().unwrap_or_default();
        let surname = fields.next().unwrap_or_default();
        let dob_ok = dob.len() == 8 && NaiveDate::parse_from_str(dob, "%Y%m%d").is_ok();
        if !dob_ok || surname.trim().is_empty() {
            return Some(Err(DEMOGRAPHICS_MISMATCH));
        }
        let practice = self.patients.get(nhs).or(self.default_practice.as_ref());
        Some(practice.map(String::as_str).ok_or(NHS_NUMBER_NOT_FOUND))
    }
}

/// Ten digits passing the NHS modulus-11 check.
pub(crate) fn nhs_number_valid(nhs: &str) -> bool {
    let digits: Vec<u32> = nhs.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != 10 || nhs.len() != 10 {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .take(9)
        .zip((2..=10).rev())
        .map(|(d, w)| d * w)
        .sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return false,
        c => c,
    };
    digits.get(9) == Some(&check)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(default: Option<&str>) -> Registry {
        Registry::new(
            &[
                ("9000000009".into(), "gpprac01".into()),
                ("900 000 0017".into(), "GPPRAC02".into()),
            ],
            default,
        )
    }

    #[test]
    fn modulus_11() {
        assert!(nhs_number_valid("9000000009"));
        assert!(nhs_number_valid("9000000017"));
        assert!(nhs_number_valid("9000000025"));
        // The GP Connect guide's example number fails the check.
        assert!(!nhs_number_valid("4857773456"));
        assert!(!nhs_number_valid("9000000000"));
        assert!(!nhs_number_valid("1234567890"));
        assert!(!nhs_number_valid("12345678"));
        assert!(!nhs_number_valid("90000000O9"));
    }

    #[test]
    fn resolves_and_fails_like_mesh() {
        let r = registry(None);
        let wf = "GPCONNECT_UPDATE_RECORD";
        assert_eq!(
            r.route("GPPROVIDER_9000000009_19700101_SMITH", wf),
            Some(Ok("GPPRAC01"))
        );
        assert_eq!(
            r.route("GPPROVIDER_9000000017_19800202_JONES", wf),
            Some(Ok("GPPRAC02"))
        );
        assert_eq!(
            r.route("GPPROVIDER_1234567890_19700101_SMITH", wf),
            Some(Err(INVALID_NHS_NUMBER))
        );
        assert_eq!(
            r.route("GPPROVIDER_9000000025_19550109_MOWERS", wf),
            Some(Err(NHS_NUMBER_NOT_FOUND))
        );
        assert_eq!(
            r.route("GPPROVIDER_9000000009_09011955_SMITH", wf),
            Some(Err(DEMOGRAPHICS_MISMATCH))
        );
        assert_eq!(
            r.route("GPPROVIDER_9000000009_19700101", wf),
            Some(Err(DEMOGRAPHICS_MISMATCH))
        );
        assert_eq!(
            r.route("GPPROVIDER_9000000009_19700101_O_BRIEN", wf),
            Some(Ok("GPPRAC01"))
        );
        assert_eq!(
            r.route("GPPROVIDER_9000000009_19700101_SMITH", "TEST_WORKFLOW"),
            None
        );
        assert_eq!(r.route("GPPRAC01", wf), None);
        let with_default = registry(Some("gpprac01"));
        assert_eq!(
            with_default.route("GPPROVIDER_9000000025_19550109_MOWERS", wf),
            Some(Ok("GPPRAC01"))
        );
    }
}
