//! Schema creation and migration, and the advisory lock keys derived from the schema.

use tokio_postgres::Client;

/// Version written to `store_meta` by this code; a later migration bumps it.
const SCHEMA_VERSION: i64 = 1;

/// Advisory lock keys for one schema. Advisory locks are per database, not per schema, so the
/// keys hash the schema name: gateways (or test runs) in different schemas of one database never
/// wait on each other.
#[derive(Debug, Clone, Copy)]
pub(super) struct LockKeys {
    /// Held by the gateway that currently publishes the outbox (session level).
    pub(super) outbox: i64,
}

/// Creates the tables and indexes if missing (idempotent) and returns the lock keys.
///
/// Gateways starting together would race on `CREATE TABLE IF NOT EXISTS` (PostgreSQL can fail
/// one of two concurrent creates with a unique violation on its catalog), so the migration runs
/// in one transaction under a transaction-level advisory lock.
pub(super) async fn migrate(client: &mut Client) -> Result<LockKeys, tokio_postgres::Error> {
    let tx = client.transaction().await?;
    let row = tx
        .query_one(
            "SELECT current_schema()::text,
                hashtextextended('gpc-gateway migrate ' || current_schema(), 0),
                hashtextextended('gpc-gateway outbox ' || current_schema(), 0)",
            &[],
        )
        .await?;
    let migrate_key: i64 = row.try_get(1)?;
    let keys = LockKeys {
        outbox: row.try_get(2)?,
    };
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&migrate_key])
        .await?;
    tx.batch_execute(SCHEMA).await?;
    tx.execute(
        "INSERT INTO store_meta (key, value) VALUES ('schema_version', $1)
         ON CONFLICT (key) DO NOTHING",
        &[&SCHEMA_VERSION.to_string()],
    )
    .await?;
    tx.commit().await?;
    Ok(keys)
}

/// Times are ms since the epoch as BIGINT, like the SQLite store and the trait: the caller's
/// clock decides what is due, so tests can pass synthetic times and gateways need only NTP-level
/// agreement (a lease is minutes long).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS store_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
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
    body BYTEA NOT NULL,
    itk_message_id TEXT NOT NULL UNIQUE,
    itk_bundle_id TEXT NOT NULL,
    document_id TEXT NOT NULL,
    sender_reference TEXT NOT NULL,
    nhs_number TEXT NOT NULL,
    mesh_message_id TEXT,
    traceparent TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    infack_code TEXT,
    busack_code TEXT,
    fail_stage TEXT,
    fail_code TEXT,
    fail_reason TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    state_changed_at BIGINT NOT NULL,
    claimed_by TEXT,
    claimed_until BIGINT
);
CREATE INDEX IF NOT EXISTS messages_due ON messages (next_attempt_at) WHERE state = 'received';
CREATE INDEX IF NOT EXISTS messages_waiting ON messages (state_changed_at)
    WHERE state IN ('sent', 'infack');
CREATE INDEX IF NOT EXISTS messages_mesh ON messages (mesh_message_id);
CREATE INDEX IF NOT EXISTS messages_nhs ON messages (nhs_number);
CREATE INDEX IF NOT EXISTS messages_ods ON messages (local_id);
CREATE INDEX IF NOT EXISTS messages_created ON messages (created_at);
CREATE TABLE IF NOT EXISTS history (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    state TEXT NOT NULL,
    note TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_message ON history (message_id);
CREATE TABLE IF NOT EXISTS rejects (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    correlation_id TEXT NOT NULL,
    origin TEXT NOT NULL,
    stage TEXT NOT NULL,
    code TEXT NOT NULL,
    reason TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS inbox (
    mailbox TEXT NOT NULL,
    mesh_message_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    message_id TEXT,
    summary TEXT NOT NULL,
    body BYTEA NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (mailbox, mesh_message_id)
);
CREATE TABLE IF NOT EXISTS outbox (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    body BYTEA NOT NULL,
    traceparent TEXT,
    published BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (seq) WHERE NOT published;
";
