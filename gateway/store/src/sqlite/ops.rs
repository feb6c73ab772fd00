//! The SQL behind each store operation. Every function runs inside the worker's transaction.

use gateway_core::{BusEvent, MessageState};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::{
    InboxRecord, InboxResult, IngestItem, InsertResult, MessageRef, NewEvent, PendingSend,
    ResendOutcome, SendResult, Transition,
};

pub(super) fn ingest(c: &Connection, items: &[IngestItem]) -> rusqlite::Result<Vec<InsertResult>> {
    let mut out = Vec::with_capacity(items.len());
    let mut insert = c.prepare_cached(
        "INSERT INTO messages (id, event_type, origin, route, state, mailbox, workflow_id, mex_to,
            mex_subject, local_id, file_name, content_type, itk_message_id, itk_bundle_id,
            document_id, sender_reference, nhs_number, traceparent, next_attempt_at, created_at,
            updated_at, state_changed_at)
         VALUES (?1, ?2, ?3, ?4, 'received', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
            ?17, ?18, ?18, ?18, ?18)
         ON CONFLICT(id) DO NOTHING",
    )?;
    // The built message lives in its own table: state updates then rewrite a small row, not the
    // ~30 KB message and its overflow pages.
    let mut insert_body = c.prepare_cached("INSERT INTO bodies (id, body) VALUES (?1, ?2)")?;
    for item in items {
        match item {
            IngestItem::Message(m) => {
                let o = &m.outbound;
                let n = insert.execute(params![
                    m.correlation_id,
                    m.event_type,
                    m.origin,
                    o.route,
                    o.mailbox,
                    o.workflow_id,
                    o.mex_to,
                    o.mex_subject,
                    o.local_id,
                    o.file_name,
                    o.content_type,
                    o.itk_message_id,
                    o.itk_bundle_id,
                    o.document_id,
                    o.sender_reference,
                    o.nhs_number,
                    m.traceparent,
                    m.now_ms,
                ])?;
                if n == 1 {
                    insert_body.execute(params![m.correlation_id, o.body])?;
                    note(
                        c,
                        &m.correlation_id,
                        m.now_ms,
                        "received",
                        &format!("from {}", m.origin),
                    )?;
                    out.push(InsertResult::Inserted);
                } else {
                    out.push(InsertResult::Duplicate);
                }
            }
            IngestItem::Reject(r) => {
                c.prepare_cached(
                    "INSERT INTO rejects (correlation_id, origin, stage, code, reason, at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    r.correlation_id,
                    r.origin,
                    r.stage.as_str(),
                    r.code,
                    r.reason,
                    r.now_ms
                ])?;
                event(c, &r.correlation_id, &r.event)?;
                out.push(InsertResult::Rejected);
            }
        }
    }
    Ok(out)
}

fn note(c: &Connection, id: &str, at: i64, state: &str, note: &str) -> rusqlite::Result<()> {
    c.prepare_cached("INSERT INTO history (message_id, at, state, note) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![id, at, state, note])?;
    Ok(())
}

fn event(c: &Connection, message_id: &str, e: &NewEvent) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO outbox (message_id, event_type, body, traceparent) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![message_id, e.event_type, e.body, e.traceparent])?;
    Ok(())
}

pub(super) fn due(
    c: &Connection,
    limit: usize,
    now_ms: i64,
    skip: &[String],
) -> rusqlite::Result<Vec<PendingSend>> {
    let fetch = i64::try_from(limit + skip.len()).unwrap_or(i64::MAX);
    // Ids and headers first: messages already claimed are skipped without reading their bodies.
    let mut stmt = c.prepare_cached(
        "SELECT id, mailbox, workflow_id, mex_to, mex_subject, local_id, file_name, content_type,
                itk_message_id, traceparent, attempts
         FROM messages WHERE state = 'received' AND next_attempt_at <= ?1
         ORDER BY next_attempt_at LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![now_ms, fetch], |r| {
        Ok(PendingSend {
            id: r.get(0)?,
            mailbox: r.get(1)?,
            workflow_id: r.get(2)?,
            mex_to: r.get(3)?,
            mex_subject: r.get(4)?,
            local_id: r.get(5)?,
            file_name: r.get(6)?,
            content_type: r.get(7)?,
            body: Vec::new(),
            itk_message_id: r.get(8)?,
            traceparent: r.get(9)?,
            attempts: r.get(10)?,
        })
    })?;
    let mut out = Vec::new();
    for row in rows {
        let row = row?;
        if !skip.contains(&row.id) {
            out.push(row);
            if out.len() == limit {
                break;
            }
        }
    }
    let mut body = c.prepare_cached("SELECT body FROM bodies WHERE id = ?1")?;
    for m in &mut out {
        m.body = body.query_row(params![m.id], |r| r.get(0))?;
    }
    Ok(out)
}

