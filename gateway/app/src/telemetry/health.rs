//! What `/readyz` reports besides the store: the bus (the sink's own check and the outbox's last
//! publish) and, per MESH mailbox, the result of its last poll or handshake.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use chrono::Utc;
use gateway_core::EventSink;

use super::Telemetry;

/// The last MESH call of one mailbox.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailboxStatus {
    /// When the last call succeeded (ms since the epoch).
    pub last_ok_ms: Option<i64>,
    /// When the last call failed (ms since the epoch), which call and why.
    pub last_error: Option<(i64, &'static str, String)>,
}

impl MailboxStatus {
    /// Ready when the latest call succeeded.
    pub fn ready(&self) -> bool {
        match (self.last_ok_ms, &self.last_error) {
            (Some(ok), Some((err, _, _))) => ok >= *err,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
}

/// Health state shared by the stages and the admin server.
pub struct Health {
    mailboxes: Mutex<BTreeMap<String, MailboxStatus>>,
    bus_error: Mutex<Option<String>>,
    sink: OnceLock<Arc<dyn EventSink>>,
    telemetry: Telemetry,
}

impl Health {
    /// Health for these mailboxes (each unknown, so not ready, until its first call).
    pub fn new<'a>(mailboxes: impl IntoIterator<Item = &'a String>, telemetry: Telemetry) -> Self {
        let map: BTreeMap<String, MailboxStatus> = mailboxes
            .into_iter()
            .map(|id| (id.clone(), MailboxStatus::default()))
            .collect();
        for id in map.keys() {
            telemetry.metrics().mailbox_up(id, false);
        }
        Self {
            mailboxes: Mutex::new(map),
            bus_error: Mutex::new(None),
            sink: OnceLock::new(),
            telemetry,
        }
    }

    /// A MESH call of `mailbox` succeeded.
    pub fn mailbox_ok(&self, mailbox: &str) {
        let mut map = self
            .mailboxes
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        map.entry(mailbox.to_string()).or_default().last_ok_ms =
            Some(Utc::now().timestamp_millis());
        self.telemetry.metrics().mailbox_up(mailbox, true);
    }

    /// A MESH call (`poll`, `handshake`) of `mailbox` failed.
    pub fn mailbox_failed(&self, mailbox: &str, call: &'static str, error: String) {
        let mut map = self
            .mailboxes
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        map.entry(mailbox.to_string()).or_default().last_error =
            Some((Utc::now().timestamp_millis(), call, error));
        self.telemetry.metrics().mailbox_up(mailbox, false);
    }

    /// Every mailbox's status.
    pub fn mailboxes(&self) -> BTreeMap<String, MailboxStatus> {
        self.mailboxes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The sink the outbox publishes to (checked by `/readyz`).
    pub fn set_sink(&self, sink: Arc<dyn EventSink>) {
        let _ = self.sink.set(sink);
    }

    /// The outbox's last publish: `None` = succeeded (or nothing to publish yet).
    pub fn bus_result(&self, error: Option<String>) {
        *self
            .bus_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = error;
    }

    /// `Ok` when the bus can take events: the sink's check passes and the last publish did not
    /// fail.
    ///
    /// # Errors
    /// Why the bus is not ready.
    pub async fn bus(&self) -> Result<(), String> {
        if let Some(sink) = self.sink.get() {
            sink.healthcheck().await.map_err(|e| e.to_string())?;
        }
        match self
            .bus_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
        {
            Some(e) => Err(format!("last publish failed: {e}")),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mailbox_is_ready_only_after_its_latest_call_succeeded() {
        let ids = vec!["A".to_string()];
        let h = Health::new(&ids, Telemetry::global());
        assert!(!h.mailboxes()["A"].ready(), "unknown at start");
        h.mailbox_ok("A");
        assert!(h.mailboxes()["A"].ready());
        std::thread::sleep(std::time::Duration::from_millis(2));
        h.mailbox_failed("A", "poll", "mesh refused mailbox A".into());
        assert!(!h.mailboxes()["A"].ready());
        std::thread::sleep(std::time::Duration::from_millis(2));
        h.mailbox_ok("A");
        assert!(h.mailboxes()["A"].ready());
    }
}
