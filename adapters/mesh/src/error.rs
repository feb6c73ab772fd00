//! [`MeshError`]: every way a MESH call can fail, classified for retry and duplicate-risk
//! decisions.

use crate::error_body::ErrorBody;

/// A boxed error cause (file and TLS set-up failures come from several libraries).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A failed MESH call.
///
/// Classify with [`MeshError::is_retryable`] (safe to repeat an idempotent call) and
/// [`MeshError::outcome_unknown`] (the request may have been processed; never resend a
/// `POST .../outbox` blindly).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MeshError {
    /// The client configuration is unusable (bad URL, zero chunk size, ...).
    #[error("invalid mesh client configuration: {0}")]
    Config(String),
    /// Client certificate, key or CA bundle could not be loaded, or the TLS client not built.
    #[error("mesh tls setup failed: {detail}")]
    Tls {
        /// What was being loaded (file names only, never key material).
        detail: String,
        /// The underlying failure.
        #[source]
        source: Option<BoxError>,
    },
    /// The message cannot be sent as given (e.g. a control character in a header value). The
    /// message names the field, never its value.
    #[error("invalid outbound mesh message: {0}")]
    InvalidMessage(String),
    /// Connection or I/O failure before a complete response arrived.
    #[error(
        "mesh {operation} request of mailbox {mailbox} failed before a response arrived{}",
        hint.map(|h| format!("; {h}")).unwrap_or_default()
    )]
    Transport {
        /// Operation name (`send`, `download`, ...).
        operation: &'static str,
        /// Our mailbox id.
        mailbox: String,
        /// False only when the connection was never established, so MESH cannot have seen it.
        may_have_reached_server: bool,
        /// What to check when the failure looks like a refused TLS session, e.g. a missing
        /// client certificate (servers that demand one often just close the connection).
        hint: Option<&'static str>,
        /// The HTTP client error.
        #[source]
        source: reqwest::Error,
    },
    /// Connect or request timeout.
    #[error("mesh {operation} request of mailbox {mailbox} timed out")]
    Timeout {
        /// Operation name.
        operation: &'static str,
        /// Our mailbox id.
        mailbox: String,
        /// False only for connect timeouts.
        may_have_reached_server: bool,
        /// The HTTP client error.
        #[source]
        source: reqwest::Error,
    },
    /// The TLS session was refused before any HTTP exchange: the server demands a client
    /// certificate we did not present or does not accept ours, or we do not trust its
    /// certificate. A configuration problem; MESH cannot have processed the request.
    #[error("mesh tls session of mailbox {mailbox} failed during {operation}: {reason}")]
    TlsSession {
        /// Operation name.
        operation: &'static str,
        /// Our mailbox id.
        mailbox: String,
        /// What to check, e.g. "the server demands a client certificate ...".
        reason: &'static str,
        /// The HTTP client error.
        #[source]
        source: reqwest::Error,
    },
    /// HTTP 403: MESH refused the token or the mailbox's access to the resource.
    #[error(
        "mesh refused mailbox {mailbox} (http 403: {description}); check the mailbox id, password \
         and shared key, and that the clock is within 2 hours of mesh time (utc){}",
        skew_hint(clock_skew)
    )]
    Auth {
        /// Our mailbox id.
        mailbox: String,
        /// MESH error code when given (`EPL-151` for an unknown mailbox).
        code: Option<String>,
        /// MESH error text.
        description: String,
        /// Server `Date` header minus the local clock, when the 403 carried a `Date` more than
        /// [`CLOCK_SKEW_HINT`] away from local time (tokens must be within 2 hours of MESH time).
        clock_skew: Option<chrono::TimeDelta>,
    },
    /// Any other non-success HTTP status, with the parsed MESH error body.
    #[error(
        "mesh answered http {status} to mailbox {mailbox}{}: {description}",
        code_suffix(code)
    )]
    Status {
        /// HTTP status code.
        status: u16,
        /// MESH error code (`12`, `20`, `EPL-153`, ...) when the body had one.
        code: Option<String>,
        /// MESH error text (or a summary of a validation error).
        description: String,
        /// Our mailbox id.
        mailbox: String,
    },
    /// MESH answered success with a body or headers we cannot understand.
    #[error("invalid mesh response: {0}")]
    Protocol(String),
    /// `POST .../outbox` succeeded (2xx) but no message id could be read: the message is probably
    /// in MESH under an id we do not know.
    #[error("mesh accepted the message but its id could not be read: {0}")]
    SendUnconfirmed(String),
    /// Chunk `chunk` of `total` failed after the first chunk had created `message_id`.
    #[error("uploading chunk {chunk} of {total} of mesh message {message_id} failed")]
    ChunkUpload {
        /// MESH id assigned by the first chunk.
        message_id: String,
        /// 1-based number of the failing chunk.
        chunk: usize,
        /// Total number of chunks.
        total: usize,
        /// What went wrong with that chunk.
        #[source]
        source: Box<MeshError>,
    },
    /// gzip compression or decompression failed.
    #[error("mesh payload gzip failed")]
    Compression(#[source] std::io::Error),
    /// Reading the payload file to send, or writing a downloaded message, failed.
    #[error("{action} {} failed", path.display())]
    File {
        /// What was being done (`reading mesh payload file`, `writing mesh download file`, ...).
        action: &'static str,
        /// The local file.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Smallest difference between the server's `Date` and our clock that [`MeshError::Auth`]
/// reports (real MESH refuses tokens more than 2 hours off).
pub const CLOCK_SKEW_HINT: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

fn code_suffix(code: &Option<String>) -> String {
    code.as_deref()
        .map(|c| format!(" (code {c})"))
        .unwrap_or_default()
}

fn skew_hint(skew: &Option<chrono::TimeDelta>) -> String {
    let Some(skew) = skew else {
        return String::new();
    };
    let direction = if *skew > chrono::TimeDelta::zero() {
        "ahead of"
    } else {
        "behind"
    };
    let minutes = skew.num_minutes().unsigned_abs();
    format!(
        "; the server clock (date header) is {}h {:02}m {direction} the local clock",
        minutes / 60,
        minutes % 60
    )
}

/// Server `Date` minus `now` when the header is a valid HTTP date more than
/// [`CLOCK_SKEW_HINT`] away from `now`.
pub(crate) fn clock_skew(
    date: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<chrono::TimeDelta> {
    let date = date?.trim();
    // HTTP dates end in "GMT"; the sandbox's other headers use "UTC", which RFC 2822 lacks.
    let server = chrono::DateTime::parse_from_rfc2822(date)
        .map(|d| d.with_timezone(&chrono::Utc))
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(date, "%a, %d %b %Y %H:%M:%S UTC")
                .map(|d| d.and_utc())
        })
        .ok()?;
    let skew = server - now;
    (skew.abs() > CLOCK_SKEW_HINT).then_some(skew)
}

/// Why a failed TLS session looks like a configuration problem, judged from the error chain
/// (rustls reports alerts and certificate errors as text; it is not a direct dependency).
fn tls_reason(error: &reqwest::Error) -> Option<&'static str> {
    let chain = error_chain(error);
    let has = |needles: &[&str]| needles.iter().any(|n| chain.contains(n));
    if has(&["certificaterequired", "certificate required"]) {
        Some(
            "the server demands a client certificate (mutual tls); set client_cert and \
             client_key to this mailbox's certificate and key",
        )
    } else if has(&[
        "unknownissuer",
        "invalid peer certificate",
        "certificate verify failed",
    ]) {
        Some("the server certificate is not trusted; set ca_bundle to the environment's ca")
    } else if has(&[
        "badcertificate",
        "unknownca",
        "certificateunknown",
        "decrypterror",
    ]) || has(&[
        "handshakefailure",
        "handshake failure",
        "certificaterevoked",
    ]) {
        Some(
            "the server refused the tls handshake; check that client_cert and client_key are \
             this mailbox's current certificate for this environment",
        )
    } else {
        None
    }
}

