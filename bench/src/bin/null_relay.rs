//! `null-relay`: the reference the gateway is measured against. It does the gateway's I/O and
//! nothing else: consume the input queue (prefetch 256), POST each body to the MESH outbox with
//! the gateway's own [`MeshClient::send`] (64 in flight), publish one event per message to the
//! output topic exchange with publisher confirms, and acknowledge the input with
//! `basic.ack(multiple)` once the event is confirmed. No parsing, no mapping, no store.
//!
//! Runs until SIGTERM/SIGINT.

use std::collections::BTreeSet;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use futures::StreamExt;
use gateway_adapter_mesh::{MeshClient, MeshClientConfig, OutboundMessage};
use gateway_bench::amqp::{self, Names};
use gateway_core::Secret;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions,
};
use lapin::types::{FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Confirmation};
use tokio::sync::{Semaphore, mpsc};

#[derive(Parser, Debug)]
#[command(
    name = "null-relay",
    about = "Consume → MESH POST → confirmed publish → ack"
)]
struct Args {
    /// AMQP URL.
    #[arg(long, default_value = "amqp://guest:guest@127.0.0.1:5672/%2f")]
    url: String,
    /// Input queue (declared like the gateway's: quorum, delivery limit, dead-letter queue).
    #[arg(long)]
    queue: String,
    /// Dead-letter queue of the input queue.
    #[arg(long)]
    dead_letter_queue: String,
    /// Output topic exchange.
    #[arg(long)]
    exchange: String,
    /// Routing key (and `type`) of the published events.
    #[arg(long, default_value = "bench.relay.sent")]
    routing_key: String,
    /// MESH base URL (the simulator).
    #[arg(long)]
    mesh_url: String,
    /// Sending mailbox.
    #[arg(long, default_value = "PHARM001")]
    mailbox: String,
    /// Mailbox password.
    #[arg(long, default_value = "pharm001-pass")]
    password: String,
    /// MESH environment shared key.
    #[arg(long, default_value = "TestKey")]
    shared_key: String,
    /// Mex-To of every message.
    #[arg(long, default_value = "GPPROVIDER_9000000009_19700101_Smith")]
    to: String,
    /// Mex-WorkflowID of every message.
    #[arg(long, default_value = "GPCONNECT_UPDATE_RECORD")]
    workflow: String,
    /// Consumer prefetch (the gateway's default).
    #[arg(long, default_value_t = 256)]
    prefetch: u16,
    /// Most MESH sends in flight (the gateway's default `mesh.max_in_flight`).
    #[arg(long, default_value_t = 64)]
    max_in_flight: usize,
    /// Most events published per confirm round (the gateway's outbox batch).
    #[arg(long, default_value_t = 512)]
    publish_batch: usize,
    /// Pad shorter bodies with spaces to this many bytes (e.g. the size of the gateway's ITK3
    /// message, to separate payload size from processing). Default 0: the body as consumed.
    #[arg(long, default_value_t = 0)]
    min_body_bytes: usize,
}

