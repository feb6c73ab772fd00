//! `loadgen`: drives the gateway or the null relay through RabbitMQ and measures them.
//!
//! `loadgen run` declares the input topology exactly as the gateway does, binds a private queue
//! to the output exchange, publishes N consultation events (the contract-§8 example with a fresh
//! `id` and the current `time`, publish time also in header `x-bench-published-us`) with
//! publisher confirms, as fast as possible or at `--rate`, and waits for one `sent` event per
//! input. It prints one JSON line: events/s from the first publish to the N-th `sent` event and
//! publish → `sent` latency percentiles. `loadgen cleanup` deletes a run's queues and exchange;
//! `loadgen report` prints the comparison table from `run.sh`'s records.

mod collect;
mod publish;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use gateway_bench::amqp::{self, Names};
use gateway_bench::stats::{Summary, round2};
use gateway_bench::template::EventTemplate;
use lapin::options::{ExchangeDeleteOptions, QueueDeclareOptions, QueueDeleteOptions};
use lapin::types::{FieldTable, ShortString};
use serde_json::json;

use crate::collect::Clock;

#[derive(Parser)]
#[command(name = "loadgen", about = "Load generator and meter for gateway-bench")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Publish N events and measure until each has its `sent` event.
    Run(RunArgs),
    /// Delete a run's input queue, dead-letter queue and output exchange.
    Cleanup(Topology),
    /// Print the comparison table from run records (JSON lines).
    Report {
        /// The records file written by run.sh.
        file: PathBuf,
    },
}

#[derive(Args, Clone)]
struct Topology {
    /// AMQP URL.
    #[arg(long, default_value = "amqp://guest:guest@127.0.0.1:5672/%2f")]
    url: String,
    /// Input queue.
    #[arg(long)]
    queue: String,
    /// Dead-letter queue of the input queue.
    #[arg(long)]
    dead_letter_queue: String,
    /// Output topic exchange.
    #[arg(long)]
    exchange: String,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    topology: Topology,
    /// Binding key of the private output queue.
    #[arg(long, default_value = "#")]
    bind_key: String,
    /// Routing key of the event that ends an input's journey.
    #[arg(long, default_value = "gpc.message.sent")]
    sent_type: String,
    /// Events to publish.
    #[arg(long, default_value_t = 20_000)]
    count: usize,
    /// Events per second; 0 = as fast as confirms allow.
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Most unconfirmed publishes.
    #[arg(long, default_value_t = 1024)]
    window: usize,
    /// Event template (contract §8 CloudEvent JSON).
    #[arg(long, default_value = "examples/events/pharmacy-first.json")]
    template: PathBuf,
    /// Give up this long after the first publish.
    #[arg(long, default_value_t = 180)]
    timeout_secs: u64,
    /// Wait up to this long for a consumer on the input queue before publishing.
    #[arg(long, default_value_t = 60)]
    wait_consumer_secs: u64,
    /// Free text copied to the result (side, repetition).
    #[arg(long, default_value = "")]
    label: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Run(args) => run(args).await,
        Command::Cleanup(t) => cleanup(&t).await,
        Command::Report { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            print!("{}", gateway_bench::report::render(&text)?);
            Ok(())
        }
    }
}

fn names(t: &Topology) -> Names {
    Names {
        queue: t.queue.clone(),
        dead_letter_queue: t.dead_letter_queue.clone(),
        exchange: t.exchange.clone(),
    }
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.count > 0, "--count must be positive");
    let t = &args.topology;
    let template = EventTemplate::from_file(&args.template)?;
    let pub_conn = amqp::connect(&t.url, "loadgen-publish").await?;
    amqp::declare(&pub_conn, &t.url, &names(t)).await?;
    let sub_conn = amqp::connect(&t.url, "loadgen-collect").await?;
    let consumer = collect::subscribe(&sub_conn, &t.exchange, &args.bind_key).await?;
    wait_for_consumer(&pub_conn, &t.queue, args.wait_consumer_secs).await?;

    let ids: Vec<String> = (0..args.count)
        .map(|_| uuid::Uuid::new_v4().to_string())
        .collect();
    let clock = Arc::new(Clock::new(&ids));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.timeout_secs);
    let collector = tokio::spawn(collect::collect(
        consumer,
        clock.clone(),
        args.sent_type.clone(),
        deadline,
    ));
    let plan = publish::Plan {
        queue: &t.queue,
        ids: &ids,
        rate: args.rate,
        window: args.window.max(1),
    };
    let published = publish::publish_all(&pub_conn, &template, &plan, clock.clone()).await;
    let publish_secs = clock.t0.elapsed().as_secs_f64();
    if let Err(error) = &published {
        collector.abort();
        anyhow::bail!("publishing failed: {error:#}");
    }
    let seen = collector.await.context("collector task")?;
    let _ = pub_conn.close(200, ShortString::from("OK")).await;
    let _ = sub_conn.close(200, ShortString::from("OK")).await;

    let complete = seen.finished_at.is_some();
    let end = seen.finished_at.unwrap_or_else(Instant::now);
    let elapsed = end.duration_since(clock.t0).as_secs_f64();
    let sent = seen.latencies_us.len();
    let latency = Summary::from_micros(seen.latencies_us).map(|s| s.to_json());
    let result = json!({
        "label": args.label,
        "count": args.count,
        "rate_target": args.rate,
        "complete": complete,
        "sent": sent,
        "failed": seen.failed,
        "duplicates": seen.duplicates,
        "unknown": seen.unknown,
        "other_events": seen.other,
        "publish_secs": round2(publish_secs),
        "publish_rate": (args.count as f64 / publish_secs.max(1e-9)).round(),
        "elapsed_secs": round2(elapsed),
        "events_per_sec": (sent as f64 / elapsed.max(1e-9)).round(),
        "latency_ms": latency,
    });
    println!("{result}");
    if !complete {
        eprintln!(
            "loadgen: incomplete: {sent} of {} sent, {} failed before the timeout",
            args.count, seen.failed
        );
    }
    Ok(())
}

/// Waits until the input queue has a consumer (the side under test is up).
async fn wait_for_consumer(conn: &lapin::Connection, queue: &str, secs: u64) -> anyhow::Result<()> {
    let ch = conn.create_channel().await.context("probe channel")?;
    let give_up = Instant::now() + Duration::from_secs(secs);
    loop {
        let q = ch
            .queue_declare(
                amqp::short(queue)?,
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .context("checking the input queue")?;
        if q.consumer_count() > 0 {
            let _ = ch.close(200, ShortString::from("OK")).await;
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < give_up,
            "no consumer on {queue} after {secs} s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn cleanup(t: &Topology) -> anyhow::Result<()> {
    let conn = amqp::connect(&t.url, "loadgen-cleanup").await?;
    let mut problems = Vec::new();
    for q in [&t.queue, &t.dead_letter_queue] {
        // A failed delete closes the channel: one channel per operation.
        let ch = conn.create_channel().await.context("cleanup channel")?;
        if let Err(e) = ch
            .queue_delete(amqp::short(q)?, QueueDeleteOptions::default())
            .await
        {
            problems.push(format!("queue {q}: {e}"));
        }
    }
    let ch = conn.create_channel().await.context("cleanup channel")?;
    if let Err(e) = ch
        .exchange_delete(amqp::short(&t.exchange)?, ExchangeDeleteOptions::default())
        .await
    {
        problems.push(format!("exchange {}: {e}", t.exchange));
    }
    let _ = conn.close(200, ShortString::from("OK")).await;
    anyhow::ensure!(problems.is_empty(), "cleanup: {}", problems.join("; "));
    Ok(())
}
