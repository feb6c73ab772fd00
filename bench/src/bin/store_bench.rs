//! `store-bench`: the durable store on its own, driven the way the pipeline drives it, to find
//! its ceiling without RabbitMQ, HTTP or mapping in the way. One realistic message (the
//! template mapped by the gateway's registry, ~33 KB of ITK3 XML) is stored `count` times
//! under fresh ids by an ingest task (batches like the AMQP input), claimed by a sender loop
//! that mirrors `pipeline::sender` (claim as many as there are free permits, `in_flight`
//! permits, a simulated MESH round trip), recorded as sent in batches with a `gpc.message.sent`
//! event, and published from the outbox (`pending_events` + `mark_published`, as
//! `pipeline::outbox`). Prints one JSON line: messages/s, per-operation latency, CPU.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{ArgAction, Parser};
use gateway_bench::stats::{Summary, round2};
use gateway_bench::template::EventTemplate;
use gateway_core::{MapContext, Outbound, SeededIds};
use gateway_proto::CloudEvent;
use gateway_store::{IngestItem, NewEvent, NewMessage, SendResult, SqliteStore, Store};
use gpc_gateway::pipeline::Directory;
use gpc_gateway::registry::Registry;
use serde_json::{Value, json};
use tokio::sync::{Notify, Semaphore, mpsc};

/// The pipeline's claim lease (`pipeline::sender`).
const LEASE_MS: i64 = 10 * 60 * 1000;

#[derive(Parser)]
#[command(
    name = "store-bench",
    about = "The SQLite store alone, driven like the pipeline"
)]
struct Args {
    /// Messages to store, send and publish.
    #[arg(long, default_value_t = 20_000)]
    count: usize,
    /// Messages per ingest call (the AMQP input's batch).
    #[arg(long, default_value_t = 256)]
    batch: usize,
    /// Sends in flight (`mesh.max_in_flight`).
    #[arg(long, default_value_t = 64)]
    in_flight: usize,
    /// Simulated MESH round trip per send, ms.
    #[arg(long, default_value_t = 1)]
    send_ms: u64,
    /// fsync every group commit (`store.synchronous_full`).
    #[arg(long, action = ArgAction::Set, default_value_t = true)]
    synchronous_full: bool,
    /// Folder for the database (a new subfolder is created and removed); default: the system
    /// temporary folder.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Event template (contract §8 CloudEvent JSON).
    #[arg(long, default_value = "examples/events/pharmacy-first.json")]
    template: PathBuf,
}

/// Latencies of one kind of store call.
#[derive(Default)]
struct Calls(Vec<u64>);

impl Calls {
    async fn time<T>(&mut self, f: impl Future<Output = T>) -> T {
        let t = Instant::now();
        let out = f.await;
        self.0
            .push(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX));
        out
    }

    fn json(self) -> Value {
        let n = self.0.len();
        match Summary::from_micros(self.0) {
            Some(s) => json!({ "calls": n, "avg_ms": round2(s.mean), "p99_ms": round2(s.p99),
                               "max_ms": round2(s.max) }),
            None => json!({ "calls": 0 }),
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        args.count > 0 && args.batch > 0 && args.in_flight > 0,
        "sizes must be > 0"
    );
    let outbound = map_once(&args.template)?;
    let base = args.dir.clone().unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!("store-bench-{}", uuid::Uuid::new_v4()));
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&dir.join("gateway.db"), args.synchronous_full)
            .map_err(|e| anyhow::anyhow!("opening the store: {e}"))?,
    );
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    let (wake_sender, wake_outbox) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let ingest = tokio::spawn(ingest_all(
        store.clone(),
        outbound.clone(),
        args.count,
        args.batch,
        wake_sender.clone(),
    ));
    let sender = tokio::spawn(send_all(
        store.clone(),
        args.count,
        args.in_flight,
        Duration::from_millis(args.send_ms),
        wake_sender,
        wake_outbox.clone(),
    ));
    let outbox = tokio::spawn(publish_all(store.clone(), args.count, wake_outbox));
    let ingest = ingest.await.context("ingest task")??;
    let (claims, records) = sender.await.context("sender task")??;
    let (pending, marks) = outbox.await.context("outbox task")??;
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu1 = cpu_seconds();
    let db_bytes: u64 = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    let per_msg = |s: f64| round2(s * 1e6 / args.count as f64);
    println!(
        "{}",
        json!({
            "count": args.count,
            "message_bytes": outbound.body.len(),
            "synchronous_full": args.synchronous_full,
            "elapsed_secs": round2(elapsed),
            "messages_per_sec": (args.count as f64 / elapsed).round(),
            "cpu_us_per_message": per_msg(cpu1.0 - cpu0.0),
            "store_thread_cpu_us_per_message": per_msg(cpu1.1 - cpu0.1),
            "db_files_mb": round2(db_bytes as f64 / 1048576.0),
            "ingest": ingest.json(),
            "claim_due": claims.json(),
            "record_send_results": records.json(),
            "pending_events": pending.json(),
            "mark_published": marks.json(),
        })
    );
    Ok(())
}

