//! The SQL that adds and claims messages: ingest and `claim_due`. Every function runs inside the
//! caller's transaction.

use std::collections::HashSet;

use deadpool_postgres::Transaction;
use tokio_postgres::Error as PgError;

use crate::{IngestItem, InsertResult, NewMessage, NewReject, PendingSend};

/// One row per message in the batch (arrays, so a batch is one statement whatever its size).
/// Histories are written in the same statement, for the rows actually inserted only.
const INSERT_MESSAGES: &str = "
WITH input AS (
    SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
        $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::bytea[], $13::text[],
        $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::bigint[])
        WITH ORDINALITY AS i(id, event_type, origin, route, mailbox, workflow_id, mex_to,
            mex_subject, local_id, file_name, content_type, body, itk_message_id, itk_bundle_id,
            document_id, sender_reference, nhs_number, traceparent, now_ms, ord)
), inserted AS (
    INSERT INTO messages (id, event_type, origin, route, state, mailbox, workflow_id, mex_to,
        mex_subject, local_id, file_name, content_type, body, itk_message_id, itk_bundle_id,
        document_id, sender_reference, nhs_number, traceparent, next_attempt_at, created_at,
        updated_at, state_changed_at)
    SELECT id, event_type, origin, route, 'received', mailbox, workflow_id, mex_to, mex_subject,
        local_id, file_name, content_type, body, itk_message_id, itk_bundle_id, document_id,
        sender_reference, nhs_number, traceparent, now_ms, now_ms, now_ms, now_ms
    FROM input ORDER BY ord
    ON CONFLICT (id) DO NOTHING
    RETURNING id
), noted AS (
    INSERT INTO history (message_id, at, state, note)
    SELECT i.id, i.now_ms, 'received', 'from ' || i.origin
    FROM input i JOIN inserted USING (id) ORDER BY i.ord
)
SELECT id FROM inserted";

const INSERT_REJECTS: &str = "
WITH input AS (
    SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
        $6::bigint[], $7::text[], $8::bytea[], $9::text[])
        WITH ORDINALITY AS i(correlation_id, origin, stage, code, reason, at, event_type, body,
            traceparent, ord)
), rejected AS (
    INSERT INTO rejects (correlation_id, origin, stage, code, reason, at)
    SELECT correlation_id, origin, stage, code, reason, at FROM input ORDER BY ord
)
INSERT INTO outbox (message_id, event_type, body, traceparent)
SELECT correlation_id, event_type, body, traceparent FROM input ORDER BY ord";

