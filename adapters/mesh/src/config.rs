//! [`MeshClientConfig`]: everything one mailbox's client needs.

use std::path::PathBuf;
use std::time::Duration;

use gateway_core::Secret;

use crate::MeshError;

/// Default chunk size, as the NHS Python client (75 MiB, under the 100 MB per-request limit).
pub const DEFAULT_CHUNK_SIZE: usize = 75 * 1024 * 1024;
/// Default TCP + TLS connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default whole-request timeout (headers and body).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Connection and identity settings of one MESH mailbox. Plain data; `Debug` redacts secrets.
#[derive(Debug, Clone)]
pub struct MeshClientConfig {
    /// MESH base URL without `/messageexchange`, e.g. `http://127.0.0.1:8700`.
    pub base_url: String,
    /// Our mailbox id (upper case).
    pub mailbox_id: String,
    /// Mailbox password (HMAC input only; never sent).
    pub password: Secret,
    /// Environment shared secret (HMAC key).
    pub shared_key: Secret,
    /// TCP + TLS connect timeout. Default 10 s.
    pub connect_timeout: Duration,
    /// Timeout of one whole request including the body. Default 60 s.
    pub request_timeout: Duration,
    /// PEM client certificate (chain) for mutual TLS. Default none.
    pub client_cert: Option<PathBuf>,
    /// PEM private key matching `client_cert`. Default none.
    pub client_key: Option<PathBuf>,
    /// Extra trusted CA certificates (PEM bundle), added to the platform roots. Default none.
    pub ca_bundle: Option<PathBuf>,
    /// Proxy URL for all requests. Default none, in which case `HTTPS_PROXY` / `HTTP_PROXY` /
    /// `NO_PROXY` from the environment apply.
    pub proxy: Option<String>,
    /// Largest payload piece per request; bigger bodies are chunked. Default 75 MiB.
    pub chunk_size: usize,
    /// gzip each chunk (`Content-Encoding: gzip`, `Mex-Content-Compressed: Y`). Default false.
    pub compress: bool,
}

impl MeshClientConfig {
    /// A configuration with the defaults above and no TLS client identity or proxy.
    pub fn new(
        base_url: impl Into<String>,
        mailbox_id: impl Into<String>,
        password: Secret,
        shared_key: Secret,
    ) -> Self {
        Self {
            base_url: base_url.into(),
            mailbox_id: mailbox_id.into(),
            password,
            shared_key,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            client_cert: None,
            client_key: None,
            ca_bundle: None,
            proxy: None,
            chunk_size: DEFAULT_CHUNK_SIZE,
            compress: false,
        }
    }

    /// Checks the settings that do not need I/O, reporting all problems at once.
    ///
    /// # Errors
    ///
    /// [`MeshError::Config`] listing every problem found.
    pub fn validate(&self) -> Result<(), MeshError> {
        let mut problems = Vec::new();
        match reqwest::Url::parse(&self.base_url) {
            Ok(url) if !matches!(url.scheme(), "http" | "https") => {
                problems.push("base_url must be http or https".to_owned());
            }
            Ok(url) if url.cannot_be_a_base() => problems.push("base_url has no path".to_owned()),
            Ok(_) => {}
            Err(e) => problems.push(format!("base_url is not a url: {e}")),
        }
        let mailbox_ok = !self.mailbox_id.is_empty()
            && self
                .mailbox_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !mailbox_ok {
            problems.push("mailbox_id must be non-empty letters, digits, '_' or '-'".to_owned());
        }
        if self.password.is_empty() {
            problems.push("password is empty".to_owned());
        }
        if self.shared_key.is_empty() {
            problems.push("shared_key is empty".to_owned());
        }
        if self.chunk_size == 0 {
            problems.push("chunk_size must be greater than zero".to_owned());
        }
        if self.client_cert.is_some() != self.client_key.is_some() {
            problems.push("client_cert and client_key must be set together".to_owned());
        }
        if self.connect_timeout.is_zero() || self.request_timeout.is_zero() {
            problems.push("timeouts must be greater than zero".to_owned());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(MeshError::Config(problems.join("; ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> MeshClientConfig {
        MeshClientConfig::new(
            "http://127.0.0.1:8700",
            "X26ABC1",
            Secret::new("password"),
            Secret::new("TestKey"),
        )
    }

    #[test]
    fn defaults() {
        let c = cfg();
        assert_eq!(c.connect_timeout, Duration::from_secs(10));
        assert_eq!(c.request_timeout, Duration::from_secs(60));
        assert_eq!(c.chunk_size, 75 * 1024 * 1024);
        assert!(!c.compress && c.proxy.is_none() && c.client_cert.is_none());
        assert!(c.validate().is_ok());
    }

    #[test]
    fn debug_redacts_secrets() {
        let text = format!("{:?}", cfg());
        assert!(
            !text.contains("TestKey") && !text.contains("\"password\""),
            "{text}"
        );
        assert!(text.contains("X26ABC1"));
    }

    #[test]
    fn validate_reports_every_problem() {
        let mut c = cfg();
        c.base_url = "ftp://x".into();
        c.mailbox_id = "bad id".into();
        c.chunk_size = 0;
        c.client_cert = Some("cert.pem".into());
        let Err(MeshError::Config(text)) = c.validate() else {
            panic!("expected config error")
        };
        for needle in ["base_url", "mailbox_id", "chunk_size", "client_key"] {
            assert!(text.contains(needle), "{text}");
        }
    }
}
