//! The SQL that moves messages on: send results, transitions (sweep and acknowledgements) and
//! inbox items, compare-and-set on state. Every function runs inside the caller's transaction.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use deadpool_postgres::Transaction;
use tokio_postgres::Error as PgError;
use tokio_postgres::types::ToSql;

use crate::{InboxRecord, InboxResult, ResendOutcome, SendResult, Transition};

/// Only a message still waiting to be sent moves to `sent`: an acknowledgement that overtook the
/// recording of the send (crash window) already moved it on.
const SENT: &str = "
WITH sent AS (
    UPDATE messages SET state = 'sent', mesh_message_id = $2::text, updated_at = $3::bigint,
        state_changed_at = $3::bigint, last_error = NULL
    WHERE id = $1::text AND state = 'received'
    RETURNING id
), noted AS (
    INSERT INTO history (message_id, at, state, note)
    SELECT id, $3::bigint, 'sent', 'MESH message id ' || $2::text FROM sent
)
INSERT INTO outbox (message_id, event_type, body, traceparent)
SELECT id, $4::text, $5::bytea, $6::text FROM sent";

/// The note is written whatever the state, as the SQLite store does.
const RETRY: &str = "
WITH retried AS (
    UPDATE messages SET attempts = attempts + 1, next_attempt_at = $2::bigint,
        last_error = $3::text, updated_at = $4::bigint
    WHERE id = $1::text AND state = 'received'
)
INSERT INTO history (message_id, at, state, note)
VALUES ($1::text, $4::bigint, 'received', 'send failed, retrying: ' || $3::text)";

/// A lease ends with its result, but only the claimer's own: after an expired lease another
/// gateway may hold a newer one.
const RELEASE: &str = "
UPDATE messages SET claimed_by = NULL, claimed_until = NULL
WHERE id = ANY($1::text[]) AND claimed_by = $2::text";

/// Compare-and-set on state in one statement: `applied` changes the row only from an expected
/// state (under READ COMMITTED a concurrent change is waited for and the condition re-checked on
/// the new row), `recorded` keeps just the codes otherwise. History and events are written while
/// the row is locked, so one message's events get sequence numbers in commit order.
const TRANSITION: &str = "
WITH applied AS (
    UPDATE messages SET state = COALESCE($2::text, state),
        state_changed_at = CASE WHEN $2::text IS NULL THEN state_changed_at ELSE $5::bigint END,
        fail_stage = COALESCE($6::text, fail_stage), fail_code = COALESCE($7::text, fail_code),
        fail_reason = COALESCE($8::text, fail_reason),
        infack_code = COALESCE($3::text, infack_code),
        busack_code = COALESCE($4::text, busack_code), updated_at = $5::bigint
    WHERE id = $1::text AND state = ANY($9::text[])
    RETURNING id, state
), recorded AS (
    UPDATE messages SET infack_code = COALESCE($3::text, infack_code),
        busack_code = COALESCE($4::text, busack_code), updated_at = $5::bigint
    WHERE id = $1::text AND NOT EXISTS (SELECT 1 FROM applied)
    RETURNING id, state
), noted AS (
    INSERT INTO history (message_id, at, state, note)
    SELECT id, $5::bigint, state, $10::text FROM applied
    UNION ALL
    SELECT id, $5::bigint, state, 'recorded only: ' || $10::text FROM recorded
), events AS (
    INSERT INTO outbox (message_id, event_type, body, traceparent)
    SELECT a.id, e.event_type, e.body, e.traceparent
    FROM applied a, UNNEST($11::text[], $12::bytea[], $13::text[]) WITH ORDINALITY
        AS e(event_type, body, traceparent, ord)
    ORDER BY e.ord
)
SELECT EXISTS (SELECT 1 FROM applied)";

const INSERT_INBOX: &str = "
INSERT INTO inbox (mailbox, mesh_message_id, kind, message_id, summary, body, at)
VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING";

