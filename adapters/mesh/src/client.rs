//! [`MeshClient`]: one pooled HTTPS client per mailbox, the per-request token and `Accept` header,
//! response classification and the retry loop for idempotent calls.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use gateway_core::telemetry as tm;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_LENGTH, DATE};
use reqwest::{Method, RequestBuilder, Response, Url};
use tracing::{Instrument, debug, warn};

use crate::config::MeshClientConfig;
use crate::token::TokenSource;
use crate::{MeshError, error, tls};

/// The only `Accept` value we send: the sandbox rejects lists (spec/mesh.md §3.3).
pub(crate) const ACCEPT_V2: &str = "application/vnd.mesh.v2+json";
/// Retries after the first attempt of an idempotent call.
const MAX_RETRIES: u32 = 3;
/// First retry delay; doubled per attempt.
const BASE_BACKOFF: Duration = Duration::from_millis(250);
/// Longest single retry delay.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

const CLIENT_VERSION: &str = concat!("gpc-gateway==", env!("CARGO_PKG_VERSION"));

/// A MESH API client for one mailbox. Cheap to clone; clones share one connection pool.
#[derive(Clone, Debug)]
pub struct MeshClient {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) base: Url,
    pub(crate) cfg: MeshClientConfig,
    tokens: TokenSource,
    os_version: String,
}

