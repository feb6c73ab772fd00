//! Helpers for the broker tests: a unique topology per test, a scripted pipeline, polling.

use std::{
    future::Future,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use gateway_adapter_amqp::{AmqpConfig, AmqpError, AmqpInput, connect, declare_topology};
use gateway_core::{Ingest, IngestError, IngestOutcome, RawEvent, Secret};
use gateway_proto::output::FailureStage;
use lapin::{
    BasicProperties, Channel, Connection,
    message::BasicGetMessage,
    options::{
        BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions, ExchangeDeleteOptions,
        QueueDeclareOptions, QueueDeleteOptions,
    },
    types::{AMQPValue, FieldTable, LongString},
};
use tokio::{sync::Semaphore, task::JoinHandle};
use tokio_util::sync::CancellationToken;

const DEFAULT_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// The broker under test: env `AMQP_URL`, else the local default.
pub fn amqp_url() -> String {
    std::env::var("AMQP_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// A configuration with names unique to one test.
pub fn unique_config() -> AmqpConfig {
    let id = uuid::Uuid::new_v4().simple();
    AmqpConfig {
        url: Secret::new(amqp_url()),
        queue: format!("test.gpc.events.{id}"),
        dead_letter_queue: format!("test.gpc.events.dead.{id}"),
        exchange: format!("test.gpc.delivery.{id}"),
        batch_linger: Duration::from_millis(50),
        retry_initial: Duration::from_millis(20),
        retry_max: Duration::from_millis(200),
        confirm_timeout: Duration::from_secs(10),
        ..AmqpConfig::default()
    }
}

/// Logs to the test output, filtered by `RUST_LOG` (default: warnings).
pub fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

/// Connects or fails the test with instructions: these tests never skip.
pub async fn connect_or_fail(cfg: &AmqpConfig) -> Connection {
    init_logs();
    match connect(cfg).await {
        Ok(conn) => conn,
        Err(error) => {
            let cause = std::error::Error::source(&error).map(ToString::to_string);
            panic!(
                "RabbitMQ is unreachable ({error}: {}). Start it with `rabbitmq-server -detached` \
                 or set AMQP_URL to a running broker.",
                cause.unwrap_or_default()
            )
        }
    }
}

/// A test's own view of the broker: its topology, a connection and a confirm-mode channel.
pub struct Broker {
    pub cfg: AmqpConfig,
    pub conn: Connection,
    pub channel: Channel,
    cleaned: bool,
}

impl Broker {
    /// Declares a fresh topology with unique names.
    pub async fn new() -> Self {
        Self::with_config(unique_config()).await
    }

    pub async fn with_config(cfg: AmqpConfig) -> Self {
        let conn = connect_or_fail(&cfg).await;
        declare_topology(&conn, &cfg).await.unwrap();
        let channel = conn.create_channel().await.unwrap();
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .unwrap();
        Self {
            cfg,
            conn,
            channel,
            cleaned: false,
        }
    }

    /// Publishes to the input queue and waits for the broker's confirm.
    pub async fn publish(&self, body: &[u8], headers: &[(&str, &str)]) {
        let mut table = FieldTable::default();
        for (k, v) in headers {
            table.insert((*k).into(), AMQPValue::LongString(LongString::from(*v)));
        }
        let props = BasicProperties::default()
            .with_content_type("application/cloudevents+json".into())
            .with_delivery_mode(2)
            .with_headers(table);
        let confirm = self
            .channel
            .basic_publish(
                "".into(),
                self.cfg.queue.as_str().into(),
                BasicPublishOptions::default(),
                body,
                props,
            )
            .await
            .unwrap()
            .await
            .unwrap();
        assert!(confirm.is_ack());
    }

    /// Ready messages in `queue` (passive declare; unacknowledged ones are not counted).
    pub async fn count(&self, queue: &str) -> u32 {
        self.channel
            .queue_declare(
                queue.into(),
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap()
            .message_count()
    }

    /// Polls until `queue` holds `expected` ready messages.
    pub async fn wait_count(&self, queue: &str, expected: u32) {
        let mut last = u32::MAX;
        for _ in 0..100 {
            last = self.count(queue).await;
            if last == expected {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("queue {queue} holds {last} messages, expected {expected}");
    }

    /// Takes one message from `queue` (auto-ack).
    pub async fn get(&self, queue: &str) -> Option<BasicGetMessage> {
        self.channel
            .basic_get(queue.into(), BasicGetOptions { no_ack: true })
            .await
            .unwrap()
    }

    /// Starts an input on its own connection.
    pub async fn spawn_input(&self, ingest: Arc<FakeIngest>) -> RunningInput {
        spawn_input_with(self.cfg.clone(), ingest).await
    }

    /// Deletes what the test declared.
    pub async fn cleanup(mut self) {
        delete_topology(&self.channel, &self.cfg).await;
        let _ = self.conn.close(200, "OK".into()).await;
        self.cleaned = true;
    }
}

/// A failed test skips `cleanup`: delete its queues and exchange anyway, on a fresh runtime
/// (the test's runtime may be unwinding).
impl Drop for Broker {
    fn drop(&mut self) {
        if self.cleaned {
            return;
        }
        let cfg = self.cfg.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let Ok(conn) = connect(&cfg).await else {
                    return;
                };
                if let Ok(channel) = conn.create_channel().await {
                    delete_topology(&channel, &cfg).await;
                }
                let _ = conn.close(200, "OK".into()).await;
            });
        })
        .join();
    }
}

async fn delete_topology(channel: &Channel, cfg: &AmqpConfig) {
    for queue in [&cfg.queue, &cfg.dead_letter_queue] {
        let _ = channel
            .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
            .await;
    }
    let _ = channel
        .exchange_delete(
            cfg.exchange.as_str().into(),
            ExchangeDeleteOptions::default(),
        )
        .await;
}

/// Starts an input with `cfg` on its own connection.
pub async fn spawn_input_with(cfg: AmqpConfig, ingest: Arc<FakeIngest>) -> RunningInput {
    let conn = connect_or_fail(&cfg).await;
    let shutdown = CancellationToken::new();
    let input = AmqpInput::new(conn, cfg);
    let handle = tokio::spawn(input.run(ingest, shutdown.clone()));
    RunningInput { shutdown, handle }
}

pub struct RunningInput {
    pub shutdown: CancellationToken,
    pub handle: JoinHandle<Result<(), AmqpError>>,
}

impl RunningInput {
    /// Requests shutdown and waits for the input to return.
    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(10), self.handle)
            .await
            .expect("input did not stop within 10 s")
            .unwrap()
            .unwrap();
    }
}

