//! Connection loss: a TCP proxy between the adapter and the broker drops every connection on
//! demand, so these tests work against any broker (no `rabbitmqctl` needed).

use std::{
    sync::{Arc, Mutex, atomic::Ordering},
    time::Duration,
};

use gateway_adapter_amqp::{AmqpConfig, AmqpEventSink};
use gateway_core::{BusEvent, EventSink, Secret};
use lapin::{
    options::{QueueBindOptions, QueueDeclareOptions},
    types::FieldTable,
    uri::AMQPUri,
};
use tokio::{
    net::{TcpListener, TcpStream},
    task::{AbortHandle, JoinHandle},
};

use crate::common::{Broker, FakeIngest, body, spawn_input_with, wait_until};

/// Forwards TCP connections to the broker until [`Proxy::sever`] drops them all.
struct Proxy {
    url: String,
    conns: Arc<Mutex<Vec<AbortHandle>>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    async fn start(broker_url: &str) -> Self {
        let mut uri: AMQPUri = broker_url.parse().unwrap();
        let upstream = format!("{}:{}", uri.authority.host, uri.authority.port);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        uri.authority.host = "127.0.0.1".to_owned();
        uri.authority.port = listener.local_addr().unwrap().port();
        let conns = Arc::new(Mutex::new(Vec::new()));
        let registry = conns.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                registry.lock().unwrap().push(task.abort_handle());
            }
        });
        Self {
            url: uri.to_string(),
            conns,
            accept,
        }
    }

    /// Drops every proxied connection, as a network failure or broker restart would.
    fn sever(&self) {
        for conn in self.conns.lock().unwrap().drain(..) {
            conn.abort();
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.sever();
        self.accept.abort();
    }
}

fn via(proxy: &Proxy, cfg: &AmqpConfig) -> AmqpConfig {
    AmqpConfig {
        url: Secret::new(proxy.url.clone()),
        ..cfg.clone()
    }
}

fn seen(ingest: &FakeIngest, wanted: &[u8]) -> bool {
    ingest.batches().iter().flatten().any(|e| e.body == wanted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_resumes_consuming_after_connection_loss() {
    let broker = Broker::new().await;
    let proxy = Proxy::start(broker.cfg.url.expose()).await;
    let ingest = Arc::new(FakeIngest::default());
    let input = spawn_input_with(via(&proxy, &broker.cfg), ingest.clone()).await;

    broker.publish(&body("ev-0", "good"), &[]).await;
    wait_until("the first event", || async {
        seen(&ingest, &body("ev-0", "good"))
    })
    .await;
    proxy.sever();
    broker.publish(&body("ev-1", "good"), &[]).await;
    wait_until("an event after recovery", || async {
        seen(&ingest, &body("ev-1", "good"))
    })
    .await;
    input.stop().await;
    broker.wait_count(&broker.cfg.queue, 0).await;
    broker.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_in_flight_during_connection_loss_is_redelivered_not_lost() {
    let broker = Broker::new().await;
    let proxy = Proxy::start(broker.cfg.url.expose()).await;
    let ingest = Arc::new(FakeIngest::gated());
    let input = spawn_input_with(via(&proxy, &broker.cfg), ingest.clone()).await;

    broker.publish(&body("ev-0", "good"), &[]).await;
    broker.publish(&body("ev-1", "good"), &[]).await;
    ingest.entered.notified().await;
    proxy.sever();
    tokio::time::sleep(Duration::from_millis(300)).await;
    if let Some(gate) = &ingest.gate {
        gate.add_permits(100);
    }
    // The ack of the first attempt cannot reach the broker: the batch comes back and is
    // ingested again (harmless: the pipeline is idempotent by event id), then acked.
    wait_until("a second ingest of the redelivered batch", || async {
        ingest.successes.load(Ordering::SeqCst) >= 2
    })
    .await;
    input.stop().await;
    let events: Vec<_> = ingest.batches().into_iter().flatten().collect();
    assert!(
        events
            .iter()
            .filter(|e| e.body == body("ev-0", "good"))
            .count()
            >= 2
    );
    broker.wait_count(&broker.cfg.queue, 0).await;
    broker.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sink_publishes_again_after_connection_loss() {
    let broker = Broker::new().await;
    let queue = broker
        .channel
        .queue_declare(
            "".into(),
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap()
        .name()
        .as_str()
        .to_owned();
    broker
        .channel
        .queue_bind(
            queue.as_str().into(),
            broker.cfg.exchange.as_str().into(),
            "#".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let proxy = Proxy::start(broker.cfg.url.expose()).await;
    let cfg = via(&proxy, &broker.cfg);
    let conn = crate::common::connect_or_fail(&cfg).await;
    let sink = AmqpEventSink::new(&conn, &cfg).await.unwrap();
    let event = |seq: i64| BusEvent {
        seq,
        event_type: "gpc.message.sent".to_owned(),
        body: format!("{{\"seq\":{seq}}}").into_bytes(),
        traceparent: None,
        correlation_id: format!("ev-{seq}"),
    };
    sink.publish_batch(&[event(1)]).await.unwrap();
    proxy.sever();

    let mut published = false;
    for _ in 0..100 {
        if sink.publish_batch(&[event(2)]).await.is_ok() {
            published = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(published, "the sink never published again");
    sink.healthcheck().await.unwrap();
    let bodies: Vec<_> = [broker.get(&queue).await, broker.get(&queue).await]
        .into_iter()
        .map(|m| m.expect("two events").delivery.data)
        .collect();
    assert_eq!(bodies, [event(1).body, event(2).body]);
    broker.cleanup().await;
}
