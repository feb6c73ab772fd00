//! Operator queries: search, one message's history, counts by state.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::{MessageDetail, MessageSummary, SearchQuery};

const SUMMARY_COLUMNS: &str = "id, state, route, workflow_id, local_id, mesh_message_id,
    itk_message_id, created_at, updated_at, fail_reason";

fn summary(r: &Row<'_>) -> rusqlite::Result<MessageSummary> {
    Ok(MessageSummary {
        id: r.get(0)?,
        state: r.get(1)?,
        route: r.get(2)?,
        workflow_id: r.get(3)?,
        ods_code: r.get(4)?,
        mesh_message_id: r.get(5)?,
        itk_message_id: r.get(6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
        fail_reason: r.get(9)?,
    })
}

pub(super) fn search(c: &Connection, q: &SearchQuery) -> rusqlite::Result<Vec<MessageSummary>> {
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM messages WHERE
            (?1 IS NULL OR nhs_number = ?1) AND (?2 IS NULL OR local_id = ?2)
            AND (?3 IS NULL OR state = ?3) AND (?4 IS NULL OR mesh_message_id = ?4)
            AND (?5 IS NULL OR id = ?5) AND (?6 IS NULL OR created_at >= ?6)
            AND (?7 IS NULL OR created_at < ?7)
         ORDER BY created_at DESC LIMIT ?8"
    );
    let limit = i64::try_from(q.limit.max(1)).unwrap_or(i64::MAX);
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![
            q.nhs_number,
            q.ods_code,
            q.state,
            q.mesh_message_id,
            q.correlation_id,
            q.since_ms,
            q.until_ms,
            limit
        ],
        summary,
    )?;
    rows.collect()
}

pub(super) fn history(c: &Connection, id: &str) -> rusqlite::Result<Option<MessageDetail>> {
    let sql = format!("SELECT {SUMMARY_COLUMNS} FROM messages WHERE id = ?1");
    let Some(summary) = c
        .prepare_cached(&sql)?
        .query_row(params![id], summary)
        .optional()?
    else {
        return Ok(None);
    };
    let mut stmt =
        c.prepare_cached("SELECT at, state, note FROM history WHERE message_id = ?1 ORDER BY id")?;
    let entries = stmt
        .query_map(params![id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some(MessageDetail {
        summary,
        history: entries,
    }))
}

pub(super) fn oldest_in_state(c: &Connection, state: &str) -> rusqlite::Result<Option<i64>> {
    c.prepare_cached("SELECT MIN(state_changed_at) FROM messages WHERE state = ?1")?
        .query_row(params![state], |r| r.get(0))
}

pub(super) fn state_counts(c: &Connection) -> rusqlite::Result<Vec<(String, i64)>> {
    let mut stmt =
        c.prepare_cached("SELECT state, COUNT(*) FROM messages GROUP BY state ORDER BY state")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}
