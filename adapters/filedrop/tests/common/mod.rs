//! A scripted stand-in for the pipeline, and folder helpers.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use gateway_adapter_filedrop::{DropFormat, FileDropConfig};
use gateway_core::{Ingest, IngestError, IngestOutcome, RawEvent};
use gateway_proto::output::FailureStage;

/// Records every event; rejects events with `"reject": true`; reports ids seen before as
/// duplicates; fails the next `fail_calls` calls with [`IngestError`].
#[derive(Default)]
pub struct FakeIngest {
    pub events: Mutex<Vec<RawEvent>>,
    pub calls: AtomicUsize,
    pub fail_calls: AtomicUsize,
    pub delay: Option<Duration>,
    ids: Mutex<HashSet<String>>,
}

impl FakeIngest {
    pub fn slow(delay: Duration) -> Self {
        Self {
            delay: Some(delay),
            ..Self::default()
        }
    }

    pub fn origins(&self) -> Vec<String> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .map(|e| e.origin.clone())
            .collect()
    }
}

#[async_trait]
impl Ingest for FakeIngest {
    async fn ingest(&self, batch: Vec<RawEvent>) -> Result<Vec<IngestOutcome>, IngestError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Some(delay) = self.delay {
            tokio::time::sleep(delay).await;
        }
        if self
            .fail_calls
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(IngestError("store unavailable".into()));
        }
        let mut outcomes = Vec::new();
        for event in &batch {
            let body: serde_json::Value = serde_json::from_slice(&event.body).unwrap();
            let id = body["id"].as_str().map(str::to_owned);
            let outcome = if body["reject"] == true {
                IngestOutcome::Rejected {
                    correlation_id: id,
                    stage: FailureStage::Mapping,
                    code: "test-reject".into(),
                    reason: "The test rejected this event.".into(),
                }
            } else if let Some(id) = id.filter(|id| !self.ids.lock().unwrap().insert(id.clone())) {
                IngestOutcome::Duplicate { correlation_id: id }
            } else {
                IngestOutcome::Accepted {
                    correlation_id: body["id"].to_string(),
                }
            };
            outcomes.push(outcome);
        }
        self.events.lock().unwrap().extend(batch);
        Ok(outcomes)
    }
}

/// A drop folder `<tmp>/json` and a config for it that takes files at once.
pub fn drop_dir() -> (tempfile::TempDir, PathBuf, FileDropConfig) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("json");
    std::fs::create_dir(&dir).unwrap();
    let mut cfg = FileDropConfig::new(dir.clone(), DropFormat::Json);
    cfg.settle_time = Duration::ZERO;
    cfg.rescan_interval = Duration::from_millis(50);
    (tmp, dir, cfg)
}

pub fn event(id: &str) -> String {
    format!(r#"{{"specversion": "1.0", "id": "{id}", "type": "t", "source": "s"}}"#)
}

/// File names in `dir` (sorted), or empty when it does not exist.
pub fn names(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

/// Waits up to `secs` seconds for `cond`.
pub async fn eventually(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let end = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < end {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cond()
}
