//! The file-drop input: the run loop, passes over the folder and per-file processing.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use gateway_core::{Ingest, IngestOutcome};
use gateway_proto::output::FailureStage;
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::decode::{DecodeContext, Decoder, decoder_for};
use crate::fsops::{self, Dest, Dirs, Entry, Locked};
use crate::settle::SettleTracker;
use crate::sidecar::{self, ErrorEntry};
use crate::{FileDropConfig, FileDropError};

/// Longest wait between passes while the pipeline keeps failing.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Pause after a file-system event so a burst of them costs one pass.
const DEBOUNCE: Duration = Duration::from_millis(50);
/// Shortest wait between passes.
const MIN_WAIT: Duration = Duration::from_millis(10);

/// One watched drop folder. Several instances, in one process or many, may share a folder: each
/// file is processed by exactly one of them.
pub struct FileDropInput {
    cfg: FileDropConfig,
    dirs: Dirs,
    /// The folder's own name, for origins (`file:<label>/<file>#<index>`) and telemetry.
    label: String,
    decoder: Arc<dyn Decoder>,
    /// Which candidates have kept their size and mtime for the settle time.
    settle: SettleTracker,
}

struct Pass {
    settled: usize,
    /// When the next tracked file becomes ready, if one is waiting to settle.
    next_due: Option<Instant>,
}

impl FileDropInput {
    /// An input for `cfg`, decoding with the built-in decoder of `cfg.format`.
    pub fn new(cfg: FileDropConfig) -> Self {
        let decoder = Arc::from(decoder_for(&cfg.format));
        Self::with_decoder(cfg, decoder)
    }

    /// An input for `cfg` that decodes with `decoder` (for decoders that need their own
    /// configuration, such as a CSV column map). `cfg.format` still selects the file extensions.
    pub fn with_decoder(cfg: FileDropConfig, decoder: Arc<dyn Decoder>) -> Self {
        let label = cfg.dir.file_name().map_or_else(
            || cfg.dir.display().to_string(),
            |name| name.to_string_lossy().into_owned(),
        );
        Self {
            dirs: Dirs::new(cfg.dir.clone()),
            label,
            decoder,
            settle: SettleTracker::new(cfg.settle_time),
            cfg,
        }
    }