pub(super) fn send_results(c: &Connection, results: &[SendResult]) -> rusqlite::Result<()> {
    for r in results {
        match r {
            SendResult::Sent {
                id,
                mesh_message_id,
                event: e,
                now_ms,
            } => {
                // Only a message still waiting to be sent moves to `sent`: an acknowledgement that
                // overtook the recording of the send (crash window) already moved it on.
                let n = c
                    .prepare_cached(
                        "UPDATE messages SET state = 'sent', mesh_message_id = ?2, updated_at = ?3,
                            state_changed_at = ?3, last_error = NULL
                         WHERE id = ?1 AND state = 'received'",
                    )?
                    .execute(params![id, mesh_message_id, now_ms])?;
                if n == 1 {
                    note(
                        c,
                        id,
                        *now_ms,
                        "sent",
                        &format!("MESH message id {mesh_message_id}"),
                    )?;
                    event(c, id, e)?;
                }
            }
            SendResult::Retry {
                id,
                next_attempt_ms,
                error,
                now_ms,
            } => {
                c.prepare_cached(
                    "UPDATE messages SET attempts = attempts + 1, next_attempt_at = ?2,
                        last_error = ?3, updated_at = ?4 WHERE id = ?1 AND state = 'received'",
                )?
                .execute(params![id, next_attempt_ms, error, now_ms])?;
                note(
                    c,
                    id,
                    *now_ms,
                    "received",
                    &format!("send failed, retrying: {error}"),
                )?;
            }
            SendResult::Failed {
                id,
                failure,
                now_ms,
            } => {
                transition(c, &failure.transition(id, *now_ms))?;
            }
        }
    }
    Ok(())
}

const REF_COLUMNS: &str = "id, state, itk_message_id, mesh_message_id, traceparent, infack_code,
    busack_code, workflow_id, mex_to";

fn message_ref(r: &Row<'_>) -> rusqlite::Result<MessageRef> {
    let state: String = r.get(1)?;
    Ok(MessageRef {
        id: r.get(0)?,
        state: MessageState::parse(&state).unwrap_or(MessageState::Failed),
        itk_message_id: r.get(2)?,
        mesh_message_id: r.get(3)?,
        traceparent: r.get(4)?,
        infack_code: r.get(5)?,
        busack_code: r.get(6)?,
        workflow_id: r.get(7)?,
        mex_to: r.get(8)?,
    })
}

pub(super) fn find_ref(
    c: &Connection,
    column: &str,
    key: &str,
) -> rusqlite::Result<Option<MessageRef>> {
    // `column` is one of two fixed names chosen by the caller, never user input.
    let sql = format!("SELECT {REF_COLUMNS} FROM messages WHERE {column} = ?1");
    c.prepare_cached(&sql)?
        .query_row(params![key], message_ref)
        .optional()
}

