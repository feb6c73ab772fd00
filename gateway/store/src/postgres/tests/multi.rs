//! Several gateways (stores with their own pools and owner ids) against one schema.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gateway_core::MessageState;

use super::PgHarness;
use crate::conformance::{inbox_record, infack, message, reject};
use crate::{InboxResult, IngestItem, PostgresStore, SendResult, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claims_never_hand_out_a_row_twice() {
    let h = PgHarness::new().await;
    let (a, b) = (h.store("gw").await, h.store("gw").await);
    a.ingest((0..200).map(message).collect()).await.unwrap();
    let claimer = |s: PostgresStore| {
        tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let claimed = s.claim_due(7, 2000, 60_000).await.unwrap();
                if claimed.is_empty() {
                    return got;
                }
                got.extend(claimed.into_iter().map(|p| p.id));
            }
        })
    };
    let (ta, tb) = (claimer(a), claimer(b));
    let (ga, gb) = (ta.await.unwrap(), tb.await.unwrap());
    let all: HashSet<&String> = ga.iter().chain(&gb).collect();
    assert_eq!(ga.len() + gb.len(), 200, "a row was claimed twice");
    assert_eq!(all.len(), 200, "a row was not claimed");
    eprintln!("claims split {} / {}", ga.len(), gb.len());
}

