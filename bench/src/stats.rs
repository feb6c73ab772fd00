//! Latency summaries (nearest-rank percentiles) and medians.

use serde_json::{Value, json};

/// Percentiles of a latency sample, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest value.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
}

impl Summary {
    /// Summarises latencies given in microseconds; `None` for an empty sample.
    pub fn from_micros(mut sample: Vec<u64>) -> Option<Self> {
        if sample.is_empty() {
            return None;
        }
        sample.sort_unstable();
        let ms = |us: u64| us as f64 / 1000.0;
        let sum: u128 = sample.iter().map(|&v| u128::from(v)).sum();
        Some(Self {
            p50: ms(rank(&sample, 0.50)),
            p90: ms(rank(&sample, 0.90)),
            p99: ms(rank(&sample, 0.99)),
            max: ms(sample.last().copied().unwrap_or_default()),
            mean: sum as f64 / sample.len() as f64 / 1000.0,
        })
    }

    /// As a JSON object with millisecond values rounded to 0.01 ms.
    pub fn to_json(&self) -> Value {
        json!({
            "p50": round2(self.p50),
            "p90": round2(self.p90),
            "p99": round2(self.p99),
            "max": round2(self.max),
            "mean": round2(self.mean),
        })
    }
}

/// Nearest-rank percentile of a sorted, non-empty sample.
fn rank(sorted: &[u64], q: f64) -> u64 {
    let n = sorted.len();
    let idx = ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
    sorted.get(idx).copied().unwrap_or_default()
}

/// Rounds to two decimals.
pub fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Median of the values (mean of the middle two for an even count); `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v.get(mid).copied()
    } else {
        Some((v[mid - 1] + v[mid]) / 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let s = Summary::from_micros((1..=100).map(|v| v * 1000).collect()).unwrap();
        assert_eq!(s.p50, 50.0);
        assert_eq!(s.p90, 90.0);
        assert_eq!(s.p99, 99.0);
        assert_eq!(s.max, 100.0);
        assert_eq!(s.mean, 50.5);
        let one = Summary::from_micros(vec![2500]).unwrap();
        assert_eq!((one.p50, one.p99, one.max), (2.5, 2.5, 2.5));
        assert!(Summary::from_micros(Vec::new()).is_none());
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[f64::NAN]), None);
        assert_eq!(median(&[]), None);
    }
}