/// Skips rows another claimer is locking right now (`SKIP LOCKED`) and rows under a live lease;
/// the lease is written in the same statement, so it is durable once this call returns.
const CLAIM: &str = "
WITH due AS (
    SELECT id FROM messages
    WHERE state = 'received' AND next_attempt_at <= $1
        AND (claimed_until IS NULL OR claimed_until <= $1)
    ORDER BY next_attempt_at LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE messages m SET claimed_by = $3, claimed_until = $4
FROM due WHERE m.id = due.id
RETURNING m.id, m.mailbox, m.workflow_id, m.mex_to, m.mex_subject, m.local_id, m.file_name,
    m.content_type, m.body, m.itk_message_id, m.traceparent, m.attempts, m.next_attempt_at";

pub(super) async fn ingest(
    tx: &Transaction<'_>,
    items: &[IngestItem],
) -> Result<Vec<InsertResult>, PgError> {
    // A correlation id repeated within the batch is a duplicate of its first occurrence; only
    // first occurrences go to the database (one statement cannot insert a key twice).
    let mut firsts = HashSet::new();
    let mut messages: Vec<&NewMessage> = Vec::new();
    let mut rejects: Vec<&NewReject> = Vec::new();
    for item in items {
        match item {
            IngestItem::Message(m) if firsts.insert(m.correlation_id.as_str()) => messages.push(m),
            IngestItem::Message(_) => {}
            IngestItem::Reject(r) => rejects.push(r),
        }
    }
    let mut inserted = HashSet::new();
    if !messages.is_empty() {
        let text = |f: fn(&NewMessage) -> &str| messages.iter().map(|m| f(m)).collect::<Vec<_>>();
        let bodies: Vec<&[u8]> = messages
            .iter()
            .map(|m| m.outbound.body.as_slice())
            .collect();
        let now: Vec<i64> = messages.iter().map(|m| m.now_ms).collect();
        let stmt = tx.prepare_cached(INSERT_MESSAGES).await?;
        let rows = tx
            .query(
                &stmt,
                &[
                    &text(|m| &m.correlation_id),
                    &text(|m| &m.event_type),
                    &text(|m| &m.origin),
                    &text(|m| &m.outbound.route),
                    &text(|m| &m.outbound.mailbox),
                    &text(|m| &m.outbound.workflow_id),
                    &text(|m| &m.outbound.mex_to),
                    &text(|m| &m.outbound.mex_subject),
                    &text(|m| &m.outbound.local_id),
                    &text(|m| &m.outbound.file_name),
                    &text(|m| &m.outbound.content_type),
                    &bodies,
                    &text(|m| &m.outbound.itk_message_id),
                    &text(|m| &m.outbound.itk_bundle_id),
                    &text(|m| &m.outbound.document_id),
                    &text(|m| &m.outbound.sender_reference),
                    &text(|m| &m.outbound.nhs_number),
                    &text(|m| &m.traceparent),
                    &now,
                ],
            )
            .await?;
        for row in rows {
            inserted.insert(row.try_get::<_, String>(0)?);
        }
    }
    if !rejects.is_empty() {
        let text = |f: fn(&NewReject) -> &str| rejects.iter().map(|r| f(r)).collect::<Vec<_>>();
        let at: Vec<i64> = rejects.iter().map(|r| r.now_ms).collect();
        let bodies: Vec<&[u8]> = rejects.iter().map(|r| r.event.body.as_slice()).collect();
        let parents: Vec<Option<&str>> = rejects
            .iter()
            .map(|r| r.event.traceparent.as_deref())
            .collect();
        let stmt = tx.prepare_cached(INSERT_REJECTS).await?;
        tx.execute(
            &stmt,
            &[
                &text(|r| &r.correlation_id),
                &text(|r| &r.origin),
                &text(|r| r.stage.as_str()),
                &text(|r| &r.code),
                &text(|r| &r.reason),
                &at,
                &text(|r| &r.event.event_type),
                &bodies,
                &parents,
            ],
        )
        .await?;
    }
    let out = items.iter().map(|item| match item {
        // `remove`: only the first occurrence of an id counts as the insert.
        IngestItem::Message(m) if inserted.remove(&m.correlation_id) => InsertResult::Inserted,
        IngestItem::Message(_) => InsertResult::Duplicate,
        IngestItem::Reject(_) => InsertResult::Rejected,
    });
    Ok(out.collect())
}

pub(super) async fn claim(
    tx: &Transaction<'_>,
    limit: usize,
    now_ms: i64,
    lease_ms: i64,
    owner: &str,
) -> Result<Vec<PendingSend>, PgError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let until = now_ms.saturating_add(lease_ms);
    let stmt = tx.prepare_cached(CLAIM).await?;
    let rows = tx.query(&stmt, &[&now_ms, &limit, &owner, &until]).await?;
    let mut claimed = Vec::with_capacity(rows.len());
    for r in rows {
        let send = PendingSend {
            id: r.try_get(0)?,
            mailbox: r.try_get(1)?,
            workflow_id: r.try_get(2)?,
            mex_to: r.try_get(3)?,
            mex_subject: r.try_get(4)?,
            local_id: r.try_get(5)?,
            file_name: r.try_get(6)?,
            content_type: r.try_get(7)?,
            body: r.try_get(8)?,
            itk_message_id: r.try_get(9)?,
            traceparent: r.try_get(10)?,
            attempts: r.try_get(11)?,
        };
        claimed.push((r.try_get::<_, i64>(12)?, send));
    }
    // RETURNING has no order; hand out the longest-waiting first, as SQLite does.
    claimed.sort_by_key(|(due, _)| *due);
    Ok(claimed.into_iter().map(|(_, send)| send).collect())
}
