//! Errors of the AMQP adapter.

/// What went wrong talking to the broker.
///
/// Messages never contain the broker URL (it may hold a password) nor message bodies.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AmqpError {
    /// The configuration is invalid; the message lists every problem.
    #[error("invalid amqp configuration: {0}")]
    Config(String),
    /// A TLS file (CA bundle or client identity) is missing, unreadable or invalid; the
    /// message names the file, never its contents.
    #[error("amqp tls file `{}`: {problem}", path.display())]
    TlsFile {
        /// The file as configured.
        path: std::path::PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The broker could not be reached or refused the connection.
    #[error("cannot connect to the amqp broker")]
    Connect(#[source] lapin::Error),
    /// The connection is not usable right now (lost, or being recovered).
    #[error("amqp connection not ready: {0}")]
    NotReady(String),
    /// A channel could not be opened or configured.
    #[error("cannot open an amqp channel for {purpose}")]
    Channel {
        /// What the channel was for (`consumer`, `dead letters`, `publisher`, `topology`).
        purpose: &'static str,
        /// The broker's or client's error.
        #[source]
        source: lapin::Error,
    },
    /// Declaring a queue or exchange failed (for example it exists with other arguments).
    #[error("cannot declare {kind} `{name}` (does it exist with other arguments?)")]
    Declare {
        /// `queue` or `exchange`.
        kind: &'static str,
        /// The queue or exchange name.
        name: String,
        /// The broker's or client's error.
        #[source]
        source: lapin::Error,
    },
    /// Starting the consumer failed.
    #[error("cannot consume from queue `{queue}`")]
    Consume {
        /// The input queue.
        queue: String,
        /// The broker's or client's error.
        #[source]
        source: lapin::Error,
    },
    /// Publishing to the dead-letter queue failed or was not confirmed.
    #[error("dead-letter publish failed: {0}")]
    DeadLetter(String),
}

/// An error and its sources on one line, for logs (`error = %chain(&e)`).
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
