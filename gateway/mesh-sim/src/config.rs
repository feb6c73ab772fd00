//! Simulator configuration: the environment shared key, the mailboxes and the patient registry
//! that stands in for the PDS trace behind GPPROVIDER routing.

use std::fmt;

/// One mailbox known to the simulator.
#[derive(Clone, PartialEq, Eq)]
pub struct SimMailbox {
    /// Mailbox id (matched case-insensitively; stored upper case like MESH).
    pub id: String,
    /// Mailbox password, part of the NHSMESH HMAC input.
    pub password: String,
    /// ODS code of the organisation owning the mailbox (shown in tracking).
    pub ods_code: String,
}

impl SimMailbox {
    /// Builds a mailbox entry.
    pub fn new(
        id: impl Into<String>,
        password: impl Into<String>,
        ods_code: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            password: password.into(),
            ods_code: ods_code.into(),
        }
    }
}

// Passwords are secrets even in a simulator: keep them out of logs and panics.
impl fmt::Debug for SimMailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimMailbox")
            .field("id", &self.id)
            .field("password", &"<redacted>")
            .field("ods_code", &self.ods_code)
            .finish()
    }
}

/// Everything the simulator needs to start.
#[derive(Clone, PartialEq, Eq)]
pub struct SimConfig {
    /// Environment shared secret used as the HMAC key of NHSMESH tokens.
    pub shared_key: String,
    /// Mailboxes that may authenticate and receive messages.
    pub mailboxes: Vec<SimMailbox>,
    /// Patient registry for GPPROVIDER routing: (NHS number, practice mailbox id).
    pub patients: Vec<(String, String)>,
    /// Practice mailbox for patients missing from `patients`; `None` makes them fail with an
    /// EPL-153 report like an NHS number PDS cannot find.
    pub default_practice: Option<String>,
}

impl SimConfig {
    /// The demo environment, matching `tools/mesh-sandbox/`: key `TestKey`, the pharmacy
    /// `PHARM001`, practices `GPPRAC01`/`GPPRAC02`, the sandbox's `X26ABC1..3`, test patients
    /// 9000000009 (GPPRAC01) and 9000000017 (GPPRAC02), unknown patients routed to GPPRAC01.
    pub fn demo() -> Self {
        Self {
            shared_key: "TestKey".to_owned(),
            mailboxes: vec![
                SimMailbox::new("PHARM001", "pharm001-pass", "FA001"),
                SimMailbox::new("GPPRAC01", "gpprac01-pass", "A99901"),
                SimMailbox::new("GPPRAC02", "gpprac02-pass", "A99902"),
                SimMailbox::new("X26ABC1", "password", "X26"),
                SimMailbox::new("X26ABC2", "password", "X26"),
                SimMailbox::new("X26ABC3", "password", "X27"),
            ],
            patients: vec![
                ("9000000009".to_owned(), "GPPRAC01".to_owned()),
                ("9000000017".to_owned(), "GPPRAC02".to_owned()),
            ],
            default_practice: Some("GPPRAC01".to_owned()),
        }
    }
}

impl Default for SimConfig {
    /// Same as [`SimConfig::demo`]: the simulator is the product's embedded default.
    fn default() -> Self {
        Self::demo()
    }
}

impl fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Patient NHS numbers are left out on purpose: config dumps end up in logs.
        f.debug_struct("SimConfig")
            .field("shared_key", &"<redacted>")
            .field("mailboxes", &self.mailboxes)
            .field("patients", &self.patients.len())
            .field("default_practice", &self.default_practice)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_matches_the_sandbox_mailboxes() {
        let cfg = SimConfig::demo();
        assert_eq!(cfg.shared_key, "TestKey");
        assert_eq!(cfg.mailboxes.len(), 6);
        assert_eq!(cfg.default_practice.as_deref(), Some("GPPRAC01"));
        assert_eq!(cfg, SimConfig::default());
    }

    #[test]
    fn debug_redacts_secrets() {
        let text = format!("{:?}", SimConfig::demo());
        assert!(!text.contains("pharm001-pass"));
        assert!(!text.contains("TestKey"));
        assert!(!text.contains("9000000009"));
    }
}
