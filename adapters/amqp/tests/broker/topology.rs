//! Topology: idempotent declaration, conflicting arguments, delivery-limit dead-lettering, and a
//! clear failure when the broker is unreachable.

use gateway_adapter_amqp::{AmqpConfig, AmqpError, connect, declare_topology};
use gateway_core::Secret;
use lapin::options::{BasicGetOptions, BasicRejectOptions};

use crate::common::{Broker, body, unique_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declaring_twice_is_idempotent() {
    let broker = Broker::new().await;
    declare_topology(&broker.conn, &broker.cfg).await.unwrap();
    declare_topology(&broker.conn, &broker.cfg).await.unwrap();
    assert_eq!(broker.count(&broker.cfg.queue).await, 0);
    assert_eq!(broker.count(&broker.cfg.dead_letter_queue).await, 0);

    // Other arguments for an existing queue are a clear error, not a silent change.
    let other = AmqpConfig {
        delivery_limit: 3,
        ..broker.cfg.clone()
    };
    let err = declare_topology(&broker.conn, &other).await.unwrap_err();
    assert!(
        matches!(&err, AmqpError::Declare { kind: "queue", name, .. } if *name == broker.cfg.queue),
        "{err}"
    );
    broker.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_messages_past_the_delivery_limit_are_dead_lettered() {
    let broker = Broker::with_config(AmqpConfig {
        delivery_limit: 1,
        ..unique_config()
    })
    .await;
    broker.publish(&body("ev-poison", "good"), &[]).await;
    for _ in 0..5 {
        let got = broker
            .channel
            .basic_get(broker.cfg.queue.as_str().into(), BasicGetOptions::default())
            .await
            .unwrap();
        let Some(got) = got else { break };
        got.delivery
            .acker
            .reject(BasicRejectOptions { requeue: true })
            .await
            .unwrap();
    }
    broker.wait_count(&broker.cfg.dead_letter_queue, 1).await;
    assert_eq!(broker.count(&broker.cfg.queue).await, 0);
    broker.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_broker_is_a_connect_error() {
    let cfg = AmqpConfig {
        url: Secret::new("amqp://guest:guest@127.0.0.1:1/%2f"),
        ..AmqpConfig::default()
    };
    let started = tokio::time::Instant::now();
    let err = connect(&cfg).await.unwrap_err();
    assert!(matches!(err, AmqpError::Connect(_)), "{err}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "fails fast"
    );
}
