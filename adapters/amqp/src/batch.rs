//! Turning deliveries into pipeline input, and calling the pipeline until it answers.

use gateway_core::{Ingest, IngestOutcome, RawEvent};
use lapin::message::Delivery;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::{dead_letter::header_str, input::Settings, retry::Backoff};

/// AMQP header carrying the W3C trace context.
const TRACEPARENT: &str = "traceparent";

/// Calls the pipeline until it makes the batch's outcomes durable. `None` when the batch was
/// abandoned (shutdown, or the channel closed so it can no longer be acknowledged).
pub(crate) async fn ingest_with_retry(
    batch: &[Delivery],
    s: &Settings,
    ingest: &dyn Ingest,
    shutdown: &CancellationToken,
) -> Option<Vec<IngestOutcome>> {
    let mut backoff = Backoff::new(s.cfg.retry_initial, s.cfg.retry_max);
    loop {
        let events = batch.iter().map(|d| raw_event(d, &s.origin)).collect();
        match ingest.ingest(events).await {
            Ok(outcomes) if outcomes.len() == batch.len() => return Some(outcomes),
            Ok(outcomes) => warn!(
                expected = batch.len(),
                got = outcomes.len(),
                "The pipeline returned the wrong number of outcomes; retrying the batch."
            ),
            Err(error) => warn!(
                error = %error,
                count = batch.len(),
                attempt = backoff.attempt() + 1,
                "The pipeline could not store the batch; retrying."
            ),
        }
        if deliveries_lost(batch) {
            warn!("Consumer channel closed; the broker will redeliver the batch.");
            return None;
        }
        if !backoff.wait(shutdown).await {
            info!(
                count = batch.len(),
                "Shutting down with an unstored batch; the broker will redeliver it."
            );
            return None;
        }
    }
}

fn raw_event(delivery: &Delivery, origin: &str) -> RawEvent {
    RawEvent {
        body: delivery.data.clone(),
        traceparent: header_str(delivery.properties.headers().as_ref(), TRACEPARENT),
        origin: origin.to_owned(),
        derived_id: None,
    }
}

/// True when the batch can no longer be acknowledged (its channel closed or failed).
pub(crate) fn deliveries_lost(batch: &[Delivery]) -> bool {
    batch.last().is_none_or(|d| !d.acker.usable())
}