impl MeshClient {
    /// Builds the client and its connection pool (rustls, optional mTLS identity, extra CAs,
    /// proxy). No request is made.
    ///
    /// # Errors
    ///
    /// [`MeshError::Config`] for invalid settings, [`MeshError::Tls`] when the certificate, key
    /// or CA bundle cannot be read or parsed.
    pub fn new(cfg: MeshClientConfig) -> Result<Self, MeshError> {
        cfg.validate()?;
        let base = Url::parse(&cfg.base_url).map_err(|e| MeshError::Config(e.to_string()))?;
        let mut builder = reqwest::Client::builder()
            .connect_timeout(cfg.connect_timeout)
            .timeout(cfg.request_timeout)
            // MESH never redirects; following one could leak the token to another host.
            .redirect(reqwest::redirect::Policy::none())
            .tls_version_min(reqwest::tls::Version::TLS_1_2)
            .user_agent(format!("gpc-gateway/{}", env!("CARGO_PKG_VERSION")));
        builder = tls::configure(builder, &cfg)?;
        if let Some(proxy) = &cfg.proxy {
            let proxy = reqwest::Proxy::all(proxy.as_str())
                .map_err(|e| MeshError::Config(format!("proxy is not a valid url: {e}")))?;
            builder = builder.proxy(proxy);
        }
        let http = builder.build().map_err(|e| MeshError::Tls {
            detail: "building the http client".to_owned(),
            source: Some(Box::new(e)),
        })?;
        let inner = Inner {
            http,
            base,
            cfg,
            tokens: TokenSource::new(),
            os_version: os_version(),
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// Our mailbox id.
    pub fn mailbox_id(&self) -> &str {
        &self.inner.cfg.mailbox_id
    }

    /// The configuration the client was built from.
    pub fn config(&self) -> &MeshClientConfig {
        &self.inner.cfg
    }

    /// Validates the mailbox (`POST /messageexchange/{mailbox}`); MESH expects this daily.
    ///
    /// # Errors
    ///
    /// [`MeshError::Auth`] for bad credentials, otherwise as any call.
    pub async fn handshake(&self) -> Result<(), MeshError> {
        let url = self.url(&[])?;
        self.with_retry("handshake", |_| async {
            let rb = self
                .request(Method::POST, url.clone())
                .header("mex-ClientVersion", CLIENT_VERSION)
                .header("mex-OSName", std::env::consts::OS)
                .header("mex-OSVersion", self.inner.os_version.as_str())
                .header("mex-OSArchitecture", std::env::consts::ARCH)
                .header("mex-JavaVersion", "N/A")
                // Some proxies answer 411 to a POST without Content-Length.
                .header(CONTENT_LENGTH, "0");
            self.execute("handshake", rb).await.map(drop)
        })
        .await?;
        debug!(mailbox = %self.mailbox_id(), "MESH handshake succeeded.");
        Ok(())
    }

    /// `{base}/messageexchange/{mailbox}/{segments...}`, each segment percent-encoded.
    pub(crate) fn url(&self, segments: &[&str]) -> Result<Url, MeshError> {
        let mut url = self.inner.base.clone();
        {
            let mut path = url
                .path_segments_mut()
                .map_err(|()| MeshError::Config("base_url cannot take a path".to_owned()))?;
            path.pop_if_empty()
                .push("messageexchange")
                .push(self.mailbox_id());
            path.extend(segments);
        }
        Ok(url)
    }

    /// A request with our `Accept` and a fresh token (one per attempt: real MESH refuses reuse).
    pub(crate) fn request(&self, method: Method, url: Url) -> RequestBuilder {
        let cfg = &self.inner.cfg;
        let token = self.inner.tokens.next(
            &cfg.mailbox_id,
            cfg.password.expose(),
            cfg.shared_key.expose(),
        );
        self.inner
            .http
            .request(method, url)
            .header(ACCEPT, ACCEPT_V2)
            .header(AUTHORIZATION, token)
    }

    /// Sends `rb`; non-2xx answers become [`MeshError::Auth`] / [`MeshError::Status`].
    ///
    /// Each call is one `mesh.request` span (method, status, mailbox, operation; never the URL,
    /// headers or body), so every attempt of a retried call shows in traces and metrics.
    pub(crate) async fn execute(
        &self,
        operation: &'static str,
        rb: RequestBuilder,
    ) -> Result<Response, MeshError> {
        let (http, request) = rb.build_split();
        let request = request.map_err(|e| self.transport_error(operation, e))?;
        let span = tracing::info_span!(
            tm::SPAN_MESH_REQUEST,
            otel.name = %format_args!("{} {operation}", request.method()),
            otel.kind = "client",
            otel.status_code = tracing::field::Empty,
            { tm::HTTP_METHOD } = %request.method(),
            { tm::HTTP_STATUS_CODE } = tracing::field::Empty,
            { tm::GATEWAY_MAILBOX } = self.mailbox_id(),
            { tm::GATEWAY_MESH_OPERATION } = operation,
            { tm::ERROR_TYPE } = tracing::field::Empty,
        );
        let result = self
            .execute_request(operation, &http, request)
            .instrument(span.clone())
            .await;
        match &result {
            Ok(r) => {
                span.record(tm::HTTP_STATUS_CODE, i64::from(r.status().as_u16()));
            }
            Err(MeshError::Auth { .. }) => {
                span.record(tm::HTTP_STATUS_CODE, 403_i64);
                span.record(tm::ERROR_TYPE, "403");
                span.record("otel.status_code", "error");
            }
            Err(MeshError::Status { status, .. }) => {
                span.record(tm::HTTP_STATUS_CODE, i64::from(*status));
                span.record(tm::ERROR_TYPE, status.to_string().as_str());
                span.record("otel.status_code", "error");
            }
            Err(e) => {
                let kind = if matches!(e, MeshError::Timeout { .. }) {
                    "timeout"
                } else {
                    "transport"
                };
                span.record(tm::ERROR_TYPE, kind);
                span.record("otel.status_code", "error");
            }
        }
        result
    }

    async fn execute_request(
        &self,
        operation: &'static str,
        http: &reqwest::Client,
        request: reqwest::Request,
    ) -> Result<Response, MeshError> {
        let response = http
            .execute(request)
            .await
            .map_err(|e| self.transport_error(operation, e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        // A token outside MESH's clock window is refused like a bad password; the server's Date
        // header tells the two apart.
        let date = response.headers().get(DATE).and_then(|v| v.to_str().ok());
        let skew = error::clock_skew(date, chrono::Utc::now());
        // The error body is only diagnostic: a failure to read it must not hide the status.
        let body = response.bytes().await.unwrap_or_default();
        let mut error = MeshError::from_response(status.as_u16(), &body, self.mailbox_id());
        if let MeshError::Auth { clock_skew, .. } = &mut error {
            *clock_skew = skew;
        }
        Err(error)
    }

    /// Classifies a reqwest failure of `operation` for this mailbox.
    pub(crate) fn transport_error(&self, operation: &'static str, e: reqwest::Error) -> MeshError {
        let hint = if self.inner.base.scheme() == "https" {
            error::tls_drop_hint(&e, self.inner.cfg.client_cert.is_some())
        } else {
            None
        };
        MeshError::from_reqwest(operation, self.mailbox_id(), hint, e)
    }

    /// Reads a whole response body.
    pub(crate) async fn body(
        &self,
        operation: &'static str,
        response: Response,
    ) -> Result<bytes::Bytes, MeshError> {
        response
            .bytes()
            .await
            .map_err(|e| self.transport_error(operation, e))
    }

    /// Runs `attempt` (given the attempt number, from 0) until it succeeds, fails with a
    /// non-retryable error or has been retried [`MAX_RETRIES`] times. Only for calls that are
    /// safe to repeat — never the first `POST .../outbox`.
    pub(crate) async fn with_retry<T, F, Fut>(
        &self,
        operation: &'static str,
        mut attempt: F,
    ) -> Result<T, MeshError>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, MeshError>>,
    {
        let mut n = 0;
        loop {
            match attempt(n).await {
                Err(error) => match self.retry_delay(operation, n, &error) {
                    Some(delay) => {
                        tokio::time::sleep(delay).await;
                        n += 1;
                    }
                    None => return Err(error),
                },
                ok => return ok,
            }
        }
    }

    /// The delay before retry number `attempt + 1` of an idempotent call that failed with
    /// `error` (logged), or `None` when it must not be retried.
    pub(crate) fn retry_delay(
        &self,
        operation: &'static str,
        attempt: u32,
        error: &MeshError,
    ) -> Option<Duration> {
        if !error.is_retryable() || attempt >= MAX_RETRIES {
            return None;
        }
        let delay = backoff(attempt);
        warn!(
            mailbox = %self.mailbox_id(),
            operation,
            attempt = attempt + 1,
            delay_ms = delay.as_millis() as u64,
            error = %error,
            "MESH call failed, retrying."
        );
        Some(delay)
    }
}

/// Capped exponential backoff with jitter, so parallel workers do not retry in lockstep.
fn backoff(attempt: u32) -> Duration {
    let exp = BASE_BACKOFF
        .saturating_mul(1 << attempt.min(8))
        .min(MAX_BACKOFF);
    let jitter = rand::random_range(0..=exp.as_millis() as u64 / 4);
    exp + Duration::from_millis(jitter)
}

/// Kernel release for `mex-OSVersion` (required by the handshake); best effort.
fn os_version() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_core::Secret;

    fn client(base: &str) -> MeshClient {
        MeshClient::new(MeshClientConfig::new(
            base,
            "X26ABC1",
            Secret::new("password"),
            Secret::new("TestKey"),
        ))
        .unwrap()
    }

    #[test]
    fn urls_are_built_under_messageexchange_and_encoded() {
        let c = client("http://127.0.0.1:8700/");
        assert_eq!(
            c.url(&[]).unwrap().as_str(),
            "http://127.0.0.1:8700/messageexchange/X26ABC1"
        );
        assert_eq!(
            c.url(&["inbox", "a/b"]).unwrap().as_str(),
            "http://127.0.0.1:8700/messageexchange/X26ABC1/inbox/a%2Fb"
        );
        let c = client("https://mesh.example/prefix");
        assert_eq!(
            c.url(&["outbox"]).unwrap().as_str(),
            "https://mesh.example/prefix/messageexchange/X26ABC1/outbox"
        );
    }

    #[test]
    fn backoff_is_capped() {
        assert!(backoff(0) >= BASE_BACKOFF);
        assert!(backoff(30) <= MAX_BACKOFF + MAX_BACKOFF / 4);
    }

    #[tokio::test]
    async fn connect_failure_is_retryable_and_never_reached_the_server() {
        // Port 9 on loopback: nothing listens, so the connection is refused at once.
        let c = client("http://127.0.0.1:9");
        let err = c
            .execute("test", c.request(Method::GET, c.url(&[]).unwrap()))
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            MeshError::Transport {
                may_have_reached_server: false,
                ..
            }
        ));
        assert!(err.is_retryable() && !err.outcome_unknown());
    }
}
