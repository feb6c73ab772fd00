//! The input: settle only after ingest, dead letters, trace context, batched acks, shutdown.

use std::{
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use gateway_adapter_amqp::{
    AmqpConfig, HEADER_CODE, HEADER_CORRELATION_ID, HEADER_REASON, HEADER_STAGE,
};
use lapin::types::{AMQPValue, ShortString};

use crate::common::{Broker, FakeIngest, body, unique_config, wait_until};

const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

fn header(p: &lapin::BasicProperties, key: &str) -> Option<String> {
    match p.headers().as_ref()?.inner().get(key)? {
        AMQPValue::LongString(s) => Some(String::from_utf8(s.as_bytes().to_vec()).unwrap()),
        AMQPValue::ShortString(s) => Some(s.as_str().to_owned()),
        other => panic!("unexpected header type {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_are_acked_once_and_only_after_ingest_succeeds() {
    let broker = Broker::new().await;
    for i in 0..5 {
        broker.publish(&body(&format!("ev-{i}"), "good"), &[]).await;
    }
    let ingest = Arc::new(FakeIngest::failing(2));
    let input = broker.spawn_input(ingest.clone()).await;

    wait_until("a successful ingest", || async {
        ingest.successes.load(Ordering::SeqCst) == 1
    })
    .await;
    // Redelivery would show up as another call.
    tokio::time::sleep(Duration::from_millis(300)).await;
    input.stop().await;

    let batches = ingest.batches();
    assert_eq!(batches.len(), 3, "two failures, then one success");
    for batch in &batches {
        let ids: Vec<_> = batch.iter().map(|e| e.body.clone()).collect();
        let expected: Vec<_> = (0..5).map(|i| body(&format!("ev-{i}"), "good")).collect();
        assert_eq!(ids, expected, "the same batch, in order, on every attempt");
    }
    // Stopping closed the channel: anything unacknowledged would be back in the queue.
    broker.wait_count(&broker.cfg.queue, 0).await;
    assert_eq!(broker.count(&broker.cfg.dead_letter_queue).await, 0);
    broker.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_acked_while_ingest_keeps_failing() {
    let broker = Broker::new().await;
    for i in 0..4 {
        broker.publish(&body(&format!("ev-{i}"), "good"), &[]).await;
    }
    let ingest = Arc::new(FakeIngest::failing(usize::MAX));
    let input = broker.spawn_input(ingest.clone()).await;
    wait_until("retries", || async { ingest.call_count() >= 3 }).await;
    assert_eq!(
        broker.count(&broker.cfg.queue).await,
        0,
        "held unacked by the input"
    );
    input.stop().await;

    broker.wait_count(&broker.cfg.queue, 4).await;
    assert_eq!(ingest.successes.load(Ordering::SeqCst), 0);
    broker.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_messages_are_dead_lettered_unchanged_with_reasons() {
    let broker = Broker::new().await;
    let bad = body("ev-bad", "bad");
    broker.publish(&body("ev-1", "good"), &[]).await;
    broker.publish(&bad, &[("traceparent", TRACEPARENT)]).await;
    broker.publish(&body("ev-2", "good"), &[]).await;
    let ingest = Arc::new(FakeIngest::default());
    let input = broker.spawn_input(ingest.clone()).await;

    broker.wait_count(&broker.cfg.dead_letter_queue, 1).await;
    input.stop().await;
    broker.wait_count(&broker.cfg.queue, 0).await;

    let dead = broker
        .get(&broker.cfg.dead_letter_queue)
        .await
        .expect("a dead letter");
    let d = dead.delivery;
    assert_eq!(d.data, bad, "body unchanged");
    assert_eq!(
        header(&d.properties, HEADER_STAGE).as_deref(),
        Some("mapping")
    );
    assert_eq!(
        header(&d.properties, HEADER_REASON).as_deref(),
        Some("The service is not one the gateway can map.")
    );
    assert_eq!(
        header(&d.properties, HEADER_CODE).as_deref(),
        Some("unsupported-service")
    );
    assert_eq!(
        header(&d.properties, HEADER_CORRELATION_ID).as_deref(),
        Some("ev-bad")
    );
    assert_eq!(
        header(&d.properties, "traceparent").as_deref(),
        Some(TRACEPARENT)
    );
    assert_eq!(
        d.properties
            .content_type()
            .as_ref()
            .map(ShortString::as_str),
        Some("application/cloudevents+json")
    );
    assert_eq!(d.properties.delivery_mode(), &Some(2));
    assert!(broker.get(&broker.cfg.dead_letter_queue).await.is_none());
    assert_eq!(ingest.successes.load(Ordering::SeqCst), ingest.call_count());
    broker.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traceparent_header_and_origin_reach_the_pipeline() {
    let broker = Broker::new().await;
    broker
        .publish(&body("ev-1", "good"), &[("traceparent", TRACEPARENT)])
        .await;
    broker.publish(&body("ev-2", "good"), &[]).await;
    let ingest = Arc::new(FakeIngest::default());
    let input = broker.spawn_input(ingest.clone()).await;
    wait_until("both events", || async {
        ingest.batches().iter().map(Vec::len).sum::<usize>() == 2
    })
    .await;
    input.stop().await;

    let events: Vec<_> = ingest.batches().into_iter().flatten().collect();
    assert_eq!(events[0].traceparent.as_deref(), Some(TRACEPARENT));
    assert_eq!(events[1].traceparent, None);
    for e in &events {
        assert_eq!(e.origin, format!("amqp:{}", broker.cfg.queue));
        assert_eq!(e.derived_id, None);
    }
    broker.wait_count(&broker.cfg.queue, 0).await;
    broker.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_acks_leave_no_message_unacked() {
    let broker = Broker::with_config(AmqpConfig {
        batch_max: 10,
        prefetch: 25,
        ..unique_config()
    })
    .await;
    let n = 57;
    for i in 0..n {
        let kind = if i % 13 == 0 { "bad" } else { "good" };
        broker.publish(&body(&format!("ev-{i}"), kind), &[]).await;
    }
    let ingest = Arc::new(FakeIngest::default());
    let input = broker.spawn_input(ingest.clone()).await;
    wait_until("every event", || async {
        ingest.batches().iter().map(Vec::len).sum::<usize>() == n
    })
    .await;
    input.stop().await;

    let batches = ingest.batches();
    assert!(batches.iter().all(|b| b.len() <= 10), "batch_max honoured");
    assert!(
        batches.len() < n,
        "deliveries were batched: {} calls",
        batches.len()
    );
    let seen: Vec<_> = batches.into_iter().flatten().map(|e| e.body).collect();
    let expected: Vec<_> = (0..n)
        .map(|i| body(&format!("ev-{i}"), if i % 13 == 0 { "bad" } else { "good" }))
        .collect();
    assert_eq!(seen, expected, "in order, each once");
    broker.wait_count(&broker.cfg.queue, 0).await;
    broker.wait_count(&broker.cfg.dead_letter_queue, 5).await;
    broker.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_and_acks_the_batch_in_flight() {
    let broker = Broker::new().await;
    for i in 0..3 {
        broker.publish(&body(&format!("ev-{i}"), "good"), &[]).await;
    }
    let ingest = Arc::new(FakeIngest::gated());
    let input = broker.spawn_input(ingest.clone()).await;
    ingest.entered.notified().await;
    input.shutdown.cancel();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Consuming stopped before the batch in flight finished: a late message is not delivered.
    // (A quorum queue still counts a cancelled consumer while it holds unacked messages.)
    broker.publish(&body("ev-late", "good"), &[]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        broker.count(&broker.cfg.queue).await,
        1,
        "late message not delivered"
    );
    assert!(!input.handle.is_finished(), "waits for the batch in flight");
    if let Some(gate) = &ingest.gate {
        gate.add_permits(1);
    }
    input.stop().await;

    assert_eq!(ingest.call_count(), 1);
    assert_eq!(ingest.successes.load(Ordering::SeqCst), 1);
    // The batch in flight was acked; the late message stays for the next consumer.
    broker.wait_count(&broker.cfg.queue, 1).await;
    broker.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_waits_for_its_queue_and_stops_on_request() {
    // No topology declared: the input retries with backoff and still stops promptly.
    let cfg = unique_config();
    let conn = crate::common::connect_or_fail(&cfg).await;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let input = gateway_adapter_amqp::AmqpInput::new(conn, cfg);
    let handle = tokio::spawn(input.run(Arc::new(FakeIngest::default()), shutdown.clone()));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!handle.is_finished());
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), handle)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
