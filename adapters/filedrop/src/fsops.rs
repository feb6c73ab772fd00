//! Blocking file-system steps. Every function here blocks: callers run them on tokio's blocking
//! pool. Files are only ever renamed, never deleted, and a rename never replaces an existing file.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use crate::sidecar;

/// The folders of one drop.
#[derive(Debug, Clone)]
pub(crate) struct Dirs {
    pub(crate) drop: PathBuf,
    pub(crate) claimed: PathBuf,
    pub(crate) done: PathBuf,
    pub(crate) error: PathBuf,
}

impl Dirs {
    pub(crate) fn new(drop: PathBuf) -> Self {
        Self {
            claimed: drop.join(".claimed"),
            done: drop.join("done"),
            error: drop.join("error"),
            drop,
        }
    }
}

/// A candidate file seen in a listing.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) size: u64,
    pub(crate) mtime: Option<SystemTime>,
    /// Whether the completion marker exists (always true when none is configured).
    pub(crate) marked: bool,
}

/// Where a settled file went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dest {
    Done,
    Error,
}

/// The result of trying to lock a claimed file.
pub(crate) enum Locked {
    /// Ours: the open file (holding the lock until dropped) and its bytes.
    Got(File, Vec<u8>),
    /// Another process or instance is processing it.
    Busy,
    /// It is no longer there (another instance settled it).
    Gone,
}

/// Checks the drop folder exists and creates `.claimed/`, `done/` and `error/` in it.
pub(crate) fn ensure_dirs(dirs: &Dirs) -> Result<(), (PathBuf, io::Error)> {
    match fs::metadata(&dirs.drop) {
        Ok(md) if md.is_dir() => {}
        Ok(_) => {
            let e = io::Error::new(io::ErrorKind::NotADirectory, "not a directory");
            return Err((dirs.drop.clone(), e));
        }
        Err(e) => return Err((dirs.drop.clone(), e)),
    }
    for dir in [&dirs.claimed, &dirs.done, &dirs.error] {
        fs::create_dir_all(dir).map_err(|e| (dir.clone(), e))?;
    }
    Ok(())
}

/// Whether `name` is a file this drop takes: the format's extension, no dotfile, no partial name.
pub(crate) fn is_candidate(name: &str, ext: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !name.starts_with('.')
        && !lower.ends_with(".tmp")
        && !lower.ends_with(".part")
        && lower.len() > ext.len() + 1
        && lower
            .strip_suffix(ext)
            .is_some_and(|stem| stem.ends_with('.'))
}

/// Candidate regular files in `dir` (symlinks and folders are ignored), oldest first.
pub(crate) fn list(dir: &Path, exts: &[&str], marker: Option<&str>) -> io::Result<Vec<Entry>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if !exts.iter().any(|ext| is_candidate(&name, ext)) {
            continue;
        }
        // Does not follow symlinks; a file that vanished since the listing is simply skipped.
        let Ok(md) = entry.metadata() else {
            continue;
        };
        if !md.file_type().is_file() {
            continue;
        }
        let marked = match marker {
            Some(suffix) => dir.join(format!("{name}{suffix}")).is_file(),
            None => true,
        };
        out.push(Entry {
            name,
            size: md.len(),
            mtime: md.modified().ok(),
            marked,
        });
    }
    out.sort_by(|a, b| a.mtime.cmp(&b.mtime).then_with(|| a.name.cmp(&b.name)));
    Ok(out)
}

/// Whether nothing exists at `path`.
fn is_free(path: &Path) -> io::Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(false),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(e),
    }
}

/// Renames `src` to `dst` unless something already exists at `dst`.
///
/// Gateway processes never race for the same target here: a name in `done/` or `error/` is only
/// written by the holder of `.claimed/<name>`, and a claim needs that name to be free.
fn rename_free(src: &Path, dst: &Path) -> io::Result<()> {
    if !is_free(dst)? {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "target exists",
        ));
    }
    fs::rename(src, dst)
}

/// Claims `name` by renaming it into `.claimed/`; `Ok(false)` when another process took it first
/// or a file of that name is still being processed. The completion marker, if any, follows.
pub(crate) fn claim(dirs: &Dirs, name: &str, marker: Option<&str>) -> io::Result<bool> {
    match rename_free(&dirs.drop.join(name), &dirs.claimed.join(name)) {
        Ok(()) => {}
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::AlreadyExists
            ) =>
        {
            return Ok(false);
        }
        Err(e) => return Err(e),
    }
    if let Some(suffix) = marker {
        let marker_name = format!("{name}{suffix}");
        // Best effort: a marker left behind only lets a later file of the same name skip waiting
        // for its own marker; the settle time still applies to it.
        let _ = rename_free(
            &dirs.drop.join(&marker_name),
            &dirs.claimed.join(&marker_name),
        );
    }
    Ok(true)
}