/// See [`crate::Store::resend`].
pub(super) fn resend(c: &Connection, id: &str, now_ms: i64) -> rusqlite::Result<ResendOutcome> {
    let row: Option<(String, Option<String>)> = c
        .prepare_cached("SELECT state, infack_code FROM messages WHERE id = ?1")?
        .query_row(params![id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((state, infack)) = row else {
        return Ok(ResendOutcome::NotFound);
    };
    if state != MessageState::Failed.as_str() {
        return Ok(ResendOutcome::NotFailed(state));
    }
    if let Some(code) = infack {
        return Ok(ResendOutcome::ReceiverHasIt(code));
    }
    c.prepare_cached(
        "UPDATE messages SET state = ?2, attempts = 0, next_attempt_at = ?3,
            mesh_message_id = NULL, last_error = NULL, busack_code = NULL, fail_stage = NULL,
            fail_code = NULL, fail_reason = NULL, updated_at = ?3, state_changed_at = ?3
         WHERE id = ?1",
    )?
    .execute(params![id, MessageState::Received.as_str(), now_ms])?;
    note(
        c,
        id,
        now_ms,
        MessageState::Received.as_str(),
        "resend requested by an operator",
    )?;
    Ok(ResendOutcome::Queued)
}

pub(super) fn transition(c: &Connection, t: &Transition) -> rusqlite::Result<bool> {
    let current: Option<String> = c
        .prepare_cached("SELECT state FROM messages WHERE id = ?1")?
        .query_row(params![t.message_id], |r| r.get(0))
        .optional()?;
    let Some(current) = current.and_then(|s| MessageState::parse(&s)) else {
        return Ok(false);
    };
    c.prepare_cached(
        "UPDATE messages SET infack_code = COALESCE(?2, infack_code),
            busack_code = COALESCE(?3, busack_code), updated_at = ?4 WHERE id = ?1",
    )?
    .execute(params![
        t.message_id,
        t.infack_code,
        t.busack_code,
        t.now_ms
    ])?;
    if !t.expect.contains(&current) {
        note(
            c,
            &t.message_id,
            t.now_ms,
            current.as_str(),
            &format!("recorded only: {}", t.note),
        )?;
        return Ok(false);
    }
    if let Some(to) = t.to {
        let (stage, code, reason) = match &t.failure {
            Some((s, c, r)) => (Some(s.as_str()), Some(c.as_str()), Some(r.as_str())),
            None => (None, None, None),
        };
        c.prepare_cached(
            "UPDATE messages SET state = ?2, state_changed_at = ?3,
                fail_stage = COALESCE(?4, fail_stage), fail_code = COALESCE(?5, fail_code),
                fail_reason = COALESCE(?6, fail_reason) WHERE id = ?1",
        )?
        .execute(params![
            t.message_id,
            to.as_str(),
            t.now_ms,
            stage,
            code,
            reason
        ])?;
    }
    let state = t.to.unwrap_or(current);
    note(c, &t.message_id, t.now_ms, state.as_str(), &t.note)?;
    for e in &t.events {
        event(c, &t.message_id, e)?;
    }
    Ok(true)
}

pub(super) fn inbox(c: &Connection, rec: &InboxRecord) -> rusqlite::Result<InboxResult> {
    let n = c
        .prepare_cached(
            "INSERT INTO inbox (mailbox, mesh_message_id, kind, message_id, summary, body, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            rec.mailbox,
            rec.mesh_message_id,
            rec.kind,
            rec.message_id,
            rec.summary,
            rec.body,
            rec.now_ms
        ])?;
    if n == 0 {
        return Ok(InboxResult::AlreadySeen);
    }
    match &rec.transition {
        Some(t) if transition(c, t)? => Ok(InboxResult::Applied),
        Some(_) => Ok(InboxResult::NotApplied),
        None => Ok(InboxResult::Applied),
    }
}

pub(super) fn overdue(
    c: &Connection,
    infack_deadline_ms: i64,
    busack_deadline_ms: i64,
    limit: usize,
) -> rusqlite::Result<Vec<MessageRef>> {
    let sql = format!(
        "SELECT {REF_COLUMNS} FROM messages
         WHERE (state = 'sent' AND state_changed_at < ?1) OR (state = 'infack' AND state_changed_at < ?2)
         LIMIT ?3"
    );
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![infack_deadline_ms, busack_deadline_ms, limit],
        message_ref,
    )?;
    rows.collect()
}

pub(super) fn pending_events(c: &Connection, limit: usize) -> rusqlite::Result<Vec<BusEvent>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = c.prepare_cached(
        "SELECT seq, event_type, body, traceparent, message_id FROM outbox
         WHERE published = 0 ORDER BY seq LIMIT ?1",
    )?;
    let rows = stmt.query_map(params![limit], |r| {
        Ok(BusEvent {
            seq: r.get(0)?,
            event_type: r.get(1)?,
            body: r.get(2)?,
            traceparent: r.get(3)?,
            correlation_id: r.get(4)?,
        })
    })?;
    rows.collect()
}

pub(super) fn mark_published(c: &Connection, seqs: &[i64]) -> rusqlite::Result<()> {
    let mut stmt = c.prepare_cached("UPDATE outbox SET published = 1 WHERE seq = ?1")?;
    for s in seqs {
        stmt.execute(params![s])?;
    }
    Ok(())
}