/// A stand-in pipeline: records every batch; fails the first `fail_first` calls; rejects
/// events whose body has `"kind":"bad"` at the mapping stage and accepts the rest.
#[derive(Default)]
pub struct FakeIngest {
    pub calls: Mutex<Vec<Vec<RawEvent>>>,
    pub fail_first: AtomicUsize,
    pub successes: AtomicUsize,
    /// When set, each call waits for a permit before answering.
    pub gate: Option<Semaphore>,
    pub entered: tokio::sync::Notify,
}

impl FakeIngest {
    pub fn failing(times: usize) -> Self {
        Self {
            fail_first: AtomicUsize::new(times),
            ..Self::default()
        }
    }

    pub fn gated() -> Self {
        Self {
            gate: Some(Semaphore::new(0)),
            ..Self::default()
        }
    }

    pub fn call_count(&self) -> usize {
        self.calls.lock().unwrap().len()
    }

    pub fn batches(&self) -> Vec<Vec<RawEvent>> {
        self.calls.lock().unwrap().clone()
    }
}

#[async_trait]
impl Ingest for FakeIngest {
    async fn ingest(&self, batch: Vec<RawEvent>) -> Result<Vec<IngestOutcome>, IngestError> {
        self.calls.lock().unwrap().push(batch.clone());
        self.entered.notify_one();
        if let Some(gate) = &self.gate {
            gate.acquire().await.unwrap().forget();
        }
        let failed = self
            .fail_first
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failed {
            return Err(IngestError("store unavailable".to_owned()));
        }
        self.successes.fetch_add(1, Ordering::SeqCst);
        Ok(batch.iter().map(outcome).collect())
    }
}

fn outcome(event: &RawEvent) -> IngestOutcome {
    let json: serde_json::Value = serde_json::from_slice(&event.body).unwrap_or_default();
    let id = json["id"].as_str().map(str::to_owned);
    if json["kind"] == "bad" {
        IngestOutcome::Rejected {
            correlation_id: id,
            stage: FailureStage::Mapping,
            code: "unsupported-service".to_owned(),
            reason: "The service is not one the gateway can map.".to_owned(),
        }
    } else {
        IngestOutcome::Accepted {
            correlation_id: id.unwrap_or_default(),
        }
    }
}

/// A CloudEvent-ish body with an id and a kind (`good` or `bad`).
pub fn body(id: &str, kind: &str) -> Vec<u8> {
    format!(r#"{{"specversion":"1.0","id":"{id}","kind":"{kind}"}}"#).into_bytes()
}

/// Polls `cond` every 20 ms for up to 10 s.
pub async fn wait_until<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..500 {
        if cond().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}
