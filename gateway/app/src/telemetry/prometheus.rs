//! Prometheus text exposition (format 0.0.4) of the SDK's instruments, read on demand through a
//! `ManualReader`: `/metrics` shows the same instruments OTLP exports. Names follow the
//! OpenTelemetry Prometheus compatibility rules: dots become underscores, the unit is appended
//! (`_seconds`), counters end in `_total`; attribute keys become label names the same way.

use std::fmt::Write as _;
use std::sync::{Arc, Weak};
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::{
    AggregatedMetrics, Gauge, Histogram, Metric, MetricData, ResourceMetrics, Sum,
};
use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::metrics::{InstrumentKind, ManualReader, Pipeline, Temporality};

/// A metric reader shared between the meter provider and the admin server.
#[derive(Debug, Clone)]
pub struct PrometheusReader {
    reader: Arc<ManualReader>,
}

impl Default for PrometheusReader {
    fn default() -> Self {
        Self::new()
    }
}

impl PrometheusReader {
    /// A cumulative reader (what Prometheus expects).
    pub fn new() -> Self {
        Self {
            reader: Arc::new(
                ManualReader::builder()
                    .with_temporality(Temporality::Cumulative)
                    .build(),
            ),
        }
    }

    /// Collects every instrument and renders the text format.
    ///
    /// # Errors
    /// The reader was shut down or is not registered with a meter provider.
    pub fn render(&self) -> Result<String, String> {
        let mut rm = ResourceMetrics::default();
        self.reader.collect(&mut rm).map_err(|e| e.to_string())?;
        let mut out = String::new();
        let mut metrics: Vec<&Metric> = rm.scope_metrics().flat_map(|s| s.metrics()).collect();
        metrics.sort_by(|a, b| a.name().cmp(b.name()));
        for m in metrics {
            encode(&mut out, m);
        }
        Ok(out)
    }
}

impl MetricReader for PrometheusReader {
    fn register_pipeline(&self, pipeline: Weak<Pipeline>) {
        self.reader.register_pipeline(pipeline);
    }

    fn collect(&self, rm: &mut ResourceMetrics) -> OTelSdkResult {
        self.reader.collect(rm)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.reader.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.reader.shutdown_with_timeout(timeout)
    }

    fn temporality(&self, kind: InstrumentKind) -> Temporality {
        self.reader.temporality(kind)
    }
}

/// The Prometheus name of an OpenTelemetry metric (`counter` adds `_total`).
pub(crate) fn prometheus_name(name: &str, unit: &str, counter: bool) -> String {
    let mut n = sanitize(name);
    let unit = match unit {
        "s" => "seconds",
        "ms" => "milliseconds",
        "By" => "bytes",
        _ => "",
    };
    if !unit.is_empty() && !n.ends_with(unit) {
        n.push('_');
        n.push_str(unit);
    }
    if counter {
        n.push_str("_total");
    }
    n
}

fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.chars().enumerate() {
        let ok = c.is_ascii_alphabetic() || c == '_' || (i > 0 && c.is_ascii_digit());
        let c = if ok { c } else { '_' };
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    out
}

fn encode(out: &mut String, m: &Metric) {
    match m.data() {
        AggregatedMetrics::F64(d) => encode_data(out, m, d),
        AggregatedMetrics::U64(d) => encode_data(out, m, d),
        AggregatedMetrics::I64(d) => encode_data(out, m, d),
    }
}

trait Num: Copy + std::fmt::Display {
    fn as_f64(self) -> f64;
}
impl Num for f64 {
    fn as_f64(self) -> f64 {
        self
    }
}
impl Num for u64 {
    fn as_f64(self) -> f64 {
        self as f64
    }
}
impl Num for i64 {
    fn as_f64(self) -> f64 {
        self as f64
    }
}

