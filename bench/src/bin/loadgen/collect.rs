//! The output side: a private queue bound to the output exchange, consumed with auto-ack; each
//! `sent` event is matched to its input by correlation id and its latency recorded.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::Context;
use futures::StreamExt;
use lapin::options::{BasicConsumeOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{FieldTable, ShortString};
use lapin::{Connection, Consumer};

use gateway_bench::amqp;

/// Publish times of the run's events, shared by the publisher and the collector.
pub(crate) struct Clock {
    /// When the run started; all times are offsets from it.
    pub(crate) t0: Instant,
    /// Input event id → index.
    index: HashMap<String, usize>,
    /// Publish time of each event in ns after `t0`, plus one (0 = not yet published).
    published: Vec<AtomicU64>,
}

impl Clock {
    /// A clock for these event ids.
    pub(crate) fn new(ids: &[String]) -> Self {
        Self {
            t0: Instant::now(),
            index: ids
                .iter()
                .enumerate()
                .map(|(i, id)| (id.clone(), i))
                .collect(),
            published: ids.iter().map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Records that event `i` is being published now.
    pub(crate) fn mark(&self, i: usize) {
        if let Some(slot) = self.published.get(i) {
            slot.store(self.now_ns() + 1, Ordering::Release);
        }
    }

    fn now_ns(&self) -> u64 {
        u64::try_from(self.t0.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// What the collector saw.
#[derive(Debug, Default)]
pub(crate) struct Collected {
    /// Publish → `sent` latency of each distinct event, µs.
    pub(crate) latencies_us: Vec<u64>,
    /// `sent` events for an event already counted.
    pub(crate) duplicates: u64,
    /// `failed` events.
    pub(crate) failed: u64,
    /// Events of other types (ignored).
    pub(crate) other: u64,
    /// Output events whose correlation id is not one of ours.
    pub(crate) unknown: u64,
    /// When the last expected event arrived.
    pub(crate) finished_at: Option<Instant>,
}

/// Declares an exclusive, auto-delete queue bound to `exchange` with `bind_key` and starts
/// consuming it (auto-ack).
///
/// # Errors
/// The broker refuses the declaration or the binding.
pub(crate) async fn subscribe(
    conn: &Connection,
    exchange: &str,
    bind_key: &str,
) -> anyhow::Result<Consumer> {
    let ch = conn.create_channel().await.context("collector channel")?;
    let q = ch
        .queue_declare(
            ShortString::default(),
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .context("declaring the output queue")?;
    ch.queue_bind(
        q.name().clone(),
        amqp::short(exchange)?,
        amqp::short(bind_key)?,
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await
    .context("binding the output queue")?;
    ch.basic_consume(
        q.name().clone(),
        ShortString::from("loadgen"),
        BasicConsumeOptions {
            no_ack: true,
            ..BasicConsumeOptions::default()
        },
        FieldTable::default(),
    )
    .await
    .context("consuming the output queue")
}

/// Consumes until every event has a `sent` (or `failed`) event, or until `deadline`.
pub(crate) async fn collect(
    mut consumer: Consumer,
    clock: Arc<Clock>,
    sent_type: String,
    deadline: tokio::time::Instant,
) -> Collected {
    let n = clock.published.len();
    let mut seen = vec![false; n];
    let mut out = Collected {
        latencies_us: Vec::with_capacity(n),
        ..Collected::default()
    };
    let mut settled = 0usize;
    while settled < n {
        let delivery = tokio::select! {
            next = consumer.next() => match next {
                Some(Ok(d)) => d,
                Some(Err(error)) => {
                    eprintln!("loadgen: output consumer failed: {error}");
                    break;
                }
                None => break,
            },
            () = tokio::time::sleep_until(deadline) => break,
        };
        let now_ns = clock.now_ns();
        let kind = delivery.routing_key.as_str();
        let is_sent = kind == sent_type;
        if !is_sent && !kind.ends_with(".failed") {
            out.other += 1;
            continue;
        }
        let id = correlation_id(&delivery);
        let Some(&i) = id.as_deref().and_then(|id| clock.index.get(id)) else {
            out.unknown += 1;
            continue;
        };
        if !is_sent {
            out.failed += 1;
        }
        if seen.get(i).copied().unwrap_or(true) {
            out.duplicates += u64::from(is_sent);
            continue;
        }
        if let Some(s) = seen.get_mut(i) {
            *s = true;
        }
        settled += 1;
        if is_sent {
            let published = clock
                .published
                .get(i)
                .map_or(0, |p| p.load(Ordering::Acquire));
            let latency_ns = now_ns.saturating_sub(published.saturating_sub(1));
            out.latencies_us.push(latency_ns / 1000);
        }
    }
    if settled == n {
        out.finished_at = Some(Instant::now());
    }
    out
}

/// The input event id: the AMQP correlation id (the gateway and the relay set it), else the
/// CloudEvent `subject`.
fn correlation_id(delivery: &lapin::message::Delivery) -> Option<String> {
    if let Some(id) = delivery.properties.correlation_id() {
        return Some(id.as_str().to_owned());
    }
    let v: serde_json::Value = serde_json::from_slice(&delivery.data).ok()?;
    v.get("subject")?.as_str().map(str::to_owned)
}