type Request<'a, T> = Pin<Box<dyn Future<Output = Result<T, PgError>> + Send + 'a>>;

/// Awaits `requests`, each of which sends one statement when first polled, polling them first
/// in order: the statements reach the server in that order without waiting for each other's
/// answers (pipelining), and PostgreSQL runs them one after another as if sent one by one. The
/// first error wins (later statements then fail as the transaction is aborted).
async fn pipelined<T>(mut requests: Vec<Request<'_, T>>) -> Result<Vec<T>, PgError> {
    let mut done: Vec<Option<T>> = requests.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut waiting = false;
        for (request, slot) in requests.iter_mut().zip(done.iter_mut()) {
            if slot.is_some() {
                continue;
            }
            match request.as_mut().poll(cx) {
                Poll::Ready(Ok(v)) => *slot = Some(v),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => waiting = true,
            }
        }
        if waiting {
            Poll::Pending
        } else {
            Poll::Ready(Ok(()))
        }
    })
    .await?;
    Ok(done.into_iter().flatten().collect())
}

pub(super) async fn send_results(
    tx: &Transaction<'_>,
    results: &[SendResult],
    owner: &str,
) -> Result<(), PgError> {
    let sent = tx.prepare_cached(SENT).await?;
    let retry = tx.prepare_cached(RETRY).await?;
    let transition = tx.prepare_cached(TRANSITION).await?;
    let release = tx.prepare_cached(RELEASE).await?;
    // A terminal failure is the same compare-and-set transition the sweep applies.
    let failures: Vec<Option<Transition>> = results
        .iter()
        .map(|r| match r {
            SendResult::Failed {
                id,
                failure,
                now_ms,
            } => Some(failure.transition(id, *now_ms)),
            _ => None,
        })
        .collect();
    let mut requests: Vec<Request<'_, u64>> = Vec::with_capacity(results.len() + 1);
    for (r, failure) in results.iter().zip(&failures) {
        let request: Request<'_, u64> = match (r, failure) {
            (
                SendResult::Sent {
                    id,
                    mesh_message_id,
                    event: e,
                    now_ms,
                },
                _,
            ) => {
                let stmt = &sent;
                Box::pin(async move {
                    let (event_type, body, parent) = (&e.event_type, &e.body, &e.traceparent);
                    let params: [&(dyn ToSql + Sync); 6] =
                        [id, mesh_message_id, now_ms, event_type, body, parent];
                    tx.execute(stmt, &params).await
                })
            }
            (
                SendResult::Retry {
                    id,
                    next_attempt_ms,
                    error,
                    now_ms,
                },
                _,
            ) => {
                let stmt = &retry;
                Box::pin(async move {
                    tx.execute(stmt, &[id, next_attempt_ms, error, now_ms])
                        .await
                })
            }
            (SendResult::Failed { .. }, Some(t)) => {
                let stmt = &transition;
                Box::pin(async move { apply_one(tx, stmt, t).await.map(u64::from) })
            }
            // Every failure has its transition (built above).
            (SendResult::Failed { .. }, None) => continue,
        };
        requests.push(request);
    }
    let ids: Vec<&str> = results.iter().map(SendResult::id).collect();
    requests.push(Box::pin(async move {
        tx.execute(&release, &[&ids, &owner]).await
    }));
    pipelined(requests).await.map(drop)
}

