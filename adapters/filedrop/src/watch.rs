//! File-system events as hints: any change in the drop folder wakes the input early. They are
//! never relied on (network file systems send none), the periodic rescan is.

use std::path::Path;
use std::sync::Arc;

use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::Notify;

/// Starts watching `dir`; the returned watcher stops when dropped. `None` (logged) when the
/// platform refuses, e.g. inotify watch limits: the rescan still finds every file.
pub(crate) fn start(dir: &Path, wake: Arc<Notify>) -> Option<RecommendedWatcher> {
    let handler = move |event: notify::Result<notify::Event>| {
        // Reads (including our own) are not changes worth a pass.
        if !matches!(event, Ok(ref e) if matches!(e.kind, EventKind::Access(_))) {
            wake.notify_one();
        }
    };
    let watched = notify::recommended_watcher(handler)
        .and_then(|mut w| w.watch(dir, RecursiveMode::NonRecursive).map(|()| w));
    match watched {
        Ok(watcher) => Some(watcher),
        Err(error) => {
            tracing::warn!(
                dir = %dir.display(),
                error = %error,
                "Watching the drop folder failed; relying on the periodic rescan."
            );
            None
        }
    }
}
