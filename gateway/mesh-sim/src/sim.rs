//! The simulator instance shared by all handlers: immutable configuration plus the locked store.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::config::SimConfig;
use crate::routing::Registry;
use crate::state::Store;

/// A configured mailbox.
#[derive(Clone, Debug)]
pub(crate) struct MailboxInfo {
    pub(crate) id: String,
    pub(crate) password: String,
    pub(crate) ods_code: String,
}

/// Immutable configuration plus the locked store; shared by all handlers.
#[derive(Debug)]
pub(crate) struct Sim {
    pub(crate) shared_key: String,
    pub(crate) mailboxes: HashMap<String, MailboxInfo>,
    pub(crate) registry: Registry,
    store: Mutex<Store>,
}

impl Sim {
    pub(crate) fn new(cfg: SimConfig) -> Self {
        let mailboxes = cfg
            .mailboxes
            .into_iter()
            .map(|m| {
                let id = m.id.trim().to_uppercase();
                (
                    id.clone(),
                    MailboxInfo {
                        id,
                        password: m.password,
                        ods_code: m.ods_code,
                    },
                )
            })
            .collect();
        let registry = Registry::new(&cfg.patients, cfg.default_practice.as_deref());
        Self {
            shared_key: cfg.shared_key,
            mailboxes,
            registry,
            store: Mutex::new(Store::default()),
        }
    }

    /// Locks the store. A panic while locked cannot leave the maps half-updated in a way that
    /// matters to a simulator, so poisoning is ignored rather than propagated.
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