/// One POST that finished: which delivery, and the event to publish for it.
struct Done {
    tag: u64,
    correlation_id: String,
    mesh_id: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let names = Names {
        queue: args.queue.clone(),
        dead_letter_queue: args.dead_letter_queue.clone(),
        exchange: args.exchange.clone(),
    };
    let mesh = MeshClient::new(MeshClientConfig::new(
        args.mesh_url.clone(),
        args.mailbox.clone(),
        Secret::new(args.password.clone()),
        Secret::new(args.shared_key.clone()),
    ))
    .context("MESH client")?;
    let conn = amqp::connect(&args.url, "null-relay").await?;
    amqp::declare(&conn, &args.url, &names).await?;
    let consume = conn.create_channel().await.context("consumer channel")?;
    consume
        .basic_qos(args.prefetch, BasicQosOptions::default())
        .await
        .context("basic.qos")?;
    let publish = conn.create_channel().await.context("publisher channel")?;
    publish
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .context("confirm.select")?;
    let mut consumer = consume
        .basic_consume(
            amqp::short(&args.queue)?,
            ShortString::from("null-relay"),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .context("basic.consume")?;

    let (done_tx, done_rx) = mpsc::channel::<Done>(args.max_in_flight * 4);
    let mut publisher = tokio::spawn(publish_loop(
        publish,
        consume.clone(),
        amqp::short(&args.exchange)?,
        amqp::short(&args.routing_key)?,
        done_rx,
        args.publish_batch.max(1),
    ));
    let permits = Arc::new(Semaphore::new(args.max_in_flight));
    let template = Arc::new(OutboundMessage {
        to: args.to.clone(),
        workflow_id: args.workflow.clone(),
        subject: Some("Pharmacy consultation".to_owned()),
        local_id: Some("FA001".to_owned()),
        file_name: Some("consultation.json".to_owned()),
        content_type: "application/json".to_owned(),
        body: bytes::Bytes::new(),
    });
    eprintln!("null-relay: consuming {}", args.queue);
    let consuming = async {
        while let Some(delivery) = consumer.next().await {
            let delivery = delivery.context("consumer")?;
            let permit = permits.clone().acquire_owned().await?;
            let (mesh, tx, template) = (mesh.clone(), done_tx.clone(), template.clone());
            let min_body = args.min_body_bytes;
            tokio::spawn(async move {
                let correlation_id = delivery
                    .properties
                    .message_id()
                    .as_ref()
                    .map(|id| id.as_str().to_owned())
                    .unwrap_or_else(|| delivery.delivery_tag.to_string());
                let mut body = delivery.data;
                if body.len() < min_body {
                    body.resize(min_body, b' ');
                }
                let msg = OutboundMessage {
                    body: bytes::Bytes::from(body),
                    ..(*template).clone()
                };
                let mesh_id = match mesh.send(&msg).await {
                    Ok(id) => Some(id),
                    Err(error) => {
                        eprintln!("null-relay: MESH send failed: {error}");
                        None
                    }
                };
                drop(permit);
                let done = Done {
                    tag: delivery.delivery_tag,
                    correlation_id,
                    mesh_id,
                };
                let _ = tx.send(done).await;
            });
        }
        anyhow::Ok(())
    };
    tokio::select! {
        result = consuming => result?,
        result = &mut publisher => {
            result.context("publisher task")??;
            anyhow::bail!("the publisher stopped");
        }
        () = shutdown_signal() => eprintln!("null-relay: stopping"),
    }
    drop(done_tx);
    publisher.abort();
    let _ = conn.close(200, ShortString::from("OK")).await;
    Ok(())
}

/// Publishes finished sends in batches, waits for the broker's confirms, then acknowledges the
/// contiguous prefix of finished deliveries with one `basic.ack(multiple)`.
async fn publish_loop(
    publish: Channel,
    consume: Channel,
    exchange: ShortString,
    routing_key: ShortString,
    mut rx: mpsc::Receiver<Done>,
    batch_max: usize,
) -> anyhow::Result<()> {
    let failed_key = ShortString::from("bench.relay.failed");
    let mut finished = BTreeSet::new();
    let mut acked = 0u64;
    let mut batch = Vec::with_capacity(batch_max);
    while rx.recv_many(&mut batch, batch_max).await > 0 {
        let mut confirms = Vec::with_capacity(batch.len());
        for done in batch.drain(..) {
            let (key, body) = match &done.mesh_id {
                Some(mesh_id) => (&routing_key, event(&routing_key, &done, mesh_id)),
                None => (&failed_key, event(&failed_key, &done, "")),
            };
            let props = BasicProperties::default()
                .with_content_type(ShortString::from("application/cloudevents+json"))
                .with_delivery_mode(2)
                .with_type(key.clone())
                .with_correlation_id(amqp::short(&done.correlation_id)?);
            let confirm = publish
                .basic_publish(
                    exchange.clone(),
                    key.clone(),
                    BasicPublishOptions::default(),
                    &body,
                    props,
                )
                .await
                .context("basic.publish")?;
            confirms.push(confirm);
            finished.insert(done.tag);
        }
        for confirm in confirms {
            match confirm.await.context("publisher confirm")? {
                Confirmation::Ack(_) => {}
                other => anyhow::bail!("publish not confirmed: {other:?}"),
            }
        }
        // Tags are consecutive from 1 on the consumer channel: ack the finished prefix.
        let before = acked;
        while finished.remove(&(acked + 1)) {
            acked += 1;
        }
        if acked > before {
            consume
                .basic_ack(acked, BasicAckOptions { multiple: true })
                .await
                .context("basic.ack")?;
        }
    }
    Ok(())
}

/// A small CloudEvent, about the size of the gateway's `gpc.message.sent`.
fn event(kind: &ShortString, done: &Done, mesh_id: &str) -> Vec<u8> {
    serde_json::json!({
        "specversion": "1.0",
        "id": uuid::Uuid::new_v4().to_string(),
        "source": "urn:gateway-bench:null-relay",
        "type": kind.as_str(),
        "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "datacontenttype": "application/json",
        "subject": done.correlation_id,
        "data": { "correlationId": done.correlation_id, "meshMessageId": mesh_id },
    })
    .to_string()
    .into_bytes()
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
