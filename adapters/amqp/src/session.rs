//! One consumer on one connection: batching, ingest with retry, dead letters, batched acks.

use std::time::Duration;

use futures::StreamExt;
use gateway_core::{Ingest, IngestOutcome};
use lapin::{
    Channel, Connection, ConnectionStatus, Consumer,
    message::Delivery,
    options::{BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicQosOptions},
    types::{FieldTable, ShortString},
};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, info, info_span, warn};

use crate::watch::{channel_stalled, connection_gone};
use crate::{
    batch::{deliveries_lost, ingest_with_retry},
    dead_letter::{self, DeadLetter},
    error::{AmqpError, chain},
    input::Settings,
    retry::Backoff,
};

/// Why a session ended.
pub(crate) enum SessionEnd {
    /// Shutdown was requested and the session drained.
    Shutdown,
    /// The consumer or its channel is gone; a new session is needed.
    Lost(String),
    /// The connection cannot be trusted (an operation on it hung): a new session on a new
    /// connection is needed.
    Broken(String),
}

/// How collecting a batch ended.
enum Collected {
    /// The batch is full or the linger time passed.
    Ready,
    /// Shutdown: settle what was collected, then stop.
    Stopping,
    /// The broker cancelled the consumer: settle what was collected, then start again.
    Cancelled,
    /// The channel failed: the collected deliveries cannot be acknowledged any more.
    Failed(lapin::Error),
}

/// How settling a batch ended.
enum Settled {
    /// Acknowledged, or left for the broker to redeliver.
    Done,
    /// The acknowledgement did not complete in time: the channel cannot be trusted.
    ChannelHung,
}

/// A consumer channel and a confirm-mode channel for dead letters.
pub(crate) struct Session {
    channel: Channel,
    consumer: Consumer,
    dead_letters: Channel,
}

