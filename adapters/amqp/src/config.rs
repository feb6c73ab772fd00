//! The one connection and topology configuration shared by the input and the bus publisher.

use std::{path::PathBuf, time::Duration};

use gateway_core::Secret;

use crate::error::AmqpError;

/// Longest name AMQP 0-9-1 allows for queues, exchanges and routing keys (a short string).
const MAX_NAME_LEN: usize = 255;

/// Connection, topology and batching settings for the AMQP input and the bus publisher.
///
/// The application maps its own configuration keys (`bus.url`, `bus.exchange`,
/// `inputs.amqp.queue`, `inputs.amqp.prefetch`) onto this struct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmqpConfig {
    /// Broker URL, e.g. `amqp://user:pass@host:5672/%2f`; may hold a password, so it never prints.
    /// Default: `amqp://guest:guest@127.0.0.1:5672/%2f`.
    pub url: Secret,
    /// Input quorum queue. Default: `gpc.events`.
    pub queue: String,
    /// Quorum queue for invalid input and poison messages. Default: `gpc.events.dead`.
    pub dead_letter_queue: String,
    /// Topic exchange for output events. Default: `gpc.delivery`.
    pub exchange: String,
    /// Consumer prefetch (unacknowledged deliveries in flight). Default: 256.
    pub prefetch: u16,
    /// Most deliveries handed to the pipeline in one batch. Default: 256.
    pub batch_max: usize,
    /// How long to wait for more deliveries after the first of a batch. Default: 5 ms.
    pub batch_linger: Duration,
    /// Deliveries of one message before the broker dead-letters it (`x-delivery-limit`).
    /// Default: 20.
    pub delivery_limit: u32,
    /// First delay before retrying a batch the pipeline could not store. Default: 100 ms.
    pub retry_initial: Duration,
    /// Longest delay between retries (store down, broker unreachable). Default: 30 s.
    pub retry_max: Duration,
    /// Longest wait for the broker to confirm a batch of publishes. Default: 30 s.
    pub confirm_timeout: Duration,
    /// `amqps://` only: PEM file of CA certificates trusted in addition to the system's.
    /// Default: none.
    pub tls_ca_bundle: Option<PathBuf>,
    /// `amqps://` only: PKCS#12 file with the client certificate and private key presented to
    /// the broker (for the `EXTERNAL` mechanism or `verify_peer`). Default: none.
    pub tls_client_identity: Option<PathBuf>,
    /// Password of `tls_client_identity`. Default: none (an empty password).
    pub tls_client_identity_password: Option<Secret>,
}

impl Default for AmqpConfig {
    fn default() -> Self {
        Self {
            url: Secret::new("amqp://guest:guest@127.0.0.1:5672/%2f"),
            queue: "gpc.events".to_owned(),
            dead_letter_queue: "gpc.events.dead".to_owned(),
            exchange: "gpc.delivery".to_owned(),
            prefetch: 256,
            batch_max: 256,
            batch_linger: Duration::from_millis(5),
            delivery_limit: 20,
            retry_initial: Duration::from_millis(100),
            retry_max: Duration::from_secs(30),
            confirm_timeout: Duration::from_secs(30),
            tls_ca_bundle: None,
            tls_client_identity: None,
            tls_client_identity_password: None,
        }
    }
}

impl AmqpConfig {
    /// Checks the settings and reports every problem at once.
    ///
    /// # Errors
    /// [`AmqpError::Config`] listing each invalid setting.
    pub fn validate(&self) -> Result<(), AmqpError> {
        let mut problems = Vec::new();
        if self.url.is_empty() {
            problems.push("url is empty".to_owned());
        }
        for (key, name) in [
            ("queue", &self.queue),
            ("dead_letter_queue", &self.dead_letter_queue),
        ] {
            if name.is_empty() {
                problems.push(format!("{key} is empty"));
            }
        }
        for (key, name) in [
            ("queue", &self.queue),
            ("dead_letter_queue", &self.dead_letter_queue),
            ("exchange", &self.exchange),
        ] {
            if name.len() > MAX_NAME_LEN {
                problems.push(format!("{key} is longer than {MAX_NAME_LEN} bytes"));
            }
        }
        if self.queue == self.dead_letter_queue {
            problems.push("queue and dead_letter_queue must differ".to_owned());
        }
        if self.prefetch == 0 {
            problems.push("prefetch must be at least 1".to_owned());
        }
        if self.batch_max == 0 {
            problems.push("batch_max must be at least 1".to_owned());
        }
        if self.delivery_limit == 0 {
            problems.push("delivery_limit must be at least 1".to_owned());
        }
        if self.retry_initial.is_zero() || self.retry_max < self.retry_initial {
            problems.push("retry_initial must be positive and at most retry_max".to_owned());
        }
        if self.confirm_timeout.is_zero() {
            problems.push("confirm_timeout must be positive".to_owned());
        }
        let tls_set = self.tls_ca_bundle.is_some() || self.tls_client_identity.is_some();
        if tls_set && !self.url.is_empty() && !crate::tls::is_amqps(self.url.expose()) {
            problems.push("tls_ca_bundle and tls_client_identity need an amqps:// url".to_owned());
        }
        if self.tls_client_identity_password.is_some() && self.tls_client_identity.is_none() {
            problems.push("tls_client_identity_password is set without tls_client_identity".into());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(AmqpError::Config(problems.join("; ")))
        }
    }

    /// The `origin` recorded with each input event: `amqp:<queue>`.
    pub fn origin(&self) -> String {
        format!("amqp:{}", self.queue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_contract() {
        let cfg = AmqpConfig::default();
        assert_eq!(cfg.queue, "gpc.events");
        assert_eq!(cfg.dead_letter_queue, "gpc.events.dead");
        assert_eq!(cfg.exchange, "gpc.delivery");
        assert_eq!(cfg.prefetch, 256);
        assert_eq!(cfg.batch_max, 256);
        assert_eq!(cfg.batch_linger, Duration::from_millis(5));
        assert_eq!(cfg.delivery_limit, 20);
        assert_eq!(cfg.origin(), "amqp:gpc.events");
        cfg.validate().unwrap();
    }

    #[test]
    fn debug_never_prints_the_url() {
        let cfg = AmqpConfig {
            url: Secret::new("amqp://u:hunter2@h/%2f"),
            ..AmqpConfig::default()
        };
        assert!(!format!("{cfg:?}").contains("hunter2"));
    }

    #[test]
    fn tls_files_need_an_amqps_url() {
        let cfg = AmqpConfig {
            tls_ca_bundle: Some(PathBuf::from("ca.pem")),
            ..AmqpConfig::default()
        };
        let msg = cfg.validate().unwrap_err().to_string();
        assert!(msg.contains("amqps://"), "{msg}");
        let cfg = AmqpConfig {
            url: Secret::new("amqps://h/%2f"),
            ..cfg
        };
        cfg.validate().unwrap();
    }

    #[test]
    fn validate_reports_every_problem() {
        let cfg = AmqpConfig {
            url: Secret::new(""),
            queue: "q".repeat(300),
            prefetch: 0,
            batch_max: 0,
            tls_client_identity_password: Some(Secret::new("pw")),
            ..AmqpConfig::default()
        };
        let msg = cfg.validate().unwrap_err().to_string();
        for part in ["url", "queue is longer", "prefetch", "batch_max", "without"] {
            assert!(msg.contains(part), "{msg}");
        }
    }
}