/// What to check when an HTTPS connection was closed or reset without an answer: TLS 1.3
/// servers check the client certificate after the client considers the handshake done, and
/// many then close the connection without an alert. Also a plain network failure, so this is
/// only a hint on a retryable [`MeshError::Transport`].
pub(crate) fn tls_drop_hint(error: &reqwest::Error, has_identity: bool) -> Option<&'static str> {
    let chain = error_chain(error);
    let dropped = [
        "close_notify",
        "unexpectedeof",
        "connection reset",
        "connectionreset",
    ];
    if !dropped.iter().any(|n| chain.contains(n)) {
        None
    } else if has_identity {
        Some(
            "the server closed the tls connection without answering: check that client_cert \
             and client_key are this mailbox's current certificate for this environment",
        )
    } else {
        Some(
            "the server closed the tls connection without answering: if it demands a client \
             certificate (mutual tls, as real mesh does), set client_cert and client_key",
        )
    }
}

/// Display and Debug text of an error and all its causes, lower-cased.
fn error_chain(error: &reqwest::Error) -> String {
    let mut chain = String::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = next {
        chain.push_str(&format!("{e} {e:?} ").to_ascii_lowercase());
        next = e.source();
    }
    chain
}

impl MeshError {
    /// True when repeating the same (idempotent) call may succeed: connection failures,
    /// timeouts, 425, 429 and 5xx.
    ///
    /// For `send` check [`MeshError::outcome_unknown`] first: a retryable send error may still
    /// have delivered the message.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { .. } | Self::Timeout { .. } => true,
            Self::Status { status, .. } => matches!(status, 425 | 429 | 500..=599),
            Self::ChunkUpload { source, .. } => source.is_retryable(),
            _ => false,
        }
    }

    /// The MESH error code (`12`, `20`, `EPL-151`, ...) when MESH gave one.
    pub fn mesh_code(&self) -> Option<&str> {
        match self {
            Self::Status { code, .. } | Self::Auth { code, .. } => code.as_deref(),
            Self::ChunkUpload { source, .. } => source.mesh_code(),
            _ => None,
        }
    }

    /// HTTP status of the MESH answer, when there was one.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            Self::Auth { .. } => Some(403),
            Self::ChunkUpload { source, .. } => source.http_status(),
            _ => None,
        }
    }

    /// True when the request may have been processed although no success was seen: timeouts and
    /// connection failures after the request was sent, a 2xx send without a readable id, and
    /// 500/502/504 (a server or gateway failing after the backend may have stored the message).
    /// A failed non-final chunk is never unknown: MESH only delivers once the last chunk arrives.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            Self::Transport {
                may_have_reached_server,
                ..
            }
            | Self::Timeout {
                may_have_reached_server,
                ..
            } => *may_have_reached_server,
            Self::SendUnconfirmed(_) => true,
            Self::Status { status, .. } => matches!(status, 500 | 502 | 504),
            Self::ChunkUpload {
                chunk,
                total,
                source,
                ..
            } => chunk == total && source.outcome_unknown(),
            _ => false,
        }
    }

    /// Classifies a reqwest failure of `operation` by `mailbox`; `hint` as for
    /// [`MeshError::Transport`].
    pub(crate) fn from_reqwest(
        operation: &'static str,
        mailbox: &str,
        hint: Option<&'static str>,
        source: reqwest::Error,
    ) -> Self {
        let mailbox = mailbox.to_owned();
        // A connect failure (or a request that could not even be built) never left this process.
        let may_have_reached_server = !(source.is_connect() || source.is_builder());
        if source.is_timeout() {
            Self::Timeout {
                operation,
                mailbox,
                may_have_reached_server,
                source,
            }
        } else if let Some(reason) = tls_reason(&source) {
            Self::TlsSession {
                operation,
                mailbox,
                reason,
                source,
            }
        } else {
            Self::Transport {
                operation,
                mailbox,
                may_have_reached_server,
                hint,
                source,
            }
        }
    }

    /// Builds the error for a non-success response from its status and body.
    pub(crate) fn from_response(status: u16, body: &[u8], mailbox: &str) -> Self {
        let parsed = ErrorBody::parse(body);
        let (code, description) = match parsed {
            Some(b) => (b.code, b.description),
            None => (None, format!("http {status} without a mesh error body")),
        };
        if status == 403 {
            Self::Auth {
                mailbox: mailbox.to_owned(),
                code,
                description,
                clock_skew: None,
            }
        } else {
            Self::Status {
                status,
                code,
                description,
                mailbox: mailbox.to_owned(),
            }
        }
    }
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
