//! Schema and connection settings.

use rusqlite::Connection;

/// Applies pragmas and creates the tables (idempotent).
pub(super) fn prepare(conn: &Connection, synchronous_full: bool) -> rusqlite::Result<()> {
    // WAL lets readers proceed during the writer's transaction; FULL makes each group commit
    // durable against power loss, NORMAL only against process crashes (kill -9).
    // temp_store keeps the per-job savepoint journals in memory instead of temp files, and a
    // larger autocheckpoint keeps WAL checkpoints off most group commits. An 8 MB page cache
    // (default 2 MB) holds the bodies between ingest and send: with the default, ~20 KB messages
    // were read back from the WAL (store-bench: store-thread CPU 255 -> 152 us per message).
    let sync = if synchronous_full { "FULL" } else { "NORMAL" };
    conn.execute_batch(&format!(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous={sync}; PRAGMA foreign_keys=ON;
         PRAGMA busy_timeout=5000; PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=16384;
         PRAGMA cache_size=-8192;"
    ))?;
    conn.execute_batch(SCHEMA)
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY,
    event_type TEXT NOT NULL,
    origin TEXT NOT NULL,
    route TEXT NOT NULL,
    state TEXT NOT NULL,
    mailbox TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    mex_to TEXT NOT NULL,
    mex_subject TEXT NOT NULL,
    local_id TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    itk_message_id TEXT NOT NULL UNIQUE,
    itk_bundle_id TEXT NOT NULL,
    document_id TEXT NOT NULL,
    sender_reference TEXT NOT NULL,
    nhs_number TEXT NOT NULL,
    mesh_message_id TEXT,
    traceparent TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    infack_code TEXT,
    busack_code TEXT,
    fail_stage TEXT,
    fail_code TEXT,
    fail_reason TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    state_changed_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_due ON messages(state, next_attempt_at);
CREATE INDEX IF NOT EXISTS messages_mesh ON messages(mesh_message_id);
CREATE INDEX IF NOT EXISTS messages_nhs ON messages(nhs_number);
CREATE INDEX IF NOT EXISTS messages_ods ON messages(local_id);
CREATE INDEX IF NOT EXISTS messages_created ON messages(created_at);
CREATE TABLE IF NOT EXISTS bodies (
    id TEXT PRIMARY KEY,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    state TEXT NOT NULL,
    note TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_message ON history(message_id);
CREATE TABLE IF NOT EXISTS rejects (
    id INTEGER PRIMARY KEY,
    correlation_id TEXT NOT NULL,
    origin TEXT NOT NULL,
    stage TEXT NOT NULL,
    code TEXT NOT NULL,
    reason TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS inbox (
    mailbox TEXT NOT NULL,
    mesh_message_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    message_id TEXT,
    summary TEXT NOT NULL,
    body BLOB NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (mailbox, mesh_message_id)
);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    body BLOB NOT NULL,
    traceparent TEXT,
    published INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(published, seq);
";
