//! The AMQP input: consume the input queue in batches, hand each batch to the pipeline, publish
//! rejected messages to the dead-letter queue, and only then acknowledge the batch with one
//! `basic.ack(multiple)`.

use std::sync::Arc;

use gateway_core::Ingest;
use lapin::{Connection, types::ShortString};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::{
    config::AmqpConfig,
    error::{AmqpError, chain},
    retry::Backoff,
    session::{Session, SessionEnd},
    topology::short,
};

/// Consumes domain events from the input queue and feeds them to the pipeline.
///
/// Settles only after [`Ingest::ingest`] returns, so an acknowledged message always has a
/// durable outcome. Survives broker restarts and connection losses: lapin recovers the
/// connection and the consumer; when that fails, the input opens a new connection with
/// backoff. Redeliveries are harmless because the pipeline is idempotent by event id.
pub struct AmqpInput {
    conn: Connection,
    cfg: AmqpConfig,
}

/// Names and settings one run needs, converted once.
pub(crate) struct Settings {
    pub(crate) cfg: AmqpConfig,
    pub(crate) queue: ShortString,
    pub(crate) dead_letter_queue: ShortString,
    pub(crate) origin: String,
}

impl AmqpInput {
    /// An input consuming `cfg.queue` on `conn` (from [`crate::connect`]).
    pub fn new(conn: Connection, cfg: AmqpConfig) -> Self {
        Self { conn, cfg }
    }

    /// Consumes until `shutdown` is cancelled, then stops consuming, finishes and acknowledges
    /// the batch in flight and returns. Messages not yet acknowledged return to the queue.
    ///
    /// The queues must exist (see [`crate::declare_topology`]); until they do, the input keeps
    /// retrying with backoff and logging why.
    ///
    /// # Errors
    /// [`AmqpError::Config`] for an invalid configuration. Broker and pipeline failures are
    /// retried, never returned.
    pub async fn run(
        self,
        ingest: Arc<dyn Ingest>,
        shutdown: CancellationToken,
    ) -> Result<(), AmqpError> {
        let Self { mut conn, cfg } = self;
        cfg.validate()?;
        let settings = Settings {
            queue: short(&cfg.queue)?,
            dead_letter_queue: short(&cfg.dead_letter_queue)?,
            origin: cfg.origin(),
            cfg,
        };
        let queue = settings.cfg.queue.as_str();
        let mut backoff = Backoff::new(settings.cfg.retry_initial, settings.cfg.retry_max);
        info!(messaging.destination.name = queue, "AMQP input starting.");
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            let mut session = match Session::open(&mut conn, &settings).await {
                Ok(session) => {
                    backoff.reset();
                    session
                }
                Err(error) => {
                    warn!(
                        error = %chain(&error),
                        messaging.destination.name = queue,
                        attempt = backoff.attempt() + 1,
                        "Cannot consume from the input queue; retrying."
                    );
                    // A connection that keeps refusing channels is replaced, not retried forever.
                    if backoff.attempt() >= 2
                        && let Ok(fresh) = crate::connect(&settings.cfg).await
                    {
                        info!(
                            messaging.destination.name = queue,
                            "Replaced the AMQP connection."
                        );
                        conn = fresh;
                    }
                    if !backoff.wait(&shutdown).await {
                        break;
                    }
                    continue;
                }
            };
            info!(
                messaging.destination.name = queue,
                "Consuming from the input queue."
            );
            let end = session
                .run(&conn, &settings, ingest.as_ref(), &shutdown)
                .await;
            // Dropping the session closes its channels (when still open) before any wait.
            drop(session);
            let (reason, new_connection) = match end {
                SessionEnd::Shutdown => break,
                SessionEnd::Lost(reason) => (reason, false),
                SessionEnd::Broken(reason) => (reason, true),
            };
            warn!(
                reason = %reason,
                new_connection,
                messaging.destination.name = queue,
                "Consumer lost; starting a new one."
            );
            if !backoff.wait(&shutdown).await {
                break;
            }
            // On failure the next session's open retries with backoff.
            if new_connection && let Ok(fresh) = crate::connect(&settings.cfg).await {
                conn = fresh;
            }
        }
        info!(messaging.destination.name = queue, "AMQP input stopped.");
        Ok(())
    }
}