fn encode_data<T: Num>(out: &mut String, m: &Metric, data: &MetricData<T>) {
    match data {
        MetricData::Sum(s) => encode_sum(out, m, s),
        MetricData::Gauge(g) => encode_gauge(out, m, g),
        MetricData::Histogram(h) => encode_histogram(out, m, h),
        // Not configured anywhere in the gateway.
        MetricData::ExponentialHistogram(_) => {}
    }
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let help = help.replace('\\', "\\\\").replace('\n', "\\n");
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn encode_sum<T: Num>(out: &mut String, m: &Metric, s: &Sum<T>) {
    let counter = s.is_monotonic();
    let name = prometheus_name(m.name(), m.unit(), counter);
    header(
        out,
        &name,
        m.description(),
        if counter { "counter" } else { "gauge" },
    );
    let mut lines: Vec<String> = s
        .data_points()
        .map(|p| format!("{name}{} {}", labels(p.attributes(), None), num(p.value())))
        .collect();
    lines.sort();
    for l in lines {
        let _ = writeln!(out, "{l}");
    }
}

fn encode_gauge<T: Num>(out: &mut String, m: &Metric, g: &Gauge<T>) {
    let name = prometheus_name(m.name(), m.unit(), false);
    header(out, &name, m.description(), "gauge");
    let mut lines: Vec<String> = g
        .data_points()
        .map(|p| format!("{name}{} {}", labels(p.attributes(), None), num(p.value())))
        .collect();
    lines.sort();
    for l in lines {
        let _ = writeln!(out, "{l}");
    }
}

fn encode_histogram<T: Num>(out: &mut String, m: &Metric, h: &Histogram<T>) {
    let name = prometheus_name(m.name(), m.unit(), false);
    header(out, &name, m.description(), "histogram");
    let mut points: Vec<_> = h
        .data_points()
        .map(|p| (labels(p.attributes(), None), p))
        .collect();
    points.sort_by(|a, b| a.0.cmp(&b.0));
    for (base, p) in points {
        let mut cumulative = 0u64;
        let bounds: Vec<f64> = p.bounds().collect();
        for (i, count) in p.bucket_counts().enumerate() {
            cumulative += count;
            let le = bounds
                .get(i)
                .map_or_else(|| "+Inf".to_string(), |b| num(*b));
            let l = labels(p.attributes(), Some(&le));
            let _ = writeln!(out, "{name}_bucket{l} {cumulative}");
        }
        let _ = writeln!(out, "{name}_sum{base} {}", num(p.sum().as_f64()));
        let _ = writeln!(out, "{name}_count{base} {}", p.count());
    }
}

fn labels<'a>(attrs: impl Iterator<Item = &'a KeyValue>, le: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = attrs
        .map(|kv| (sanitize(kv.key.as_str()), kv.value.to_string()))
        .collect();
    pairs.sort();
    if let Some(le) = le {
        pairs.push(("le".into(), le.into()));
    }
    if pairs.is_empty() {
        return String::new();
    }
    let body: Vec<String> = pairs
        .into_iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(&v)))
        .collect();
    format!("{{{}}}", body.join(","))
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn num<T: Num>(v: T) -> String {
    let f = v.as_f64();
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry_sdk::metrics::SdkMeterProvider;

    use super::*;

    #[test]
    fn names_follow_the_otel_prometheus_rules() {
        assert_eq!(
            prometheus_name("messaging.client.consumed.messages", "{message}", true),
            "messaging_client_consumed_messages_total"
        );
        assert_eq!(
            prometheus_name("http.client.request.duration", "s", false),
            "http_client_request_duration_seconds"
        );
        assert_eq!(
            prometheus_name("gateway.acks.oldest_age", "s", false),
            "gateway_acks_oldest_age_seconds"
        );
    }

    #[test]
    fn renders_counters_gauges_and_histograms() {
        let reader = PrometheusReader::new();
        let provider = SdkMeterProvider::builder()
            .with_reader(reader.clone())
            .build();
        let meter = provider.meter("t");
        let c = meter.u64_counter("a.b").with_unit("{message}").build();
        c.add(2, &[KeyValue::new("x.y", "q\"z")]);
        let g = meter.u64_gauge("g").build();
        g.record(7, &[]);
        let h = meter
            .f64_histogram("d")
            .with_unit("s")
            .with_boundaries(vec![0.1, 1.0])
            .build();
        h.record(0.5, &[KeyValue::new("k", "v")]);
        h.record(5.0, &[KeyValue::new("k", "v")]);
        let text = reader.render().unwrap();
        assert!(text.contains("# TYPE a_b_total counter\n"), "{text}");
        assert!(text.contains("a_b_total{x_y=\"q\\\"z\"} 2\n"), "{text}");
        assert!(text.contains("g 7\n"), "{text}");
        assert!(
            text.contains("d_seconds_bucket{k=\"v\",le=\"0.1\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("d_seconds_bucket{k=\"v\",le=\"1\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("d_seconds_bucket{k=\"v\",le=\"+Inf\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("d_seconds_sum{k=\"v\"} 5.5\n"), "{text}");
        assert!(text.contains("d_seconds_count{k=\"v\"} 2\n"), "{text}");
    }
}
