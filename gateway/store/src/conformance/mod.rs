//! The [`Store`] conformance suite: the behaviour the pipeline relies on, written once and run
//! against every implementation (SQLite and PostgreSQL), so the stores cannot drift apart.
//!
//! A backend's tests implement [`Harness`] (opens its store on one fresh, empty database) and
//! invoke [`store_conformance_tests!`](crate::store_conformance_tests), which expands to one
//! `#[tokio::test]` per case. Compiled for this crate's tests and, with the `conformance` feature,
//! for other crates' tests.

// A test suite: failed assertions and unwraps are how it reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fixtures;

use std::future::Future;

use gateway_core::MessageState;
use gateway_proto::output::FailureStage;

pub use self::fixtures::*;
use crate::{Failure, InboxResult, InsertResult, ResendOutcome, SearchQuery, SendResult, Store};

/// Opens the store under test on one database that starts empty.
pub trait Harness: Send + Sync {
    /// The store under test.
    type Store: Store;
    /// Opens the store; every call opens the same database (used to test reopening).
    fn open(&self) -> impl Future<Output = Self::Store> + Send;
}

/// Expands to one `#[tokio::test]` per conformance case. `$harness` is evaluated (inside the
/// async test, so it may `.await`) once per test and must yield a fresh [`Harness`].
#[macro_export]
macro_rules! store_conformance_tests {
    ($harness:expr) => {
        $crate::store_conformance_tests!(@cases ($harness)
            ingest_is_idempotent_by_event_id_and_survives_reopen
            rejects_write_failed_event_but_do_not_block_a_later_valid_event
            claims_are_exclusive_until_released_and_sent_moves_state
            expired_lease_can_be_claimed_again
            inbox_items_apply_once_and_transitions_respect_expected_state
            failed_send_is_terminal_and_overdue_finds_waiting_messages
            apply_is_compare_and_set_and_keeps_codes_when_not_applied
            events_keep_their_order_and_search_filters
            apply_runs_transitions_in_the_order_given
            resend_requeues_only_failed_messages_the_receiver_never_acknowledged
        );
    };
    (@cases ($harness:expr) $($case:ident)*) => {
        $(
            #[::tokio::test]
            async fn $case() {
                let harness = $harness;
                $crate::conformance::$case(&harness).await;
            }
        )*
    };
}

/// Ingest answers per item; duplicates (in the batch or stored before a reopen) store nothing.
pub async fn ingest_is_idempotent_by_event_id_and_survives_reopen<H: Harness>(h: &H) {
    let store = h.open().await;
    let r = store
        .ingest(vec![message(1), message(2), message(1)])
        .await
        .unwrap();
    use InsertResult::{Duplicate, Inserted};
    assert_eq!(r, vec![Inserted, Inserted, Duplicate]);
    drop(store);
    let store = h.open().await;
    assert_eq!(
        store.ingest(vec![message(2)]).await.unwrap(),
        vec![Duplicate]
    );
    let counts = store.state_counts().await.unwrap();
    assert_eq!(counts, vec![("received".to_string(), 2)]);
}

/// A rejection writes its failed event and does not reserve the correlation id.
pub async fn rejects_write_failed_event_but_do_not_block_a_later_valid_event<H: Harness>(h: &H) {
    let store = h.open().await;
    assert_eq!(
        store.ingest(vec![reject("ev-1")]).await.unwrap(),
        vec![InsertResult::Rejected]
    );
    assert_eq!(
        store.ingest(vec![message(1)]).await.unwrap(),
        vec![InsertResult::Inserted]
    );
    let events = store.pending_events(10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "gpc.message.failed");
    assert_eq!(events[0].correlation_id, "ev-1");
}