impl Session {
    /// Opens the channels and starts consuming; opens a new connection when `conn` is closed.
    pub(crate) async fn open(conn: &mut Connection, s: &Settings) -> Result<Self, AmqpError> {
        let status = conn.status().clone();
        if status.reconnecting() || status.connecting() {
            // Give lapin's recovery a bounded time, then replace the connection.
            let deadline = tokio::time::Instant::now() + crate::RECOVERY_STALL_LIMIT;
            while !status.connected() && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
        if !status.connected() {
            info!("Opening a new AMQP connection.");
            *conn = crate::connect(&s.cfg).await?;
        }
        let channel = crate::channel::open(conn, "consumer").await?;
        channel
            .basic_qos(s.cfg.prefetch, BasicQosOptions::default())
            .await
            .map_err(|source| AmqpError::Channel {
                purpose: "consumer",
                source,
            })?;
        let dead_letters = crate::channel::open_confirming(conn, "dead letters").await?;
        let consumer = channel
            .basic_consume(
                s.queue.clone(),
                ShortString::default(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(|source| AmqpError::Consume {
                queue: s.cfg.queue.clone(),
                source,
            })?;
        Ok(Self {
            channel,
            consumer,
            dead_letters,
        })
    }

    /// Consumes and settles batches until shutdown or until the consumer is lost.
    pub(crate) async fn run(
        &mut self,
        conn: &Connection,
        s: &Settings,
        ingest: &dyn Ingest,
        shutdown: &CancellationToken,
    ) -> SessionEnd {
        loop {
            let first = tokio::select! {
                biased;
                () = shutdown.cancelled() => {
                    cancel_consumer(&self.channel, self.consumer.tag()).await;
                    self.close().await;
                    return SessionEnd::Shutdown;
                }
                // A consumer on a dead channel may neither yield nor fail: watch the
                // connection and the channel too, and start a new session when either stalls.
                () = connection_gone(conn.status()) => {
                    return SessionEnd::Lost("the connection was lost".to_owned());
                }
                () = channel_stalled(&self.channel) => {
                    return SessionEnd::Lost("the consumer channel stalled".to_owned());
                }
                next = self.consumer.next() => next,
            };
            let mut batch = match first {
                Some(Ok(delivery)) => vec![delivery],
                Some(Err(error)) => match self.recover(conn.status(), error, shutdown).await {
                    Some(end) => return end,
                    None => continue,
                },
                None => return SessionEnd::Lost("the consumer was cancelled".to_owned()),
            };
            let collected = self.collect(&mut batch, s, shutdown).await;
            let stopping = matches!(collected, Collected::Stopping);
            if stopping {
                cancel_consumer(&self.channel, self.consumer.tag()).await;
            }
            if let Collected::Failed(error) = collected {
                debug!(
                    count = batch.len(),
                    "Dropped a partial batch; the broker will redeliver it."
                );
                drop(batch);
                match self.recover(conn.status(), error, shutdown).await {
                    Some(end) => return end,
                    None => continue,
                }
            }
            let span = info_span!(
                "process",
                otel.name = format!("process {}", s.cfg.queue),
                otel.kind = "consumer",
                messaging.system = gateway_core::telemetry::SYSTEM_RABBITMQ,
                messaging.destination.name = s.cfg.queue.as_str(),
                messaging.operation.type = "process",
                messaging.batch.message_count = batch.len(),
            );
            let (channel, tag) = (self.channel.clone(), self.consumer.tag());
            let settle = self
                .settle(conn, batch, s, ingest, shutdown)
                .instrument(span);
            let shutdown_while_settling = if stopping {
                settle.await;
                false
            } else {
                tokio::pin!(settle);
                tokio::select! {
                    biased;
                    settled = &mut settle => match settled {
                        Settled::Done => false,
                        Settled::ChannelHung => {
                            return SessionEnd::Broken("an acknowledgement hung".to_owned());
                        }
                    },
                    () = shutdown.cancelled() => {
                        // Stop deliveries first, then let the batch in flight finish.
                        cancel_consumer(&channel, tag).await;
                        settle.await;
                        true
                    }
                    // An ack on a connection that died mid-batch may never complete. Giving up
                    // the batch is safe: its outcome is stored or not, and the broker
                    // redelivers it to the next session, where the store de-duplicates it.
                    () = connection_gone(conn.status()) => {
                        return SessionEnd::Broken("the connection was lost while settling".to_owned());
                    }
                    () = channel_stalled(&channel) => {
                        return SessionEnd::Broken("the consumer channel stalled while settling".to_owned());
                    }
                }
            };
            if stopping || shutdown_while_settling {
                self.close().await;
                return SessionEnd::Shutdown;
            }
            if let Collected::Cancelled = collected {
                return SessionEnd::Lost("the consumer was cancelled".to_owned());
            }
        }
    }

    /// Adds deliveries to `batch` until it is full, the linger time has passed, or something
    /// ends the consumer.
    async fn collect(
        &mut self,
        batch: &mut Vec<Delivery>,
        s: &Settings,
        shutdown: &CancellationToken,
    ) -> Collected {
        let deadline = tokio::time::Instant::now() + s.cfg.batch_linger;
        while batch.len() < s.cfg.batch_max {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => return Collected::Stopping,
                next = self.consumer.next() => match next {
                    Some(Ok(delivery)) => batch.push(delivery),
                    Some(Err(error)) => return Collected::Failed(error),
                    None => return Collected::Cancelled,
                },
                () = tokio::time::sleep_until(deadline) => return Collected::Ready,
            }
        }
        Collected::Ready
    }

    /// Ingests, dead-letters the rejected, then acknowledges the whole batch at once.
    ///
    /// Deliveries arrive and are settled in order on one channel, so acknowledging the last
    /// delivery tag with `multiple` covers exactly this batch.
    async fn settle(
        &mut self,
        conn: &Connection,
        batch: Vec<Delivery>,
        s: &Settings,
        ingest: &dyn Ingest,
        shutdown: &CancellationToken,
    ) -> Settled {
        let mut batch = batch;
        // Deliveries of a channel incarnation that has since failed cannot be acknowledged;
        // the broker has requeued them and redelivers them on the recovered channel.
        batch.retain(|d| d.acker.usable());
        if batch.is_empty() {
            return Settled::Done;
        }
        let Some(outcomes) = ingest_with_retry(&batch, s, ingest, shutdown).await else {
            return Settled::Done;
        };
        if !self.dead_letter(conn, &batch, &outcomes, s, shutdown).await {
            return Settled::Done;
        }
        let Some(last) = batch.last() else {
            return Settled::Done;
        };
        let ack = last.acker.ack(BasicAckOptions { multiple: true });
        match tokio::time::timeout(s.cfg.confirm_timeout, ack).await {
            Ok(Ok(true)) => debug!(count = batch.len(), "Acknowledged the batch."),
            Ok(Ok(false)) => warn!(
                count = batch.len(),
                "Channel closed before the batch was acknowledged; the broker will redeliver it."
            ),
            Ok(Err(error)) => warn!(
                error = %error,
                count = batch.len(),
                "Acknowledging the batch failed; the broker will redeliver it."
            ),
            Err(_) => {
                warn!(
                    count = batch.len(),
                    "Acknowledging the batch hung; the broker will redeliver it to a new consumer."
                );
                return Settled::ChannelHung;
            }
        }
        Settled::Done
    }

    /// Publishes the rejected deliveries to the dead-letter queue, retrying until confirmed.
    /// Returns `false` when the batch must not be acknowledged.
    async fn dead_letter(
        &mut self,
        conn: &Connection,
        batch: &[Delivery],
        outcomes: &[IngestOutcome],
        s: &Settings,
        shutdown: &CancellationToken,
    ) -> bool {
        let letters: Vec<DeadLetter<'_>> = batch
            .iter()
            .zip(outcomes)
            .filter_map(|(delivery, outcome)| match outcome {
                IngestOutcome::Rejected {
                    correlation_id,
                    stage,
                    code,
                    reason,
                } => Some(DeadLetter {
                    body: &delivery.data,
                    original: &delivery.properties,
                    stage: *stage,
                    code,
                    reason,
                    correlation_id: correlation_id.as_deref(),
                }),
                IngestOutcome::Accepted { .. } | IngestOutcome::Duplicate { .. } => None,
            })
            .collect();
        if letters.is_empty() {
            return true;
        }
        let mut backoff = Backoff::new(s.cfg.retry_initial, s.cfg.retry_max);
        loop {
            let sent = dead_letter::publish(
                &self.dead_letters,
                &s.dead_letter_queue,
                &letters,
                s.cfg.confirm_timeout,
            )
            .await;
            match sent {
                Ok(()) => {
                    for l in &letters {
                        info!(
                            correlation_id = l.correlation_id.unwrap_or(""),
                            gateway.stage = l.stage.as_str(),
                            error.type = l.code,
                            messaging.destination.name = s.cfg.dead_letter_queue.as_str(),
                            "Input rejected; dead-lettered."
                        );
                    }
                    return true;
                }
                Err(error) => warn!(
                    error = %chain(&error),
                    count = letters.len(),
                    attempt = backoff.attempt() + 1,
                    "Dead-lettering failed; retrying."
                ),
            }
            if deliveries_lost(batch) {
                warn!("Consumer channel closed; the broker will redeliver the batch.");
                return false;
            }
            if !backoff.wait(shutdown).await {
                return false;
            }
            self.ensure_dead_letter_channel(conn).await;
        }
    }

    /// Replaces the dead-letter channel when it is closed for good (a channel-level error
    /// is not recovered by lapin; a connection-level one is).
    async fn ensure_dead_letter_channel(&mut self, conn: &Connection) {
        let status = self.dead_letters.status();
        if status.connected() || status.reconnecting() || !conn.status().connected() {
            return;
        }
        match crate::channel::open_confirming(conn, "dead letters").await {
            Ok(channel) => self.dead_letters = channel,
            Err(error) => warn!(error = %chain(&error), "Cannot reopen the dead-letter channel."),
        }
    }

    /// Waits for lapin to recover the channel after `error`. `None` means consuming can go on.
    async fn recover(
        &self,
        conn: &ConnectionStatus,
        error: lapin::Error,
        shutdown: &CancellationToken,
    ) -> Option<SessionEnd> {
        warn!(error = %error, "Consumer channel failed; waiting for recovery.");
        tokio::select! {
            biased;
            () = shutdown.cancelled() => Some(SessionEnd::Shutdown),
            () = connection_gone(conn) => {
                Some(SessionEnd::Lost("connection recovery gave up".to_owned()))
            }
            () = tokio::time::sleep(crate::RECOVERY_STALL_LIMIT) => {
                Some(SessionEnd::Lost("channel recovery stalled".to_owned()))
            }
            recovered = self.channel.wait_for_recovery(error) => match recovered {
                Ok(()) => {
                    info!("Consumer channel recovered.");
                    None
                }
                Err(error) => Some(SessionEnd::Lost(format!("channel not recoverable: {error}"))),
            },
        }
    }

    async fn close(&self) {
        for channel in [&self.channel, &self.dead_letters] {
            if channel.status().connected()
                && let Err(error) = channel.close(200, ShortString::from("OK")).await
            {
                debug!(error = %error, "Closing a channel failed.");
            }
        }
    }
}

/// Asks the broker to stop delivering; deliveries already buffered stay unacknowledged and
/// return to the queue when the channel closes.
async fn cancel_consumer(channel: &Channel, tag: ShortString) {
    if !channel.status().connected() {
        return;
    }
    if let Err(error) = channel
        .basic_cancel(tag, BasicCancelOptions::default())
        .await
    {
        debug!(error = %error, "Cancelling the consumer failed.");
        return;
    }
    debug!("Consumer cancelled.");
}
