//! Test support for mapping plugins built on this crate (feature `testing`; use it from
//! `[dev-dependencies]` only): a fixed mapping context, and an assertion that a message passes
//! both the gateway's sender checklist and the independent `tools/fhir-validate` checker (run
//! through `gateway_testkit::fhir_validate`, which needs its virtualenv; see that module).

// Assertion helpers for tests: panicking with the findings is their purpose.
#![allow(clippy::panic)]

use chrono::DateTime;
use gateway_core::{MailboxDirectory, MapContext, MapError, MappingPlugin, Outbound, SeededIds};
use gateway_proto::CloudEvent;

use crate::validate::{ValidateOptions, validate_message_with};

/// A directory that sends for every ODS code from one mailbox.
#[derive(Debug, Clone)]
pub struct OneMailbox(pub String);

impl MailboxDirectory for OneMailbox {
    fn mailbox_for_ods(&self, _ods_code: &str) -> Option<String> {
        Some(self.0.clone())
    }
}

/// Maps `event` with `plugin` at the instant `now` (RFC 3339), ids seeded from the event id
/// (as the gateway does) and every ODS code sending from mailbox `PHARM001`.
///
/// # Errors
/// The plugin's [`MapError`].
///
/// # Panics
/// When `now` is not an RFC 3339 date-time.
pub fn map_event(
    plugin: &dyn MappingPlugin,
    event: &CloudEvent,
    now: &str,
) -> Result<Outbound, MapError> {
    let now = DateTime::parse_from_rfc3339(now)
        .unwrap_or_else(|_| panic!("`now` must be an RFC 3339 date-time"));
    let ids = SeededIds::new(&event.id);
    let mailboxes = OneMailbox("PHARM001".to_owned());
    let cx = MapContext {
        now,
        ids: &ids,
        mailboxes: &mailboxes,
    };
    plugin.map(event, &cx)
}

/// Checks a message with the gateway's checker and with fhir-validate, cross-checking `Mex-To`
/// and the workflow.
///
/// # Errors
/// Every problem either checker found, or why fhir-validate could not run.
pub fn check_valid_message(bytes: &[u8], mex_to: &str, workflow_id: &str) -> Result<(), String> {
    let options = ValidateOptions {
        mex_to: Some(mex_to),
        workflow_id: Some(workflow_id),
    };
    let ours = validate_message_with(bytes, &options);
    if !ours.is_empty() {
        return Err(format!("gateway checker:\n  {}", ours.join("\n  ")));
    }
    let report =
        gateway_testkit::fhir_validate::validate_bytes(bytes, Some(mex_to), Some(workflow_id))?;
    if report.valid && report.output.contains(" 0 error(s)") {
        Ok(())
    } else {
        Err(format!("fhir-validate:\n{}", report.output))
    }
}

/// Asserts that a message passes both checkers (see [`check_valid_message`]).
///
/// # Panics
/// With every problem found.
pub fn assert_valid_message(bytes: &[u8], mex_to: &str, workflow_id: &str) {
    if let Err(problems) = check_valid_message(bytes, mex_to, workflow_id) {
        panic!("message is not valid:\n{problems}");
    }
}
