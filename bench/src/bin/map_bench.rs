//! `map-bench`: the CPU cost of the gateway's mapping step on its own, single-threaded, no I/O.
//! Each event is parsed (`CloudEvent::parse`) and mapped by the plugin the gateway's built-in
//! registry picks for its type, exactly as ingest does (the plugin checks the tree it built);
//! the serialised message is then read back and checked again, as `gpc-gateway validate` does,
//! to show what checking the bytes would cost. Prints one JSON line (µs per event).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use gateway_bench::stats::round2;
use gateway_bench::template::EventTemplate;
use gateway_core::{MapContext, SeededIds};
use gateway_proto::CloudEvent;
use gpc_gateway::pipeline::Directory;
use gpc_gateway::registry::Registry;
use serde_json::json;

#[derive(Parser)]
#[command(
    name = "map-bench",
    about = "CPU per event of parse + map (+ validation)"
)]
struct Args {
    /// Events to map (after 10% as many for warm-up).
    #[arg(long, default_value_t = 5000)]
    count: usize,
    /// Event template (contract §8 CloudEvent JSON).
    #[arg(long, default_value = "examples/events/pharmacy-first.json")]
    template: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(args.count > 0, "--count must be positive");
    let template = EventTemplate::from_file(&args.template)?;
    let registry = Registry::builtin();
    let ods = ["FA001".to_owned()];
    let directory = Directory::new([("PHARM001", &ods[..])]);
    let now = chrono::Utc::now();
    let time = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let bodies: Vec<Vec<u8>> = (0..args.count + args.count / 10)
        .map(|_| template.render(&uuid::Uuid::new_v4().to_string(), &time))
        .collect();
    let (warm, measured) = bodies.split_at(args.count / 10);

    let mut parse = Duration::ZERO;
    let mut map = Duration::ZERO;
    let mut validate = Duration::ZERO;
    let mut bytes = 0usize;
    for (i, body) in warm.iter().chain(measured).enumerate() {
        let counted = i >= warm.len();
        let t0 = Instant::now();
        let event = CloudEvent::parse(body).map_err(|e| anyhow::anyhow!("parse: {e}"))?;
        let t1 = Instant::now();
        let plugin = registry
            .for_type(&event.event_type)
            .with_context(|| format!("no plugin for {}", event.event_type))?;
        let ids = SeededIds::new(&event.id);
        let cx = MapContext {
            now: now.fixed_offset(),
            ids: &ids,
            mailboxes: &directory,
        };
        let out = plugin
            .map(&event, &cx)
            .map_err(|e| anyhow::anyhow!("map: {}", e.problems.join("; ")))?;
        let t2 = Instant::now();
        let problems = gateway_plugin_gp_connect::validate_message(&out.body);
        let t3 = Instant::now();
        anyhow::ensure!(problems.is_empty(), "invalid message: {problems:?}");
        if counted {
            parse += t1 - t0;
            map += t2 - t1;
            validate += t3 - t2;
            bytes += out.body.len();
        }
    }
    let n = measured.len() as f64;
    let us = |d: Duration| round2(d.as_secs_f64() * 1e6 / n);
    println!(
        "{}",
        json!({
            "events": measured.len(),
            "input_bytes": measured.first().map_or(0, Vec::len),
            "message_bytes": bytes / measured.len().max(1),
            "parse_us": us(parse),
            "map_us_including_its_validation": us(map),
            "validate_again_us": us(validate),
            "events_per_core_second": (n / (parse + map).as_secs_f64().max(1e-9)).round(),
        })
    );
    Ok(())
}
