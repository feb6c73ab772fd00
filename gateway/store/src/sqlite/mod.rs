//! The embedded SQLite store. One worker thread owns the connection; calls become jobs on a
//! channel, and the worker runs every job that is waiting in one transaction (group commit, each
//! job inside its own savepoint so one failing job cannot undo the others) and answers the callers
//! only after the commit. So the async runtime never blocks on SQLite, and many concurrent callers
//! share one fsync.

mod ops;
mod queries;
mod schema;

use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use gateway_core::BusEvent;
use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::{
    InboxRecord, InboxResult, IngestItem, InsertResult, MessageDetail, MessageRef, MessageSummary,
    PendingSend, ResendOutcome, SearchQuery, SendResult, Store, StoreError, Transition,
};

/// Deliver the job's answer once the transaction's fate is known (`true` = committed).
type Reply = Box<dyn FnOnce(bool) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> Reply + Send>;

/// Most jobs one transaction takes; bounds commit latency under heavy load.
const MAX_JOBS_PER_COMMIT: usize = 512;

/// SQLite store (WAL, `synchronous=FULL` by default).
#[derive(Clone)]
pub struct SqliteStore {
    jobs: mpsc::Sender<Job>,
    /// In-process claims (correlation id → lease end, ms). One process owns a SQLite file, so
    /// claims need not be durable: after a crash nothing is in flight.
    claims: Arc<Mutex<HashMap<String, i64>>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and starts the worker.
    ///
    /// # Errors
    /// [`StoreError::Database`] when the file cannot be opened or migrated.
    pub fn open(path: &Path, synchronous_full: bool) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| StoreError::Database(e.to_string()))?;
        }
        let conn = Connection::open(path).map_err(db)?;
        schema::prepare(&conn, synchronous_full).map_err(db)?;
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("gpc-store".into())
            .spawn(move || worker(conn, rx))
            .map_err(|e| StoreError::Database(e.to_string()))?;
        Ok(Self {
            jobs: tx,
            claims: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// Runs `f` on the worker inside the group transaction; resolves after commit.
    async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T, StoreError>>();
        let job: Job = Box::new(move |conn| {
            let result = savepoint(conn, f);
            Box::new(move |committed| {
                let answer = match result {
                    Ok(v) if committed => Ok(v),
                    Ok(_) => Err(StoreError::Database("commit failed".into())),
                    Err(e) => Err(db(e)),
                };
                let _ = tx.send(answer);
            })
        });
        self.jobs.send(job).map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    fn release_claims<'a>(&self, ids: impl Iterator<Item = &'a str>) {
        if let Ok(mut claims) = self.claims.lock() {
            for id in ids {
                claims.remove(id);
            }
        }
    }
}

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

fn savepoint<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    conn.execute_batch("SAVEPOINT job")?;
    match f(conn) {
        Ok(v) => {
            conn.execute_batch("RELEASE job")?;
            Ok(v)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
            Err(e)
        }
    }
}

fn worker(conn: Connection, rx: mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut replies: Vec<Reply> = Vec::new();
        let began = conn.execute_batch("BEGIN IMMEDIATE").is_ok();
        replies.push(first(&conn));
        while replies.len() < MAX_JOBS_PER_COMMIT {
            match rx.try_recv() {
                Ok(job) => replies.push(job(&conn)),
                Err(_) => break,
            }
        }
        let committed = began && conn.execute_batch("COMMIT").is_ok();
        if !committed {
            tracing::error!("Store transaction failed to commit; callers will retry.");
            let _ = conn.execute_batch("ROLLBACK");
        }
        for reply in replies {
            reply(committed);
        }
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ingest(&self, items: Vec<IngestItem>) -> Result<Vec<InsertResult>, StoreError> {
        self.run(move |c| ops::ingest(c, &items)).await
    }

    async fn claim_due(
        &self,
        limit: usize,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Vec<PendingSend>, StoreError> {
        let claims = self.claims.clone();
        let skip: Vec<String> = {
            let mut guard = claims.lock().map_err(|_| StoreError::Closed)?;
            guard.retain(|_, until| *until > now_ms);
            guard.keys().cloned().collect()
        };
        let rows = self.run(move |c| ops::due(c, limit, now_ms, &skip)).await?;
        let mut guard = claims.lock().map_err(|_| StoreError::Closed)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            if !guard.contains_key(&row.id) {
                guard.insert(row.id.clone(), now_ms + lease_ms);
                out.push(row);
            }
        }
        Ok(out)
    }

    async fn record_send_results(&self, results: Vec<SendResult>) -> Result<(), StoreError> {
        let ids: Vec<String> = results.iter().map(|r| r.id().to_string()).collect();
        let outcome = self.run(move |c| ops::send_results(c, &results)).await;
        self.release_claims(ids.iter().map(String::as_str));
        outcome
    }

    async fn find_by_itk_id(&self, itk_message_id: &str) -> Result<Option<MessageRef>, StoreError> {
        let key = itk_message_id.to_string();
        self.run(move |c| ops::find_ref(c, "itk_message_id", &key))
            .await
    }

    async fn find_by_mesh_id(
        &self,
        mesh_message_id: &str,
    ) -> Result<Option<MessageRef>, StoreError> {
        let key = mesh_message_id.to_string();
        self.run(move |c| ops::find_ref(c, "mesh_message_id", &key))
            .await
    }

    async fn record_inbox(&self, record: InboxRecord) -> Result<InboxResult, StoreError> {
        self.run(move |c| ops::inbox(c, &record)).await
    }

    async fn apply(&self, transitions: Vec<Transition>) -> Result<Vec<bool>, StoreError> {
        self.run(move |c| transitions.iter().map(|t| ops::transition(c, t)).collect())
            .await
    }

    async fn overdue(
        &self,
        infack_deadline_ms: i64,
        busack_deadline_ms: i64,
        limit: usize,
    ) -> Result<Vec<MessageRef>, StoreError> {
        self.run(move |c| ops::overdue(c, infack_deadline_ms, busack_deadline_ms, limit))
            .await
    }

    async fn pending_events(&self, limit: usize) -> Result<Vec<BusEvent>, StoreError> {
        self.run(move |c| ops::pending_events(c, limit)).await
    }

    async fn mark_published(&self, seqs: Vec<i64>) -> Result<(), StoreError> {
        self.run(move |c| ops::mark_published(c, &seqs)).await
    }

    async fn search(&self, query: SearchQuery) -> Result<Vec<MessageSummary>, StoreError> {
        self.run(move |c| queries::search(c, &query)).await
    }

    async fn history(&self, id: &str) -> Result<Option<MessageDetail>, StoreError> {
        let id = id.to_string();
        self.run(move |c| queries::history(c, &id)).await
    }

    async fn state_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        self.run(queries::state_counts).await
    }

    async fn oldest_in_state(
        &self,
        state: gateway_core::MessageState,
    ) -> Result<Option<i64>, StoreError> {
        self.run(move |c| queries::oldest_in_state(c, state.as_str()))
            .await
    }

    async fn resend(&self, id: &str, now_ms: i64) -> Result<ResendOutcome, StoreError> {
        let id = id.to_string();
        self.run(move |c| ops::resend(c, &id, now_ms)).await
    }
}

#[cfg(test)]
mod tests;
