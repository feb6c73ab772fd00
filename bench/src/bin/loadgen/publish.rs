//! The input side: events published to the input queue (default exchange) with publisher
//! confirms, a bounded window of unconfirmed publishes, and optional pacing.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use gateway_bench::amqp;
use gateway_bench::template::EventTemplate;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Confirmation, Connection, PublisherConfirm};

use crate::collect::Clock;

/// How to publish.
pub(crate) struct Plan<'a> {
    /// Input queue (routing key on the default exchange).
    pub(crate) queue: &'a str,
    /// Event ids, in publish order.
    pub(crate) ids: &'a [String],
    /// Events per second; 0 = as fast as confirms allow.
    pub(crate) rate: f64,
    /// Most unconfirmed publishes.
    pub(crate) window: usize,
}

/// Publishes every event of `plan`; returns once all are confirmed.
///
/// # Errors
/// The channel fails or the broker nacks a publish.
pub(crate) async fn publish_all(
    conn: &Connection,
    template: &EventTemplate,
    plan: &Plan<'_>,
    clock: Arc<Clock>,
) -> anyhow::Result<()> {
    let ch = conn.create_channel().await.context("publisher channel")?;
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .context("confirm.select")?;
    let routing_key = amqp::short(plan.queue)?;
    let mut pending: VecDeque<PublisherConfirm> = VecDeque::with_capacity(plan.window + 1);
    let start = tokio::time::Instant::now();
    for (i, id) in plan.ids.iter().enumerate() {
        if plan.rate > 0.0 {
            let due = start + Duration::from_secs_f64(i as f64 / plan.rate);
            if due > tokio::time::Instant::now() {
                tokio::time::sleep_until(due).await;
            }
        }
        let now = chrono::Utc::now();
        let body = template.render(
            id,
            &now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        );
        let mut headers = FieldTable::default();
        // The publish time travels with the event too, for anyone reading the queue.
        headers.insert(
            ShortString::from("x-bench-published-us"),
            AMQPValue::LongLongInt(now.timestamp_micros()),
        );
        let props = BasicProperties::default()
            .with_content_type(ShortString::from("application/cloudevents+json"))
            .with_delivery_mode(2)
            .with_message_id(amqp::short(id)?)
            .with_headers(headers);
        clock.mark(i);
        let confirm = ch
            .basic_publish(
                ShortString::default(),
                routing_key.clone(),
                BasicPublishOptions::default(),
                &body,
                props,
            )
            .await
            .context("basic.publish")?;
        pending.push_back(confirm);
        while pending.len() > plan.window {
            if let Some(oldest) = pending.pop_front() {
                confirmed(oldest).await?;
            }
        }
    }
    for confirm in pending {
        confirmed(confirm).await?;
    }
    Ok(())
}

async fn confirmed(confirm: PublisherConfirm) -> anyhow::Result<()> {
    match confirm.await.context("publisher confirm")? {
        Confirmation::Ack(_) => Ok(()),
        other => anyhow::bail!("the broker did not confirm a publish: {other:?}"),
    }
}
