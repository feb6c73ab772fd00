//! Gauges read from the store: messages per state, messages awaiting each acknowledgement and how
//! long the oldest has waited. Refreshed by the timeout sweep and on every `/metrics` scrape.

use gateway_core::MessageState;
use gateway_core::telemetry as tm;

use crate::pipeline::{Shared, now_ms};

/// How far back the oldest-wait search looks; older waits show as this (far past any alert).
const HORIZON_MS: i64 = 60 * 24 * 3600 * 1000;
/// The oldest wait is found to this precision.
const PRECISION_MS: i64 = 1000;

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

/// How long the message that has been in `state` longest has been there, found by bisecting
/// the store's overdue query (`LIMIT 1` probes): the store has no "oldest" query.
async fn oldest_wait_ms(shared: &Shared, state: MessageState) -> Result<i64, String> {
    let now = now_ms();
    // Some message entered `state` before `now - age`?
    let older_than = |age: i64| {
        let deadline = now - age;
        let (infack, busack) = if state == MessageState::Sent {
            (deadline, i64::MIN)
        } else {
            (i64::MIN, deadline)
        };
        async move {
            shared
                .store
                .overdue(infack, busack, 1)
                .await
                .map(|v| !v.is_empty())
                .map_err(|e| e.to_string())
        }
    };
    if older_than(HORIZON_MS).await? {
        return Ok(HORIZON_MS);
    }
    // Invariant: some message is at least `lo` old (0 trivially), none is `hi` old.
    let (mut lo, mut hi) = (0i64, HORIZON_MS);
    while hi - lo > PRECISION_MS {
        let mid = lo + (hi - lo) / 2;
        if older_than(mid).await? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(lo)
}
