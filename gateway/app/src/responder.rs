//! A GP-practice responder: what a GP system does with GP Connect messages, reduced to the
//! acknowledgement protocol. It polls a practice mailbox, validates each message, and answers with
//! an ITK3 infrastructure acknowledgement (20013, or 20009 with the problems) and, when that was
//! positive, a business acknowledgement (30001 by default). Used by `demo`, by `mesh-sim`, and by
//! the integration tests (with the independent fhir-validate checker plugged in).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use gateway_adapter_mesh::{InboxMessage, MeshClient, MeshError, OutboundMessage};
use gateway_core::SeededIds;
use gateway_plugin_gp_connect::header::read_header;
use gateway_plugin_gp_connect::response::{ResponseSpec, build_response};
use tokio_util::sync::CancellationToken;

/// Checks a received message; returns the problems (empty = valid). Problems must not contain
/// patient data: they travel back in the acknowledgement's diagnostics.
pub type Validator = Arc<dyn Fn(&InboxMessage) -> Vec<String> + Send + Sync>;

/// How the practice answers.
#[derive(Clone)]
pub struct Responder {
    /// The practice mailbox.
    pub client: MeshClient,
    /// The practice's ODS code.
    pub ods_code: String,
    /// Infrastructure code for a valid message (default 20013).
    pub infack_code: String,
    /// Business code after a positive infrastructure ack (`None` = send none).
    pub busack_code: Option<String>,
    /// Message checker.
    pub validator: Validator,
}

impl Responder {
    /// A responder answering 20013 + 30001 to valid messages, validating with the gateway's own
    /// sender checks.
    pub fn standard(client: MeshClient, ods_code: &str) -> Self {
        Self {
            client,
            ods_code: ods_code.to_string(),
            infack_code: "20013".into(),
            busack_code: Some("30001".into()),
            validator: Arc::new(|m: &InboxMessage| {
                gateway_plugin_gp_connect::validate::validate_message(&m.body)
            }),
        }
    }

    /// Polls until `shutdown`.
    pub async fn run(self, interval: Duration, shutdown: CancellationToken) {
        loop {
            match self.respond_once().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(error) => tracing::warn!(mailbox = %self.client.mailbox_id(), %error,
                    "Practice responder poll failed."),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(interval) => {}
            }
        }
    }

    /// One poll: answers every waiting message. Returns how many were answered.
    ///
    /// # Errors
    /// A MESH call failed (the message stays in the inbox).
    pub async fn respond_once(&self) -> Result<usize, MeshError> {
        let ids = self.client.list_inbox(None).await?;
        let mut answered = 0;
        for id in ids {
            let msg = self.client.download(&id).await?;
            let is_ack = msg
                .workflow_id
                .as_deref()
                .is_some_and(|w| w.ends_with("_ACK"));
            if !is_ack {
                self.answer(&msg).await?;
                answered += 1;
            }
            self.client.acknowledge(&id).await?;
        }
        Ok(answered)
    }

    async fn answer(&self, msg: &InboxMessage) -> Result<(), MeshError> {
        let Some(to) = msg.from.clone() else {
            return Ok(());
        };
        let workflow = format!("{}_ACK", msg.workflow_id.clone().unwrap_or_default());
        let ids = SeededIds::new(&format!("{}:{}", self.client.mailbox_id(), msg.message_id));
        let (responds_to, sender_reference, problems) = match read_header(&msg.body) {
            Ok(h) => {
                let problems = (self.validator)(msg);
                (
                    h.message_id,
                    h.sender_reference.unwrap_or_else(|| "None".into()),
                    problems,
                )
            }
            Err(e) => (
                "UNREADABLE-IN-ORIGINAL-MESSAGE".into(),
                "None".into(),
                vec![e.to_string()],
            ),
        };
        let mut codes = Vec::new();
        if responds_to == "UNREADABLE-IN-ORIGINAL-MESSAGE" {
            codes.push(("10009".to_string(), Some(problems.join("; "))));
        } else if !problems.is_empty() {
            let mut diag = problems.join("; ");
            diag.truncate(1000);
            codes.push(("20009".to_string(), Some(diag)));
        } else {
            codes.push((self.infack_code.clone(), None));
            let positive = gateway_plugin_gp_connect::response::code_info(&self.infack_code)
                .is_some_and(|(p, _)| p);
            if let (true, Some(b)) = (positive, &self.busack_code) {
                codes.push((b.clone(), None));
            }
        }
        for (code, diagnostics) in codes {
            let diagnostics = diagnostics.or_else(|| {
                gateway_plugin_gp_connect::response::code_info(&code)
                    .filter(|(positive, _)| !positive)
                    .map(|(_, display)| display.to_string())
            });
            let spec = ResponseSpec {
                responds_to: &responds_to,
                sender_reference: &sender_reference,
                code: &code,
                diagnostics: diagnostics.as_deref(),
                responder_ods: &self.ods_code,
                responder_mailbox: self.client.mailbox_id(),
                now: Utc::now().fixed_offset(),
                ids: &ids,
            };
            let body =
                build_response(&spec).map_err(|e| MeshError::InvalidMessage(e.to_string()))?;
            let out = OutboundMessage {
                to: to.clone(),
                workflow_id: workflow.clone(),
                subject: None,
                local_id: Some(self.ods_code.clone()),
                file_name: Some(format!("itk-response-{code}.xml")),
                content_type: "application/fhir+xml".into(),
                body: body.into(),
            };
            self.client.send(&out).await?;
            tracing::info!(mailbox = %self.client.mailbox_id(), code, "Practice answered.");
        }
        Ok(())
    }
}

/// Starts a standard responder for every GP practice mailbox (`GPPRAC*`) of the simulator
/// configured by `cfg` and serving at `url`, polling every `poll` until `stop`.
///
/// # Errors
/// A mailbox client cannot be built.
pub fn spawn_practices(
    cfg: &gateway_mesh_sim::SimConfig,
    url: &str,
    poll: Duration,
    stop: &CancellationToken,
) -> Result<(), MeshError> {
    for m in cfg.mailboxes.iter().filter(|m| m.id.starts_with("GPPRAC")) {
        let client = MeshClient::new(gateway_adapter_mesh::MeshClientConfig::new(
            url.to_owned(),
            m.id.clone(),
            gateway_core::Secret::new(m.password.clone()),
            gateway_core::Secret::new(cfg.shared_key.clone()),
        ))?;
        tokio::spawn(Responder::standard(client, &m.ods_code).run(poll, stop.clone()));
    }
    Ok(())
}
