//! The settle check: a file is taken only once its size and mtime have stayed unchanged for the
//! settle time, measured on our own clock (a writer's clock, on a network share, may be off).

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use crate::fsops::Entry;

/// Remembers when each candidate was last seen changing.
#[derive(Debug)]
pub(crate) struct SettleTracker {
    settle_time: Duration,
    seen: Mutex<HashMap<String, Seen>>,
}

#[derive(Debug)]
struct Seen {
    size: u64,
    mtime: Option<SystemTime>,
    since: Instant,
}

impl SettleTracker {
    pub(crate) fn new(settle_time: Duration) -> Self {
        Self {
            settle_time,
            seen: Mutex::default(),
        }
    }

    /// Updates the tracker with a listing of the drop folder taken at `now`; returns the names
    /// ready to claim and when the next one waiting will be ready.
    pub(crate) fn check(&self, listed: Vec<Entry>, now: Instant) -> (Vec<String>, Option<Instant>) {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        {
            let present: HashSet<&str> = listed.iter().map(|e| e.name.as_str()).collect();
            seen.retain(|name, _| present.contains(name.as_str()));
        }
        let (mut ready, mut next_due) = (Vec::new(), None::<Instant>);
        for entry in listed {
            let current = Seen {
                size: entry.size,
                mtime: entry.mtime,
                since: now,
            };
            let seen_entry = seen.entry(entry.name.clone()).or_insert(current);
            if seen_entry.size != entry.size || seen_entry.mtime != entry.mtime {
                *seen_entry = Seen {
                    size: entry.size,
                    mtime: entry.mtime,
                    since: now,
                };
            }
            // An absurd settle time means never; a missing completion marker means not yet.
            let Some(due) = seen_entry.since.checked_add(self.settle_time) else {
                continue;
            };
            if !entry.marked {
                continue;
            }
            if due <= now {
                ready.push(entry.name);
            } else {
                next_due = Some(next_due.map_or(due, |d| d.min(due)));
            }
        }
        (ready, next_due)
    }

    /// Drops what is known about `name` (it has been claimed).
    pub(crate) fn forget(&self, name: &str) {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, size: u64, marked: bool) -> Entry {
        Entry {
            name: name.into(),
            size,
            mtime: None,
            marked,
        }
    }

    #[test]
    fn ready_after_settle_time_unchanged() {
        let tracker = SettleTracker::new(Duration::from_secs(1));
        let t0 = Instant::now();
        let (ready, due) = tracker.check(vec![entry("a.json", 1, true)], t0);
        assert!(ready.is_empty());
        assert_eq!(due, Some(t0 + Duration::from_secs(1)));
        let t1 = t0 + Duration::from_millis(900);
        let (ready, _) = tracker.check(vec![entry("a.json", 2, true)], t1);
        assert!(ready.is_empty(), "it grew: the clock restarts");
        let (ready, _) = tracker.check(vec![entry("a.json", 2, true)], t1 + Duration::from_secs(1));
        assert_eq!(ready, ["a.json"]);
    }

    #[test]
    fn unmarked_files_wait_and_vanished_ones_are_forgotten() {
        let tracker = SettleTracker::new(Duration::ZERO);
        let now = Instant::now();
        let (ready, due) = tracker.check(vec![entry("a.json", 1, false)], now);
        assert!(ready.is_empty() && due.is_none());
        tracker.check(Vec::new(), now);
        assert!(tracker.seen.lock().unwrap().is_empty());
    }
}