/// A claim hides a row until its result is recorded; a retry waits for its next attempt.
pub async fn claims_are_exclusive_until_released_and_sent_moves_state<H: Harness>(h: &H) {
    let store = h.open().await;
    store.ingest(vec![message(1), message(2)]).await.unwrap();
    let first = store.claim_due(10, 2000, 60_000).await.unwrap();
    assert_eq!(first.len(), 2);
    assert!(
        store.claim_due(10, 2000, 60_000).await.unwrap().is_empty(),
        "claimed twice"
    );
    store
        .record_send_results(vec![
            SendResult::Sent {
                id: "ev-1".into(),
                mesh_message_id: "M1".into(),
                event: ev("gpc.message.sent"),
                now_ms: 3000,
            },
            SendResult::Retry {
                id: "ev-2".into(),
                next_attempt_ms: 10_000,
                error: "503".into(),
                now_ms: 3000,
            },
        ])
        .await
        .unwrap();
    assert!(
        store.claim_due(10, 5000, 60_000).await.unwrap().is_empty(),
        "retry not yet due"
    );
    let again = store.claim_due(10, 10_000, 60_000).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 1);
    assert_eq!(again[0].body, b"<Bundle n=\"2\"/>");
    let r = store.find_by_mesh_id("M1").await.unwrap().unwrap();
    assert_eq!(r.state, MessageState::Sent);
    let found = store.find_by_itk_id("itk-1").await.unwrap().unwrap();
    assert_eq!(found.id, "ev-1");
    assert!(store.find_by_itk_id("itk-9").await.unwrap().is_none());
}

/// A claim that is never resolved (crashed claimer) ends with its lease.
pub async fn expired_lease_can_be_claimed_again<H: Harness>(h: &H) {
    let store = h.open().await;
    store.ingest(vec![message(1)]).await.unwrap();
    assert_eq!(store.claim_due(10, 1000, 100).await.unwrap().len(), 1);
    assert!(store.claim_due(10, 1050, 100).await.unwrap().is_empty());
    assert_eq!(store.claim_due(10, 1200, 100).await.unwrap().len(), 1);
}

/// An inbox item applies once; a transition from an unexpected state only records codes.
pub async fn inbox_items_apply_once_and_transitions_respect_expected_state<H: Harness>(h: &H) {
    let store = h.open().await;
    store.ingest(vec![message(1)]).await.unwrap();
    let tr = infack(
        MessageState::Infack,
        vec![MessageState::Received, MessageState::Sent],
    );
    let rec = |id: &str| inbox_record(id, tr.clone());
    assert_eq!(
        store.record_inbox(rec("A")).await.unwrap(),
        InboxResult::Applied
    );
    assert_eq!(
        store.record_inbox(rec("A")).await.unwrap(),
        InboxResult::AlreadySeen
    );
    assert_eq!(
        store.record_inbox(rec("B")).await.unwrap(),
        InboxResult::NotApplied
    );
    let events = store.pending_events(10).await.unwrap();
    assert_eq!(events.len(), 1, "one infack event only");
    store.mark_published(vec![events[0].seq]).await.unwrap();
    assert!(store.pending_events(10).await.unwrap().is_empty());
    let detail = store.history("ev-1").await.unwrap().unwrap();
    assert_eq!(detail.summary.state, "infack");
    assert!(detail.history.len() >= 3);
    assert_eq!(detail.history[0].1, "received");
    assert!(store.history("ev-9").await.unwrap().is_none());
}

/// A failed send is terminal; overdue finds only messages still waiting for an ack.
pub async fn failed_send_is_terminal_and_overdue_finds_waiting_messages<H: Harness>(h: &H) {
    let store = h.open().await;
    store.ingest(vec![message(1), message(2)]).await.unwrap();
    let claimed = store.claim_due(10, 1000, 60_000).await.unwrap();
    assert_eq!(claimed.len(), 2);
    store
        .record_send_results(vec![
            mesh_failure("ev-1", 2000),
            SendResult::Sent {
                id: "ev-2".into(),
                mesh_message_id: "M2".into(),
                event: ev("gpc.message.sent"),
                now_ms: 2000,
            },
        ])
        .await
        .unwrap();
    let over = store.overdue(3000, 3000, 10).await.unwrap();
    let ids: Vec<&str> = over.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, vec!["ev-2"]);
    // The oldest-wait gauges: ev-2 entered `sent` at 2000; nothing waits in `infack`.
    assert_eq!(
        store.oldest_in_state(MessageState::Sent).await.unwrap(),
        Some(2000)
    );
    assert_eq!(
        store.oldest_in_state(MessageState::Infack).await.unwrap(),
        None
    );
    assert!(store.overdue(1000, 1000, 10).await.unwrap().is_empty());
    let failed = store.search(SearchQuery {
        state: Some("failed".into()),
        limit: 10,
        ..Default::default()
    });
    let failed = failed.await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].fail_reason.as_deref(), Some("unregistered"));
}