/// Maps the template once with the gateway's registry, as ingest would.
fn map_once(template: &std::path::Path) -> anyhow::Result<Outbound> {
    let body = EventTemplate::from_file(template)?.render(
        &uuid::Uuid::new_v4().to_string(),
        &chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    );
    let event = CloudEvent::parse(&body).map_err(|e| anyhow::anyhow!("template: {e}"))?;
    let registry = Registry::builtin();
    let plugin = registry
        .for_type(&event.event_type)
        .with_context(|| format!("no plugin for {}", event.event_type))?;
    let ods = ["FA001".to_owned()];
    let directory = Directory::new([("PHARM001", &ods[..])]);
    let ids = SeededIds::new(&event.id);
    let cx = MapContext {
        now: chrono::Utc::now().fixed_offset(),
        ids: &ids,
        mailboxes: &directory,
    };
    plugin
        .map(&event, &cx)
        .map_err(|e| anyhow::anyhow!("map: {}", e.problems.join("; ")))
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

async fn ingest_all(
    store: Arc<dyn Store>,
    outbound: Outbound,
    count: usize,
    batch: usize,
    wake_sender: Arc<Notify>,
) -> anyhow::Result<Calls> {
    let mut calls = Calls::default();
    let mut done = 0;
    while done < count {
        let n = batch.min(count - done);
        let items: Vec<IngestItem> = (0..n)
            .map(|_| {
                let id = uuid::Uuid::new_v4().to_string();
                let mut o = outbound.clone();
                // Unique like the real ids (derived from the event id).
                o.itk_message_id = uuid::Uuid::new_v4().to_string();
                o.itk_bundle_id = uuid::Uuid::new_v4().to_string();
                IngestItem::Message(Box::new(NewMessage {
                    correlation_id: id,
                    event_type: "uk.nhs.pharmacy.consultation.completed.v1".to_owned(),
                    origin: "amqp:store-bench".to_owned(),
                    traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                        .to_owned(),
                    outbound: o,
                    now_ms: now_ms(),
                }))
            })
            .collect();
        calls
            .time(store.ingest(items))
            .await
            .map_err(|e| anyhow::anyhow!("ingest: {e}"))?;
        wake_sender.notify_one();
        done += n;
    }
    Ok(calls)
}

/// Mirrors `pipeline::sender::run`: claim up to the free permits, wait for one permit when
/// the claim filled them, otherwise for a wake-up or 250 ms.
async fn send_all(
    store: Arc<dyn Store>,
    count: usize,
    in_flight: usize,
    send_time: Duration,
    wake: Arc<Notify>,
    wake_outbox: Arc<Notify>,
) -> anyhow::Result<(Calls, Calls)> {
    let permits = Arc::new(Semaphore::new(in_flight));
    let (tx, rx) = mpsc::channel::<SendResult>(in_flight * 2);
    let recorder = tokio::spawn(record_all(store.clone(), rx, wake_outbox));
    let mut claims = Calls::default();
    let mut claimed_total = 0;
    while claimed_total < count {
        let free = permits.available_permits();
        let claimed = if free == 0 {
            Vec::new()
        } else {
            claims
                .time(store.claim_due(free, now_ms(), LEASE_MS))
                .await
                .map_err(|e| anyhow::anyhow!("claim_due: {e}"))?
        };
        let full = !claimed.is_empty() && claimed.len() == free;
        claimed_total += claimed.len();
        for msg in claimed {
            let permit = permits.clone().acquire_owned().await?;
            let tx = tx.clone();
            tokio::spawn(async move {
                tokio::time::sleep(send_time).await;
                let mesh_id = format!("20261121000000000000_{:06X}", rand_tail(&msg.id));
                let result = SendResult::Sent {
                    event: sent_event(&msg.id, &mesh_id, &msg.itk_message_id),
                    id: msg.id,
                    mesh_message_id: mesh_id,
                    now_ms: now_ms(),
                };
                let _ = tx.send(result).await;
                drop(permit);
            });
        }
        if full {
            drop(permits.acquire().await?);
            continue;
        }
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
    }
    drop(tx);
    let records = recorder.await.context("recorder task")??;
    Ok((claims, records))
}

fn rand_tail(id: &str) -> u32 {
    id.bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        & 0x00FF_FFFF
}

/// A `gpc.message.sent` CloudEvent of the gateway's shape and size.
fn sent_event(id: &str, mesh_id: &str, itk_id: &str) -> NewEvent {
    let body = json!({
        "specversion": "1.0",
        "id": uuid::Uuid::new_v4().to_string(),
        "source": "urn:gpc-gateway:gpc-gateway",
        "type": "gpc.message.sent",
        "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "datacontenttype": "application/json",
        "subject": id,
        "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01",
        "data": { "correlationId": id, "meshMessageId": mesh_id,
                  "workflowId": "GPCONNECT_UPDATE_RECORD", "itkMessageId": itk_id,
                  "mexTo": "GPPROVIDER_******0009_********_S****" },
    });
    NewEvent {
        event_type: "gpc.message.sent".to_owned(),
        body: body.to_string().into_bytes(),
        traceparent: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01".to_owned()),
    }
}

/// Mirrors `pipeline::sender::record_results`: up to 512 results per call.
async fn record_all(
    store: Arc<dyn Store>,
    mut rx: mpsc::Receiver<SendResult>,
    wake_outbox: Arc<Notify>,
) -> anyhow::Result<Calls> {
    let mut calls = Calls::default();
    let mut batch = Vec::new();
    while rx.recv_many(&mut batch, 512).await > 0 {
        let results = std::mem::take(&mut batch);
        calls
            .time(store.record_send_results(results))
            .await
            .map_err(|e| anyhow::anyhow!("record_send_results: {e}"))?;
        wake_outbox.notify_one();
    }
    Ok(calls)
}

/// Mirrors `pipeline::outbox`: 512 events per round, woken by the recorder or every 200 ms.
async fn publish_all(
    store: Arc<dyn Store>,
    count: usize,
    wake: Arc<Notify>,
) -> anyhow::Result<(Calls, Calls)> {
    let (mut pending, mut marks) = (Calls::default(), Calls::default());
    let mut published = 0;
    while published < count {
        let events = pending
            .time(store.pending_events(512))
            .await
            .map_err(|e| anyhow::anyhow!("pending_events: {e}"))?;
        if events.is_empty() {
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
            continue;
        }
        let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
        published += seqs.len();
        marks
            .time(store.mark_published(seqs))
            .await
            .map_err(|e| anyhow::anyhow!("mark_published: {e}"))?;
    }
    Ok((pending, marks))
}

/// (whole process, the store's worker thread) CPU seconds, from /proc (Linux; 100 ticks/s).
fn cpu_seconds() -> (f64, f64) {
    let ticks = |stat: &str| -> f64 {
        let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
        let f: Vec<&str> = rest.split_whitespace().collect();
        let get = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        (get(11) + get(12)) / 100.0
    };
    let process = std::fs::read_to_string("/proc/self/stat").map_or(0.0, |s| ticks(&s));
    let store = std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .filter_map(Result::ok)
                .filter(|t| {
                    std::fs::read_to_string(t.path().join("comm"))
                        .is_ok_and(|c| c.trim() == "gpc-store")
                })
                .filter_map(|t| std::fs::read_to_string(t.path().join("stat")).ok())
                .map(|s| ticks(&s))
                .sum()
        })
        .unwrap_or(0.0);
    (process, store)
}