    /// Runs until `shutdown` is cancelled: a pass at start-up (which first finishes whatever a
    /// previous run left in `.claimed/`), then one per file-system event or `rescan_interval`.
    /// When the pipeline fails, the next pass waits longer each time, up to a minute. On
    /// shutdown, the file being processed is finished first.
    ///
    /// # Errors
    /// [`FileDropError::Dir`] when the drop folder is unusable at start-up. Later failures are
    /// logged and retried, never returned.
    pub async fn run(
        self,
        ingest: Arc<dyn Ingest>,
        shutdown: CancellationToken,
    ) -> Result<(), FileDropError> {
        self.ensure_dirs().await?;
        let wake = Arc::new(Notify::new());
        let _watcher = crate::watch::start(&self.cfg.dir, Arc::clone(&wake));
        let rescan = self.cfg.rescan_interval.max(MIN_WAIT);
        let mut backoff: Option<Duration> = None;
        tracing::info!(dir = %self.cfg.dir.display(), "File drop input started.");
        while !shutdown.is_cancelled() {
            let wait = match self.pass(&*ingest, Some(&shutdown)).await {
                Ok(pass) => {
                    backoff = None;
                    pass.next_due.map_or(rescan, |due| {
                        due.saturating_duration_since(Instant::now())
                            .clamp(MIN_WAIT, rescan)
                    })
                }
                Err(error) => {
                    let wait = backoff.map_or(rescan, |d| d.saturating_mul(2).min(MAX_BACKOFF));
                    backoff = Some(wait);
                    tracing::warn!(
                        dir = %self.cfg.dir.display(),
                        error = %chain(&error),
                        retry_in_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                        "File drop pass failed; claimed files stay claimed and are retried."
                    );
                    wait
                }
            };
            // While failing, file events must not cut the back-off short.
            let hints = backoff.is_none();
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(wait) => {}
                () = wake.notified(), if hints => tokio::time::sleep(DEBOUNCE).await,
            }
        }
        tracing::info!(dir = %self.cfg.dir.display(), "File drop input stopped.");
        Ok(())
    }

    /// One pass: processes what is in `.claimed/` (left by a crash or a failed pass), then
    /// claims and processes every candidate whose size and mtime have been unchanged for
    /// `settle_time` (a file seen for the first time counts from now, so with a non-zero settle
    /// time it is taken by a later pass). Returns how many files were moved to `done/` or
    /// `error/`.
    ///
    /// # Errors
    /// [`FileDropError::Ingest`] or [`FileDropError::OutcomeCount`] when the pipeline failed:
    /// the pass stops and the file stays in `.claimed/` for the next one.
    /// [`FileDropError::Dir`] when a folder cannot be listed or created. A problem with one file
    /// is logged and that file is left for the next pass.
    pub async fn process_once(&self, ingest: &dyn Ingest) -> Result<usize, FileDropError> {
        self.pass(ingest, None).await.map(|pass| pass.settled)
    }

    async fn pass(
        &self,
        ingest: &dyn Ingest,
        stop: Option<&CancellationToken>,
    ) -> Result<Pass, FileDropError> {
        self.ensure_dirs().await?;
        let stopped = || stop.is_some_and(CancellationToken::is_cancelled);
        let mut settled = 0;
        // Leftovers first. A file another instance has just claimed is listed too; its lock
        // makes us skip it.
        for entry in self.list(&self.dirs.claimed, None).await? {
            if stopped() {
                return Ok(Pass {
                    settled,
                    next_due: None,
                });
            }
            settled += self.try_file(ingest, &entry.name).await?;
        }
        let listed = self
            .list(&self.dirs.drop, self.cfg.completion_marker.clone())
            .await?;
        let (ready, next_due) = self.settle.check(listed, Instant::now());
        for name in ready {
            if stopped() {
                break;
            }
            let (dirs, marker, n) = (
                self.dirs.clone(),
                self.cfg.completion_marker.clone(),
                name.clone(),
            );
            match blocking(move || fsops::claim(&dirs, &n, marker.as_deref())).await? {
                Ok(true) => {
                    self.settle.forget(&name);
                    settled += self.try_file(ingest, &name).await?;
                }
                // Taken by another process, or a file of that name is still claimed.
                Ok(false) => {}
                Err(error) => tracing::warn!(
                    file = %name,
                    error = %error,
                    "Claiming a dropped file failed; retrying on the next pass."
                ),
            }
        }
        Ok(Pass { settled, next_due })
    }

    /// Processes one claimed file; errors that concern only this file are logged, not returned.
    async fn try_file(&self, ingest: &dyn Ingest, name: &str) -> Result<usize, FileDropError> {
        let span = tracing::info_span!(
            "file_drop.process",
            otel.name = %format_args!("process {}", self.label),
            messaging.operation.type = "process",
            messaging.destination.name = %self.label,
            gateway.file = %name,
        );
        match self.process_file(ingest, name).instrument(span).await {
            Ok(settled) => Ok(usize::from(settled)),
            Err(error) if error.aborts_pass() => Err(error),
            Err(error) => {
                tracing::warn!(
                    file = %name,
                    error = %chain(&error),
                    "Processing a claimed file failed; it stays claimed for the next pass."
                );
                Ok(0)
            }
        }
    }

    /// Locks, decodes, ingests and settles `.claimed/<name>`; `false` when another instance
    /// holds it or has settled it already.
    async fn process_file(&self, ingest: &dyn Ingest, name: &str) -> Result<bool, FileDropError> {
        let path = self.dirs.claimed.join(name);
        let p = path.clone();
        let (lock, bytes) = match blocking(move || fsops::lock_and_read(&p)).await? {
            Ok(Locked::Got(lock, bytes)) => (lock, bytes),
            Ok(Locked::Busy | Locked::Gone) => return Ok(false),
            Err(source) => return Err(io_error("read", &path, source)),
        };
        let decoder = Arc::clone(&self.decoder);
        let (file_name, origin) = (name.to_owned(), format!("file:{}/{name}", self.label));
        let items = blocking(move || {
            decoder.decode(
                &bytes,
                &DecodeContext {
                    file_name: &file_name,
                    origin: &origin,
                },
            )
        })
        .await?;
        let total = items.len();
        let mut errors = Vec::new();
        let mut events = Vec::with_capacity(total);
        for (index, item) in items.into_iter().enumerate() {
            match item {
                Ok(item) => events.push(((index, item.line), item.raw)),
                Err(e) => errors.push(ErrorEntry {
                    line: e.line,
                    index,
                    stage: FailureStage::Input.as_str(),
                    reason: e.reason,
                }),
            }
        }
        let (mut accepted, mut duplicates) = (0usize, 0usize);
        let mut events = events.into_iter();
        loop {
            let (meta, batch): (Vec<_>, Vec<_>) =
                events.by_ref().take(self.cfg.max_batch.max(1)).unzip();
            if batch.is_empty() {
                break;
            }
            let sent = batch.len();
            let outcomes = ingest.ingest(batch).await.map_err(FileDropError::Ingest)?;
            if outcomes.len() != sent {
                return Err(FileDropError::OutcomeCount {
                    sent,
                    got: outcomes.len(),
                });
            }
            for ((index, line), outcome) in meta.into_iter().zip(outcomes) {
                match outcome {
                    IngestOutcome::Accepted { .. } => accepted += 1,
                    IngestOutcome::Duplicate { .. } => duplicates += 1,
                    IngestOutcome::Rejected { stage, reason, .. } => {
                        errors.push(ErrorEntry {
                            line,
                            index,
                            stage: stage.as_str(),
                            reason,
                        });
                    }
                }
            }
        }
        errors.sort_by_key(|e| e.index);
        let sidecar_json = match errors.is_empty() {
            true => None,
            false => Some(
                sidecar::render(name, &errors)
                    .map_err(|e| io_error("write the sidecar of", &path, io::Error::other(e)))?,
            ),
        };
        let (dirs, n, marker) = (
            self.dirs.clone(),
            name.to_owned(),
            self.cfg.completion_marker.clone(),
        );
        let settled = blocking(move || {
            let settled = fsops::settle(&dirs, &n, sidecar_json.as_deref(), marker.as_deref());
            // Only now may another instance look at the file (it is gone from `.claimed/`).
            drop(lock);
            settled
        })
        .await?;
        let (dest, final_name) = settled.map_err(|source| io_error("settle", &path, source))?;
        tracing::info!(
            file = %name,
            moved_to = %format_args!("{}/{final_name}", dest.as_str()),
            events = total,
            accepted,
            duplicates,
            failed = errors.len(),
            "File settled."
        );
        Ok(true)
    }

    async fn ensure_dirs(&self) -> Result<(), FileDropError> {
        let dirs = self.dirs.clone();
        blocking(move || fsops::ensure_dirs(&dirs))
            .await?
            .map_err(|(path, source)| FileDropError::Dir { path, source })
    }

    async fn list(&self, dir: &Path, marker: Option<String>) -> Result<Vec<Entry>, FileDropError> {
        let (path, exts) = (dir.to_path_buf(), self.cfg.format.extensions());
        blocking(move || fsops::list(&path, exts, marker.as_deref()))
            .await?
            .map_err(|source| FileDropError::Dir {
                path: dir.to_path_buf(),
                source,
            })
    }
}

impl std::fmt::Debug for FileDropInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileDropInput")
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

impl Dest {
    fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Error => "error",
        }
    }
}

async fn blocking<T, F>(f: F) -> Result<T, FileDropError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(FileDropError::Task)
}

fn io_error(op: &'static str, path: &Path, source: io::Error) -> FileDropError {
    FileDropError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// An error and its causes, `outer: inner: …`, for one log field.
fn chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        out.push_str(": ");
        out.push_str(&e.to_string());
        cause = e.source();
    }
    out
}
