//! A GP practice on MESH: the product's responder with a validator plugged in (the independent
//! fhir-validate tool on the sandbox, or the gateway's own checks under load), recording what it
//! received so tests can count MESH messages per ITK id.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gateway_adapter_mesh::{InboxMessage, MeshClient, MeshClientConfig};
use gateway_core::Secret;
use gpc_gateway::responder::Responder;
use tokio_util::sync::CancellationToken;

/// What the practice saw: (ITK MessageHeader.id, validator output, valid?).
pub type Received = Arc<Mutex<Vec<(String, String, bool)>>>;

/// A running practice responder.
pub struct Practice {
    /// Messages received so far.
    pub received: Received,
    stop: CancellationToken,
}

impl Practice {
    /// Answers for `mailbox` on the mesh-sandbox with `infack_code` (and 30001 after a positive
    /// one), validating every message with fhir-validate.
    pub fn start(mailbox: &str, ods: &str, infack_code: &str) -> Self {
        Self::start_on(&crate::sandbox_url(), mailbox, ods, infack_code, true)
    }

    /// As [`Practice::start`] on any MESH URL; `fhir_validate = false` uses the gateway's own
    /// checks instead (fast enough for load tests).
    pub fn start_on(
        url: &str,
        mailbox: &str,
        ods: &str,
        infack_code: &str,
        fhir_validate: bool,
    ) -> Self {
        let password = format!("{}-pass", mailbox.to_lowercase());
        let client = MeshClient::new(MeshClientConfig::new(
            url.to_string(),
            mailbox.to_string(),
            Secret::new(password),
            Secret::new("TestKey"),
        ))
        .unwrap();
        let received: Received = Arc::default();
        let rec = received.clone();
        let validator = Arc::new(move |m: &InboxMessage| {
            let header = gateway_plugin_gp_connect::header::read_header(&m.body)
                .map(|h| h.message_id)
                .unwrap_or_default();
            let (output, valid) = if fhir_validate {
                let wf = m.workflow_id.as_deref();
                let report = gateway_testkit::fhir_validate::validate_bytes(&m.body, None, wf)
                    .unwrap_or_else(|e| panic!("{e}"));
                (report.output, report.valid)
            } else {
                let problems = gateway_plugin_gp_connect::validate::validate_message(&m.body);
                (problems.join("\n"), problems.is_empty())
            };
            rec.lock().unwrap().push((header, output, valid));
            if valid {
                Vec::new()
            } else {
                vec!["validation reported errors".to_string()]
            }
        });
        let responder = Responder {
            client,
            ods_code: ods.to_string(),
            infack_code: infack_code.to_string(),
            busack_code: Some("30001".into()),
            validator,
        };
        let stop = CancellationToken::new();
        tokio::spawn(responder.run(Duration::from_millis(300), stop.clone()));
        Self { received, stop }
    }

    /// How many messages with this ITK MessageHeader.id arrived.
    pub fn count_of(&self, itk_message_id: &str) -> usize {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|(id, _, _)| id == itk_message_id)
            .count()
    }

    /// Distinct ITK message ids received, and how many arrivals there were in all.
    pub fn distinct_and_total(&self) -> (usize, usize) {
        let all = self.received.lock().unwrap();
        let distinct: HashSet<&String> = all.iter().map(|(id, _, _)| id).collect();
        (distinct.len(), all.len())
    }

    /// Everything received.
    pub fn all(&self) -> Vec<(String, String, bool)> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for Practice {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
