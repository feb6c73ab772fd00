//! The shared conformance suite against the SQLite store.

use std::future::Future;

use super::SqliteStore;
use crate::conformance::Harness;

/// One temporary database file per test.
struct SqliteHarness {
    dir: tempfile::TempDir,
}

impl Harness for SqliteHarness {
    type Store = SqliteStore;

    fn open(&self) -> impl Future<Output = SqliteStore> + Send {
        let store = SqliteStore::open(&self.dir.path().join("s.db"), true).unwrap();
        std::future::ready(store)
    }
}

crate::store_conformance_tests!(SqliteHarness {
    dir: tempfile::tempdir().unwrap()
});
