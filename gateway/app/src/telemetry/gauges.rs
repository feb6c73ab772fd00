//! Gauges read from the store: messages per state, messages awaiting each acknowledgement and how
//! long the oldest has waited. Refreshed by the timeout sweep and on every `/metrics` scrape.

use gateway_core::MessageState;
use gateway_core::telemetry as tm;

use crate::pipeline::{Shared, now_ms};

/// Reads the store and sets the store gauges.
///
/// # Errors
/// The store failed (the gauges keep their previous values).
pub async fn refresh(shared: &Shared) -> Result<(), String> {
    let counts = shared
        .store
        .state_counts()
        .await
        .map_err(|e| e.to_string())?;
    let count = |s: MessageState| {
        counts
            .iter()
            .find(|(name, _)| name == s.as_str())
            .map_or(0, |(_, n)| u64::try_from(*n).unwrap_or(0))
    };
    let metrics = shared.telemetry.metrics();
    for state in [
        MessageState::Received,
        MessageState::Sent,
        MessageState::Infack,
        MessageState::Busack,
        MessageState::Failed,
    ] {
        metrics.store_messages(state.as_str(), count(state));
    }
    for (state, kind) in [
        (MessageState::Sent, tm::ACK_INFRASTRUCTURE),
        (MessageState::Infack, tm::ACK_BUSINESS),
    ] {
        let n = count(state);
        let oldest = if n == 0 {
            0.0
        } else {
            oldest_wait_ms(shared, state).await? as f64 / 1000.0
        };
        metrics.acks_awaiting(kind, n, oldest);
    }
    Ok(())
}

/// How long the message that has been in `state` longest has been there.
async fn oldest_wait_ms(shared: &Shared, state: MessageState) -> Result<i64, String> {
    let entered = shared
        .store
        .oldest_in_state(state)
        .await
        .map_err(|e| e.to_string())?;
    Ok(entered.map_or(0, |at| (now_ms() - at).max(0)))
}
