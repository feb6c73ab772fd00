//! The embedded bus: with no broker configured, output events are written as JSON lines to stdout
//! or appended to a file (fsync'd before the outbox marks them published).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use gateway_core::{BusEvent, EventSink, SinkError};
use tokio::sync::Mutex;

/// Called for every event after it is written.
pub type Observer = Arc<dyn Fn(&BusEvent) + Send + Sync>;

/// Where embedded events go.
pub enum JsonlTarget {
    /// Standard output (machine output; logs go to stderr).
    Stdout,
    /// An append-only file.
    File(PathBuf),
}

/// Event sink writing one CloudEvent JSON per line.
pub struct JsonlSink {
    target: JsonlTarget,
    lock: Mutex<()>,
    /// Optional observer (the demo prints and tracks events as they are published).
    observer: Option<Observer>,
}

impl JsonlSink {
    /// A sink writing to `target`.
    pub fn new(target: JsonlTarget) -> Self {
        Self {
            target,
            lock: Mutex::new(()),
            observer: None,
        }
    }

    /// Calls `f` for every event after it is written.
    pub fn with_observer(mut self, f: Observer) -> Self {
        self.observer = Some(f);
        self
    }
}

#[async_trait]
impl EventSink for JsonlSink {
    async fn publish_batch(&self, events: &[BusEvent]) -> Result<(), SinkError> {
        let _guard = self.lock.lock().await;
        let mut buf = Vec::new();
        for e in events {
            buf.extend_from_slice(&e.body);
            buf.push(b'\n');
        }
        match &self.target {
            JsonlTarget::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(&buf)
                    .and_then(|()| out.flush())
                    .map_err(|e| SinkError::Io(e.to_string()))?;
            }
            JsonlTarget::File(path) => {
                let path = path.clone();
                tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                    if let Some(dir) = path.parent() {
                        std::fs::create_dir_all(dir)?;
                    }
                    let mut f = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&path)?;
                    f.write_all(&buf)?;
                    f.sync_data()
                })
                .await
                .map_err(|e| SinkError::Io(e.to_string()))?
                .map_err(|e| SinkError::Io(e.to_string()))?;
            }
        }
        if let Some(obs) = &self.observer {
            events.iter().for_each(|e| obs(e));
        }
        Ok(())
    }

    async fn healthcheck(&self) -> Result<(), SinkError> {
        Ok(())
    }
}