/// Opens a claimed file, takes an exclusive advisory lock without waiting, checks it is still the
/// file at `path`, and reads it. The lock (released when the file is dropped, or when the process
/// dies) keeps other instances from processing it at the same time.
pub(crate) fn lock_and_read(path: &Path) -> io::Result<Locked> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Locked::Gone),
        Err(e) => return Err(e),
    };
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => return Ok(Locked::Busy),
        // A file system without locks still gets claim-by-rename exclusivity for new files.
        Err(fs::TryLockError::Error(e)) if e.kind() == io::ErrorKind::Unsupported => {}
        Err(fs::TryLockError::Error(e)) => return Err(e),
    }
    if !still_at(&file, path)? {
        return Ok(Locked::Gone);
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(Locked::Got(file, bytes))
}

/// Whether the open `file` is still the one at `path` (another instance may have settled it
/// between our open and our lock).
#[cfg(unix)]
fn still_at(file: &File, path: &Path) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let open = file.metadata()?;
    match fs::metadata(path) {
        Ok(now) => Ok(open.dev() == now.dev() && open.ino() == now.ino()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(not(unix))]
fn still_at(_file: &File, path: &Path) -> io::Result<bool> {
    is_free(path).map(|free| !free)
}

/// A name in `dir` that is free, and whose sidecar name is free too when `sidecar` is set: `name`
/// itself, else `name` with a UTC timestamp before the extension (`a.20261120T101500.000000001Z.json`).
fn free_name(dir: &Path, name: &str, sidecar: bool) -> io::Result<String> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.9fZ").to_string();
    for attempt in 0..100u32 {
        let candidate = match attempt {
            0 => name.to_owned(),
            1 => stamped(name, &stamp),
            n => stamped(name, &format!("{stamp}-{n}")),
        };
        if is_free(&dir.join(&candidate))?
            && (!sidecar || is_free(&dir.join(format!("{candidate}{}", sidecar::SUFFIX)))?)
        {
            return Ok(candidate);
        }
    }
    Err(io::Error::new(io::ErrorKind::AlreadyExists, "no free name"))
}

fn stamped(name: &str, stamp: &str) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}.{stamp}.{ext}"),
        _ => format!("{name}.{stamp}"),
    }
}

/// Moves `.claimed/<name>` to `done/` (no sidecar) or `error/` (after writing and syncing the
/// sidecar, so an error file never exists without it). Returns the final name.
pub(crate) fn settle(
    dirs: &Dirs,
    name: &str,
    sidecar_json: Option<&[u8]>,
    marker: Option<&str>,
) -> io::Result<(Dest, String)> {
    let src = dirs.claimed.join(name);
    let (dest, dir) = match sidecar_json {
        None => (Dest::Done, &dirs.done),
        Some(_) => (Dest::Error, &dirs.error),
    };
    let final_name = free_name(dir, name, sidecar_json.is_some())?;
    if let Some(json) = sidecar_json {
        write_sidecar(dir, &final_name, json)?;
    }
    rename_free(&src, &dir.join(&final_name))?;
    if let Some(suffix) = marker {
        let from = dirs.claimed.join(format!("{name}{suffix}"));
        if !is_free(&from)? {
            let to = free_name(dir, &format!("{final_name}{suffix}"), false)?;
            rename_free(&from, &dir.join(to))?;
        }
    }
    Ok((dest, final_name))
}

static TEMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// Writes `<dir>/<name>.error.json` via a synced temporary dotfile and a rename, then syncs `dir`.
fn write_sidecar(dir: &Path, name: &str, json: &[u8]) -> io::Result<()> {
    let seq = TEMP_SEQ.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(
        ".{name}{}.{}-{seq}.tmp",
        sidecar::SUFFIX,
        std::process::id()
    ));
    let mut file = File::create_new(&tmp)?;
    file.write_all(json)?;
    file.sync_all()?;
    drop(file);
    rename_free(&tmp, &dir.join(format!("{name}{}", sidecar::SUFFIX)))?;
    sync_dir(dir)
}

/// Makes renames in `dir` durable (a no-op where directories cannot be opened).
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates() {
        for ok in ["a.json", "A.JSON", "x.y.json"] {
            assert!(is_candidate(ok, "json"), "{ok}");
        }
        for no in [
            ".a.json",
            "a.json.tmp",
            "a.json.part",
            "a.tmp",
            "json",
            ".json",
            "a.xjson",
        ] {
            assert!(!is_candidate(no, "json"), "{no}");
        }
    }

    #[test]
    fn stamped_keeps_extension() {
        assert_eq!(stamped("a.b.json", "T"), "a.b.T.json");
        assert_eq!(stamped("noext", "T"), "noext.T");
    }
}
