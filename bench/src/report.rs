//! The comparison table: medians per side and mode over the run records `bench/run.sh` writes
//! (one JSON object per line: `side`, `mode`, `rep`, `rss_kb`, `cpu_s`, `broker_cpu_s`, `load1`
//! and the load generator's `result`), and the verdict against the performance bar.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::Context;
use serde_json::Value;

use crate::stats::median;

/// Throughput the gateway must reach, as a fraction of the relay's.
pub const MIN_THROUGHPUT_RATIO: f64 = 0.85;
/// Most the gateway's p99 latency may be, as a multiple of the relay's.
pub const MAX_P99_RATIO: f64 = 2.0;
/// Most resident memory the gateway may use, in MB.
pub const MAX_RSS_MB: f64 = 64.0;

/// Medians of one side in one mode.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SideStats {
    /// Runs aggregated.
    pub runs: usize,
    /// Runs that did not see every event through.
    pub incomplete: usize,
    /// Events per second, first publish → last output event.
    pub events_per_sec: Option<f64>,
    /// Latency median, ms.
    pub p50_ms: Option<f64>,
    /// Latency 99th percentile, ms.
    pub p99_ms: Option<f64>,
    /// Peak RSS (VmHWM), MB: the largest of the runs.
    pub rss_mb_max: Option<f64>,
    /// CPU of the side's process per event, µs.
    pub cpu_us_per_event: Option<f64>,
    /// CPU of the broker per event, µs.
    pub broker_us_per_event: Option<f64>,
    /// 1-minute load average before the runs.
    pub load1: Option<f64>,
}

fn num(v: &Value, path: &[&str]) -> Option<f64> {
    path.iter().try_fold(v, |v, k| v.get(*k))?.as_f64()
}

fn per_event_us(r: &Value, key: &str) -> Option<f64> {
    let count = num(r, &["result", "count"])?;
    (count > 0.0).then(|| num(r, &[key]).map(|s| s * 1e6 / count))?
}

/// Aggregates the records of one side and mode.
pub fn side_stats(records: &[&Value]) -> SideStats {
    let med = |f: &dyn Fn(&Value) -> Option<f64>| {
        median(&records.iter().filter_map(|r| f(r)).collect::<Vec<_>>())
    };
    SideStats {
        runs: records.len(),
        incomplete: records
            .iter()
            .filter(|r| r["result"]["complete"].as_bool() != Some(true))
            .count(),
        events_per_sec: med(&|r| num(r, &["result", "events_per_sec"])),
        p50_ms: med(&|r| num(r, &["result", "latency_ms", "p50"])),
        p99_ms: med(&|r| num(r, &["result", "latency_ms", "p99"])),
        rss_mb_max: records
            .iter()
            .filter_map(|r| num(r, &["rss_kb"]))
            .map(|kb| kb / 1024.0)
            .reduce(f64::max),
        cpu_us_per_event: med(&|r| per_event_us(r, "cpu_s")),
        broker_us_per_event: med(&|r| per_event_us(r, "broker_cpu_s")),
        load1: med(&|r| num(r, &["load1"])),
    }
}

fn cell(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.decimals$}"))
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// Renders the markdown tables and verdicts for the run records in `jsonl`.
///
/// # Errors
/// A line is not JSON.
pub fn render(jsonl: &str) -> anyhow::Result<String> {
    let records: Vec<Value> = jsonl
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| serde_json::from_str(l).with_context(|| format!("record {}", i + 1)))
        .collect::<anyhow::Result<_>>()?;
    let mut groups: BTreeMap<(String, String), Vec<&Value>> = BTreeMap::new();
    for r in &records {
        let key = |k: &str| r[k].as_str().unwrap_or("?").to_owned();
        groups
            .entry((key("mode"), key("side")))
            .or_default()
            .push(r);
    }
    let modes: Vec<String> = {
        let mut m: Vec<String> = groups.keys().map(|(m, _)| m.clone()).collect();
        m.dedup();
        m
    };
    let mut out = String::new();
    for mode in modes {
        let stats = |side: &str| {
            groups
                .get(&(mode.clone(), side.to_owned()))
                .map(|v| side_stats(v))
        };
        let (relay, gateway) = (stats("relay"), stats("gateway"));
        let target = records
            .iter()
            .find(|r| r["mode"] == mode.as_str())
            .and_then(|r| num(r, &["result", "rate_target"]))
            .filter(|r| *r > 0.0)
            .map_or_else(|| "as fast as possible".to_owned(), |r| format!("{r:.0}/s"));
        let _ = writeln!(out, "\n### mode `{mode}` (input rate: {target}; medians)\n");
        let _ = writeln!(
            out,
            "| side | runs | events/s | ratio | p50 ms | p99 ms | p99 ratio | peak RSS MB | CPU µs/event | broker µs/event | load1 |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|");
        let base = relay.clone().unwrap_or_default();
        for (name, s) in [("relay", &relay), ("gateway", &gateway)] {
            let Some(s) = s else { continue };
            let runs = if s.incomplete > 0 {
                format!("{} ({} incomplete)", s.runs, s.incomplete)
            } else {
                s.runs.to_string()
            };
            let _ = writeln!(
                out,
                "| {name} | {runs} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                cell(s.events_per_sec, 0),
                cell(ratio(s.events_per_sec, base.events_per_sec), 2),
                cell(s.p50_ms, 1),
                cell(s.p99_ms, 1),
                cell(ratio(s.p99_ms, base.p99_ms), 2),
                cell(s.rss_mb_max, 1),
                cell(s.cpu_us_per_event, 0),
                cell(s.broker_us_per_event, 0),
                cell(s.load1, 2),
            );
        }
        if let (Some(r), Some(g)) = (&relay, &gateway) {
            out.push('\n');
            out.push_str(&verdict(&mode, r, g));
        }
    }
    Ok(out)
}