#[tokio::test]
async fn expired_lease_passes_to_another_gateway_and_stays_its_own() {
    let h = PgHarness::new().await;
    let (a, b) = (h.store("gw-a").await, h.store("gw-b").await);
    a.ingest(vec![message(1)]).await.unwrap();
    assert_eq!(a.claim_due(10, 1000, 100).await.unwrap().len(), 1);
    assert!(b.claim_due(10, 1050, 100).await.unwrap().is_empty());
    assert_eq!(b.claim_due(10, 1100, 100).await.unwrap().len(), 1);
    // A's late answer does not end B's lease (until 1200).
    let retry = SendResult::Retry {
        id: "ev-1".into(),
        next_attempt_ms: 1100,
        error: "timeout".into(),
        now_ms: 1150,
    };
    a.record_send_results(vec![retry]).await.unwrap();
    assert!(a.claim_due(10, 1150, 100).await.unwrap().is_empty());
    let again = a.claim_due(10, 1200, 100).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 1);
    assert_ne!(a.owner(), b.owner());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_item_seen_by_two_gateways_applies_once() {
    let h = PgHarness::new().await;
    let (a, b) = (h.store("gw-a").await, h.store("gw-b").await);
    a.ingest((0..20).map(message).collect()).await.unwrap();
    let mut tasks = Vec::new();
    for n in 0..20 {
        let mut t = infack(MessageState::Infack, vec![MessageState::Received]);
        t.message_id = format!("ev-{n}");
        let mut rec = inbox_record(&format!("M{n}"), t);
        rec.message_id = Some(format!("ev-{n}"));
        for s in [a.clone(), b.clone()] {
            let rec = rec.clone();
            tasks.push((n, tokio::spawn(async move { s.record_inbox(rec).await })));
        }
    }
    let mut applied = vec![0; 20];
    for (n, task) in tasks {
        match task.await.unwrap().unwrap() {
            InboxResult::Applied => applied[n] += 1,
            InboxResult::AlreadySeen => {}
            InboxResult::NotApplied => panic!("ev-{n} not applied"),
        }
    }
    assert_eq!(applied, vec![1; 20]);
    let counts = b.state_counts().await.unwrap();
    assert_eq!(counts, vec![("infack".to_string(), 20)]);
    let mut events = Vec::new();
    loop {
        let batch = a.pending_events(100).await.unwrap();
        if batch.is_empty() {
            break;
        }
        a.mark_published(batch.iter().map(|e| e.seq).collect())
            .await
            .unwrap();
        events.extend(batch);
    }
    assert_eq!(events.len(), 20, "one infack event per message");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_publishers_never_receive_the_same_event_and_keep_order() {
    let h = PgHarness::new().await;
    let (a, b) = (h.store("gw-a").await, h.store("gw-b").await);
    let rejects: Vec<IngestItem> = (0..300).map(|n| reject(&format!("r-{n}"))).collect();
    a.ingest(rejects).await.unwrap();
    // Hand-out order: appended before marking, and nobody else reads until the mark.
    let handed: Arc<Mutex<Vec<i64>>> = Arc::default();
    let publisher = |s: PostgresStore, handed: Arc<Mutex<Vec<i64>>>| {
        tokio::spawn(async move {
            let mut mine = 0;
            while handed.lock().unwrap().len() < 300 {
                let batch = s.pending_events(16).await.unwrap();
                if batch.is_empty() {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    continue;
                }
                let seqs: Vec<i64> = batch.iter().map(|e| e.seq).collect();
                handed.lock().unwrap().extend(&seqs);
                mine += seqs.len();
                s.mark_published(seqs).await.unwrap();
            }
            mine
        })
    };
    let run = async {
        let (ta, tb) = (publisher(a, handed.clone()), publisher(b, handed.clone()));
        (ta.await.unwrap(), tb.await.unwrap())
    };
    let (na, nb) = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("publishers stalled");
    let handed = handed.lock().unwrap().clone();
    assert_eq!(handed.len(), 300, "an event was handed out twice");
    assert!(handed.windows(2).all(|w| w[0] < w[1]), "out of order");
    eprintln!("published {na} / {nb}");
}

#[tokio::test]
async fn publisher_that_cannot_publish_hands_over() {
    let h = PgHarness::new().await;
    let (a, b) = (h.store("gw-a").await, h.store("gw-b").await);
    a.ingest(vec![reject("r-1")]).await.unwrap();
    assert_eq!(a.pending_events(10).await.unwrap().len(), 1);
    assert!(
        b.pending_events(10).await.unwrap().is_empty(),
        "two publishers"
    );
    // A's publish keeps failing: it is handed the batch again, then gives the role up.
    assert_eq!(a.pending_events(10).await.unwrap().len(), 1);
    assert_eq!(a.pending_events(10).await.unwrap().len(), 1);
    assert!(a.pending_events(10).await.unwrap().is_empty());
    let events = b.pending_events(10).await.unwrap();
    assert_eq!(events.len(), 1);
    b.mark_published(vec![events[0].seq]).await.unwrap();
    assert!(a.pending_events(10).await.unwrap().is_empty());
    assert!(b.pending_events(10).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateways_starting_together_share_one_schema() {
    let h = PgHarness::new().await;
    let (a, b, c) = tokio::join!(h.store("a"), h.store("b"), h.store("c"));
    a.ingest(vec![message(1)]).await.unwrap();
    assert_eq!(
        b.ingest(vec![message(1)]).await.unwrap(),
        vec![crate::InsertResult::Duplicate]
    );
    let counts = c.state_counts().await.unwrap();
    assert_eq!(counts, vec![("received".to_string(), 1)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_throughput_in_batches_of_256() {
    let h = PgHarness::new().await;
    let store = h.store("gw").await;
    let body = vec![b'x'; 4096];
    let items: Vec<IngestItem> = (0..10_000)
        .map(|n| {
            let mut item = message(n);
            if let IngestItem::Message(m) = &mut item {
                m.outbound.body = body.clone();
            }
            item
        })
        .collect();
    let started = tokio::time::Instant::now();
    for batch in items.chunks(256) {
        store.ingest(batch.to_vec()).await.unwrap();
    }
    let elapsed = started.elapsed();
    let counts = store.state_counts().await.unwrap();
    assert_eq!(counts, vec![("received".to_string(), 10_000)]);
    let rate = 10_000.0 / elapsed.as_secs_f64();
    eprintln!("ingested 10000 messages (4 KiB bodies) in {elapsed:?}: {rate:.0}/s");
}
