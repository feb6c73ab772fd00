//! Reading what Prometheus reads: the text exposition of `/metrics`, the metric names PromQL
//! expressions query, and the deploy artefacts (Grafana dashboard, alert rules) checked against
//! the exported metrics.

use std::collections::{BTreeMap, BTreeSet};

/// Samples of a Prometheus text exposition: series (name + labels) → value.
pub fn parse(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("sample line");
            (
                series.to_string(),
                value.parse::<f64>().expect("sample value"),
            )
        })
        .collect()
}

/// Sum of every series of `name` (histograms: their `_count`), `None` when absent.
pub fn total(samples: &BTreeMap<String, f64>, name: &str) -> Option<f64> {
    let count = format!("{name}_count");
    let mut found = None;
    for (series, v) in samples {
        let base = series.split('{').next().unwrap_or_default();
        if base == name || base == count {
            *found.get_or_insert(0.0) += v;
        }
    }
    found
}

/// The value of the first series of `name` whose labels contain `label`.
pub fn series<'a>(samples: &'a BTreeMap<String, f64>, name: &str, label: &str) -> Option<&'a f64> {
    samples
        .iter()
        .find(|(s, _)| s.split('{').next() == Some(name) && s.contains(label))
        .map(|(_, v)| v)
}

/// Identifiers that are PromQL, not metrics.
const PROMQL: &[&str] = &[
    "histogram_quantile",
    "clamp_min",
    "clamp_max",
    "group_left",
    "group_right",
    "label_replace",
    "sum",
    "rate",
    "increase",
    "max",
    "min",
    "avg",
    "count",
    "by",
    "on",
    "without",
    "ignoring",
    "and",
    "or",
    "unless",
    "bool",
    "le",
    "humanize",
    "absent",
];

/// Metric names a PromQL expression reads (label matchers, ranges and strings removed).
pub fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut cleaned = String::new();
    let mut depth_brace = 0;
    let mut depth_bracket = 0;
    let mut in_string = false;
    for c in expr.chars() {
        match c {
            '"' => in_string = !in_string,
            '{' if !in_string => depth_brace += 1,
            '}' if !in_string => depth_brace -= 1,
            '[' if !in_string => depth_bracket += 1,
            ']' if !in_string => depth_bracket -= 1,
            _ if !in_string && depth_brace == 0 && depth_bracket == 0 => cleaned.push(c),
            _ => {}
        }
        if matches!(c, '{' | '}' | '[' | ']') {
            cleaned.push(' ');
        }
    }
    let cleaned = strip_label_lists(&cleaned);
    cleaned
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|t| !t.is_empty())
        .filter(|t| !t.starts_with(|c: char| c.is_ascii_digit()) && !PROMQL.contains(t))
        .map(str::to_string)
        .collect()
}

/// Removes the label lists of `by (...)`, `without (...)`, `on (...)`, `group_left (...)`, ...
fn strip_label_lists(s: &str) -> String {
    const LISTS: &[&str] = &[
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
    ];
    let chars: Vec<char> = s.chars().collect();
    let word_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if !word_char(chars[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && word_char(chars[i]) {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        out.push_str(&word);
        if !LISTS.contains(&word.as_str()) {
            continue;
        }
        let mut j = i;
        while j < chars.len() && chars[j] == ' ' {
            j += 1;
        }
        if j < chars.len() && chars[j] == '(' {
            while j < chars.len() && chars[j] != ')' {
                j += 1;
            }
            i = j + 1;
            out.push(' ');
        }
    }
    out
}

/// Panics unless every metric `expr` reads is in `exported` (histogram suffixes allowed).
fn assert_exported(where_: &str, expr: &str, exported: &BTreeSet<String>) {
    let names = metric_names(expr);
    assert!(!names.is_empty(), "{where_}: no metric in {expr}");
    for n in names {
        let base = ["_bucket", "_count", "_sum"]
            .iter()
            .find_map(|s| n.strip_suffix(s))
            .unwrap_or(&n);
        assert!(
            exported.contains(base),
            "{where_}: {n} is not an exported metric (expr {expr})"
        );
    }
}

/// Loads `deploy/grafana/gpc-gateway.json`, checks its shape (Grafana dashboard model) and that
/// every query reads exported metrics only.
pub fn check_dashboard(exported: &BTreeSet<String>) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../deploy/grafana/gpc-gateway.json"
    );
    let d: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap())
        .expect("the dashboard is JSON");
    for key in ["uid", "title"] {
        assert!(d[key].is_string(), "dashboard.{key}");
    }
    assert!(
        d["schemaVersion"].as_u64().is_some_and(|v| v >= 36),
        "schemaVersion"
    );
    let panels = d["panels"].as_array().expect("panels");
    let mut ids = BTreeSet::new();
    let mut queries = 0;
    for p in panels {
        assert!(
            ids.insert(p["id"].as_u64().expect("panel id")),
            "unique panel ids"
        );
        assert!(p["title"].is_string() && p["type"].is_string(), "{p}");
        for k in ["h", "w", "x", "y"] {
            assert!(p["gridPos"][k].is_u64(), "gridPos.{k} of {}", p["title"]);
        }
        if p["type"] == "row" {
            continue;
        }
        let targets = p["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{} has no query", p["title"]);
        for t in targets {
            let expr = t["expr"].as_str().expect("expr");
            assert_exported(&format!("panel {}", p["title"]), expr, exported);
            queries += 1;
        }
    }
    assert!(queries >= 10, "a dashboard worth the name");
}

/// Checks `deploy/prometheus/alerts.yml`: every alert has an expression over exported metrics and
/// a `for:` (one alert per incident, not per retry).
pub fn check_alerts(exported: &BTreeSet<String>) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../deploy/prometheus/alerts.yml"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut exprs = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some(rest) = l.trim_start().strip_prefix("expr:") else {
            continue;
        };
        let indent = l.len() - l.trim_start().len();
        let rest = rest.trim();
        if rest == ">-" || rest == "|" || rest == ">" {
            let body: Vec<&str> = lines[i + 1..]
                .iter()
                .take_while(|n| n.len() - n.trim_start().len() > indent)
                .map(|n| n.trim())
                .collect();
            exprs.push(body.join(" "));
        } else {
            exprs.push(rest.to_string());
        }
    }
    let alerts = text.matches("- alert:").count();
    assert_eq!(exprs.len(), alerts, "every alert has an expression");
    assert_eq!(
        text.matches("\n        for: ").count(),
        alerts,
        "every alert waits (`for:`): one alert per incident, not per retry"
    );
    for e in &exprs {
        assert_exported("alert rule", e, exported);
    }
}