/// `apply` is compare-and-set: answers per transition, and one from an unexpected state keeps
/// its codes but changes no state and writes no event.
pub async fn apply_is_compare_and_set_and_keeps_codes_when_not_applied<H: Harness>(h: &H) {
    let store = h.open().await;
    store.ingest(vec![message(1)]).await.unwrap();
    let early = infack(MessageState::Busack, vec![MessageState::Infack]);
    let mut missing = early.clone();
    missing.message_id = "ev-9".into();
    let applied = store.apply(vec![early, missing]).await.unwrap();
    assert_eq!(applied, vec![false, false]);
    let r = store.find_by_itk_id("itk-1").await.unwrap().unwrap();
    assert_eq!(r.state, MessageState::Received);
    assert_eq!(r.infack_code.as_deref(), Some("20013"));
    assert!(store.pending_events(10).await.unwrap().is_empty());
    let mut timeout = infack(MessageState::Failed, vec![MessageState::Received]);
    timeout.failure = Some((FailureStage::Timeout, "timeout".into(), "no ack".into()));
    timeout.infack_code = None;
    assert_eq!(
        store.apply(vec![timeout.clone()]).await.unwrap(),
        vec![true]
    );
    assert_eq!(store.apply(vec![timeout]).await.unwrap(), vec![false]);
    let r = store.find_by_itk_id("itk-1").await.unwrap().unwrap();
    assert_eq!(
        (r.state, r.infack_code.as_deref()),
        (MessageState::Failed, Some("20013"))
    );
    let detail = store.history("ev-1").await.unwrap().unwrap();
    let states: Vec<&str> = detail.history.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(states, vec!["received", "received", "failed", "failed"]);
    assert!(detail.history[1].2.starts_with("recorded only: "));
    assert_eq!(detail.summary.fail_reason.as_deref(), Some("no ack"));
}

/// Events of one transition come out in the order given; search filters and orders newest first.
pub async fn events_keep_their_order_and_search_filters<H: Harness>(h: &H) {
    let store = h.open().await;
    let batch = vec![message_at(1, 100), message_at(2, 200), message_at(3, 300)];
    store.ingest(batch).await.unwrap();
    let mut t = infack(MessageState::Sent, vec![MessageState::Received]);
    t.events = vec![ev("a"), ev("b"), ev("c")];
    assert_eq!(store.apply(vec![t]).await.unwrap(), vec![true]);
    let events = store.pending_events(2).await.unwrap();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, vec!["a", "b"]);
    assert!(events[0].seq < events[1].seq);
    store.mark_published(vec![events[0].seq]).await.unwrap();
    let rest = store.pending_events(10).await.unwrap();
    let types: Vec<&str> = rest.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, vec!["b", "c"]);
    let q = |since_ms, until_ms, limit| SearchQuery {
        nhs_number: Some("9000000009".into()),
        ods_code: Some("FA001".into()),
        since_ms,
        until_ms,
        limit,
        ..Default::default()
    };
    let all = store.search(q(None, None, 10)).await.unwrap();
    let ids: Vec<&str> = all.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, vec!["ev-3", "ev-2", "ev-1"]);
    let window = store.search(q(Some(200), Some(300), 10)).await.unwrap();
    assert_eq!(window.len(), 1);
    assert_eq!(window[0].id, "ev-2");
    assert_eq!(store.search(q(None, None, 1)).await.unwrap().len(), 1);
    let by_id = SearchQuery {
        correlation_id: Some("ev-1".into()),
        state: Some("sent".into()),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(store.search(by_id).await.unwrap().len(), 1);
    let counts = store.state_counts().await.unwrap();
    let expected = vec![("received".to_string(), 2), ("sent".to_string(), 1)];
    assert_eq!(counts, expected);
}