fn verdict(mode: &str, relay: &SideStats, gateway: &SideStats) -> String {
    let mut lines = Vec::new();
    let check = |ok: Option<bool>| match ok {
        Some(true) => "PASS",
        Some(false) => "FAIL",
        None => "n/a",
    };
    if mode == "flood" {
        let r = ratio(gateway.events_per_sec, relay.events_per_sec);
        lines.push(format!(
            "- throughput ratio {} (bar ≥ {MIN_THROUGHPUT_RATIO}): {}",
            cell(r, 2),
            check(r.map(|r| r >= MIN_THROUGHPUT_RATIO))
        ));
    }
    let p = ratio(gateway.p99_ms, relay.p99_ms);
    lines.push(format!(
        "- p99 ratio {} (bar ≤ {MAX_P99_RATIO}): {}",
        cell(p, 2),
        check(p.map(|p| p <= MAX_P99_RATIO))
    ));
    lines.push(format!(
        "- gateway peak RSS {} MB (bar < {MAX_RSS_MB}): {}",
        cell(gateway.rss_mb_max, 1),
        check(gateway.rss_mb_max.map(|m| m < MAX_RSS_MB))
    ));
    lines.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(side: &str, mode: &str, eps: f64, p99: f64, rss_kb: u64) -> String {
        serde_json::json!({
            "side": side, "mode": mode, "rep": 1, "rss_kb": rss_kb, "cpu_s": 2.0,
            "broker_cpu_s": 4.0, "load1": 1.0,
            "result": { "count": 20000, "complete": true, "events_per_sec": eps,
                        "rate_target": 0.0, "latency_ms": { "p50": p99 / 2.0, "p99": p99 } }
        })
        .to_string()
    }

    #[test]
    fn medians_ratios_and_verdicts() {
        let text = [
            line("relay", "flood", 4000.0, 100.0, 20_000),
            line("gateway", "flood", 3000.0, 150.0, 50_000),
            line("relay", "flood", 3800.0, 90.0, 21_000),
            line("gateway", "flood", 3600.0, 140.0, 70_000),
            line("relay", "flood", 3900.0, 95.0, 19_000),
            line("gateway", "flood", 3400.0, 145.0, 40_000),
        ]
        .join("\n");
        let out = render(&text).unwrap();
        assert!(out.contains("| gateway | 3 | 3400 | 0.87 |"), "{out}");
        assert!(
            out.contains("throughput ratio 0.87 (bar ≥ 0.85): PASS"),
            "{out}"
        );
        assert!(out.contains("p99 ratio 1.53"), "{out}");
        assert!(out.contains("peak RSS 68.4 MB (bar < 64): FAIL"), "{out}");
        assert!(
            out.contains("| 100 | 200 |"),
            "cpu and broker µs/event: {out}"
        );
    }

    #[test]
    fn incomplete_runs_are_flagged_and_bad_lines_rejected() {
        let mut v: Value = serde_json::from_str(&line("relay", "paced", 1.0, 1.0, 1)).unwrap();
        v["result"]["complete"] = Value::Bool(false);
        let out = render(&v.to_string()).unwrap();
        assert!(out.contains("1 (1 incomplete)"), "{out}");
        assert!(render("{not json").is_err());
    }
}