/// Applies transitions in order (pipelined); one answer each.
pub(super) async fn transitions(
    tx: &Transaction<'_>,
    transitions: &[Transition],
) -> Result<Vec<bool>, PgError> {
    let stmt = tx.prepare_cached(TRANSITION).await?;
    let stmt = &stmt;
    let requests: Vec<Request<'_, bool>> = transitions
        .iter()
        .map(|t| -> Request<'_, bool> { Box::pin(apply_one(tx, stmt, t)) })
        .collect();
    pipelined(requests).await
}

async fn apply_one(
    tx: &Transaction<'_>,
    stmt: &tokio_postgres::Statement,
    t: &Transition,
) -> Result<bool, PgError> {
    let to = t.to.map(|s| s.as_str());
    // Failure details are kept only with a state change, as the SQLite store does.
    let (stage, code, reason) = match (&t.failure, to) {
        (Some((s, c, r)), Some(_)) => (Some(s.as_str()), Some(c.as_str()), Some(r.as_str())),
        _ => (None, None, None),
    };
    let expect: Vec<&str> = t.expect.iter().map(|s| s.as_str()).collect();
    let types: Vec<&str> = t.events.iter().map(|e| e.event_type.as_str()).collect();
    let bodies: Vec<&[u8]> = t.events.iter().map(|e| e.body.as_slice()).collect();
    let parents: Vec<Option<&str>> = t.events.iter().map(|e| e.traceparent.as_deref()).collect();
    let row = tx
        .query_one(
            stmt,
            &[
                &t.message_id,
                &to,
                &t.infack_code,
                &t.busack_code,
                &t.now_ms,
                &stage,
                &code,
                &reason,
                &expect,
                &t.note,
                &types,
                &bodies,
                &parents,
            ],
        )
        .await?;
    row.try_get(0)
}

pub(super) async fn inbox(tx: &Transaction<'_>, rec: &InboxRecord) -> Result<InboxResult, PgError> {
    let stmt = tx.prepare_cached(INSERT_INBOX).await?;
    // A second gateway inserting the same item waits here for the first one's commit, then
    // inserts nothing: the item is applied once.
    let n = tx
        .execute(
            &stmt,
            &[
                &rec.mailbox,
                &rec.mesh_message_id,
                &rec.kind,
                &rec.message_id,
                &rec.summary,
                &rec.body,
                &rec.now_ms,
            ],
        )
        .await?;
    if n == 0 {
        return Ok(InboxResult::AlreadySeen);
    }
    let Some(t) = &rec.transition else {
        return Ok(InboxResult::Applied);
    };
    let stmt = tx.prepare_cached(TRANSITION).await?;
    Ok(if apply_one(tx, &stmt, t).await? {
        InboxResult::Applied
    } else {
        InboxResult::NotApplied
    })
}

/// See [`crate::Store::resend`]. The row is locked first, so a gateway sweeping or correlating
/// it at the same time is waited for and the state is decided on its latest version.
pub(super) async fn resend(
    tx: &Transaction<'_>,
    id: &str,
    now_ms: i64,
) -> Result<ResendOutcome, PgError> {
    let row = tx
        .query_opt(
            "SELECT state, infack_code FROM messages WHERE id = $1::text FOR UPDATE",
            &[&id],
        )
        .await?;
    let Some(row) = row else {
        return Ok(ResendOutcome::NotFound);
    };
    let state: String = row.get(0);
    let infack: Option<String> = row.get(1);
    if state != "failed" {
        return Ok(ResendOutcome::NotFailed(state));
    }
    if let Some(code) = infack {
        return Ok(ResendOutcome::ReceiverHasIt(code));
    }
    tx.execute(
        "UPDATE messages SET state = 'received', attempts = 0, next_attempt_at = $2::bigint,
            mesh_message_id = NULL, last_error = NULL, busack_code = NULL, fail_stage = NULL,
            fail_code = NULL, fail_reason = NULL, claimed_by = NULL, claimed_until = NULL,
            updated_at = $2::bigint, state_changed_at = $2::bigint
         WHERE id = $1::text",
        &[&id, &now_ms],
    )
    .await?;
    tx.execute(
        "INSERT INTO history (message_id, at, state, note)
         VALUES ($1::text, $2::bigint, 'received', 'resend requested by an operator')",
        &[&id, &now_ms],
    )
    .await?;
    Ok(ResendOutcome::Queued)
}
