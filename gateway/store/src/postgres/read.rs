//! The SQL behind lookups, the sweep's query and operator reads. None needs a transaction.

use deadpool_postgres::ClientWrapper as Client;
use gateway_core::MessageState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Error as PgError, Row};

use crate::{MessageDetail, MessageRef, MessageSummary, SearchQuery};

const FIND_BY_ITK: &str = "
SELECT id, state, itk_message_id, mesh_message_id, traceparent, infack_code, busack_code,
    workflow_id, mex_to
FROM messages WHERE itk_message_id = $1";

const FIND_BY_MESH: &str = "
SELECT id, state, itk_message_id, mesh_message_id, traceparent, infack_code, busack_code,
    workflow_id, mex_to
FROM messages WHERE mesh_message_id = $1";

/// Ordered by how long each message has waited, so a limited sweep takes the oldest first.
const OVERDUE: &str = "
SELECT id, state, itk_message_id, mesh_message_id, traceparent, infack_code, busack_code,
    workflow_id, mex_to
FROM messages
WHERE (state = 'sent' AND state_changed_at < $1) OR (state = 'infack' AND state_changed_at < $2)
ORDER BY state_changed_at LIMIT $3";

const SEARCH: &str = "
SELECT id, state, route, workflow_id, local_id, mesh_message_id, itk_message_id, created_at,
    updated_at, fail_reason
FROM messages WHERE
    ($1::text IS NULL OR nhs_number = $1) AND ($2::text IS NULL OR local_id = $2)
    AND ($3::text IS NULL OR state = $3) AND ($4::text IS NULL OR mesh_message_id = $4)
    AND ($5::text IS NULL OR id = $5) AND ($6::bigint IS NULL OR created_at >= $6)
    AND ($7::bigint IS NULL OR created_at < $7)
ORDER BY created_at DESC LIMIT $8";

const SUMMARY: &str = "
SELECT id, state, route, workflow_id, local_id, mesh_message_id, itk_message_id, created_at,
    updated_at, fail_reason
FROM messages WHERE id = $1";

const HISTORY: &str = "SELECT at, state, note FROM history WHERE message_id = $1 ORDER BY id";

/// Byte order (`C`), as SQLite sorts, whatever the database's collation.
const STATE_COUNTS: &str =
    "SELECT state, COUNT(*) FROM messages GROUP BY state ORDER BY state COLLATE \"C\"";

fn message_ref(r: &Row) -> Result<MessageRef, PgError> {
    let state: String = r.try_get(1)?;
    Ok(MessageRef {
        id: r.try_get(0)?,
        state: MessageState::parse(&state).unwrap_or(MessageState::Failed),
        itk_message_id: r.try_get(2)?,
        mesh_message_id: r.try_get(3)?,
        traceparent: r.try_get(4)?,
        infack_code: r.try_get(5)?,
        busack_code: r.try_get(6)?,
        workflow_id: r.try_get(7)?,
        mex_to: r.try_get(8)?,
    })
}

fn summary(r: &Row) -> Result<MessageSummary, PgError> {
    Ok(MessageSummary {
        id: r.try_get(0)?,
        state: r.try_get(1)?,
        route: r.try_get(2)?,
        workflow_id: r.try_get(3)?,
        ods_code: r.try_get(4)?,
        mesh_message_id: r.try_get(5)?,
        itk_message_id: r.try_get(6)?,
        created_at: r.try_get(7)?,
        updated_at: r.try_get(8)?,
        fail_reason: r.try_get(9)?,
    })
}

/// Runs a statement prepared once per connection (the pool keeps the cache).
async fn rows(c: &Client, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, PgError> {
    let stmt = c.prepare_cached(sql).await?;
    c.query(&stmt, params).await
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Which id [`find`] looks a message up by.
#[derive(Debug, Clone, Copy)]
pub(super) enum Key {
    /// ITK3 MessageHeader.id.
    Itk,
    /// MESH message id.
    Mesh,
}

pub(super) async fn find(c: &Client, key: Key, value: &str) -> Result<Option<MessageRef>, PgError> {
    let sql = match key {
        Key::Itk => FIND_BY_ITK,
        Key::Mesh => FIND_BY_MESH,
    };
    let found = rows(c, sql, &[&value]).await?;
    found.first().map(message_ref).transpose()
}

pub(super) async fn overdue(
    c: &Client,
    infack_deadline_ms: i64,
    busack_deadline_ms: i64,
    n: usize,
) -> Result<Vec<MessageRef>, PgError> {
    let params: [&(dyn ToSql + Sync); 3] = [&infack_deadline_ms, &busack_deadline_ms, &limit(n)];
    let found = rows(c, OVERDUE, &params).await?;
    found.iter().map(message_ref).collect()
}

pub(super) async fn search(c: &Client, q: &SearchQuery) -> Result<Vec<MessageSummary>, PgError> {
    let found = rows(
        c,
        SEARCH,
        &[
            &q.nhs_number,
            &q.ods_code,
            &q.state,
            &q.mesh_message_id,
            &q.correlation_id,
            &q.since_ms,
            &q.until_ms,
            &limit(q.limit.max(1)),
        ],
    )
    .await?;
    found.iter().map(summary).collect()
}

pub(super) async fn history(c: &Client, id: &str) -> Result<Option<MessageDetail>, PgError> {
    let found = rows(c, SUMMARY, &[&id]).await?;
    let Some(row) = found.first() else {
        return Ok(None);
    };
    let entries = rows(c, HISTORY, &[&id]).await?;
    let history = entries
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect::<Result<_, PgError>>()?;
    Ok(Some(MessageDetail {
        summary: summary(row)?,
        history,
    }))
}

pub(super) async fn oldest_in_state(c: &Client, state: &str) -> Result<Option<i64>, PgError> {
    let row = c
        .query_one(
            "SELECT MIN(state_changed_at) FROM messages WHERE state = $1::text",
            &[&state],
        )
        .await?;
    row.try_get(0)
}

pub(super) async fn state_counts(c: &Client) -> Result<Vec<(String, i64)>, PgError> {
    let found = rows(c, STATE_COUNTS, &[]).await?;
    found
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}