/// Transitions of one call apply in order: each sees the state the previous one left.
pub async fn apply_runs_transitions_in_the_order_given<H: Harness>(h: &H) {
    let store = h.open().await;
    store.ingest(vec![message(1)]).await.unwrap();
    use MessageState::{Busack, Infack, Received, Sent};
    let chain = [
        (Received, Sent),
        (Sent, Infack),
        (Infack, Busack),
        (Received, Sent),
    ];
    let steps = chain.map(|(from, to)| infack(to, vec![from])).to_vec();
    let applied = store.apply(steps).await.unwrap();
    assert_eq!(applied, vec![true, true, true, false]);
    let detail = store.history("ev-1").await.unwrap().unwrap();
    let states: Vec<&str> = detail.history.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(states, ["received", "sent", "infack", "busack", "busack"]);
    assert_eq!(store.pending_events(10).await.unwrap().len(), 3);
}

/// `resend` puts a failed, never-acknowledged message back in the queue (due, attempts and MESH
/// id cleared, history noted) and refuses everything else with the reason.
pub async fn resend_requeues_only_failed_messages_the_receiver_never_acknowledged<H: Harness>(
    h: &H,
) {
    let store = h.open().await;
    store.ingest(vec![message(1), message(2)]).await.unwrap();
    assert_eq!(
        store.resend("ev-1", 1500).await.unwrap(),
        ResendOutcome::NotFailed("received".into())
    );
    assert_eq!(
        store.resend("ev-9", 1500).await.unwrap(),
        ResendOutcome::NotFound
    );
    let claimed = store.claim_due(10, 1000, 60_000).await.unwrap();
    assert_eq!(claimed.len(), 2);
    store
        .record_send_results(vec![mesh_failure("ev-1", 2000)])
        .await
        .unwrap();
    // The practice rejected ev-2 (negative infrastructure ack): it has the message already.
    let mut rejected = infack(MessageState::Failed, vec![MessageState::Received]);
    rejected.message_id = "ev-2".into();
    rejected.infack_code = Some("20009".into());
    rejected.failure = Some((
        FailureStage::Infack,
        "20009".into(),
        "unknown patient".into(),
    ));
    assert_eq!(store.apply(vec![rejected]).await.unwrap(), vec![true]);
    assert_eq!(
        store.resend("ev-2", 3000).await.unwrap(),
        ResendOutcome::ReceiverHasIt("20009".into())
    );

    assert_eq!(
        store.resend("ev-1", 3000).await.unwrap(),
        ResendOutcome::Queued
    );
    let again = store.claim_due(10, 3000, 60_000).await.unwrap();
    let ids: Vec<&str> = again.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, vec!["ev-1"], "due again at once, the rejected one not");
    let detail = store.history("ev-1").await.unwrap().unwrap();
    assert_eq!(detail.summary.state, "received");
    assert_eq!(detail.summary.fail_reason, None);
    assert_eq!(detail.summary.mesh_message_id, None);
    let last = detail.history.last().unwrap();
    assert_eq!(
        (last.1.as_str(), last.2.as_str()),
        ("received", "resend requested by an operator")
    );
    assert_eq!(
        store.resend("ev-1", 3100).await.unwrap(),
        ResendOutcome::NotFailed("received".into())
    );
}

/// A terminal MESH send failure (`unregistered`) of message `id`.
fn mesh_failure(id: &str, now_ms: i64) -> SendResult {
    SendResult::Failed {
        id: id.into(),
        failure: Failure {
            stage: FailureStage::MeshSend,
            code: "12".into(),
            reason: "unregistered".into(),
            event: ev("gpc.message.failed"),
        },
        now_ms,
    }
}
